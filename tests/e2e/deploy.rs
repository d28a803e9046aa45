//! The main end-to-end deployment, one scenario for every cloud: `carto-provision aws|gcp|azure`
//! from nothing to a verified HTTPS answer on the test VM booted from the user-data the CLI
//! sent; the state file, the VM (Docker, the uploaded package with its modes, every service)
//! and the record checked; a second run that changes nothing; a destroy that leaves nothing.
//! What each cloud made is checked property by property by its provider's contract tests
//! against the same emulator; here each cloud adds only what differs (which resources it tags,
//! how it forgets the user-data).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::local_aws::AwsCloud;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::package::SECRET_PASSWORD;
use carto_harness::selfhosted::NEWEST_RELEASE;
use carto_harness::vm::{TestVm, Variant};
use carto_provision::event::Event;
use carto_provision::pipeline::events::DEPLOY_STEPS;
use carto_provision::timeline::SpanKind;

use crate::common::{
    DOMAIN, Deployment, assert_every_service_up_from_the_registry,
    assert_metrics_port_closed_by_the_firewall, assert_no_secret,
    changed_customer_env_recreates_every_container, checkout, vm_sh,
};

const CA: &[u8] = b"-----BEGIN CERTIFICATE-----\ntest CA\n";

fn deploys_verifies_resumes_and_destroys<C: LocalCloud>(
    cloud: C,
    tagged_kinds: &[&str],
    user_data_forgotten: impl Fn(&Deployment<C>),
) {
    let env = format!("e2e-{}", cloud.cloud());
    let bin = Path::new(env!("CARGO_BIN_EXE_carto-provision"));
    let extra = ["WORKSPACE_POSTGRES_SSL_CA=/usr/src/certs/postgres-ca.pem"];
    let d = Deployment::on(cloud, bin, &env, &extra);
    // The package's certs/ folder travels too (here a CA customer.env points at).
    std::fs::create_dir(d.package.join("certs")).unwrap();
    std::fs::write(d.package.join("certs/postgres-ca.pem"), CA).unwrap();
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Plain13, "");
    let log = || format!("stdout: {out}\nstderr: {err}\nVM log: {}", vm.log_tail(30));
    assert_eq!(code, 0, "deploy failed\n{}", log());
    let vm_ip = d.cloud.vm_ip().to_string();
    let deployed = Event::all(&out).find_map(|e| match e {
        Event::Deployed { outcome } => Some(outcome),
        _ => None,
    });
    assert_eq!(deployed.map(|o| o.ip), Some(vm_ip.clone()), "{}", log());
    assert_timeline(&out);
    assert_no_secret("CLI output", &(out.clone() + &err));

    // The cloud: every kind tagged once, the record pointing at the VM.
    let tagged = d.cloud.tagged(&env).unwrap();
    for kind in tagged_kinds {
        let n = tagged.iter().filter(|t| t.starts_with(kind)).count();
        assert!(n >= 1, "{kind} not tagged: {tagged:?}");
    }
    assert_eq!(
        d.cloud.a_records().unwrap(),
        vec![(format!("{DOMAIN}."), vm_ip.clone())]
    );

    // The state file: 0600, every id, no secret, the rotated host key the one sshd serves.
    let state_text = std::fs::read_to_string(d.state_file()).unwrap();
    assert_no_secret("state file", &state_text);
    let mode = std::fs::metadata(d.state_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let state = d.state();
    assert_eq!(
        (&state["step"], &state["public_ip"]),
        (&"verify".into(), &vm_ip.clone().into())
    );
    let kinds: Vec<&str> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for kind in ["firewall", "address", "vm", "dns-record"] {
        assert!(kinds.contains(&kind), "{kind} not in state {kinds:?}");
    }
    assert_eq!(
        (&state["host_key_rotated"], &state["user_data_forgotten"]),
        (&true.into(), &true.into())
    );
    let live = vm_sh(&vm, "ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key");
    let pinned = state["host_key_public"].as_str().unwrap();
    assert_eq!(
        live.split_whitespace().nth(1),
        pinned.split_whitespace().nth(1)
    );
    user_data_forgotten(&d);

    // The VM: Docker, the group, the files with their content and modes, every service up.
    assert_eq!(vm_sh(&vm, "systemctl is-active docker").trim(), "active");
    docker_installed_during_boot_beside_the_checkout(&out, &vm);
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
    for (file, content) in [
        (
            "key.json",
            std::fs::read(d.package.join("key.json")).unwrap(),
        ),
        ("certs/postgres-ca.pem", CA.to_vec()),
    ] {
        assert_eq!(vm.read_file(&checkout(file)).unwrap(), content, "{file}");
    }
    // .env too: install.sh writes it with the session's umask; the tool tightens it.
    for file in ["customer.env", "key.json", "certs/postgres-ca.pem", ".env"] {
        assert_eq!(
            vm.file_mode(&checkout(file)).unwrap() & 0o777,
            0o600,
            "{file}"
        );
    }
    let dot_env = String::from_utf8(vm.read_file(&checkout(".env")).unwrap()).unwrap();
    // No --selfhosted-version: the newest release (not the newer -rc) was resolved and recorded.
    assert!(
        dot_env.contains(&format!("CARTO_SELFHOSTED_VERSION={NEWEST_RELEASE}\n")),
        "{dot_env}"
    );
    assert_eq!(d.state()["extra"]["selfhosted_version"], NEWEST_RELEASE);
    assert_every_service_up_from_the_registry(&vm, NEWEST_RELEASE);
    assert_metrics_port_closed_by_the_firewall(&d, &vm, &env);

    // HTTPS through the VM's address, with the domain as SNI and Host.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let paths = ["/", "/acc/config.yaml"];
    let probe = carto_provision::https_probe::https(
        DOMAIN,
        d.cloud.vm_ip().into(),
        443,
        &paths,
        false,
        Duration::from_secs(30),
    );
    let answers = rt.block_on(probe).unwrap();
    assert_eq!(answers, paths.map(|p| (p.to_string(), 200)));

    // Running the same command again creates nothing, skips every remote step, ends verified.
    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "second run failed\nstdout: {out}\nstderr: {err}");
    let (mut again, mut before) = (d.cloud.tagged(&env).unwrap(), tagged);
    again.sort();
    before.sort();
    assert_eq!(again, before, "the second run changed the resources");
    assert!(
        out.contains("already done"),
        "remote steps not skipped: {out}"
    );
    // Every container has been up for more than the 60 s window by Docker's own StartedAt, so
    // the re-run's health check needs one poll, not another minute.
    let healthy = Event::all(&out)
        .find_map(|e| match e {
            Event::Span {
                kind: SpanKind::Step,
                name,
                started_ms,
                ended_ms,
                ..
            } if name == "healthy" => Some(ended_ms - started_ms),
            _ => None,
        })
        .expect("a healthy step in the re-run");
    assert!(
        healthy < 30_000.0,
        "the re-run waited {healthy} ms for services up all along"
    );

    changed_customer_env_recreates_every_container(&d, &vm);

    d.destroy_leaves_nothing();
}

/// This image has no Docker: cloud-init installed it during boot (the user-data's runcmd), so
/// the bootstrap's Docker step only confirmed it, and the checkout was on the VM before
/// cloud-init finished.
fn docker_installed_during_boot_beside_the_checkout(out: &str, vm: &TestVm) {
    assert!(
        out.contains("install Docker and docker-compose: already done"),
        "the bootstrap installed Docker itself: {out}"
    );
    let boot_log = vm_sh(vm, "cat /var/log/cloud-init-output.log");
    assert!(
        boot_log.contains("installing docker.io and docker-compose"),
        "cloud-init did not install Docker: {boot_log}"
    );
    let mtime = |path: &str| -> u64 {
        vm_sh(vm, &format!("stat -c %Y {path}"))
            .trim()
            .parse()
            .expect("a time")
    };
    let checked_out = mtime(&checkout(".git/HEAD"));
    let cloud_init_done = mtime("/var/lib/cloud/data/result.json");
    assert!(
        checked_out <= cloud_init_done,
        "checkout at {checked_out}, after cloud-init finished at {cloud_init_done}"
    );
}

/// The `--json` timeline: a span for every step, for the cloud calls and the remote steps, each
/// ending after it began, and the VM waited for only once it was created.
fn assert_timeline(out: &str) {
    let spans: Vec<(SpanKind, String, f64, f64)> = Event::all(out)
        .filter_map(|e| match e {
            Event::Span {
                kind,
                name,
                started_ms,
                ended_ms,
                ..
            } => Some((kind, name, started_ms, ended_ms)),
            _ => None,
        })
        .collect();
    let span = |kind: SpanKind, name: &str| {
        spans
            .iter()
            .find(|s| s.0 == kind && s.1 == name)
            .unwrap_or_else(|| panic!("no {kind:?} span {name}: {spans:?}"))
    };
    for step in DEPLOY_STEPS {
        span(SpanKind::Step, step.as_str());
    }
    assert!(span(SpanKind::Cloud, "ensure_vm").3 <= span(SpanKind::Cloud, "wait_vm_ready").2);
    assert!(spans.iter().any(|s| s.0 == SpanKind::Remote), "{spans:?}");
    assert!(spans.iter().all(|s| s.2 <= s.3), "{spans:?}");
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn aws_deploys_verifies_resumes_and_destroys() {
    let kinds = [
        "instance ",
        "security-group ",
        "address ",
        "key-pair ",
        "volume ",
    ];
    deploys_verifies_resumes_and_destroys(AwsCloud::start().unwrap(), &kinds, |_| {});
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn gcp_deploys_verifies_resumes_and_destroys() {
    let kinds = [
        "instance ",
        "disk ",
        "address ",
        "firewall ",
        "network ",
        "subnetwork ",
    ];
    // GCP drops the user-data metadata item once the host key is rotated.
    let forgotten = |d: &Deployment<GcpCloud>| {
        let instances = d.cloud.resources_of("instances", &d.env).unwrap();
        let items = instances[0]["metadata"]["items"]
            .as_array()
            .unwrap()
            .clone();
        let keys: Vec<&str> = items.iter().filter_map(|i| i["key"].as_str()).collect();
        assert_eq!(keys, ["ssh-keys"], "user-data left in the metadata");
    };
    deploys_verifies_resumes_and_destroys(GcpCloud::start().unwrap(), &kinds, forgotten);
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn azure_deploys_verifies_resumes_and_destroys() {
    let kinds = [
        "Microsoft.Resources/resourceGroups",
        "Microsoft.Network/virtualNetworks ",
        "Microsoft.Network/networkSecurityGroups ",
        "Microsoft.Network/publicIPAddresses ",
        "Microsoft.Network/networkInterfaces ",
        "Microsoft.Compute/virtualMachines ",
    ];
    // Azure cannot remove customData: nothing to forget, so the no-op counts as done.
    deploys_verifies_resumes_and_destroys(AzureCloud::start().unwrap(), &kinds, |_| {});
}
