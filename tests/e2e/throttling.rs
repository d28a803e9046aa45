//! Throttling on the emulated GCP and Azure: the fakes answer 30 % of all calls with their
//! throttling error (GCP 429 `rateLimitExceeded`, Azure 429 with `Retry-After`); a full
//! deployment still ends verified, the fakes counted the throttled calls, and destroy leaves
//! nothing. (AWS, through a throttling proxy in front of moto: `lifecycle.rs`.)

use std::path::Path;

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::Deployment;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::vm::Variant;

/// Deploys on `cloud` to the end; `throttled` reads how many calls the fake throttled.
fn verified_despite_throttling<C: LocalCloud>(cloud: C, throttled: impl Fn(&C) -> usize) {
    let d = Deployment::on(
        cloud,
        Path::new(env!("CARGO_BIN_EXE_carto-provision")),
        "e2e-throttled",
        &[],
    );
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Docker, "");
    let name = d.cloud.cloud();
    assert_eq!(
        code,
        0,
        "{name}\nstdout: {out}\nstderr: {err}\nVM: {}",
        vm.log_tail(20)
    );
    assert!(out.contains(r#""event":"deployed""#), "{out}");
    let during_deploy = throttled(&d.cloud);
    assert!(
        during_deploy >= 3,
        "{name}: only {during_deploy} calls throttled"
    );
    d.destroy_leaves_nothing();
    drop(vm);
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn gcp_deployment_with_30_percent_of_calls_throttled_ends_verified() {
    let cloud = GcpCloud::start().expect("fake GCP");
    cloud.state().unwrap().throttle_percent(30, 2026);
    verified_despite_throttling(cloud, |c| c.state().unwrap().throttled());
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn azure_deployment_with_30_percent_of_calls_throttled_ends_verified() {
    let cloud = AzureCloud::start().expect("fake ARM");
    cloud.fake().state().throttle_percent(30, 2026);
    verified_despite_throttling(cloud, |c| c.fake().state().throttled());
}
