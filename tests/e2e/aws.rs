//! The first end-to-end deployment: `carto-provision aws` from nothing to a verified HTTPS
//! answer on the test VM, a second run that changes nothing, and a destroy that leaves nothing.

use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::package::SECRET_PASSWORD;
use carto_harness::vm::Variant;

use crate::common::{DOMAIN, assert_no_secret, checkout, deployment, vm_sh};

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn deploys_verifies_resumes_and_destroys() {
    let d = deployment(
        "e2e-aws",
        &["WORKSPACE_POSTGRES_SSL_CA=/usr/src/certs/postgres-ca.pem"],
    );
    // The package's certs/ folder travels too (here a CA customer.env points at).
    std::fs::create_dir(d.package.join("certs")).unwrap();
    std::fs::write(
        d.package.join("certs/postgres-ca.pem"),
        "-----BEGIN CERTIFICATE-----\ntest CA\n",
    )
    .unwrap();
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Plain13, "");
    assert_eq!(
        code,
        0,
        "deploy failed\nstdout: {out}\nstderr: {err}\nVM log: {}",
        vm.log_tail(30)
    );
    assert!(out.contains(r#""event":"deployed""#), "{out}");
    assert_no_secret("CLI output", &(out.clone() + &err));

    // The cloud side: every resource exists, tagged, and the record points at the VM.
    let tagged = d.cloud.aws.tagged(&d.env).unwrap();
    for kind in [
        "instance ",
        "security-group ",
        "address ",
        "key-pair ",
        "volume ",
    ] {
        assert_eq!(
            tagged.iter().filter(|t| t.starts_with(kind)).count(),
            1,
            "{kind}in {tagged:?}"
        );
    }
    assert_eq!(
        d.cloud.a_records().unwrap(),
        vec![(format!("{DOMAIN}."), d.cloud.aws.vm_ip.to_string())]
    );

    // The state file: 0600, every id, no secret.
    let state_text = std::fs::read_to_string(d.state_file()).unwrap();
    assert_no_secret("state file", &state_text);
    let state = d.state();
    assert_eq!(state["step"], "verify");
    assert_eq!(state["public_ip"], d.cloud.aws.vm_ip.to_string());
    let kinds: Vec<&str> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for kind in ["ssh-key", "firewall", "address", "vm", "dns-record"] {
        assert!(kinds.contains(&kind), "{kind} not in state {kinds:?}");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(d.state_file())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // The VM side: Docker, the group, the files with their modes, every service up.
    assert_eq!(vm_sh(&vm, "systemctl is-active docker").trim(), "active");
    assert!(
        vm_sh(&vm, "id -nG ubuntu")
            .split_whitespace()
            .any(|g| g == "docker")
    );
    let env_file = String::from_utf8(vm.read_file(&checkout("customer.env")).unwrap()).unwrap();
    assert!(
        env_file
            .lines()
            .any(|l| l == format!("SELFHOSTED_DOMAIN={DOMAIN}")),
        "{env_file}"
    );
    assert!(
        env_file.contains(SECRET_PASSWORD),
        "customer.env uploaded without its values"
    );
    assert_eq!(
        vm.file_mode(&checkout("customer.env")).unwrap() & 0o777,
        0o600
    );
    assert_eq!(vm.file_mode(&checkout("key.json")).unwrap() & 0o777, 0o600);
    assert_eq!(
        vm.file_mode(&checkout("certs/postgres-ca.pem")).unwrap() & 0o777,
        0o600
    );
    assert_eq!(
        vm.read_file(&checkout("certs/postgres-ca.pem")).unwrap(),
        b"-----BEGIN CERTIFICATE-----\ntest CA\n"
    );
    assert_eq!(
        vm.read_file(&checkout("key.json")).unwrap(),
        std::fs::read(d.package.join("key.json")).unwrap()
    );
    let dot_env = String::from_utf8(vm.read_file(&checkout(".env")).unwrap()).unwrap();
    // No --selfhosted-version: the newest release (not the newer -rc) was resolved and recorded.
    assert!(
        dot_env.contains("CARTO_SELFHOSTED_VERSION=2025.11.11-patch1\n"),
        "{dot_env}"
    );
    assert_eq!(
        d.state()["extra"]["selfhosted_version"],
        "2025.11.11-patch1"
    );
    let states = vm_sh(
        &vm,
        "docker inspect --format '{{index .Config.Labels \"com.docker.compose.service\"}} {{.State.Status}} {{.State.ExitCode}}' $(docker ps -aq)",
    );
    let mut states: Vec<&str> = states.lines().collect();
    states.sort();
    assert_eq!(
        states,
        [
            "router running 0",
            "workspace-api running 0",
            "workspace-migrations exited 0"
        ]
    );

    // HTTPS through the VM's address, with the domain as SNI and Host.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answers = rt
        .block_on(carto_provision::https_probe::https(
            DOMAIN,
            d.cloud.aws.vm_ip.into(),
            443,
            &["/", "/acc/config.yaml"],
            false,
            Duration::from_secs(30),
        ))
        .unwrap();
    assert_eq!(
        answers,
        [
            ("/".to_string(), 200),
            ("/acc/config.yaml".to_string(), 200)
        ]
    );

    // Running the same command again creates nothing and ends verified.
    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "second run failed\nstdout: {out}\nstderr: {err}");
    let mut again = d.cloud.aws.tagged(&d.env).unwrap();
    let mut before = tagged.clone();
    again.sort();
    before.sort();
    assert_eq!(again, before, "the second run changed the resources");
    assert!(
        out.contains("already done"),
        "the second run did not skip remote steps: {out}"
    );

    d.destroy_leaves_nothing();
}
