//! What the fake adds to a stored resource and how it is shown: generated read-only fields
//! (public IP address, private IPs, vmId, fqdn, name servers, resourceGuid), provisioning
//! state, children embedded in their parent (subnets, security rules), and secrets that ARM
//! never returns (adminPassword, customData) left out of responses.

use serde_json::{Map, Value, json};

use crate::ids::ResourceId;
use crate::state::Store;

/// Child collections ARM shows inline in their parent's `properties`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("microsoft.network/virtualnetworks", "subnets"),
    ("microsoft.network/networksecuritygroups", "securityRules"),
];

/// The embedded child collection of a parent type, if any.
pub fn embedded_of(type_lc: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(t, _)| *t == type_lc)
        .map(|(_, c)| *c)
}

fn props(v: &mut Value) -> Option<&mut Map<String, Value>> {
    let obj = v.as_object_mut()?;
    let p = obj.entry("properties").or_insert_with(|| json!({}));
    if !p.is_object() {
        *p = json!({});
    }
    p.as_object_mut()
}

/// Keeps `old`'s value of `key` or sets `fresh`.
fn keep_or(p: &mut Map<String, Value>, old: Option<&Value>, key: &str, fresh: Value) {
    let prior = old.and_then(|o| o["properties"].get(key)).cloned();
    p.insert(key.to_string(), prior.unwrap_or(fresh));
}

/// Properties that can be set at creation only, by type (dotted paths).
const CREATE_ONLY: &[(&str, &[&str])] = &[(
    "microsoft.compute/virtualmachines",
    &[
        "properties.osProfile.computerName",
        "properties.osProfile.adminUsername",
        "properties.osProfile.customData",
        "properties.storageProfile.imageReference",
    ],
)];

/// The first create-only property whose sent value differs from the stored one.
pub fn changed_create_only(type_lc: &str, old: &Value, new: &Value) -> Option<&'static str> {
    let paths = CREATE_ONLY.iter().find(|(t, _)| *t == type_lc)?.1;
    paths.iter().copied().find(|path| {
        let pointer = format!("/{}", path.replace('.', "/"));
        match (old.pointer(&pointer), new.pointer(&pointer)) {
            (Some(was), Some(now)) => was != now,
            _ => false,
        }
    })
}

/// Whether the type carries `properties.provisioningState` in its contract.
pub fn has_provisioning_state(type_lc: &str) -> bool {
    type_lc != "microsoft.network/dnszones"
}

/// Fills generated fields of `v` (the body as stored), keeping those `old` already had.
pub fn generate(store: &mut Store, rid: &ResourceId, v: &mut Value, old: Option<&Value>) {
    let t = rid.type_lc();
    let guid = store.next_id();
    let ip = store.public_ip.to_string();
    let Some(p) = props(v) else { return };
    match t.as_str() {
        "microsoft.network/publicipaddresses" => {
            keep_or(p, old, "ipAddress", json!(ip));
            keep_or(p, old, "resourceGuid", json!(guid));
            p.entry("publicIPAddressVersion").or_insert(json!("IPv4"));
            p.entry("publicIPAllocationMethod")
                .or_insert(json!("Dynamic"));
        }
        "microsoft.network/networkinterfaces" => {
            keep_or(p, old, "resourceGuid", json!(guid));
            let cfgs = p.get_mut("ipConfigurations").and_then(Value::as_array_mut);
            for (i, c) in cfgs.into_iter().flatten().enumerate() {
                ip_configuration(c, &rid.id, i);
            }
        }
        "microsoft.compute/virtualmachines" => keep_or(p, old, "vmId", json!(guid)),
        "microsoft.network/virtualnetworks" | "microsoft.network/networksecuritygroups" => {
            keep_or(p, old, "resourceGuid", json!(guid))
        }
        "microsoft.network/dnszones" => {
            p.insert(
                "nameServers".into(),
                json!(["ns1-01.azure-dns.com.", "ns2-01.azure-dns.net."]),
            );
            p.insert("maxNumberOfRecordSets".into(), json!(10000));
            p.entry("zoneType").or_insert(json!("Public"));
        }
        _ if t.starts_with("microsoft.network/dnszones/") => {
            let zone = rid
                .parent
                .as_deref()
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or_default();
            let fqdn = match rid.name.as_str() {
                "@" => format!("{zone}."),
                n => format!("{n}.{zone}."),
            };
            p.insert("fqdn".into(), json!(fqdn));
        }
        _ => {}
    }
}

/// Id, private address and defaults of the `i`-th IP configuration of NIC `nic_id`.
fn ip_configuration(c: &mut Value, nic_id: &str, i: usize) {
    let name = c["name"].as_str().unwrap_or("ipconfig").to_string();
    if let Some(obj) = c.as_object_mut() {
        obj.insert(
            "id".into(),
            json!(format!("{nic_id}/ipConfigurations/{name}")),
        );
    }
    if let Some(cp) = props(c) {
        cp.entry("privateIPAddress")
            .or_insert(json!(format!("10.0.0.{}", 4 + i)));
        cp.entry("privateIPAllocationMethod")
            .or_insert(json!("Dynamic"));
        cp.entry("primary").or_insert(json!(i == 0));
        cp.insert("provisioningState".into(), json!("Succeeded"));
    }
}

/// Sets `provisioningState` on the resource (and on its embedded children when given).
pub fn set_state(v: &mut Value, type_lc: &str, state: &str) {
    if let Some(p) = props(v).filter(|_| has_provisioning_state(type_lc)) {
        p.insert("provisioningState".into(), json!(state));
    }
}

/// The response representation of the stored resource `key`.
pub fn render(store: &Store, key: &str) -> Option<Value> {
    let mut v = store.resources.get(key)?.clone();
    let type_lc = v["type"].as_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(coll) = embedded_of(&type_lc) {
        let kids: Vec<Value> = children(store, key, coll)
            .into_iter()
            .filter_map(|k| store.resources.get(&k).cloned())
            .collect();
        props(&mut v)?.insert(coll.to_string(), Value::Array(kids));
    }
    if type_lc == "microsoft.network/dnszones" {
        let prefix = format!("{key}/");
        let n = store
            .resources
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .count();
        props(&mut v)?.insert("numberOfRecordSets".into(), json!(n + 2));
    }
    if let Some(os) = v["properties"]
        .get_mut("osProfile")
        .and_then(Value::as_object_mut)
    {
        os.remove("adminPassword");
        os.remove("customData");
    }
    Some(v)
}

/// Adds the `instanceView` a VM GET with `$expand=instanceView` carries: provisioning and
/// power state (`PowerState/running` once provisioning succeeded, `starting` before).
pub fn add_instance_view(v: &mut Value) {
    let state = v["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
        .to_string();
    let power = if state == "Succeeded" {
        "running"
    } else {
        "starting"
    };
    let computer = v["properties"]["osProfile"]["computerName"].clone();
    if let Some(p) = props(v) {
        p.insert(
            "instanceView".into(),
            json!({
                "computerName": computer,
                "osName": "ubuntu",
                "osVersion": "22.04",
                "statuses": [
                    {"code": format!("ProvisioningState/{}", state.to_ascii_lowercase()),
                     "level": "Info", "displayStatus": format!("Provisioning {}", state.to_ascii_lowercase())},
                    {"code": format!("PowerState/{power}"), "level": "Info",
                     "displayStatus": format!("VM {power}")},
                ],
            }),
        );
    }
}

/// Keys of the direct children of `key` in collection `coll`.
pub fn children(store: &Store, key: &str, coll: &str) -> Vec<String> {
    let prefix = format!("{key}/{}/", coll.to_ascii_lowercase());
    store
        .resources
        .keys()
        .filter(|k| {
            k.strip_prefix(&prefix)
                .is_some_and(|rest| !rest.contains('/'))
        })
        .cloned()
        .collect()
}
