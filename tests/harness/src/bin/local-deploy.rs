//! `local-deploy`: one complete deployment against the local emulated AWS (moto) and a test VM,
//! with the CLI's own progress on this terminal; then `status`, then `destroy`, then everything
//! stopped by PID. Run through `tests/harness/local-deploy`, which builds the binaries first.

use std::path::PathBuf;
use std::process::ExitCode;

use carto_harness::deployment::Deployment;
use carto_harness::vm::Variant;

fn main() -> ExitCode {
    let bin = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/debug/carto-provision"));
    let mut d = Deployment::new(&bin, "local-carto", &[]);
    d.live = true;
    println!(
        "local-deploy: emulated AWS at {}, test VM at {}; running `carto-provision aws --domain {}`",
        d.cloud.aws.moto.endpoint(),
        d.cloud.aws.vm_ip,
        carto_harness::deployment::DOMAIN
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
fn show(d: &Deployment, args: &[&str]) -> bool {
    d.cli()
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
