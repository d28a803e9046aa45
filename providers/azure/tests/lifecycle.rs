//! The Azure provider keeps the provider contract (`carto_core::contract`) against the fake
//! Resource Manager, and what only Azure has: one resource group holding everything (deleted
//! as one, and only without strangers in it), the NSG's exact rules, the VM's Premium disk,
//! key-only login and customData, the NIC and public IP deleted with the VM, the record's
//! nonce in its metadata, and throttling and long-running operations followed.

use std::time::Duration;

use async_trait::async_trait;
use carto_core::contract::{self, Made, Observe};
use carto_core::{InfraSpec, Provider, ResourceKind};
use carto_fake_azure::FakeServer;
use serde_json::Value;

use crate::common::{IP, SUB, fake, provider, spec};

const T: Duration = Duration::from_secs(30);

fn rg_id(env: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/carto-{env}-rg")
}

fn res(fake: &FakeServer, id: &str) -> Value {
    fake.state()
        .resource(id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

/// The record set `name` of type `rtype` in the zone `test`.
fn record_url(rtype: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/test/{rtype}/{name}?api-version=2018-05-01"
    )
}

/// The fake as the contract sees it.
struct Arm<'a> {
    fake: &'a FakeServer,
}

impl Arm<'_> {
    fn values(&self, name: &str, rtype: &str) -> Option<Vec<String>> {
        let relative = name.strip_suffix(".test").expect("a name in the zone test");
        let (status, set) = self.fake.call("GET", &record_url(rtype, relative), None);
        let p = &set["properties"];
        match (status, rtype) {
            (404, _) => None,
            (_, "A") => Some(
                p["ARecords"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a["ipv4Address"].as_str().unwrap_or_default().to_string())
                    .collect(),
            ),
            _ => Some(vec![
                p["CNAMERecord"]["cname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ]),
        }
    }
}

#[async_trait]
impl Observe for Arm<'_> {
    async fn inventory(&self) -> Vec<String> {
        let mut ids = self.fake.state().resource_ids();
        ids.sort();
        ids
    }

    async fn a_record(&self, name: &str) -> Option<Vec<String>> {
        self.values(name, "A")
    }

    async fn cname(&self, name: &str) -> Option<Vec<String>> {
        self.values(name, "CNAME")
    }

    async fn seed_cname(&self, name: &str, target: &str) {
        let relative = name.strip_suffix(".test").expect("a name in the zone test");
        let theirs = serde_json::json!({"properties": {"TTL": 300, "CNAMERecord": {"cname": target.trim_end_matches('.')}}});
        let (status, body) = self
            .fake
            .call("PUT", &record_url("CNAME", relative), Some(&theirs));
        assert!(status < 300, "{status} {body}");
    }

    async fn check_made(&self, spec: &InfraSpec, made: &Made) {
        assert_eq!(made.address.ip, IP);
        assert!(made.key.is_none(), "Azure keys travel in osProfile");
        let rg = rg_id("life");
        let group = &made.network[0];
        assert_eq!(
            (group.kind, group.id.as_str()),
            (ResourceKind::Group, rg.as_str())
        );
        for r in made.all().into_iter().filter(|r| r.id != group.id) {
            let expected = (r.kind != ResourceKind::DnsRecord).then(|| "carto-life-rg".to_string());
            assert_eq!(r.group.clone(), expected, "{r}");
        }

        // NSG: exactly three inbound rules.
        let nsg = self.fake.call("GET", &format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/carto-life-nsg?api-version=2024-05-01"), None).1;
        let mut rules: Vec<(u64, String, String, String, String, String)> =
            nsg["properties"]["securityRules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let p = &r["properties"];
                    let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                    (
                        p["priority"].as_u64().unwrap(),
                        s("destinationPortRange"),
                        s("protocol"),
                        s("sourceAddressPrefix"),
                        s("access"),
                        s("direction"),
                    )
                })
                .collect();
        rules.sort();
        let rule = |prio, port: &str, src: &str| {
            (
                prio,
                port.to_string(),
                "Tcp".to_string(),
                src.to_string(),
                "Allow".to_string(),
                "Inbound".to_string(),
            )
        };
        assert_eq!(
            rules,
            [
                rule(100, "22", "203.0.113.7/32"),
                rule(110, "443", "Internet"),
                rule(120, "80", "Internet")
            ]
        );

        // VM: Premium_LRS >= 64 GiB, deleteOption=Delete on disk and NIC, key only, customData.
        let vm = res(
            self.fake,
            &format!("{rg}/providers/Microsoft.Compute/virtualMachines/carto-life-vm"),
        );
        let p_ = &vm["properties"];
        let disk = &p_["storageProfile"]["osDisk"];
        assert_eq!(disk["managedDisk"]["storageAccountType"], "Premium_LRS");
        assert!(disk["diskSizeGB"].as_u64().unwrap() >= 64);
        assert_eq!(disk["deleteOption"], "Delete");
        assert_eq!(
            p_["networkProfile"]["networkInterfaces"][0]["properties"]["deleteOption"],
            "Delete"
        );
        assert_eq!(p_["osProfile"]["adminUsername"], "ubuntu");
        assert_eq!(
            p_["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"],
            true
        );
        assert!(p_["osProfile"].get("adminPassword").is_none());
        assert_eq!(p_["hardwareProfile"]["vmSize"], "Standard_D8s_v5");
        assert_eq!(
            p_["storageProfile"]["imageReference"]["offer"],
            "0001-com-ubuntu-server-jammy"
        );
        assert!(
            p_["osProfile"]["customData"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
        // NIC: the public IP with deleteOption=Delete, the NSG.
        let nic = res(
            self.fake,
            &format!("{rg}/providers/Microsoft.Network/networkInterfaces/carto-life-nic"),
        );
        let ipc = &nic["properties"]["ipConfigurations"];
        let ipc = if ipc.is_array() {
            ipc[0].clone()
        } else {
            Value::Null
        };
        let ipc = if ipc.is_null() {
            self.fake.call("GET", &format!("{rg}/providers/Microsoft.Network/networkInterfaces/carto-life-nic?api-version=2024-05-01"), None).1["properties"]["ipConfigurations"][0].clone()
        } else {
            ipc
        };
        assert_eq!(
            ipc["properties"]["publicIPAddress"]["properties"]["deleteOption"], "Delete",
            "{ipc}"
        );
        // Public IP: Standard, static.
        let pip = res(
            self.fake,
            &format!("{rg}/providers/Microsoft.Network/publicIPAddresses/carto-life-ip"),
        );
        assert_eq!(pip["sku"]["name"], "Standard");
        assert_eq!(pip["properties"]["publicIPAllocationMethod"], "Static");
        // The record carries the environment's nonce (record sets have no tags).
        let (_, rec) = self.fake.call("GET", &record_url("A", "carto"), None);
        assert_eq!(
            rec["properties"]["metadata"]["carto-nonce"],
            spec.nonce.as_str()
        );
    }
}

/// An expiry (Unix seconds) the lifecycle test's environment is given: 8 h after its creation.
const EXPIRES: i64 = 1_795_739_222;

#[tokio::test]
async fn keeps_the_provider_contract() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let s = InfraSpec {
        expires: Some(EXPIRES),
        ..spec("life")
    };
    contract::provider_contract(&p, &Arm { fake: &fake }, &s).await;
    assert_eq!(
        fake.call(
            "GET",
            &format!("{}?api-version=2024-03-01", rg_id("life")),
            None
        )
        .0,
        404
    );
}

#[tokio::test]
async fn a_foreign_record_is_refused_and_a_taken_over_one_comes_back_on_delete() {
    let fake = fake().await;
    let p = provider(&fake).await;
    contract::foreign_record_contract(&p, &Arm { fake: &fake }, &spec("dnstake")).await;
}

#[tokio::test]
async fn throttling_is_retried_and_long_operations_followed() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let s = spec("throttle");
    let r = p.preflight(&s).await.unwrap();
    let seeded = fake.state().count("ResourceGroups_CreateOrUpdate");
    fake.state().throttle("ResourceGroups_CreateOrUpdate", 2);
    fake.state().throttle("VirtualNetworks_Get", 1);
    fake.state().set_lro_polls(3);
    let mut refs = p.ensure_network(&s, &r).await.unwrap();
    refs.extend(p.ensure_subnet(&s, &r).await.unwrap());
    assert_eq!(refs.len(), 2);
    assert_eq!(
        fake.state().count("ResourceGroups_CreateOrUpdate"),
        seeded + 3
    );
    let throttled: Vec<String> = fake
        .state()
        .requests()
        .iter()
        .filter(|q| q.status == 429)
        .map(|q| format!("{} {:?}", q.method, q.op_id))
        .collect();
    assert_eq!(throttled.len(), 3, "{throttled:?}");
    let vnet = fake.state().resource(&refs[1].id).unwrap();
    assert_eq!(vnet["properties"]["provisioningState"], "Succeeded");
}

/// A resource group of the environment's name made by hand is found without a nonce (so
/// preflight refuses to adopt it); a group of ours holding a resource we did not make is not
/// deleted (Conflict, naming it, the group and its members still there) until that resource is
/// gone.
#[tokio::test]
async fn a_group_is_ours_only_with_our_nonce_and_deleted_only_without_strangers() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let hand = spec("hand");
    let r = p.preflight(&hand).await.unwrap();
    let (st, b) = fake.call(
        "PUT",
        &format!("{}?api-version=2024-03-01", rg_id("hand")),
        Some(&serde_json::json!({"location": "eastus"})),
    );
    assert!(st < 300, "{st} {b}");
    let found = p.find_existing(&hand, &r).await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|t| (t.resource.kind, t.env.as_str(), t.nonce.as_deref()))
            .collect::<Vec<_>>(),
        [(ResourceKind::Group, "", None)],
        "{found:?}"
    );
    assert_eq!(
        carto_core::ownership::foreign(&found, &hand.nonce, &[]).len(),
        1
    );

    let s = spec("own");
    let made = contract::create(&p, &s).await;
    let found = p.find_existing(&s, &r).await.unwrap();
    assert!(
        carto_core::ownership::foreign(&found, &s.nonce, &[]).is_empty(),
        "{found:?}"
    );
    let stranger = format!(
        "{}/providers/Microsoft.Network/publicIPAddresses/their-ip",
        rg_id("own")
    );
    let (st, b) = fake.call(
        "PUT",
        &format!("{stranger}?api-version=2024-05-01"),
        Some(&serde_json::json!({"location": "eastus", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}})),
    );
    assert!(st < 300, "{st} {b}");
    let group = &made.network[0];
    let err = p
        .delete(group, T)
        .await
        .expect_err("a stranger in the group");
    assert_eq!(err.kind, carto_core::ErrorKind::Conflict, "{err}");
    assert!(err.message.contains("their-ip"), "{err}");
    assert!(fake.state().resource(&stranger).is_some());
    assert!(
        fake.state().resource(&made.network[1].id).is_some(),
        "our vnet went"
    );
    let (st, _) = fake.call(
        "DELETE",
        &format!("{stranger}?api-version=2024-05-01"),
        None,
    );
    assert!(st < 300);
    for _ in 0..20 {
        if fake.state().resource(&stranger).is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = fake.call("GET", &format!("{stranger}?api-version=2024-05-01"), None);
    }
    p.delete(group, T).await.unwrap();
    assert_eq!(
        fake.call(
            "GET",
            &format!("{}?api-version=2024-03-01", rg_id("own")),
            None
        )
        .0,
        404
    );
}
