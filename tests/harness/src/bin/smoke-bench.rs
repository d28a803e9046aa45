//! `smoke-bench CARTO_PROVISION [--clouds aws,gcp,azure] [--latency-ms N]`: how much slower
//! the smoke over several clouds is than its slowest cloud alone (goal: at most 1.1 times).
//!
//! Runs the smoke over every listed emulated cloud at once, then over each cloud alone, every
//! run on fresh emulators with each API call delayed by `--latency-ms` (AWS: through the
//! harness's fault proxy in front of moto; GCP and Azure: the fakes' own knobs), each VM
//! booted from the user-data the CLI sent. Prints the
//! wall times and the ratio. Not a test and not run in CI (`bench/smoke-latency` runs it).
//! Needs root, like the e2e tests; everything stays on loopback.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::local_aws::AwsCloud;
use carto_harness::proxy::{FaultProxy, Faults};
use carto_harness::smoke::SmokeRun;
use carto_harness::vm::Variant;

/// The goal: smoke wall time at most this many times the slowest cloud alone.
const GOAL: f64 = 1.1;

/// One emulated cloud with the per-call delay applied where this harness can.
struct Started {
    cloud: Box<dyn LocalCloud>,
    overrides: Vec<(String, String)>,
    /// The proxy delaying its calls, kept for the run's length.
    proxy: Option<FaultProxy>,
}

fn start(name: &str, latency: Duration) -> io::Result<Started> {
    match name {
        "aws" => {
            let cloud = AwsCloud::start()?;
            let proxy = FaultProxy::start_with(
                cloud.aws.moto.port,
                Faults {
                    latency,
                    ..Faults::default()
                },
            );
            Ok(Started {
                overrides: vec![("CARTO_PROVISION_AWS_ENDPOINT_URL".into(), proxy.endpoint())],
                cloud: Box::new(cloud),
                proxy: Some(proxy),
            })
        }
        "gcp" => {
            let cloud = carto_harness::local_gcp::GcpCloud::start()?;
            cloud.state()?.set_latency(None, latency);
            Ok(Started {
                cloud: Box::new(cloud),
                overrides: Vec::new(),
                proxy: None,
            })
        }
        "azure" => {
            let cloud = carto_harness::local_azure::AzureCloud::start()?;
            cloud.fake().state().set_latency(latency);
            Ok(Started {
                cloud: Box::new(cloud),
                overrides: Vec::new(),
                proxy: None,
            })
        }
        other => Err(io::Error::other(format!(
            "{other}: no emulated cloud in this harness yet"
        ))),
    }
}

/// Runs the smoke over `names` on fresh emulators; returns its wall time and each cloud's
/// total (deploy + destroy) from the report.
fn run(bin: &Path, names: &[String], latency: Duration, id: &str) -> io::Result<(f64, Vec<f64>)> {
    let started = names
        .iter()
        .map(|n| start(n, latency))
        .collect::<io::Result<Vec<_>>>()?;
    let overrides: Vec<(String, String)> =
        started.iter().flat_map(|s| s.overrides.clone()).collect();
    let mut proxies = Vec::new();
    let mut clouds = Vec::new();
    for s in started {
        clouds.push(s.cloud);
        proxies.push(s.proxy);
    }
    let mut smoke = SmokeRun::new(bin, clouds, id)?;
    smoke.overrides.extend(overrides);
    let out = smoke.run(Variant::Docker, &[])?;
    if out.code != 0 {
        return Err(io::Error::other(format!(
            "smoke {id} over {names:?} failed ({}):\n{}\n{}",
            out.code, out.stdout, out.stderr
        )));
    }
    let totals = out.report["clouds"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| c["total_s"].as_f64().unwrap_or(0.0))
                .collect()
        })
        .unwrap_or_default();
    drop(proxies);
    Ok((out.wall.as_secs_f64(), totals))
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bin = PathBuf::from(args.next().ok_or_else(|| {
        io::Error::other(
            "usage: smoke-bench CARTO_PROVISION [--clouds aws,gcp,azure] [--latency-ms N]",
        )
    })?);
    let mut names = vec!["aws".to_string()];
    let mut latency = Duration::from_millis(200);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| io::Error::other(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--clouds" => names = value.split(',').map(String::from).collect(),
            "--latency-ms" => {
                latency = Duration::from_millis(value.parse().map_err(io::Error::other)?)
            }
            _ => return Err(io::Error::other(format!("unknown flag {flag}"))),
        }
    }
    eprintln!(
        "smoke-bench: {} at once, {latency:?} per API call",
        names.join(",")
    );
    let (together, totals) = run(&bin, &names, latency, "benchall")?;
    let mut alone = Vec::new();
    for name in &names {
        eprintln!("smoke-bench: {name} alone");
        let (wall, _) = run(
            &bin,
            std::slice::from_ref(name),
            latency,
            &format!("bench{name}"),
        )?;
        alone.push(wall);
    }
    println!("latency per API call: {} ms", latency.as_millis());
    println!("{:<8} {:>10} {:>14}", "cloud", "alone", "in the smoke");
    for (i, name) in names.iter().enumerate() {
        println!(
            "{name:<8} {:>9.1}s {:>13.1}s",
            alone[i],
            totals.get(i).copied().unwrap_or(f64::NAN)
        );
    }
    let (slowest_i, slowest) =
        alone.iter().copied().enumerate().fold(
            (0, 0.0),
            |best, (i, w)| if w > best.1 { (i, w) } else { best },
        );
    let ratio = together / slowest;
    println!(
        "smoke {together:.1}s vs slowest alone ({}) {slowest:.1}s: ratio {ratio:.2} (goal <= {GOAL}) {}",
        names[slowest_i],
        if ratio <= GOAL { "OK" } else { "OVER" }
    );
    Ok(())
}
