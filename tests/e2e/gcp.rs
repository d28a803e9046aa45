//! `carto-provision gcp` end to end: against the fake Compute Engine + Cloud DNS (signed in
//! through Application Default Credentials whose token endpoint is the fake) and the test VM
//! booted from the user-data the CLI put in the instance's metadata. From nothing to a
//! verified HTTPS answer, the resources checked in the fake's state, a second run that
//! inserts nothing, and a destroy that leaves nothing labelled with the environment.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::vm::Variant;
use serde_json::{Value, json};

use crate::common::{DOMAIN, Deployment, assert_no_secret};

const ENV: &str = "e2e-gcp";

fn one(items: Vec<Value>, what: &str) -> Value {
    assert_eq!(items.len(), 1, "{what}: {items:?}");
    items.into_iter().next().unwrap()
}

/// Labelled as the environment's: managed-by, env, its nonce (from the state file), created.
fn assert_labelled(what: &str, v: &Value, nonce: &str) {
    let mut labels = v["labels"].clone();
    let created = labels["carto-created"].take();
    assert_recent(what, created.as_str().unwrap_or_default());
    labels.as_object_mut().unwrap().remove("carto-created");
    assert_eq!(
        labels,
        json!({"managed-by": "carto-provision", "carto-env": ENV, "carto-nonce": nonce}),
        "{what}: {v}"
    );
}

/// A `carto-created` value: Unix seconds of this last hour.
fn assert_recent(what: &str, created: &str) {
    let secs: i64 = created
        .parse()
        .unwrap_or_else(|_| panic!("{what}: carto-created {created:?}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - 3600..=now).contains(&secs),
        "{what}: carto-created {secs}"
    );
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn deploys_verifies_resumes_and_destroys() {
    let cloud = GcpCloud::start().expect("the fake GCP starts");
    let d = Deployment::on(
        cloud,
        Path::new(env!("CARGO_BIN_EXE_carto-provision")),
        ENV,
        &[],
    );
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Plain13, "");
    assert_eq!(
        code,
        0,
        "deploy failed\nstdout: {out}\nstderr: {err}\nVM log: {}",
        vm.log_tail(30)
    );
    assert!(out.contains(r#""event":"deployed""#), "{out}");
    assert_no_secret("CLI output", &(out.clone() + &err));
    assert!(!(out.clone() + &err).contains("carto-test-client-secret"));
    let vm_ip = d.cloud.vm_ip.to_string();
    let tag = format!("carto-{ENV}");
    let state = d.state();
    let nonce = state["nonce"].as_str().expect("the state's nonce");

    // Boot disk: pd-ssd, at least 60 GB, labelled, deleted with the instance.
    let disk = one(d.cloud.resources_of("disks", ENV).unwrap(), "disks");
    assert_labelled("disk", &disk, nonce);
    assert!(
        disk["type"]
            .as_str()
            .unwrap()
            .ends_with("/diskTypes/pd-ssd"),
        "{disk}"
    );
    assert!(
        disk["sizeGb"].as_str().unwrap().parse::<u64>().unwrap() >= 60,
        "{disk}"
    );

    // Instance: labelled, on the network tag, the static address as natIP, boot disk autoDelete.
    let instance = one(d.cloud.resources_of("instances", ENV).unwrap(), "instances");
    assert_labelled("instance", &instance, nonce);
    assert_eq!(instance["status"], "RUNNING");
    assert_eq!(instance["tags"]["items"], json!([tag]));
    assert_eq!(
        instance["networkInterfaces"][0]["accessConfigs"][0]["natIP"],
        vm_ip
    );
    assert_eq!(instance["disks"][0]["boot"], true);
    assert_eq!(instance["disks"][0]["autoDelete"], true);
    let ssh_keys = instance["metadata"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "ssh-keys")
        .expect("ssh-keys metadata");
    assert!(
        ssh_keys["value"]
            .as_str()
            .unwrap()
            .starts_with("ubuntu:ssh-ed25519 "),
        "{ssh_keys}"
    );
    // The host key was rotated, so the user-data (which carried the old one) was dropped.
    let keys: Vec<&str> = instance["metadata"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert_eq!(keys, ["ssh-keys"], "user-data left in the metadata");
    assert_eq!(d.state()["host_key_rotated"], true);
    assert_eq!(d.state()["user_data_forgotten"], true);

    // Address: labelled, the VM's, in use.
    let address = one(d.cloud.resources_of("addresses", ENV).unwrap(), "addresses");
    assert_labelled("address", &address, nonce);
    assert_eq!(address["address"], vm_ip);
    assert_eq!(address["status"], "IN_USE");

    // Firewall rules: exactly 443 and 80 from anywhere, 22 from the operator, on the tag;
    // labelled through their description (Compute firewall rules have no labels).
    let rules = d.cloud.resources_of("firewalls", ENV).unwrap();
    let found: BTreeSet<(String, String, String, String)> = rules
        .iter()
        .map(|r| {
            assert_eq!(r["direction"], "INGRESS", "{r}");
            let description = r["description"].as_str().unwrap_or_default();
            let created = description.strip_prefix("carto-created=").and_then(|d| {
                d.strip_suffix(&format!(
                    " carto-env={ENV} carto-nonce={nonce} managed-by=carto-provision"
                ))
            });
            assert_recent("firewall description", created.unwrap_or(description));
            (
                r["allowed"].to_string(),
                r["sourceRanges"].to_string(),
                r["targetTags"].to_string(),
                r.get("denied").map(Value::to_string).unwrap_or_default(),
            )
        })
        .collect();
    let rule = |port: &str, source: &str| {
        (
            json!([{"IPProtocol": "tcp", "ports": [port]}]).to_string(),
            json!([source]).to_string(),
            json!([tag]).to_string(),
            String::new(),
        )
    };
    let expected: BTreeSet<_> = [
        rule("443", "0.0.0.0/0"),
        rule("80", "0.0.0.0/0"),
        rule("22", "127.0.0.1/32"),
    ]
    .into();
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert_eq!(found, expected);

    // DNS: carto.test. -> the VM.
    assert_eq!(
        d.cloud.a_records().unwrap(),
        vec![(format!("{DOMAIN}."), vm_ip.clone())]
    );

    // The state file: every resource, no key resource (the key is in the metadata).
    let state = d.state();
    assert_eq!(state["step"], "verify");
    assert_eq!(state["public_ip"], vm_ip);
    let mut kinds: Vec<&str> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "address",
            "dns-record",
            "firewall",
            "firewall",
            "firewall",
            "network",
            "subnet",
            "vm"
        ]
    );
    assert_no_secret(
        "state file",
        &std::fs::read_to_string(d.state_file()).unwrap(),
    );

    // HTTPS through the VM's address, with the domain as SNI and Host.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answers = rt
        .block_on(carto_provision::https_probe::https(
            DOMAIN,
            d.cloud.vm_ip.into(),
            443,
            &["/"],
            false,
            Duration::from_secs(30),
        ))
        .unwrap();
    assert_eq!(answers, [("/".to_string(), 200)]);

    // Running the same command again inserts nothing and ends verified.
    let inserts = d.cloud.inserts().unwrap();
    let mut before = d.cloud.tagged(ENV).unwrap();
    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "second run failed\nstdout: {out}\nstderr: {err}");
    assert_eq!(
        d.cloud.inserts().unwrap(),
        inserts,
        "the second run inserted something"
    );
    let mut after = d.cloud.tagged(ENV).unwrap();
    before.sort();
    after.sort();
    assert_eq!(after, before, "the second run changed the resources");

    d.destroy_leaves_nothing();
    drop(vm);
}
