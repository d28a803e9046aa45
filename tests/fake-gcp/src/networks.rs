//! VPC networks (global) and subnetworks (regional): insert, get, delete, and the checks Compute
//! makes around them. Every project has a `default` auto-mode network with GCP's four default
//! firewall rules (`default-allow-ssh`, `-rdp`, `-icmp`, `-internal`), seeded the first time a
//! call touches the project's networks, firewalls or instances. Legacy networks (no
//! `autoCreateSubnetworks`) are refused. Deleting a network some subnetwork, firewall rule or
//! instance still uses, or a subnetwork an instance uses, is refused with 400
//! `resourceInUseByAnotherResource` as Compute does.

use crate::catalogue::{self, link};
use crate::compute::{checked_name, creation, deletion, get_resource, refuse_duplicate};
use crate::errors::ApiError;
use crate::operations::{self, Scope};
use crate::route::Call;
use crate::state::{State, now_rfc3339};
use serde_json::{Value, json};

/// The relative path (`projects/P/global/networks/N`) of a network reference written any way
/// Compute accepts: a full URL, `projects/P/global/networks/N` or `global/networks/N`.
pub fn network_key(project: &str, reference: &str) -> String {
    let rel = catalogue::relative(reference);
    match rel.starts_with("projects/") {
        true => rel.to_string(),
        false => format!("projects/{project}/{rel}"),
    }
}

/// Seed `project`'s `default` network and its four firewall rules, once per project.
pub fn seed_defaults(state: &mut State, base: &str, project: &str) {
    if project.is_empty() || !state.seeded_projects.insert(project.to_string()) {
        return;
    }
    let key = format!("projects/{project}/global/networks/default");
    let network_link = link(base, project, "global/networks/default");
    let network = json!({
        "kind": "compute#network", "id": state.next_id().to_string(), "name": "default",
        "description": "Default network for the project", "autoCreateSubnetworks": true,
        "routingConfig": {"routingMode": "REGIONAL"}, "mtu": 1460, "subnetworks": [],
        "selfLink": network_link, "creationTimestamp": now_rfc3339(),
    });
    state.kind("networks").insert(key, network);
    let rules = [
        (
            "default-allow-ssh",
            json!([{"IPProtocol": "tcp", "ports": ["22"]}]),
            "0.0.0.0/0",
            65534,
        ),
        (
            "default-allow-rdp",
            json!([{"IPProtocol": "tcp", "ports": ["3389"]}]),
            "0.0.0.0/0",
            65534,
        ),
        (
            "default-allow-icmp",
            json!([{"IPProtocol": "icmp"}]),
            "0.0.0.0/0",
            65534,
        ),
        (
            "default-allow-internal",
            json!([{"IPProtocol": "tcp", "ports": ["0-65535"]}, {"IPProtocol": "udp", "ports": ["0-65535"]}, {"IPProtocol": "icmp"}]),
            "10.128.0.0/9",
            65534,
        ),
    ];
    for (name, allowed, source, priority) in rules {
        let rule = json!({
            "kind": "compute#firewall", "id": state.next_id().to_string(), "name": name,
            "description": format!("Allow {name} from anywhere"), "network": network_link,
            "priority": priority, "direction": "INGRESS", "disabled": false,
            "allowed": allowed, "sourceRanges": [source],
            "selfLink": link(base, project, &format!("global/firewalls/{name}")),
            "creationTimestamp": now_rfc3339(),
        });
        let key = format!("projects/{project}/global/firewalls/{name}");
        state.kind("firewalls").insert(key, rule);
    }
}

/// `compute.networks.insert`
pub fn insert_network(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let project = call.param("project");
    let name = checked_name(call)?;
    let key = format!("projects/{project}/global/networks/{name}");
    refuse_duplicate(state, "networks", &key)?;
    let body = call.body();
    if body.get("IPv4Range").is_some_and(|v| !v.is_null())
        || !body["autoCreateSubnetworks"].is_boolean()
    {
        return Err(ApiError::invalid_field(
            "resource.autoCreateSubnetworks",
            "",
            "Legacy networks are not modelled: set autoCreateSubnetworks.",
        ));
    }
    let id = state.next_id().to_string();
    let self_link = link(&call.base, project, &format!("global/networks/{name}"));
    let mut network = body.clone();
    if network.get("routingConfig").is_none_or(Value::is_null) {
        network["routingConfig"] = json!({"routingMode": "REGIONAL"});
    }
    for (field, value) in [
        ("kind", json!("compute#network")),
        ("id", json!(id)),
        ("mtu", json!(1460)),
        ("subnetworks", json!([])),
        ("selfLink", json!(self_link)),
        ("creationTimestamp", json!(now_rfc3339())),
    ] {
        network[field] = value;
    }
    state.kind("networks").insert(key.clone(), network);
    let target = creation("networks", key, self_link, id, None);
    Ok(operations::start(state, call, Scope::Global, target))
}

/// `compute.networks.get`
pub fn get_network(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let key = format!(
        "projects/{}/global/networks/{}",
        call.param("project"),
        call.param("network")
    );
    get_resource(state, "networks", &key)
}

/// `compute.networks.delete`: refused while a subnetwork, firewall rule or instance uses it.
pub fn delete_network(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let project = call.param("project");
    let key = format!(
        "projects/{project}/global/networks/{}",
        call.param("network")
    );
    let network = get_resource(state, "networks", &key)?;
    if let Some(user) = network_user(state, project, &key) {
        return Err(in_use("network", &key, &user));
    }
    let target = deletion("networks", key, &network);
    Ok(operations::start(state, call, Scope::Global, target))
}

/// The first subnetwork, firewall rule or instance on network `key`.
fn network_user(state: &mut State, project: &str, key: &str) -> Option<String> {
    let on = |v: &Value| v.as_str().is_some_and(|n| network_key(project, n) == key);
    let subnet = state
        .kind("subnetworks")
        .iter()
        .find(|(_, s)| on(&s["network"]));
    if let Some((k, _)) = subnet {
        return Some(k.clone());
    }
    let rule = state
        .kind("firewalls")
        .iter()
        .find(|(_, f)| on(&f["network"]));
    if let Some((k, _)) = rule {
        return Some(k.clone());
    }
    let nic_on = |i: &Value| {
        i["networkInterfaces"]
            .as_array()
            .is_some_and(|nics| nics.iter().any(|n| on(&n["network"])))
    };
    let vm = state.kind("instances").iter().find(|(_, i)| nic_on(i));
    vm.map(|(k, _)| k.clone())
}

fn in_use(what: &str, key: &str, user: &str) -> ApiError {
    ApiError::new(
        400,
        "resourceInUseByAnotherResource",
        format!("The {what} resource '{key}' is already being used by '{user}'"),
    )
}

/// `compute.subnetworks.insert`: the network must exist, the range be a private IPv4 range
/// overlapping no other subnetwork of that network.
pub fn insert_subnetwork(state: &mut State, call: &Call) -> Result<Value, ApiError> {
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
    let key = format!("projects/{project}/regions/{region}/subnetworks/{name}");
    refuse_duplicate(state, "subnetworks", &key)?;
    let network_ref = call.body_str("network").unwrap_or_default();
    let net_key = network_key(project, network_ref);
    if !state.kind("networks").contains_key(&net_key) {
        return Err(ApiError::invalid_field(
            "resource.network",
            network_ref,
            &format!("The resource '{net_key}' was not found"),
        ));
    }
    let range = call.body_str("ipCidrRange").unwrap_or_default();
    let Some(cidr) = Cidr::parse(range) else {
        return Err(ApiError::invalid_field(
            "resource.ipCidrRange",
            range,
            "Invalid IPCidrRange: must be an IPv4 range such as 10.0.0.0/24.",
        ));
    };
    let clash = state.kind("subnetworks").values().find(|s| {
        s["network"]
            .as_str()
            .is_some_and(|n| network_key(project, n) == net_key)
            && s["ipCidrRange"]
                .as_str()
                .and_then(Cidr::parse)
                .is_some_and(|c| c.overlaps(&cidr))
    });
    if let Some(other) = clash {
        return Err(ApiError::invalid_field(
            "resource.ipCidrRange",
            range,
            &format!(
                "Invalid IPCidrRange: {range} conflicts with existing subnetwork '{}'.",
                other["name"].as_str().unwrap_or_default()
            ),
        ));
    }
    let id = state.next_id().to_string();
    let self_link = link(
        &call.base,
        project,
        &format!("regions/{region}/subnetworks/{name}"),
    );
    let network_link = format!("{}/compute/v1/{net_key}", call.base);
    let mut subnet = call.body().clone();
    for (field, value) in [
        ("kind", json!("compute#subnetwork")),
        ("id", json!(id)),
        ("network", json!(network_link)),
        (
            "region",
            json!(link(&call.base, project, &format!("regions/{region}"))),
        ),
        ("gatewayAddress", json!(cidr.first_host())),
        ("stackType", json!("IPV4_ONLY")),
        ("purpose", json!("PRIVATE")),
        (
            "privateIpGoogleAccess",
            json!(subnet_flag(call.body(), "privateIpGoogleAccess")),
        ),
        (
            "fingerprint",
            json!(crate::compute::fingerprint(&json!(name))),
        ),
        ("selfLink", json!(self_link)),
        ("creationTimestamp", json!(now_rfc3339())),
    ] {
        subnet[field] = value;
    }
    state.kind("subnetworks").insert(key.clone(), subnet);
    if let Some(network) = state.kind("networks").get_mut(&net_key)
        && let Some(list) = network["subnetworks"].as_array_mut()
    {
        list.push(json!(self_link));
    }
    let target = creation("subnetworks", key, self_link, id, None);
    Ok(operations::start(
        state,
        call,
        Scope::Region(region),
        target,
    ))
}

fn subnet_flag(body: &Value, field: &str) -> bool {
    body[field].as_bool().unwrap_or(false)
}

/// `compute.subnetworks.get`
pub fn get_subnetwork(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    get_resource(state, "subnetworks", &subnetwork_key(call))
}

/// `compute.subnetworks.delete`: refused while an instance uses it.
pub fn delete_subnetwork(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let project = call.param("project");
    let key = subnetwork_key(call);
    let subnet = get_resource(state, "subnetworks", &key)?;
    let used = state.kind("instances").iter().find(|(_, i)| {
        i["networkInterfaces"].as_array().is_some_and(|nics| {
            nics.iter().any(|n| {
                n["subnetwork"]
                    .as_str()
                    .is_some_and(|s| network_key(project, s) == key)
            })
        })
    });
    if let Some((user, _)) = used {
        return Err(in_use("subnetwork", &key, user));
    }
    let target = deletion("subnetworks", key, &subnet);
    Ok(operations::start(
        state,
        call,
        Scope::Region(call.param("region")),
        target,
    ))
}

/// After a subnetwork is removed: drop it from its network's `subnetworks`.
pub fn release_subnetwork(state: &mut State, removed: &Value) {
    let link = removed["selfLink"].clone();
    for network in state.kind("networks").values_mut() {
        if let Some(list) = network["subnetworks"].as_array_mut() {
            list.retain(|l| *l != link);
        }
    }
}

fn subnetwork_key(call: &Call) -> String {
    format!(
        "projects/{}/regions/{}/subnetworks/{}",
        call.param("project"),
        call.param("region"),
        call.param("subnetwork")
    )
}

/// Where an instance's network interface goes, checked as Compute checks it: the network
/// exists; a subnetwork, when named, exists in the instance's region and belongs to that
/// network (which may then be left out); a custom-mode network needs one. Returns the
/// (network, subnetwork) keys.
pub fn place_interface(
    state: &mut State,
    project: &str,
    region: &str,
    index: usize,
    nic: &Value,
) -> Result<(String, Option<String>), ApiError> {
    let field = |f: &str| format!("resource.networkInterfaces[{index}].{f}");
    let subnet = match nic["subnetwork"].as_str() {
        Some(reference) => {
            let key = network_key(project, reference);
            let Some(found) = state.kind("subnetworks").get(&key) else {
                let why = format!("The resource '{key}' was not found");
                return Err(ApiError::invalid_field(
                    &field("subnetwork"),
                    reference,
                    &why,
                ));
            };
            if !key.starts_with(&format!("projects/{project}/regions/{region}/")) {
                let why = format!("Subnetwork must be in region '{region}' of the instance.");
                return Err(ApiError::invalid_field(
                    &field("subnetwork"),
                    reference,
                    &why,
                ));
            }
            Some((
                key,
                network_key(project, found["network"].as_str().unwrap_or_default()),
            ))
        }
        None => None,
    };
    let network = match (nic["network"].as_str(), &subnet) {
        (Some(reference), _) => network_key(project, reference),
        (None, Some((_, of_subnet))) => of_subnet.clone(),
        (None, None) => format!("projects/{project}/global/networks/default"),
    };
    let Some(found) = state.kind("networks").get(&network) else {
        let why = format!("The resource '{network}' was not found");
        return Err(ApiError::invalid_field(&field("network"), &network, &why));
    };
    let auto = found["autoCreateSubnetworks"] == json!(true);
    match subnet {
        Some((key, of_subnet)) if of_subnet == network => Ok((network, Some(key))),
        Some((key, _)) => {
            let why = format!("Subnetwork '{key}' does not belong to network '{network}'.");
            Err(ApiError::invalid_field(&field("subnetwork"), &key, &why))
        }
        None if auto => Ok((network, None)),
        None => {
            let why = "Subnetwork should be specified for custom subnetmode network";
            Err(ApiError::invalid_field(&field("subnetwork"), "", why))
        }
    }
}

/// An IPv4 range.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cidr {
    base: u32,
    prefix: u32,
}

impl Cidr {
    /// `a.b.c.d/n` with n in 8..=29 and no host bits set.
    fn parse(text: &str) -> Option<Cidr> {
        let (ip, prefix) = text.split_once('/')?;
        let ip: std::net::Ipv4Addr = ip.parse().ok()?;
        let prefix: u32 = prefix.parse().ok()?;
        if !(8..=29).contains(&prefix) {
            return None;
        }
        let base = u32::from(ip);
        (base & !Self::mask(prefix) == 0).then_some(Cidr { base, prefix })
    }

    fn mask(prefix: u32) -> u32 {
        u32::MAX << (32 - prefix)
    }

    fn overlaps(&self, other: &Cidr) -> bool {
        let shorter = self.prefix.min(other.prefix);
        (self.base & Self::mask(shorter)) == (other.base & Self::mask(shorter))
    }

    fn first_host(&self) -> String {
        std::net::Ipv4Addr::from(self.base + 1).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_overlap() {
        let a = Cidr::parse("10.64.0.0/24").unwrap();
        assert_eq!(a.first_host(), "10.64.0.1");
        assert!(a.overlaps(&Cidr::parse("10.64.0.0/16").unwrap()));
        assert!(!a.overlaps(&Cidr::parse("10.64.1.0/24").unwrap()));
        for bad in ["10.64.0.1/24", "10.64.0.0", "10.64.0.0/4", "::/0", "x/24"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            network_key("p", "https://h/compute/v1/projects/p/global/networks/n"),
            "projects/p/global/networks/n"
        );
        assert_eq!(
            network_key("p", "global/networks/n"),
            "projects/p/global/networks/n"
        );
    }
}
