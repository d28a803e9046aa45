//! Networks and subnetworks as Compute has them: every project's `default` network with GCP's
//! default rules, custom networks with subnetworks, instances placed only on networks and
//! subnetworks that exist, deletions refused while something still uses the resource, and
//! `firewalls.update` replacing a rule.

use crate::common::Says::{Any, Has};
use crate::common::{Case, Fake, REGION, ZONE, check, delete, get, instance_body, post};
use serde_json::{Value, json};

fn network(name: &str) -> Value {
    json!({"name": name, "autoCreateSubnetworks": false, "description": "managed-by=carto-provision"})
}

fn subnet(name: &str, network: &str, range: &str) -> Value {
    json!({"name": name, "network": format!("global/networks/{network}"), "ipCidrRange": range})
}

/// POSTs `body` to `path` and waits for its operation; panics unless it is accepted.
async fn create(fake: &Fake, path: &str, body: &Value) {
    let (status, op) = fake.post(path, body).await;
    assert_eq!(status, 200, "{path}: {op}");
    fake.wait_done(&op).await;
}

#[tokio::test]
async fn every_project_has_a_default_network_open_to_the_world() {
    let fake = Fake::default().await;
    let (status, net) = fake.get(&Fake::compute("global/networks/default")).await;
    assert_eq!(status, 200, "{net}");
    assert_eq!(net["autoCreateSubnetworks"], true);
    let (_, list) = fake.get(&Fake::compute("global/firewalls")).await;
    let mut rules: Vec<(String, String, Value)> = list["items"]
        .as_array()
        .expect("the default rules")
        .iter()
        .map(|r| {
            let name = r["name"].as_str().unwrap_or_default().to_string();
            (
                name,
                r["sourceRanges"][0].to_string(),
                r["allowed"][0].clone(),
            )
        })
        .collect();
    rules.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = rules.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "default-allow-icmp",
            "default-allow-internal",
            "default-allow-rdp",
            "default-allow-ssh"
        ]
    );
    assert_eq!(rules[3].1, "\"0.0.0.0/0\"");
    assert_eq!(rules[3].2, json!({"IPProtocol": "tcp", "ports": ["22"]}));
    assert_eq!(rules[1].1, "\"10.128.0.0/9\"");
}

#[tokio::test]
async fn a_custom_network_holds_a_subnetwork_an_instance_and_rules_until_they_go() {
    let fake = Fake::default().await;
    let net_path = Fake::compute("global/networks/env-1-net");
    let subnets = Fake::compute(&format!("regions/{REGION}/subnetworks"));
    let sub_path = format!("{subnets}/env-1-subnet");
    create(
        &fake,
        &Fake::compute("global/networks"),
        &network("env-1-net"),
    )
    .await;
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("a legacy network (no autoCreateSubnetworks)",
            post(Fake::compute("global/networks"), json!({"name": "legacy"})), 400, "invalid", Any),
        ("a subnetwork on a missing network",
            post(&subnets, subnet("s", "nowhere", "10.64.0.0/24")), 400, "invalid", Any),
        ("a subnetwork range with host bits",
            post(&subnets, subnet("s", "env-1-net", "10.64.0.1/24")), 400, "invalid", Any),
    ];
    check(&fake, cases).await;
    create(
        &fake,
        &subnets,
        &subnet("env-1-subnet", "env-1-net", "10.64.0.0/24"),
    )
    .await;
    let (_, sub) = fake.get(&sub_path).await;
    assert_eq!(sub["ipCidrRange"], "10.64.0.0/24");
    assert!(
        sub["region"].as_str().is_some_and(|r| r.ends_with(REGION)),
        "{sub}"
    );
    let (_, net) = fake.get(&net_path).await;
    assert_eq!(net["subnetworks"], json!([sub["selfLink"]]));

    // A rule on the network; an instance in a custom network needs a subnetwork that exists.
    let rule = json!({"name": "env-1-ssh", "network": "global/networks/env-1-net",
        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["203.0.113.7/32"]});
    create(&fake, &Fake::compute("global/firewalls"), &rule).await;
    let instances = Fake::compute(&format!("zones/{ZONE}/instances"));
    let vm = |network: &str, subnetwork: Option<&str>| {
        let mut vm = instance_body("env-1-vm", None, true);
        let nic = &mut vm["networkInterfaces"][0];
        nic["network"] = json!(format!("global/networks/{network}"));
        if let Some(name) = subnetwork {
            nic["subnetwork"] = json!(format!("regions/{REGION}/subnetworks/{name}"));
        }
        vm
    };
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("an overlapping subnetwork", post(&subnets, subnet("s2", "env-1-net", "10.64.0.128/25")),
            400, "invalid", Any),
        ("an instance on a custom network, no subnetwork", post(&instances, vm("env-1-net", None)),
            400, "invalid", Has(&["Subnetwork should be specified"])),
        ("an instance in an unknown subnetwork", post(&instances, vm("env-1-net", Some("nope"))),
            400, "invalid", Any),
        ("an instance on an unknown network", post(&instances, vm("nope", Some("env-1-subnet"))),
            400, "invalid", Any),
    ];
    check(&fake, cases).await;
    create(&fake, &instances, &vm("env-1-net", Some("env-1-subnet"))).await;
    let (_, got) = fake.get(&format!("{instances}/env-1-vm")).await;
    let nic = &got["networkInterfaces"][0];
    assert!(
        nic["network"]
            .as_str()
            .is_some_and(|n| n.ends_with("/global/networks/env-1-net")),
        "{nic}"
    );
    assert!(
        nic["subnetwork"]
            .as_str()
            .is_some_and(|n| n.ends_with("/subnetworks/env-1-subnet")),
        "{nic}"
    );
    assert_eq!(nic["networkIP"], "10.64.0.2");

    // Deletions in the wrong order are refused, in the right order accepted.
    let in_use = "resourceInUseByAnotherResource";
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("the subnetwork the instance uses", delete(&sub_path), 400, in_use, Any),
        ("the network the instance uses", delete(&net_path), 400, in_use, Any),
        ("the instance", delete(format!("{instances}/env-1-vm")), 200, "", Any),
        ("the network the subnetwork and rule still use", delete(&net_path), 400, in_use, Any),
        ("the subnetwork", delete(&sub_path), 200, "", Any),
        ("the network the rule still uses", delete(&net_path), 400, in_use, Any),
        ("the rule", delete(Fake::compute("global/firewalls/env-1-ssh")), 200, "", Any),
        ("the network, used by nothing", delete(&net_path), 200, "", Any),
        ("the network, deleted", get(&net_path), 404, "notFound", Any),
    ];
    check(&fake, cases).await;
    // The default network is still there, with its rules.
    assert_eq!(fake.server.state().resources("networks").len(), 1);
}

#[tokio::test]
async fn a_firewall_rule_is_replaced_by_update_but_keeps_its_network() {
    let fake = Fake::default().await;
    let rule = json!({"name": "env-1-ssh", "network": "global/networks/default", "targetTags": ["t"],
        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}], "sourceRanges": ["203.0.113.7/32"]});
    create(&fake, &Fake::compute("global/firewalls"), &rule).await;
    let path = Fake::compute("global/firewalls/env-1-ssh");
    let (_, before) = fake.get(&path).await;
    let mut wide = rule.clone();
    wide["sourceRanges"] = json!(["0.0.0.0/0"]);
    let (status, op) = fake.send("PUT", &path, Some(&wide)).await;
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["operationType"], "update");
    fake.wait_done(&op).await;
    let (_, after) = fake.get(&path).await;
    assert_eq!(after["sourceRanges"], json!(["0.0.0.0/0"]));
    assert_eq!(
        (&after["id"], &after["network"]),
        (&before["id"], &before["network"])
    );
    create(&fake, &Fake::compute("global/networks"), &network("other")).await;
    wide["network"] = json!("global/networks/other");
    let (status, err) = fake.send("PUT", &path, Some(&wide)).await;
    assert_eq!(status, 400, "{err}");
}
