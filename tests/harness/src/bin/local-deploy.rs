//! `local-deploy [aws|gcp|azure]`: one complete deployment against a local emulated cloud
//! (moto, or our fake GCP / Azure servers; AWS by default) and a test VM, with the CLI's own
//! progress on this terminal; then `status`, then `destroy`, then everything stopped by PID.
//! Run through `tests/harness/local-deploy`, which builds the binaries first.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::{DOMAIN, Deployment};
use carto_harness::local_aws::AwsCloud;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::vm::Variant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/debug/carto-provision"));
    let started = match args.next().as_deref().unwrap_or("aws") {
        "aws" => AwsCloud::start().map(|c| run(c, &bin)),
        "gcp" => GcpCloud::start().map(|c| run(c, &bin)),
        "azure" => AzureCloud::start().map(|c| run(c, &bin)),
        other => {
            eprintln!("local-deploy: unknown cloud {other:?}; use aws, gcp or azure");
            return ExitCode::from(2);
        }
    };
    started.unwrap_or_else(|e| {
        eprintln!("local-deploy: the emulated cloud did not start: {e}");
        ExitCode::FAILURE
    })
}

fn run<C: LocalCloud>(cloud: C, bin: &Path) -> ExitCode {
    let mut d = Deployment::on(cloud, bin, "local-carto", &[]);
    d.live = true;
    println!(
        "local-deploy: emulated {} on loopback, test VM at {}; running `carto-provision {} --domain {DOMAIN}`",
        d.cloud.cloud(),
        d.cloud.vm_ip(),
        d.cloud.cloud(),
    );
    let (code, _, _, vm) = d.deploy_with_vm(Variant::Plain, "");
    if code == 0 {
        show(&d, &["status", &d.env]);
    } else {
        eprintln!(
            "local-deploy: the deployment failed (exit {code}); last VM console lines:\n{}",
            vm.log_tail(20)
        );
    }
    println!("local-deploy: tearing the environment down");
    let destroyed = show(&d, &["destroy", &d.env]);
    drop(vm);
    if code == 0 && destroyed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `carto-provision ARGS` with its output on this terminal.
fn show<C: LocalCloud>(d: &Deployment<C>, args: &[&str]) -> bool {
    d.cli()
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
