//! The GCP provider keeps the provider contract (`carto_core::contract`) against the fake
//! (whose project has GCP's world-open `default` network), and what only GCP has: the
//! environment's own network and subnetwork, exactly three rules on its tag, the address in
//! use by the instance, metadata, a pd-ssd boot disk, labels and descriptions, a `requestId`
//! on every insert, a token on every call, and a take-over as one Cloud DNS change.

use std::collections::BTreeSet;

use async_trait::async_trait;
use carto_core::contract::{self, Made, Observe};
use carto_core::{InfraSpec, Provider, ResourceKind};
use serde_json::{Value, json};

use crate::common::{self, Env, OPERATOR_CIDR, PUBLIC_KEY, VM_IP, ZONE, spec};

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
/// The fake's managed zones.
const ZONES: [(&str, &str); 2] = [
    ("sub-zone", "sub.example.com."),
    ("example-zone", "example.com."),
];

/// The fake as the contract sees it.
struct Fake<'a> {
    env: &'a Env,
}

impl Fake<'_> {
    /// The zone holding `name` (longest suffix) and `name` as Cloud DNS writes it.
    fn zone_of(name: &str) -> (&'static str, String) {
        let fqdn = carto_core::dns::fqdn(name);
        let zone = ZONES
            .iter()
            .find(|(_, z)| fqdn.ends_with(&format!(".{z}")))
            .expect("a zone");
        (zone.0, fqdn)
    }

    fn values(&self, name: &str, rtype: &str) -> Option<Vec<String>> {
        let (zone, fqdn) = Self::zone_of(name);
        let sets = self.env.fake.state().record_sets(common::PROJECT, zone);
        let set = sets
            .iter()
            .find(|r| r["type"] == rtype && r["name"] == fqdn.as_str())?;
        let datas = set["rrdatas"].as_array().cloned().unwrap_or_default();
        Some(
            datas
                .iter()
                .map(|d| d.as_str().unwrap_or_default().to_string())
                .collect(),
        )
    }
}

#[async_trait]
impl Observe for Fake<'_> {
    async fn inventory(&self) -> Vec<String> {
        let kinds = [
            "instances",
            "disks",
            "addresses",
            "firewalls",
            "networks",
            "subnetworks",
        ];
        let mut all: Vec<String> = kinds
            .iter()
            .flat_map(|k| {
                self.env
                    .resources(k)
                    .into_iter()
                    .map(move |r| format!("{k} {}", r["name"]))
            })
            .collect();
        for (zone, _) in ZONES {
            let sets = self.env.fake.state().record_sets(common::PROJECT, zone);
            all.extend(sets.iter().map(|r| format!("{} {}", r["type"], r["name"])));
        }
        all
    }

    async fn a_record(&self, name: &str) -> Option<Vec<String>> {
        self.values(name, "A")
    }

    async fn cname(&self, name: &str) -> Option<Vec<String>> {
        self.values(name, "CNAME")
    }

    async fn seed_cname(&self, name: &str, target: &str) {
        let (zone, fqdn) = Self::zone_of(name);
        let state = self.env.fake.state();
        state.put_record_set(common::PROJECT, zone, &fqdn, "CNAME", &[target]);
    }

    async fn check_made(&self, spec: &InfraSpec, made: &Made) {
        let r = &made.resolved;
        assert_eq!(
            (
                r.disk_type.as_str(),
                r.machine_type.as_str(),
                r.ssh_user.as_str(),
                r.dns_zone_id.as_str()
            ),
            ("pd-ssd", "n2-standard-8", "ubuntu", "sub-zone")
        );
        assert!(made.key.is_none(), "GCP keys travel in metadata");
        // Its own network: custom mode, one subnetwork in the zone's region with our range, both
        // described with the labels; nothing of ours in the default network.
        let network = find(&self.env.resources("networks"), "carto-life-net").clone();
        assert_eq!(network["autoCreateSubnetworks"], false, "{network}");
        assert_eq!(network["description"], DESCRIPTION, "{network}");
        let subnet = find(&self.env.resources("subnetworks"), "carto-life-subnet").clone();
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
        let rules = self.env.rules();
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
        let address = find(&self.env.resources("addresses"), "carto-life-ip").clone();
        assert_labelled("address", &address);
        assert_eq!(address["address"], VM_IP);
        assert_eq!(made.address.ip, VM_IP);
        assert_eq!(address["status"], "IN_USE");
        assert_eq!(made.address.resource.region, "us-central1");

        // Instance: type, labels, tag, metadata, natIP, running.
        let instance = find(&self.env.resources("instances"), "carto-life-vm").clone();
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
                ("user-data".to_string(), spec.user_data.clone()),
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
        let disk = find(&self.env.resources("disks"), "carto-life-vm").clone();
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

        // DNS: the ref carries what delete needs (the contract checks the record itself).
        assert_eq!(made.dns.dns_zone.as_deref(), Some("sub-zone"));
        assert_eq!(made.dns.ip.as_deref(), Some(VM_IP));

        // Every insert carried the requestId derived from the nonce; every API call the token
        // the fake's token endpoint handed out.
        let requests = self.env.fake.state().requests();
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
                Some(carto_gcp::request_id(&spec.nonce, &name, "insert")),
                "{r:?}"
            );
        }
        assert!(self.env.calls("oauth2.token") >= 1);
        let unauthorized: Vec<_> = requests
            .iter()
            .filter(|r| r.method_id.as_deref() != Some("oauth2.token") && !r.authorized)
            .collect();
        assert!(unauthorized.is_empty(), "{unauthorized:?}");
    }
}

#[tokio::test]
async fn keeps_the_provider_contract() {
    let env = common::start().await;
    let s = InfraSpec {
        expires: Some(EXPIRES),
        ..spec("life", "carto.sub.example.com")
    };
    contract::provider_contract(&env.provider, &Fake { env: &env }, &s).await;
    let other = carto_core::EnvName::parse("other").unwrap();
    assert!(
        env.provider
            .list_tagged(Some(&other))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(env.resources("networks").len(), 1, "only default is left");
}

#[tokio::test]
async fn a_foreign_record_is_refused_and_a_taken_over_one_comes_back_on_delete() {
    let env = common::start().await;
    let s = spec("dnsrec", "www.example.com");
    contract::foreign_record_contract(&env.provider, &Fake { env: &env }, &s).await;
    // The take-over is one change whose deletions are exactly what preflight read.
    let changes: Vec<Value> = env
        .fake
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.method_id.as_deref() == Some("dns.changes.create"))
        .filter_map(|r| r.body)
        .filter(|b| b["additions"][0]["type"] == "A")
        .collect();
    assert_eq!(changes.len(), 3, "refused, stale, taken over: {changes:?}");
    let taken = &changes[2];
    assert_eq!(taken["deletions"][0]["type"], "CNAME", "{taken}");
    assert_eq!(
        taken["deletions"][0]["rrdatas"],
        json!(["shop.elsewhere.example.net."]),
        "{taken}"
    );
    assert_eq!(taken["additions"][0]["rrdatas"], json!([VM_IP]), "{taken}");
    assert!(env.calls("dns.changes.get") >= 1);
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
