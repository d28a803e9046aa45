//! The binary killed (SIGKILL, as a crash) on every emulated cloud, no VM: killed after the
//! cloud made a resource and before the state file knew it, the same command resumes (dying
//! once the record exists) with exactly one of every resource; then, the state file deleted,
//! `destroy --cloud` leaves nothing tagged with the environment and no record. One scenario
//! for every cloud; resume after a failure at each call is tested on the pipeline itself
//! (`tests/pipeline`), and finding a resource whose creation answer was lost on each
//! provider's contract suite.

use std::path::Path;

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::Deployment;
use carto_harness::local_aws::AwsCloud;
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
    aws_killed_before_the_address_is_recorded: AwsCloud::start(), "unrecorded:address", &["--region", "us-east-1"];
    aws_killed_before_the_vm_is_recorded: AwsCloud::start(), "unrecorded:vm", &["--region", "us-east-1"];
    gcp_killed_before_the_vm_is_recorded: GcpCloud::start(), "unrecorded:vm", &["--project", "test-proj"];
    gcp_killed_after_infra: GcpCloud::start(), "step:infra", &["--project", "test-proj"];
    azure_killed_before_the_vm_is_recorded: AzureCloud::start(), "unrecorded:vm", &[];
    azure_killed_before_the_group_is_recorded: AzureCloud::start(), "unrecorded:group", &[];
}
