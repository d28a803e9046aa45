//! `baseline-bench CARTO_PROVISION GUIDE_SCRIPT [--latency-ms N] [--rounds N] [--image I]`:
//! carto-provision
//! against the manual guide done as a plain script (issue 13, benchmark 2). `GUIDE_SCRIPT`
//! (`bench/guide/aws.sh`) does the guide's steps one after another with the `aws` CLI and
//! ssh/scp; the tool deploys the same thing. Each run gets a fresh moto behind the harness's
//! fault proxy (every API call delayed by N ms, 300 by default), the same package, the same
//! stand-in repository at its newest release, and a fresh Debian 13 test VM booted from the
//! user-data the run sent: with Docker baked in (`--image docker13`, the default), or without
//! (`plain13`), so that both install it from the distribution's packages (the script after it
//! connects, the tool's user-data during boot). Both results are checked the same way (every
//! service up, migrations exited 0, the A record names the VM) before a time counts.
//!
//! The test VM's boot alone varies by about 10 s from one run to the next on this machine, so
//! each side runs `--rounds` times (2 by default; which goes first alternates) and its fastest
//! run counts. It prints every run's wall time (from start until the command exits; the VM
//! boots during it), the fastest runs' steps, and `tool / script` (goal <= 0.5). Not a test,
//! not run in CI (`bench/sequential-baseline` runs it); needs root and the test VM images,
//! like the e2e tests; nothing leaves this machine.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::{DOMAIN, Deployment};
use carto_harness::local_aws::AwsCloud;
use carto_harness::proxy::{FaultProxy, Faults};
use carto_harness::selfhosted::{self, NEWEST_RELEASE};
use carto_harness::timeline::Timeline;
use carto_harness::vm::{TestVm, Variant};

const GOAL: f64 = 0.5;
/// How long the tool's health verdict needs every container unchanged (`Rules::stable_for` in
/// `src/pipeline/install/verdict.rs`), seconds: time the script does not spend.
const STABILITY_WINDOW: f64 = 60.0;

/// A fresh moto with the zone, the package and repository fixtures, and a proxy delaying
/// every API call by `latency`.
fn fixtures(bin: &Path, env: &str, latency: Duration) -> io::Result<(Deployment, FaultProxy)> {
    let d = Deployment::on(AwsCloud::start()?, bin, env, &[]);
    let proxy = FaultProxy::start_with(
        d.cloud.aws.moto.port,
        Faults {
            latency,
            ..Faults::default()
        },
    );
    Ok((d, proxy))
}

/// Panics unless the deployment on `vm` is complete: every service of the newest release up,
/// and the zone's A record for the domain names the VM.
fn assert_deployed(d: &Deployment, vm: &TestVm) {
    selfhosted::assert_every_service_up(vm, NEWEST_RELEASE);
    assert_eq!(
        d.cloud.a_records().expect("records"),
        vec![(format!("{DOMAIN}."), d.cloud.vm_ip().to_string())],
        "the A record of {DOMAIN}"
    );
}

/// The guide script's run; its breakdown is the script's own steps.
fn script(bin: &Path, guide: &Path, latency: Duration, image: Variant) -> io::Result<Run> {
    let (d, proxy) = fixtures(bin, "bench-guide", latency)?;
    let work = d.dir.path().join("guide");
    std::fs::create_dir_all(&work)?;
    let log = d.dir.path().join("guide.log");
    let started = Instant::now();
    let child = Command::new("bash")
        .arg(guide)
        .envs(
            d.cloud
                .cli_env()
                .into_iter()
                .filter(|(k, _)| k.starts_with("AWS_")),
        )
        // The emulator's credentials only: no user configuration, no instance metadata.
        .env("AWS_CONFIG_FILE", work.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", work.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ENDPOINT", proxy.endpoint())
        .env("ENVIRONMENT", &d.env)
        .env("DOMAIN", DOMAIN)
        .env("ZONE", carto_harness::cloud::ZONE)
        .env("PACKAGE", &d.package)
        .env("REPO", "file:///srv/carto-selfhosted.git")
        .env("TAG", NEWEST_RELEASE)
        .env("WORK", &work)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::fs::File::create(d.dir.path().join("guide.err"))?)
        .spawn()?;
    let (status, vm) = d.wait_with_vm(child, image, "", "guide.err");
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(io::Error::other(format!(
            "the guide script failed ({status}):\n{}",
            d.read("guide.err")
        )));
    }
    assert_deployed(&d, &vm);
    let breakdown = guide_steps(&d.read("guide.err"))
        .iter()
        .map(|(step, secs)| format!("  {step:<60} {secs:>7.1} s"))
        .collect();
    Ok(Run {
        wall,
        calls: proxy.total(),
        breakdown,
    })
}

/// The script's `TIME guide: STEP` lines as (step, seconds until the next line).
fn guide_steps(stderr: &str) -> Vec<(String, f64)> {
    let marks: Vec<(f64, &str)> = stderr
        .lines()
        .filter_map(|l| {
            let (at, step) = l.split_once(" guide: ")?;
            Some((at.parse().ok()?, step))
        })
        .collect();
    marks
        .windows(2)
        .map(|w| (w[0].1.to_string(), w[1].0 - w[0].0))
        .collect()
}

/// carto-provision's run; its breakdown is the `--json` timeline: pipeline steps, and
/// indented beneath them the cloud calls and remote steps with their start.
fn tool(bin: &Path, latency: Duration, image: Variant) -> io::Result<Run> {
    let (mut d, proxy) = fixtures(bin, "bench-tool", latency)?;
    d.overrides = vec![("CARTO_PROVISION_AWS_ENDPOINT_URL".into(), proxy.endpoint())];
    let started = Instant::now();
    let (code, out, err, vm) = d.deploy_with_vm(image, "");
    let wall = started.elapsed().as_secs_f64();
    if code != 0 {
        return Err(io::Error::other(format!(
            "carto-provision failed ({code}):\n{err}"
        )));
    }
    assert_deployed(&d, &vm);
    let breakdown = Timeline::parse(&out)
        .0
        .iter()
        .map(|span| {
            let took = (span.end - span.start) / 1000.0;
            match span.kind.as_str() {
                "step" => format!("  {:<60} {took:>7.1} s", span.name),
                _ => format!(
                    "    {:<58} {took:>7.1} s  at {:.1} s",
                    span.name,
                    span.start / 1000.0
                ),
            }
        })
        .collect();
    Ok(Run {
        wall,
        calls: proxy.total(),
        breakdown,
    })
}

/// One measured run: its wall time, API calls and breakdown lines.
struct Run {
    wall: f64,
    calls: usize,
    breakdown: Vec<String>,
}

/// The run with the shortest wall time.
fn fastest(runs: Vec<Run>) -> Run {
    runs.into_iter()
        .min_by(|a, b| a.wall.total_cmp(&b.wall))
        .expect("at least one round")
}

fn main() -> io::Result<()> {
    let usage = "usage: baseline-bench CARTO_PROVISION GUIDE_SCRIPT [--latency-ms N] [--rounds N] [--image docker13|plain13]";
    let mut args = std::env::args().skip(1);
    let bin = PathBuf::from(args.next().ok_or_else(|| io::Error::other(usage))?);
    let guide = PathBuf::from(args.next().ok_or_else(|| io::Error::other(usage))?);
    let (mut latency_ms, mut rounds): (u64, usize) = (300, 2);
    let mut image = Variant::Docker13;
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--latency-ms", Some(v)) => latency_ms = v.parse().map_err(io::Error::other)?,
            ("--rounds", Some(v)) => rounds = v.parse().map_err(io::Error::other)?,
            ("--image", Some(v)) => {
                image = Variant::from_name(&v).ok_or_else(|| {
                    io::Error::other(format!("--image {v}: expected docker13 or plain13"))
                })?;
            }
            _ => return Err(io::Error::other(format!("unknown flag {flag}; {usage}"))),
        }
    }
    let latency = Duration::from_millis(latency_ms);
    let (mut scripts, mut tools) = (Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        // Alternate which goes first, so neither always meets the machine in the same state.
        if round % 2 == 0 {
            scripts.push(script(&bin, &guide, latency, image)?);
            tools.push(tool(&bin, latency, image)?);
        } else {
            tools.push(tool(&bin, latency, image)?);
            scripts.push(script(&bin, &guide, latency, image)?);
        }
        let (s, t) = (&scripts[round], &tools[round]);
        eprintln!(
            "baseline-bench: round {}: script {:.1} s, tool {:.1} s",
            round + 1,
            s.wall,
            t.wall
        );
    }
    let walls = |runs: &[Run]| {
        runs.iter()
            .map(|r| format!("{:.1}", r.wall))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "latency per API call: {latency_ms} ms (AWS, moto through the fault proxy); Debian 13 test VM {}; release {NEWEST_RELEASE}",
        match image {
            Variant::Plain13 => "without Docker (both install it)",
            _ => "with Docker baked in",
        }
    );
    println!(
        "every run, s (the fastest of each counts; the test VM's boot varies by 10 s between runs):"
    );
    println!("  guide script:    {}", walls(&scripts));
    println!("  carto-provision: {}", walls(&tools));
    let (script, tool) = (fastest(scripts), fastest(tools));
    println!("guide script, step by step (its fastest run):");
    script.breakdown.iter().for_each(|l| println!("{l}"));
    println!(
        "carto-provision, step by step (its fastest run; cloud calls and remote steps indented, with their start):"
    );
    tool.breakdown.iter().for_each(|l| println!("{l}"));
    println!(
        "guide script:    {:>7.1} s, {} API calls",
        script.wall, script.calls
    );
    println!(
        "carto-provision: {:>7.1} s, {} API calls",
        tool.wall, tool.calls
    );
    let unchecked = tool.wall - STABILITY_WINDOW;
    println!(
        "carto-provision without its {STABILITY_WINDOW:.0} s stability check (the script looks once): {unchecked:.1} s = {:.2} x the script",
        unchecked / script.wall
    );
    let ratio = tool.wall / script.wall;
    println!(
        "tool / script = {ratio:.2} (goal <= {GOAL}) {}",
        if ratio <= GOAL { "MET" } else { "NOT MET" }
    );
    Ok(())
}
