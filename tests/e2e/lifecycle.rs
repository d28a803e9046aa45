//! Lifecycle end to end on AWS with the test VM: a run killed at every step boundary after
//! the VM exists, each resumed by the same command, ends verified with exactly one of every
//! resource; then, the state file deleted, `destroy --cloud aws` leaves nothing. And a
//! deployment through a proxy that throttles 30 % of the calls still ends verified.
//! (The boundaries before SSH are killed in `tests/it/lifecycle.rs`, without a VM.)

use carto_harness::cloud::LocalCloud;
use carto_harness::proxy::{FaultProxy, Faults};
use carto_harness::vm::Variant;

use crate::common::{changed_customer_env_recreates_every_container, deployment};

/// Points after which the chain kills the run (see `src/interrupt.rs`).
const AFTER_THE_VM: &[&str] = &["step:bootstrap", "step:install", "step:healthy"];

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn killed_at_every_step_resumes_to_verified_then_destroy_by_tag_leaves_nothing() {
    let mut d = deployment("e2e-kill", &[]);
    let die_at = |d: &mut carto_harness::deployment::Deployment, point: &str| {
        d.overrides = vec![("CARTO_PROVISION_DIE_AT".into(), point.into())];
        let (code, _, err) = d.deploy_again();
        assert_eq!(code, -1, "not killed at {point}: {err}");
    };
    // The instance exists, the state file does not know it yet.
    die_at(&mut d, "unrecorded:vm");
    let vm = d
        .cloud
        .boot_from_user_data(&d.env, Variant::Docker, "")
        .expect("test VM boots");
    vm.install_repo(&d.bare_repo).expect("repository in the VM");
    for point in AFTER_THE_VM {
        die_at(&mut d, point);
    }
    d.overrides.clear();
    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "resume failed\nstdout: {out}\nstderr: {err}");
    assert!(out.contains(r#""event":"deployed""#), "{out}");

    let mut kinds: Vec<String> = d
        .cloud
        .tagged(&d.env)
        .unwrap()
        .iter()
        .map(|t| t.split(' ').next().unwrap_or_default().to_string())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "address",
            "instance",
            "key-pair",
            "security-group",
            "volume"
        ],
        "exactly one of each after five runs"
    );
    assert_eq!(d.cloud.a_records().unwrap().len(), 1);

    std::fs::remove_file(d.state_file()).expect("state file");
    let out = d.run(&["destroy", &d.env, "--cloud", "aws"]);
    assert!(
        out.status.success(),
        "destroy --cloud failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.cloud.tagged(&d.env).unwrap(), Vec::<String>::new());
    assert_eq!(d.cloud.a_records().unwrap(), vec![]);
    drop(vm);
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn a_deployment_with_30_percent_of_calls_throttled_ends_verified() {
    let mut d = deployment("e2e-throttle", &[]);
    let proxy = FaultProxy::start_with(
        d.cloud.aws.moto.port,
        Faults {
            throttle_percent: 30,
            seed: 2026,
            ..Faults::default()
        },
    );
    d.overrides = vec![("CARTO_PROVISION_AWS_ENDPOINT_URL".into(), proxy.endpoint())];
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Docker, "");
    assert_eq!(
        code,
        0,
        "stdout: {out}\nstderr: {err}\nVM: {}",
        vm.log_tail(20)
    );
    let (throttled, total) = (proxy.throttled(), proxy.total());
    assert!(
        throttled >= 3 && throttled * 100 >= total * 15,
        "{throttled} of {total} calls throttled"
    );
    // The Compose v1 image (Debian 12, distro-v1) recreates after a changed value too.
    changed_customer_env_recreates_every_container(&d, &vm);
    d.destroy_leaves_nothing();
    assert!(
        proxy.throttled() > throttled,
        "destroy went around the proxy"
    );
}
