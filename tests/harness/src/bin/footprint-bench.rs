//! `footprint-bench CARTO_PROVISION [--starts-only]`: how light the tool is (issue 13's footprint goals).
//! Prints the median wall time of `--help` and of `plan gcp` against the in-process fake GCP
//! (goal: under 20 ms each, for a release build), and the peak resident memory of a whole
//! deployment onto moto and a Debian 13 test VM (goal: under 64 MB), then a one-line verdict.
//! `--starts-only` stops after the two start times (no deployment, no verdict), for profiling.
//! The peak is the process's own high-water mark (`VmHWM`), read every 20 ms while it runs.
//! Not a test and not run in CI (`bench/footprint` builds in release and runs it). Needs root
//! and the test VM images, like the e2e tests; everything stays on loopback.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carto_harness::cli::Cli;
use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::Deployment;
use carto_harness::local_aws::AwsCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::vm::Variant;

const START_GOAL_MS: f64 = 20.0;
const RSS_GOAL_MB: f64 = 64.0;

/// The median wall time of `runs` runs of `cli()`, in milliseconds; each must exit 0.
fn median_ms(runs: usize, cli: impl Fn() -> Cli) -> io::Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = cli().run();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if out.code != 0 {
            return Err(io::Error::other(format!(
                "exit {}: {}",
                out.code, out.stderr
            )));
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[runs / 2])
}

/// The process's peak resident set so far, in kB (`VmHWM` in /proc/PID/status).
fn high_water_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Deploys onto moto and a test VM while sampling the CLI's high-water mark; returns it in MB.
fn deployment_peak_mb(bin: &Path) -> io::Result<f64> {
    let d = Deployment::on(AwsCloud::start()?, bin, "bench-footprint", &[]);
    d.docker_source.set(Variant::Plain13.docker_source());
    let mut child = d.spawn_deploy();
    let (pid, peak, done) = (child.id(), AtomicU64::new(0), AtomicBool::new(false));
    let code = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if let Some(kb) = high_water_kb(pid) {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let ended = (|| {
            let vm = d.cloud.boot_from_user_data(&d.env, Variant::Plain13, "")?;
            vm.install_repo(&d.bare_repo)?;
            let status = child.wait()?;
            Ok::<_, io::Error>((status.code(), vm))
        })();
        done.store(true, Ordering::Relaxed);
        ended
    });
    let (code, vm) = match code {
        Ok(ended) => ended,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    if code != Some(0) {
        return Err(io::Error::other(format!(
            "deployment failed ({code:?}): {}",
            d.read("deploy.err")
        )));
    }
    d.destroy_leaves_nothing();
    drop(vm);
    Ok(peak.into_inner() as f64 / 1024.0)
}

fn main() -> io::Result<()> {
    let bin = PathBuf::from(std::env::args().nth(1).ok_or_else(|| {
        io::Error::other("usage: footprint-bench CARTO_PROVISION (a release build)")
    })?);
    let tmp = tempfile::tempdir()?;
    let help = median_ms(30, || {
        Cli::new(&bin, &tmp.path().join("state")).arg("--help")
    })?;
    println!("--help: median {help:.1} ms over 30 runs (goal < {START_GOAL_MS} ms)");

    let gcp = GcpCloud::start_with("127.0.0.1".parse().expect("address"))?;
    let package = carto_harness::package::write(
        &tmp.path().join("pkg"),
        carto_harness::selfhosted::PACKAGE_VERSION,
        &[],
    )?;
    let plan = median_ms(10, || {
        Cli::new(&bin, &tmp.path().join("state"))
            .envs(gcp.cli_env())
            .args([
                "plan",
                "gcp",
                "--domain",
                "carto.test",
                "--ssh-cidr",
                "127.0.0.1/32",
            ])
            .args(gcp.deploy_args())
            .arg("--package")
            .arg(&package)
    })?;
    println!(
        "plan gcp (fake GCP in process): median {plan:.1} ms over 10 runs (goal < {START_GOAL_MS} ms)"
    );

    if std::env::args().any(|a| a == "--starts-only") {
        return Ok(());
    }
    let peak = deployment_peak_mb(&bin)?;
    println!(
        "deployment (moto + Debian 13 test VM): peak RSS {peak:.1} MB (goal < {RSS_GOAL_MB} MB)"
    );
    let pass = help < START_GOAL_MS && plan < START_GOAL_MS && peak < RSS_GOAL_MB;
    println!(
        "footprint: {} (--help {help:.1} ms, plan {plan:.1} ms, peak {peak:.1} MB)",
        if pass { "PASS" } else { "FAIL" }
    );
    Ok(())
}
