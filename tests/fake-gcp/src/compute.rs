//! Compute handlers other than instances and networks: zones, machine types, the Ubuntu image,
//! regional addresses, global firewalls (on an existing network; `update` replaces one) and disks (read-only: disks come and go with their instance).
//! Shared insert helpers (name rule, duplicate check, fingerprints) live here too.

use crate::catalogue::{self, link};
use crate::errors::ApiError;
use crate::operations::{self, Scope, Target};
use crate::route::Call;
use crate::state::{Effect, State, now_rfc3339};
use serde_json::{Value, json};
use std::hash::{DefaultHasher, Hash, Hasher};

/// `compute.projects.get`: only projects seeded with `FakeState::add_project` exist.
pub fn get_project(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let project = call.param("project");
    let Some(id) = state.projects.get(project).copied() else {
        return Err(ApiError::not_found(&format!("projects/{project}")));
    };
    Ok(json!({
        "kind": "compute#project",
        "id": id.to_string(),
        "name": project,
        "selfLink": format!("{}/compute/v1/projects/{project}", call.base),
        "defaultNetworkTier": "PREMIUM",
        "creationTimestamp": "2026-01-01T00:00:00.000-08:00",
    }))
}

/// `compute.zones.get`
pub fn get_zone(call: &Call) -> Result<Value, ApiError> {
    let (project, zone) = (call.param("project"), call.param("zone"));
    catalogue::zone(&call.base, project, zone)
        .ok_or_else(|| ApiError::not_found(&format!("projects/{project}/zones/{zone}")))
}

/// `compute.machineTypes.get`
pub fn get_machine_type(call: &Call) -> Result<Value, ApiError> {
    let (project, zone, name) = (
        call.param("project"),
        call.param("zone"),
        call.param("machineType"),
    );
    catalogue::machine_type(&call.base, project, zone, name).ok_or_else(|| {
        ApiError::not_found(&format!(
            "projects/{project}/zones/{zone}/machineTypes/{name}"
        ))
    })
}

/// `compute.images.getFromFamily` (only `ubuntu-os-cloud/ubuntu-2204-lts`).
pub fn image_from_family(call: &Call) -> Result<Value, ApiError> {
    let (project, family) = (call.param("project"), call.param("family"));
    if project == catalogue::IMAGE_PROJECT && family == catalogue::IMAGE_FAMILY {
        return Ok(catalogue::image(&call.base));
    }
    Err(ApiError::not_found(&format!(
        "projects/{project}/global/images/family/{family}"
    )))
}

/// `compute.images.get` (only the image the family points at).
pub fn get_image(call: &Call) -> Result<Value, ApiError> {
    let (project, image) = (call.param("project"), call.param("image"));
    if project == catalogue::IMAGE_PROJECT && image == catalogue::IMAGE_NAME {
        return Ok(catalogue::image(&call.base));
    }
    Err(ApiError::not_found(&format!(
        "projects/{project}/global/images/{image}"
    )))
}

/// `compute.addresses.insert`: reserves the configured address (or the one asked for).
pub fn insert_address(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let (project, region) = (call.param("project"), call.param("region"));
    if !catalogue::region_known(region) {
        return Err(ApiError::not_found(&format!(
            "projects/{project}/regions/{region}"
        )));
    }
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let name = checked_name(call)?;
    let key = format!("projects/{project}/regions/{region}/addresses/{name}");
    refuse_duplicate(state, "addresses", &key)?;
    let id = state.next_id().to_string();
    let self_link = link(
        &call.base,
        project,
        &format!("regions/{region}/addresses/{name}"),
    );
    let ip = call
        .body_str("address")
        .map(String::from)
        .unwrap_or_else(|| state.settings.address_ip.clone());
    let mut address = call.body().clone();
    let defaults = [
        ("addressType", json!("EXTERNAL")),
        ("networkTier", json!("PREMIUM")),
        ("ipVersion", json!("IPV4")),
        ("labels", json!({})),
    ];
    for (field, value) in defaults {
        if address.get(field).is_none_or(Value::is_null) {
            address[field] = value;
        }
    }
    let fingerprint = fingerprint(&address["labels"]);
    let fields = [
        ("kind", json!("compute#address")),
        ("id", json!(id)),
        ("address", json!(ip)),
        ("status", json!("RESERVING")),
        (
            "region",
            json!(link(&call.base, project, &format!("regions/{region}"))),
        ),
        ("selfLink", json!(self_link)),
        ("labelFingerprint", json!(fingerprint)),
        ("creationTimestamp", json!(now_rfc3339())),
    ];
    for (field, value) in fields {
        address[field] = value;
    }
    state.kind("addresses").insert(key.clone(), address);
    let target = creation("addresses", key, self_link, id, Some("RESERVED"));
    Ok(operations::start(
        state,
        call,
        Scope::Region(region),
        target,
    ))
}

/// `compute.addresses.get`
pub fn get_address(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let key = format!(
        "projects/{}/regions/{}/addresses/{}",
        call.param("project"),
        call.param("region"),
        call.param("address")
    );
    get_resource(state, "addresses", &key)
}

/// `compute.addresses.delete`: refused while an instance uses the address.
pub fn delete_address(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let region = call.param("region");
    let key = format!(
        "projects/{}/regions/{region}/addresses/{}",
        call.param("project"),
        call.param("address")
    );
    let address = get_resource(state, "addresses", &key)?;
    if let Some(user) = address["users"].get(0).and_then(Value::as_str) {
        return Err(ApiError::new(
            400,
            "resourceInUseByAnotherResource",
            format!("The address resource '{key}' is already being used by '{user}'"),
        ));
    }
    let target = deletion("addresses", key, &address);
    Ok(operations::start(
        state,
        call,
        Scope::Region(region),
        target,
    ))
}

/// `compute.firewalls.insert`
pub fn insert_firewall(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let project = call.param("project");
    let name = checked_name(call)?;
    let key = format!("projects/{project}/global/firewalls/{name}");
    refuse_duplicate(state, "firewalls", &key)?;
    let network = network_of_rule(state, call)?;
    let body = call.body();
    if body.get("allowed").is_none() && body.get("denied").is_none() {
        return Err(ApiError::invalid_field(
            "resource.allowed",
            "",
            "Exactly one of allowed or denied must be specified.",
        ));
    }
    let id = state.next_id().to_string();
    let self_link = link(&call.base, project, &format!("global/firewalls/{name}"));
    let mut firewall = body.clone();
    for (field, value) in [
        ("direction", json!("INGRESS")),
        ("priority", json!(1000)),
        ("disabled", json!(false)),
    ] {
        if firewall.get(field).is_none_or(Value::is_null) {
            firewall[field] = value;
        }
    }
    for (field, value) in [
        ("kind", json!("compute#firewall")),
        ("id", json!(id)),
        ("network", json!(network)),
        ("selfLink", json!(self_link)),
        ("creationTimestamp", json!(now_rfc3339())),
    ] {
        firewall[field] = value;
    }
    state.kind("firewalls").insert(key.clone(), firewall);
    let target = creation("firewalls", key, self_link, id, None);
    Ok(operations::start(state, call, Scope::Global, target))
}

/// The full link of the network a firewall rule names (`default` when it names none), which
/// must exist.
fn network_of_rule(state: &mut State, call: &Call) -> Result<String, ApiError> {
    let project = call.param("project");
    let reference = call
        .body_str("network")
        .unwrap_or("global/networks/default");
    let key = crate::networks::network_key(project, reference);
    match state.kind("networks").contains_key(&key) {
        true => Ok(format!("{}/compute/v1/{key}", call.base)),
        false => Err(ApiError::not_found(&key)),
    }
}

/// `compute.firewalls.update` (PUT): the body replaces the rule, except its name, network, id
/// and timestamps, which cannot change. Applied at once; the operation reports it.
pub fn update_firewall(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let key = firewall_key(call);
    let old = get_resource(state, "firewalls", &key)?;
    if call
        .body_str("name")
        .is_some_and(|n| n != call.param("firewall"))
    {
        return Err(ApiError::invalid_field(
            "resource.name",
            call.body_str("name").unwrap_or_default(),
            "The name of a firewall rule cannot change.",
        ));
    }
    if call.body().get("network").is_some_and(|n| !n.is_null()) {
        let network = network_of_rule(state, call)?;
        if Some(network.as_str()) != old["network"].as_str() {
            return Err(ApiError::invalid_field(
                "resource.network",
                &network,
                "The network of a firewall rule cannot change.",
            ));
        }
    }
    let body = call.body();
    if body.get("allowed").is_none() && body.get("denied").is_none() {
        return Err(ApiError::invalid_field(
            "resource.allowed",
            "",
            "Exactly one of allowed or denied must be specified.",
        ));
    }
    let mut firewall = body.clone();
    for (field, value) in [
        ("direction", json!("INGRESS")),
        ("priority", json!(1000)),
        ("disabled", json!(false)),
    ] {
        if firewall.get(field).is_none_or(Value::is_null) {
            firewall[field] = value;
        }
    }
    for field in [
        "kind",
        "id",
        "name",
        "network",
        "selfLink",
        "creationTimestamp",
    ] {
        firewall[field] = old[field].clone();
    }
    state.kind("firewalls").insert(key, firewall);
    let target = Target {
        op_type: "update",
        link: old["selfLink"].as_str().unwrap_or_default().to_string(),
        id: old["id"].as_str().unwrap_or_default().to_string(),
        effect: None,
        undo: None,
    };
    Ok(operations::start(state, call, Scope::Global, target))
}

/// `compute.firewalls.get`
pub fn get_firewall(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let key = firewall_key(call);
    get_resource(state, "firewalls", &key)
}

/// `compute.firewalls.delete`
pub fn delete_firewall(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let key = firewall_key(call);
    let firewall = get_resource(state, "firewalls", &key)?;
    let target = deletion("firewalls", key, &firewall);
    Ok(operations::start(state, call, Scope::Global, target))
}

/// `compute.disks.get`
pub fn get_disk(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let key = format!(
        "projects/{}/zones/{}/disks/{}",
        call.param("project"),
        call.param("zone"),
        call.param("disk")
    );
    get_resource(state, "disks", &key)
}

fn firewall_key(call: &Call) -> String {
    format!(
        "projects/{}/global/firewalls/{}",
        call.param("project"),
        call.param("firewall")
    )
}

/// A stored resource, or 404 naming its path.
pub fn get_resource(state: &mut State, kind: &'static str, key: &str) -> Result<Value, ApiError> {
    state
        .kind(kind)
        .get(key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(key))
}

/// The target of an insert: `ready` is the status the resource reaches at DONE; if the
/// operation fails, the resource goes away.
pub fn creation(
    kind: &'static str,
    key: String,
    link: String,
    id: String,
    ready: Option<&'static str>,
) -> Target {
    let effect = ready.map(|status| Effect::SetStatus {
        kind,
        key: key.clone(),
        status,
    });
    Target {
        op_type: "insert",
        link,
        id,
        effect,
        undo: Some(Effect::Remove { kind, key }),
    }
}

/// The deletion target of a stored resource; if the operation fails, the resource stays
/// (an instance goes back from STOPPING to RUNNING).
pub fn deletion(kind: &'static str, key: String, resource: &Value) -> Target {
    let undo = (kind == "instances").then(|| Effect::SetStatus {
        kind,
        key: key.clone(),
        status: "RUNNING",
    });
    Target {
        op_type: "delete",
        link: resource["selfLink"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        id: resource["id"].as_str().unwrap_or_default().to_string(),
        effect: Some(Effect::Remove { kind, key }),
        undo,
    }
}

/// 409 if `key` already exists.
pub fn refuse_duplicate(state: &mut State, kind: &'static str, key: &str) -> Result<(), ApiError> {
    match state.kind(kind).contains_key(key) {
        true => Err(ApiError::already_exists(key)),
        false => Ok(()),
    }
}

/// The body's `name`, checked against RFC 1035 as Compute does.
pub fn checked_name(call: &Call) -> Result<String, ApiError> {
    let name = call.body_str("name").unwrap_or_default();
    if rfc1035(name) {
        return Ok(name.to_string());
    }
    Err(ApiError::invalid_field(
        "resource.name",
        name,
        "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
    ))
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, 1 to 63 characters.
pub fn rfc1035(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.last().is_some_and(|b| *b != b'-')
}

/// A stable fingerprint (base64 alphabet) of a JSON value.
pub fn fingerprint(value: &Value) -> String {
    let mut hasher = DefaultHasher::new();
    value.to_string().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::rfc1035;

    #[test]
    fn names_follow_rfc1035() {
        assert!(rfc1035("carto-my-domain-com-vm") && rfc1035("a"));
        assert!(!rfc1035("") && !rfc1035("1abc") && !rfc1035("abc-") && !rfc1035("Abc"));
        assert!(!rfc1035(&"a".repeat(64)));
    }
}
