//! `critical-path-bench CARTO_PROVISION [--cloud aws|gcp|azure] [--latency-ms N]
//! [--image docker13|plain13] [--vm-mbit N]`: how close a deployment comes to the shortest time
//! its work allows (issue 13, benchmark 1). Two deployments onto the emulated cloud (AWS by
//! default) and a Debian 13 test VM, one with no delay and one with every API call delayed by
//! N ms (300 by default): moto through the harness's fault proxy, the fake GCP and Azure servers
//! by their own knob. The VM-side work is real: the VM boots, installs Docker from its
//! distribution's packages unless the image has it (`docker13`, the default; `plain13` has
//! none), and pulls the images, at most N Mbit/s with `--vm-mbit` (the harness limits what its
//! registry and apt proxy send the VM).
//! Each prints its timeline with `--json` (`span` events: pipeline steps, cloud calls, remote
//! steps).
//!
//! The lower bound is the longest path through the graph of work that cannot overlap, each
//! node weighted by the time it took in this very run:
//! - `preflight` (the resolution every other call needs), then the lookups that need its
//!   answer (`find_existing`, `find_dns_records`), which need not wait for each other;
//! - the SSH key, the network then (side by side) its firewall and the VM's subnet, and the
//!   address, side by side; then `ensure_vm`, then `wait_vm_ready`;
//! - the VM-side work in order: bootstrap (SSH in, the remote steps, the host-key rotation)
//!   without `forget_user_data`, a cloud call nothing on the VM waits for; install; healthy;
//! - then `verify`; beside the VM-side work, the address then the DNS record.
//!
//! It prints `wall / lower bound` (goal <= 1.05) for the delayed run, and the sequential API
//! round trips before the VM exists, (time at N - time at 0) / N where the time is the end of
//! `ensure_vm`, beside the graph's minimum (one round trip per call on the path). Not a test,
//! not run in CI (`bench/critical-path` runs it); needs root and the test VM images.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::Deployment;
use carto_harness::local_aws::AwsCloud;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::proxy::{FaultProxy, Faults};
use carto_harness::timeline::Timeline;
use carto_harness::vm::{BANDWIDTH_ENV, Variant};

const GOAL: f64 = 1.05;

/// The longest path through the graph in the module doc, and the calls on it up to the VM.
fn lower_bound(t: &Timeline) -> (f64, Vec<&'static str>) {
    let cloud = |n: &str| t.took("cloud", n);
    let step = |n: &str| t.took("step", n);
    let lookups = cloud("find_existing").max(cloud("find_dns_records"));
    let inside = cloud("ensure_firewall").max(cloud("ensure_subnet"));
    let network = cloud("ensure_network") + inside;
    let side = cloud("ensure_ssh_key")
        .max(network)
        .max(cloud("ensure_address"));
    let mut path = vec!["preflight"];
    path.push(if cloud("find_existing") >= cloud("find_dns_records") {
        "find_existing"
    } else {
        "find_dns_records"
    });
    if side == network {
        path.push("ensure_network");
        path.push(if inside == cloud("ensure_firewall") {
            "ensure_firewall"
        } else {
            "ensure_subnet"
        });
    } else if side == cloud("ensure_ssh_key") {
        path.push("ensure_ssh_key");
    } else {
        path.push("ensure_address");
    }
    path.push("ensure_vm");
    let to_vm = cloud("preflight") + lookups + side + cloud("ensure_vm");
    let on_vm = cloud("wait_vm_ready") + step("bootstrap") - cloud("forget_user_data")
        + step("install")
        + step("healthy");
    let dns = cloud("preflight") + lookups + cloud("ensure_address") + cloud("ensure_dns_record");
    ((to_vm + on_vm + step("verify")).max(dns), path)
}

/// One deployment on a fresh `cloud` with every API call delayed by `latency`; its timeline.
fn deploy(
    bin: &Path,
    cloud: &str,
    latency: Duration,
    env: &str,
    image: Variant,
) -> io::Result<Timeline> {
    match cloud {
        "aws" => {
            let mut d = Deployment::on(AwsCloud::start()?, bin, env, &[]);
            let proxy = FaultProxy::start_with(
                d.cloud.aws.moto.port,
                Faults {
                    latency,
                    ..Faults::default()
                },
            );
            d.overrides = vec![("CARTO_PROVISION_AWS_ENDPOINT_URL".into(), proxy.endpoint())];
            let timeline = run(d, image)?;
            eprintln!("critical-path-bench: {env}: {} API calls", proxy.total());
            Ok(timeline)
        }
        "gcp" => {
            let d = Deployment::on(GcpCloud::start()?, bin, env, &[]);
            d.cloud.state()?.set_latency(None, latency);
            run(d, image)
        }
        "azure" => {
            let d = Deployment::on(AzureCloud::start()?, bin, env, &[]);
            d.cloud.fake().state().set_latency(latency);
            run(d, image)
        }
        other => Err(io::Error::other(format!(
            "--cloud {other}: expected aws, gcp or azure"
        ))),
    }
}

/// Deploys `d` while its test VM boots, destroys it (checking nothing is left); the timeline.
fn run<C: LocalCloud>(d: Deployment<C>, image: Variant) -> io::Result<Timeline> {
    let (code, out, err, vm) = d.deploy_with_vm(image, "");
    if code != 0 {
        return Err(io::Error::other(format!(
            "deployment {} failed ({code}):\n{err}",
            d.env
        )));
    }
    d.destroy_leaves_nothing();
    drop(vm);
    Ok(Timeline::parse(&out))
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bin = PathBuf::from(args.next().ok_or_else(|| {
        io::Error::other(
            "usage: critical-path-bench CARTO_PROVISION [--cloud aws|gcp|azure] [--latency-ms N] [--image docker13|plain13] [--vm-mbit N]",
        )
    })?);
    let mut cloud = String::from("aws");
    let mut latency_ms: u64 = 300;
    let mut image = Variant::Docker13;
    let mut vm_mbit = None;
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--latency-ms", Some(v)) => latency_ms = v.parse().map_err(io::Error::other)?,
            ("--cloud", Some(v)) => cloud = v,
            ("--image", Some(v)) => {
                image = Variant::from_name(&v).ok_or_else(|| {
                    io::Error::other(format!("--image {v}: expected docker13 or plain13"))
                })?;
            }
            ("--vm-mbit", Some(v)) => {
                let mbit: u32 = v.parse().map_err(io::Error::other)?;
                // SAFETY: set before any thread of this process starts (no VM booted yet).
                unsafe { std::env::set_var(BANDWIDTH_ENV, mbit.to_string()) };
                vm_mbit = Some(mbit);
            }
            _ => return Err(io::Error::other(format!("unknown flag {flag}"))),
        }
    }
    let fast = deploy(&bin, &cloud, Duration::ZERO, "bench-path-0", image)?;
    let slow = deploy(
        &bin,
        &cloud,
        Duration::from_millis(latency_ms),
        "bench-path-l",
        image,
    )?;

    let l = latency_ms as f64;
    let (bound, path) = lower_bound(&slow);
    let wall = slow.wall();
    let vm_at = |t: &Timeline| t.find("cloud", "ensure_vm").map_or(f64::NAN, |s| s.end);
    let trips = (vm_at(&slow) - vm_at(&fast)) / l;
    let per_call: HashMap<&str, f64> = path
        .iter()
        .map(|n| (*n, (slow.took("cloud", n) - fast.took("cloud", n)) / l))
        .collect();
    println!(
        "latency per API call: {latency_ms} ms ({cloud}, emulated); Debian 13 test VM {}; the VM's downloads {}",
        match image {
            Variant::Plain13 => "without Docker (installed during boot)",
            _ => "with Docker baked in",
        },
        vm_mbit.map_or("unlimited".to_string(), |m| format!("at most {m} Mbit/s"))
    );
    println!(
        "{:<20} {:>10} {:>10}",
        "call on the path", "ms at 0", "ms at L"
    );
    for n in &path {
        println!(
            "{n:<20} {:>10.0} {:>10.0}   {:.1} round trips",
            fast.took("cloud", n),
            slow.took("cloud", n),
            per_call[n]
        );
    }
    for s in [
        "preflight",
        "infra",
        "bootstrap",
        "install",
        "healthy",
        "verify",
    ] {
        println!(
            "step {s:<15} {:>10.0} {:>10.0}",
            fast.took("step", s),
            slow.took("step", s)
        );
    }
    println!(
        "sequential round trips before the VM exists: {trips:.1} measured, {} calls on the graph's path (at least one each)",
        path.len()
    );
    let ratio = wall / bound;
    println!(
        "critical path: wall {:.1} s / lower bound {:.1} s = {ratio:.3} (goal <= {GOAL}) {}",
        wall / 1000.0,
        bound / 1000.0,
        if ratio <= GOAL { "MET" } else { "NOT MET" }
    );
    Ok(())
}
