//! The whole environment against the fake: created with the right properties, a second run
//! writes nothing, throttling is waited out, tag listing finds it, destroy removes the record
//! (only while it is ours) and the group.

use std::time::Duration;

use carto_core::{InfraSpec, Provider, ResourceKind};
use serde_json::Value;

use crate::common::{IP, SUB, fake, provider, spec, writes};

const T: Duration = Duration::from_secs(30);

fn rg_id(env: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/carto-{env}-rg")
}

fn res(fake: &carto_fake_azure::FakeServer, id: &str) -> Value {
    fake.state()
        .resource(id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

async fn create_all(
    p: &carto_azure::AzureProvider,
    s: &carto_core::InfraSpec,
) -> Vec<carto_core::ResourceRef> {
    let r = p.preflight(s).await.unwrap();
    let mut refs = p.ensure_network(s, &r).await.unwrap();
    assert!(p.ensure_ssh_key(s, &r).await.unwrap().is_none());
    let fw = p.ensure_firewall(s, &r).await.unwrap();
    let addr = p.ensure_address(s, &r).await.unwrap();
    assert_eq!(addr.ip, IP);
    let vm = p.ensure_vm(s, &r, &fw, &addr).await.unwrap();
    p.wait_vm_ready(&vm, &addr, T).await.unwrap();
    let dns = p.ensure_dns_record(s, &r, &addr, &[], T).await.unwrap();
    refs.extend(fw);
    refs.push(addr.resource);
    refs.push(vm);
    refs.push(dns);
    refs
}

/// An expiry (Unix seconds) the lifecycle test's environment is given: 8 h after its creation.
const EXPIRES: i64 = 1_795_739_222;
#[tokio::test]
async fn creates_everything_once_and_destroy_leaves_nothing() {
    let fake = fake().await;
    let p = provider(&fake).await;
    // With a ttl, every resource carries its expiry and list_tagged reads it back.
    let s = InfraSpec {
        expires: Some(EXPIRES),
        ..spec("life")
    };
    let refs = create_all(&p, &s).await;
    let rg = rg_id("life");
    let group = &refs[0];
    assert_eq!(
        (group.kind, group.id.as_str()),
        (ResourceKind::Group, rg.as_str())
    );
    for r in &refs[1..] {
        let expected = (r.kind != ResourceKind::DnsRecord).then(|| "carto-life-rg".to_string());
        assert_eq!(r.group.clone(), expected, "{r}");
    }

    // NSG: exactly three inbound rules.
    let nsg = fake.call("GET", &format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/carto-life-nsg?api-version=2024-05-01"), None).1;
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
        &fake,
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
        &fake,
        &format!("{rg}/providers/Microsoft.Network/networkInterfaces/carto-life-nic"),
    );
    let ipc = &nic["properties"]["ipConfigurations"];
    let ipc = if ipc.is_array() {
        ipc[0].clone()
    } else {
        Value::Null
    };
    let ipc = if ipc.is_null() {
        fake.call("GET", &format!("{rg}/providers/Microsoft.Network/networkInterfaces/carto-life-nic?api-version=2024-05-01"), None).1["properties"]["ipConfigurations"][0].clone()
    } else {
        ipc
    };
    assert_eq!(
        ipc["properties"]["publicIPAddress"]["properties"]["deleteOption"], "Delete",
        "{ipc}"
    );
    // Public IP: Standard, static.
    let pip = res(
        &fake,
        &format!("{rg}/providers/Microsoft.Network/publicIPAddresses/carto-life-ip"),
    );
    assert_eq!(pip["sku"]["name"], "Standard");
    assert_eq!(pip["properties"]["publicIPAllocationMethod"], "Static");
    // Tags on everything in the group and on the group.
    let tagged = p.list_tagged(Some(&s.env)).await.unwrap();
    let mut kinds: Vec<ResourceKind> = tagged.iter().map(|t| t.resource.kind).collect();
    kinds.sort();
    use ResourceKind::*;
    assert_eq!(
        kinds,
        [Group, Network, Firewall, Address, Nic, Vm, DnsRecord]
    );
    assert!(
        tagged
            .iter()
            .all(|t| t.created.map(|c| c.to_rfc3339()).as_deref()
                == Some("2026-11-26T16:27:02+00:00")),
        "{tagged:?}"
    );
    assert!(tagged.iter().all(|t| t.env == "life"
        && t.expires == Some(EXPIRES)
        && t.nonce.as_deref() == Some(s.nonce.as_str())));
    assert!(
        p.list_tagged(Some(&carto_core::EnvName::parse("other").unwrap()))
            .await
            .unwrap()
            .is_empty()
    );
    // The record.
    let rec = fake.call("GET", &format!("/subscriptions/{SUB}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/test/A/carto?api-version=2018-05-01"), None).1;
    assert_eq!(rec["properties"]["ARecords"][0]["ipv4Address"], IP);

    // A second run writes nothing.
    let before = writes(fake.state());
    let again = create_all(&p, &s).await;
    assert_eq!(
        again.iter().map(|r| &r.id).collect::<Vec<_>>(),
        refs.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
    let dns_puts = 0; // the record set already points at the address: not written again
    assert_eq!(
        writes(fake.state()),
        before + dns_puts,
        "the second run created something"
    );

    // Destroy as the pipeline does: the record, then the group (which takes its members).
    let record = refs.iter().find(|r| r.kind == DnsRecord).unwrap();
    p.delete(record, T).await.unwrap();
    p.delete(group, T).await.unwrap();
    assert_eq!(
        fake.call("GET", &format!("{rg}?api-version=2024-03-01"), None)
            .0,
        404
    );
    assert!(p.list_tagged(Some(&s.env)).await.unwrap().is_empty());
    let (status, _) = fake.call("GET", &format!("/subscriptions/{SUB}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/test/A/carto?api-version=2018-05-01"), None);
    assert_eq!(status, 404);
    // Deleting again is fine.
    p.delete(record, T).await.unwrap();
    p.delete(group, T).await.unwrap();
}

#[tokio::test]
async fn record_pointing_elsewhere_is_left() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let s = spec("other-ip");
    let r = p.preflight(&s).await.unwrap();
    let addr = carto_core::Address {
        resource: carto_core::ResourceRef::new(ResourceKind::Address, "x", "x", "eastus"),
        ip: "127.0.0.9".into(),
    };
    let mut rec = p.ensure_dns_record(&s, &r, &addr, &[], T).await.unwrap();
    rec.ip = Some("127.0.0.8".into());
    p.delete(&rec, T).await.unwrap();
    let (status, body) = fake.call("GET", &format!("/subscriptions/{SUB}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/test/A/carto?api-version=2018-05-01"), None);
    assert_eq!(
        (
            status,
            body["properties"]["ARecords"][0]["ipv4Address"].as_str()
        ),
        (200, Some("127.0.0.9"))
    );
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
    let refs = p.ensure_network(&s, &r).await.unwrap();
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

/// Someone else's CNAME at the domain (the hazard): preflight reads it, creating beside it
/// without taking it over fails and changes nothing, a take-over replaces it, and delete puts
/// it back.
#[tokio::test]
async fn a_foreign_record_is_refused_and_a_taken_over_one_comes_back_on_delete() {
    let fake = fake().await;
    let p = provider(&fake).await;
    let s = spec("dnstake");
    let url = |t: &str| {
        format!(
            "/subscriptions/{SUB}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/test/{t}/carto?api-version=2018-05-01"
        )
    };
    let theirs = serde_json::json!({"properties": {"TTL": 300, "CNAMERecord": {"cname": "shop.elsewhere.example.net"}}});
    assert!(fake.call("PUT", &url("CNAME"), Some(&theirs)).0 < 300);
    let r = p.preflight(&s).await.unwrap();
    let found = p.find_dns_records(&s, &r).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].rtype.as_str(), found[0].ttl), ("CNAME", 300));
    assert_eq!(found[0].values, ["shop.elsewhere.example.net"]);
    let addr = carto_core::Address {
        resource: carto_core::ResourceRef::new(ResourceKind::Address, "x", "x", "eastus"),
        ip: "127.0.0.9".into(),
    };
    let cname = || fake.call("GET", &url("CNAME"), None);

    let mut stale = found.clone();
    stale[0].values = vec!["old.example.net".into()];
    let refused = p.ensure_dns_record(&s, &r, &addr, &stale, T).await;
    assert!(refused.is_err(), "replaced a set other than the one read");
    assert_eq!(fake.call("GET", &url("A"), None).0, 404);
    assert_eq!(cname().0, 200);

    let rec = p.ensure_dns_record(&s, &r, &addr, &found, T).await.unwrap();
    assert_eq!(cname().0, 404);
    let (status, a) = fake.call("GET", &url("A"), None);
    assert_eq!(status, 200);
    assert_eq!(a["properties"]["metadata"]["carto-nonce"], s.nonce.as_str());
    assert_eq!(carto_core::dns::replaced(&rec).unwrap(), found);
    // Our record, found again (by its nonce), is ours: no longer a conflict.
    let again = p.find_dns_records(&s, &r).await.unwrap();
    assert!(
        carto_core::dns::foreign(&again, &s.nonce, None).is_empty(),
        "{again:?}"
    );

    p.delete(&rec, T).await.unwrap();
    assert_eq!(fake.call("GET", &url("A"), None).0, 404);
    let (status, back) = cname();
    assert_eq!(status, 200);
    assert_eq!(
        back["properties"]["CNAMERecord"]["cname"],
        "shop.elsewhere.example.net"
    );
    assert_eq!(back["properties"]["TTL"], 300);
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
    let refs = create_all(&p, &s).await;
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
    let group = &refs[0];
    let err = p
        .delete(group, T)
        .await
        .expect_err("a stranger in the group");
    assert_eq!(err.kind, carto_core::ErrorKind::Conflict, "{err}");
    assert!(err.message.contains("their-ip"), "{err}");
    assert!(fake.state().resource(&stranger).is_some());
    assert!(
        fake.state().resource(&refs[1].id).is_some(),
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
