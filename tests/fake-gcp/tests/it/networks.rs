//! Networks and subnetworks as Compute has them: every project's `default` network with GCP's
//! default rules, custom networks with subnetworks, instances placed only on networks and
//! subnetworks that exist, deletions refused while something still uses the resource, and
//! `firewalls.update` replacing a rule.

use crate::common::{Fake, REGION, ZONE, instance_body, message, reason};
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

async fn delete(fake: &Fake, path: &str) -> (u16, Value) {
    let (status, op) = fake.delete(path).await;
    if status == 200 {
        fake.wait_done(&op).await;
    }
    (status, op)
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
    // A legacy network (no autoCreateSubnetworks) is refused.
    let (status, err) = fake
        .post(
            &Fake::compute("global/networks"),
            &json!({"name": "legacy"}),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    // A subnetwork on a missing network, with a bad range, or overlapping, is refused.
    let (status, err) = fake
        .post(&subnets, &subnet("s", "nowhere", "10.64.0.0/24"))
        .await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = fake
        .post(&subnets, &subnet("s", "env-1-net", "10.64.0.1/24"))
        .await;
    assert_eq!(status, 400, "{err}");
    create(
        &fake,
        &subnets,
        &subnet("env-1-subnet", "env-1-net", "10.64.0.0/24"),
    )
    .await;
    let (status, err) = fake
        .post(&subnets, &subnet("s2", "env-1-net", "10.64.0.128/25"))
        .await;
    assert_eq!((status, reason(&err)), (400, "invalid"), "{err}");
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
    let mut vm = instance_body("env-1-vm", None, true);
    vm["networkInterfaces"][0]["network"] = json!("global/networks/env-1-net");
    let (status, err) = fake.post(&instances, &vm).await;
    assert_eq!(status, 400, "no subnetwork: {err}");
    assert!(
        message(&err).contains("Subnetwork should be specified"),
        "{err}"
    );
    vm["networkInterfaces"][0]["subnetwork"] = json!(format!("regions/{REGION}/subnetworks/nope"));
    assert_eq!(
        fake.post(&instances, &vm).await.0,
        400,
        "unknown subnetwork"
    );
    vm["networkInterfaces"][0]["network"] = json!("global/networks/nope");
    vm["networkInterfaces"][0]["subnetwork"] =
        json!(format!("regions/{REGION}/subnetworks/env-1-subnet"));
    assert_eq!(fake.post(&instances, &vm).await.0, 400, "unknown network");
    vm["networkInterfaces"][0]["network"] = json!("global/networks/env-1-net");
    create(&fake, &instances, &vm).await;
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
    let (status, err) = delete(&fake, &sub_path).await;
    assert_eq!(
        (status, reason(&err)),
        (400, "resourceInUseByAnotherResource"),
        "{err}"
    );
    let (status, err) = delete(&fake, &net_path).await;
    assert_eq!(
        (status, reason(&err)),
        (400, "resourceInUseByAnotherResource"),
        "{err}"
    );
    assert_eq!(delete(&fake, &format!("{instances}/env-1-vm")).await.0, 200);
    assert_eq!(
        delete(&fake, &net_path).await.0,
        400,
        "the subnet and rule still use it"
    );
    assert_eq!(delete(&fake, &sub_path).await.0, 200);
    assert_eq!(
        delete(&fake, &net_path).await.0,
        400,
        "the rule still uses it"
    );
    assert_eq!(
        delete(&fake, &Fake::compute("global/firewalls/env-1-ssh"))
            .await
            .0,
        200
    );
    assert_eq!(delete(&fake, &net_path).await.0, 200);
    assert_eq!(fake.get(&net_path).await.0, 404);
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
