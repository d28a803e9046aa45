//! The kill matrix on the emulated GCP and Azure (no VM): killed before the VM is recorded,
//! after the address is, and after the infra step, the same command resumes (dying once the
//! record exists) with exactly one of every resource; then, the state file deleted,
//! `destroy --cloud gcp|azure` leaves nothing labelled with the environment and no record.

use std::path::Path;

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::Deployment;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;

fn deployment<C: LocalCloud>(cloud: C, env: &str) -> Deployment<C> {
    Deployment::on(
        cloud,
        Path::new(env!("CARGO_BIN_EXE_carto-provision")),
        env,
        &[],
    )
}

fn die_at<C: LocalCloud>(d: &mut Deployment<C>, point: &str) {
    d.overrides = vec![("CARTO_PROVISION_DIE_AT".into(), point.into())];
    let (code, _, err) = d.deploy_again();
    assert_eq!(
        code,
        -1,
        "{}: not killed at {point}: {err}",
        d.cloud.cloud()
    );
}

fn kill_resume_and_destroy_by_tag<C: LocalCloud>(cloud: C, point: &str, destroy_flags: &[&str]) {
    let mut d = deployment(cloud, "kill");
    let name = d.cloud.cloud();
    die_at(&mut d, point);
    die_at(&mut d, "step:dns");
    let mut tagged = d.cloud.tagged(&d.env).unwrap();
    let all = tagged.len();
    tagged.sort();
    tagged.dedup();
    assert!(
        all >= 3 && tagged.len() == all,
        "{name} after {point}: {tagged:?}"
    );
    assert_eq!(
        d.cloud.a_records().unwrap().len(),
        1,
        "{name}: one A record"
    );

    std::fs::remove_file(d.state_file()).expect("state file");
    let mut args = vec!["destroy", "kill", "--cloud", name];
    args.extend(destroy_flags);
    let out = d.run(&args);
    assert!(
        out.status.success(),
        "{name}: destroy --cloud failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        d.cloud.tagged("kill").unwrap(),
        Vec::<String>::new(),
        "{name}"
    );
    assert_eq!(d.cloud.a_records().unwrap(), vec![], "{name}: record left");
}

macro_rules! kill_points {
    ($($test:ident: $cloud:expr, $point:literal, $flags:expr;)*) => {$(
        #[test]
        fn $test() {
            kill_resume_and_destroy_by_tag($cloud.expect("emulator starts"), $point, $flags);
        }
    )*};
}

kill_points! {
    gcp_killed_before_the_vm_is_recorded: GcpCloud::start(), "unrecorded:vm", &["--project", "test-proj"];
    gcp_killed_after_the_address_is_recorded: GcpCloud::start(), "recorded:address", &["--project", "test-proj"];
    gcp_killed_after_infra: GcpCloud::start(), "step:infra", &["--project", "test-proj"];
    azure_killed_before_the_vm_is_recorded: AzureCloud::start(), "unrecorded:vm", &[];
    azure_killed_after_the_group_is_recorded: AzureCloud::start(), "recorded:group", &[];
    azure_killed_after_infra: AzureCloud::start(), "step:infra", &[];
}
