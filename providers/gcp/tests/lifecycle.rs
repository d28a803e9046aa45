//! The whole environment through the trait against the fake (whose project has GCP's
//! world-open `default` network): create, check every property that matters in the fake's
//! state (the VM in the environment's own network and subnetwork), ensure again (nothing new,
//! same ids), list by label, delete in pipeline order (nothing left), delete again (still fine). Also the DNS record:
//! replaced in one change, and left alone on delete when it points elsewhere.

use std::collections::BTreeSet;
use std::time::Duration;

use carto_core::{Address, InfraSpec, Provider, ResourceKind, ResourceRef};
use serde_json::{Value, json};

use crate::common::{self, Env, OPERATOR_CIDR, PUBLIC_KEY, VM_IP, ZONE, spec};

const WAIT: Duration = Duration::from_secs(30);

struct Made {
    network: Vec<ResourceRef>,
    firewall: Vec<ResourceRef>,
    address: Address,
    vm: ResourceRef,
    dns: ResourceRef,
}

async fn create(env: &Env, s: &InfraSpec) -> Made {
    let p = &env.provider;
    let resolved = p.preflight(s).await.expect("preflight");
    assert_eq!(resolved.disk_type, "pd-ssd");
    assert_eq!(resolved.machine_type, "n2-standard-8");
    assert_eq!(resolved.ssh_user, "ubuntu");
    assert_eq!(resolved.dns_zone_id, "sub-zone");
    assert!(p.ensure_ssh_key(s, &resolved).await.expect("key").is_none());
    let network = p.ensure_network(s, &resolved).await.expect("network");
    let firewall = p.ensure_firewall(s, &resolved).await.expect("firewall");
    let address = p.ensure_address(s, &resolved).await.expect("address");
    let vm = p
        .ensure_vm(s, &resolved, &firewall, &address)
        .await
        .expect("vm");
    p.wait_vm_ready(&vm, &address, WAIT)
        .await
        .expect("vm ready");
    let dns = p
        .ensure_dns_record(s, &resolved, &address, &[], WAIT)
        .await
        .expect("dns");
    Made {
        network,
        firewall,
        address,
        vm,
        dns,
    }
}

fn assert_labelled(what: &str, v: &Value) {
    assert_eq!(
        v["labels"],
        json!({"managed-by": "carto-provision", "carto-env": "life", "carto-nonce": "nonce-life", "carto-created": "1795710422", "carto-expires": EXPIRES.to_string()}),
        "{what}: {v}"
    );
}

fn find<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {items:?}"))
}

/// An expiry (Unix seconds) the lifecycle test's environment is given: 8 h after its creation.
const EXPIRES: i64 = 1_795_739_222;
/// The description of the lifecycle environment's unlabelled resources (rules, network, subnet).
const DESCRIPTION: &str = "carto-created=1795710422 carto-env=life carto-expires=1795739222 carto-nonce=nonce-life managed-by=carto-provision";
#[tokio::test]
async fn create_ensure_again_list_delete_and_delete_again() {
    let env = common::start().await;
    // With a ttl, every resource carries its expiry and list_tagged reads it back.
    let s = InfraSpec {
        expires: Some(EXPIRES),
        ..spec("life", "carto.sub.example.com")
    };
    let made = create(&env, &s).await;

    // Its own network: custom mode, one subnetwork in the zone's region with our range, both
    // described with the labels; nothing of ours in the default network.
    let network = find(&env.resources("networks"), "carto-life-net").clone();
    assert_eq!(network["autoCreateSubnetworks"], false, "{network}");
    assert_eq!(network["description"], DESCRIPTION, "{network}");
    let subnet = find(&env.resources("subnetworks"), "carto-life-subnet").clone();
    assert_eq!(subnet["ipCidrRange"], "10.64.0.0/24", "{subnet}");
    assert_eq!(subnet["description"], DESCRIPTION, "{subnet}");
    assert!(
        subnet["region"]
            .as_str()
            .is_some_and(|r| r.ends_with("/regions/us-central1")),
        "{subnet}"
    );
    assert_eq!(subnet["network"], network["selfLink"], "{subnet}");
    let kinds: Vec<(ResourceKind, &str, &str)> = made
        .network
        .iter()
        .map(|r| (r.kind, r.name.as_str(), r.region.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ResourceKind::Network, "carto-life-net", "global"),
            (ResourceKind::Subnet, "carto-life-subnet", "us-central1"),
        ]
    );
    assert_eq!(made.network[0].id, network["id"].as_str().unwrap());

    // Firewall rules: exactly these three, on the environment's network tag, IPv4 sources.
    let rules = env.rules();
    let mut seen = BTreeSet::new();
    for rule in &rules {
        assert_eq!(rule["direction"], "INGRESS", "{rule}");
        assert!(
            rule["network"]
                .as_str()
                .is_some_and(|n| n.ends_with("/global/networks/carto-life-net")),
            "{rule}"
        );
        assert_eq!(rule["targetTags"], json!(["carto-life"]), "{rule}");
        assert_eq!(rule["description"], DESCRIPTION, "{rule}");
        assert!(rule.get("denied").is_none(), "{rule}");
        let allowed = rule["allowed"].as_array().expect("allowed");
        assert_eq!(allowed.len(), 1, "{rule}");
        for source in rule["sourceRanges"].as_array().expect("sources") {
            seen.insert((
                rule["name"].as_str().unwrap().to_string(),
                allowed[0]["IPProtocol"].as_str().unwrap().to_string(),
                allowed[0]["ports"].to_string(),
                source.as_str().unwrap().to_string(),
            ));
        }
    }
    let rule = |name: &str, port: &str, source: &str| {
        (
            format!("carto-life-{name}"),
            "tcp".to_string(),
            json!([port]).to_string(),
            source.to_string(),
        )
    };
    let expected: BTreeSet<_> = [
        rule("ssh", "22", OPERATOR_CIDR),
        rule("https", "443", "0.0.0.0/0"),
        rule("http", "80", "0.0.0.0/0"),
    ]
    .into();
    assert_eq!(seen, expected);
    assert_eq!(made.firewall.len(), 3);

    // Address: labelled, the fake's address, in use by the instance.
    let address = find(&env.resources("addresses"), "carto-life-ip").clone();
    assert_labelled("address", &address);
    assert_eq!(address["address"], VM_IP);
    assert_eq!(made.address.ip, VM_IP);
    assert_eq!(address["status"], "IN_USE");
    assert_eq!(made.address.resource.region, "us-central1");

    // Instance: type, labels, tag, metadata, natIP, running.
    let instance = find(&env.resources("instances"), "carto-life-vm").clone();
    assert_labelled("instance", &instance);
    assert!(
        instance["machineType"]
            .as_str()
            .unwrap()
            .ends_with(&format!("zones/{ZONE}/machineTypes/n2-standard-8")),
        "{instance}"
    );
    assert_eq!(instance["status"], "RUNNING");
    assert_eq!(instance["tags"]["items"], json!(["carto-life"]));
    let metadata: Vec<(String, String)> = instance["metadata"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_string(),
                i["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        metadata,
        [
            ("ssh-keys".to_string(), format!("ubuntu:{PUBLIC_KEY}")),
            ("user-data".to_string(), s.user_data.clone()),
        ]
    );
    let nic = &instance["networkInterfaces"][0];
    assert_eq!(nic["network"], network["selfLink"], "{nic}");
    assert_eq!(nic["subnetwork"], subnet["selfLink"], "{nic}");
    assert_eq!(nic["accessConfigs"][0]["natIP"], VM_IP);
    assert_eq!(nic["accessConfigs"][0]["type"], "ONE_TO_ONE_NAT");
    assert_eq!(made.vm.id, instance["id"].as_str().unwrap());

    // Boot disk: pd-ssd, >= 60 GB, labelled, deleted with the instance.
    let attached = &instance["disks"][0];
    assert_eq!(attached["boot"], true);
    assert_eq!(attached["autoDelete"], true);
    let disk = find(&env.resources("disks"), "carto-life-vm").clone();
    assert_labelled("disk", &disk);
    assert!(
        disk["type"]
            .as_str()
            .unwrap()
            .ends_with("/diskTypes/pd-ssd"),
        "{disk}"
    );
    let size: u64 = disk["sizeGb"].as_str().unwrap().parse().unwrap();
    assert!(size >= 60, "{disk}");
    assert!(
        disk["sourceImage"]
            .as_str()
            .unwrap()
            .contains("projects/ubuntu-os-cloud/global/images/ubuntu-2204"),
        "{disk}"
    );

    // DNS: the A record points at the address; the ref carries what delete needs.
    assert_eq!(
        env.a_records("sub-zone"),
        [(
            "carto.sub.example.com.".to_string(),
            vec![VM_IP.to_string()]
        )]
    );
    assert!(env.a_records("example-zone").is_empty());
    assert_eq!(made.dns.dns_zone.as_deref(), Some("sub-zone"));
    assert_eq!(made.dns.ip.as_deref(), Some(VM_IP));

    // Every insert carried the requestId derived from the nonce; every API call the token
    // the fake's token endpoint handed out.
    let requests = env.fake.state().requests();
    for r in requests.iter().filter(|r| {
        r.method_id
            .as_deref()
            .is_some_and(|m| m.starts_with("compute.") && m.ends_with(".insert"))
    }) {
        let name = r.body.as_ref().unwrap()["name"]
            .as_str()
            .unwrap()
            .to_string();
        let id = r
            .query
            .iter()
            .find(|(k, _)| k == "requestId")
            .map(|(_, v)| v.clone());
        assert_eq!(
            id,
            Some(carto_gcp::request_id(&s.nonce, &name, "insert")),
            "{r:?}"
        );
    }
    assert!(env.calls("oauth2.token") >= 1);
    let unauthorized: Vec<_> = requests
        .iter()
        .filter(|r| r.method_id.as_deref() != Some("oauth2.token") && !r.authorized)
        .collect();
    assert!(unauthorized.is_empty(), "{unauthorized:?}");

    // Ensure again: nothing inserted, the same ids.
    let (inserts, counts) = (env.inserts(), env.counts());
    assert_eq!(counts, (1, 1, 1, 3));
    let again = create(&env, &s).await;
    assert_eq!(env.inserts(), inserts, "the second run inserted something");
    assert_eq!(env.counts(), counts);
    assert_eq!(again.vm.id, made.vm.id);
    assert_eq!(again.address, made.address);
    assert_eq!(again.firewall, made.firewall);
    assert_eq!(again.network, made.network);
    assert_eq!(again.dns, made.dns);

    // list_tagged: the network, its subnetwork, the instance, the address, the three rules and
    // the A record the address's description names, with the creation time of the
    // carto-created label.
    let tagged = env.provider.list_tagged(Some(&s.env)).await.expect("list");
    let mut kinds: Vec<(ResourceKind, String)> = tagged
        .iter()
        .map(|t| (t.resource.kind, t.resource.name.clone()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            (ResourceKind::Network, "carto-life-net".to_string()),
            (ResourceKind::Subnet, "carto-life-subnet".to_string()),
            (ResourceKind::Firewall, "carto-life-http".to_string()),
            (ResourceKind::Firewall, "carto-life-https".to_string()),
            (ResourceKind::Firewall, "carto-life-ssh".to_string()),
            (ResourceKind::Address, "carto-life-ip".to_string()),
            (ResourceKind::Vm, "carto-life-vm".to_string()),
            (ResourceKind::DnsRecord, made.dns.name.clone()),
        ]
    );
    assert!(tagged.iter().all(|t| t.env == "life"
        && t.created.map(|c| c.to_rfc3339()).as_deref() == Some("2026-11-26T16:27:02+00:00")
        && t.expires == Some(EXPIRES)
        && t.nonce.as_deref() == Some("nonce-life")));
    let record = tagged
        .iter()
        .find(|t| t.resource.kind == ResourceKind::DnsRecord);
    assert_eq!(record.map(|t| &t.resource), Some(&made.dns));
    let other = carto_core::EnvName::parse("other").unwrap();
    assert!(
        env.provider
            .list_tagged(Some(&other))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(env.provider.list_tagged(None).await.unwrap().len(), 8);

    // Delete in the pipeline's order, twice: nothing left, 404 is done.
    let mut order = vec![
        made.dns.clone(),
        made.vm.clone(),
        made.address.resource.clone(),
    ];
    order.extend(made.firewall.iter().cloned());
    order.extend(made.network.iter().rev().cloned());
    for round in 0..2 {
        for r in &order {
            env.provider
                .delete(r, WAIT)
                .await
                .unwrap_or_else(|e| panic!("round {round}: delete {r}: {e}"));
        }
        assert_eq!(env.counts(), (0, 0, 0, 0), "round {round}");
        assert!(env.resources("subnetworks").is_empty(), "round {round}");
        let networks = env.resources("networks");
        assert_eq!(
            networks.len(),
            1,
            "round {round}: only default is left: {networks:?}"
        );
        assert!(env.a_records("sub-zone").is_empty(), "round {round}");
    }
    assert!(env.provider.list_tagged(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_foreign_record_is_refused_and_a_taken_over_one_comes_back_on_delete() {
    let env = common::start().await;
    let s = spec("dnsrec", "www.example.com");
    let state = env.fake.state();
    state.put_record_set(
        common::PROJECT,
        "example-zone",
        "www.example.com.",
        "A",
        &["192.0.2.10"],
    );
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    assert_eq!(resolved.dns_zone_id, "example-zone");
    let address = env
        .provider
        .ensure_address(&s, &resolved)
        .await
        .expect("address");
    // Preflight reads the record someone else holds at the name.
    let found = env
        .provider
        .find_dns_records(&s, &resolved)
        .await
        .expect("records");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].rtype.as_str(), &found[0].values),
        ("A", &vec!["192.0.2.10".to_string()])
    );
    let theirs = || {
        [(
            "www.example.com.".to_string(),
            vec!["192.0.2.10".to_string()],
        )]
    };
    // Creation without taking it over is refused by Cloud DNS (409) and changes nothing.
    let refused = env
        .provider
        .ensure_dns_record(&s, &resolved, &address, &[], WAIT)
        .await
        .expect_err("a record someone else holds was overwritten");
    assert!(
        refused.message.contains("changed after preflight"),
        "{refused}"
    );
    assert_eq!(env.a_records("example-zone"), theirs());

    // Taken over: one change whose deletions are exactly what preflight read.
    let record = env
        .provider
        .ensure_dns_record(&s, &resolved, &address, &found, WAIT)
        .await
        .expect("dns");
    let changes: Vec<_> = state
        .requests()
        .into_iter()
        .filter(|r| r.method_id.as_deref() == Some("dns.changes.create"))
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let body = changes[1].body.clone().unwrap();
    assert_eq!(
        body["deletions"][0]["rrdatas"],
        json!(["192.0.2.10"]),
        "{body}"
    );
    assert_eq!(body["additions"][0]["rrdatas"], json!([VM_IP]), "{body}");
    assert_eq!(body["additions"][0]["name"], "www.example.com.", "{body}");
    assert_eq!(
        env.a_records("example-zone"),
        [("www.example.com.".to_string(), vec![VM_IP.to_string()])]
    );
    assert!(env.calls("dns.changes.get") >= 1);
    assert_eq!(carto_core::dns::replaced(&record).unwrap(), found);

    // Delete puts their record back.
    env.provider.delete(&record, WAIT).await.expect("delete");
    assert_eq!(env.a_records("example-zone"), theirs());
    env.provider.delete(&record, WAIT).await.expect("again");
    assert_eq!(env.a_records("example-zone"), theirs(), "theirs deleted");
    assert_eq!(env.calls("dns.changes.create"), 3);
}

/// `find_existing` reports an address of the environment's name made by a twin environment
/// (same name, another nonce) with that nonce, and a firewall rule the environment made with
/// its own: only the first is foreign.
#[tokio::test]
async fn a_twin_environments_resources_are_found_with_their_nonce() {
    let env = common::start().await;
    let s = common::spec("twin", "carto.example.com");
    let resolved = env.provider.preflight(&s).await.expect("preflight");
    assert!(
        env.provider
            .find_existing(&s, &resolved)
            .await
            .expect("find")
            .is_empty()
    );
    let twin = carto_core::InfraSpec {
        nonce: "the-other-one".into(),
        ..s.clone()
    };
    let theirs = env
        .provider
        .ensure_address(&twin, &resolved)
        .await
        .expect("twin ip");
    let mut ours = env
        .provider
        .ensure_network(&s, &resolved)
        .await
        .expect("network");
    ours.extend(
        env.provider
            .ensure_firewall(&s, &resolved)
            .await
            .expect("rules"),
    );
    let found = env
        .provider
        .find_existing(&s, &resolved)
        .await
        .expect("find");
    let foreign = carto_core::ownership::foreign(&found, &s.nonce, &[]);
    assert_eq!(
        foreign
            .iter()
            .map(|t| (t.resource.id.as_str(), t.nonce.as_deref()))
            .collect::<Vec<_>>(),
        [(theirs.resource.id.as_str(), Some("the-other-one"))],
        "{found:?}"
    );
    assert_eq!(found.len(), 1 + ours.len(), "{found:?}");
}
