//! `compute.instances.*`: a VM with its boot disk (created from `initializeParams`, deleted with
//! the VM when `autoDelete`) and its external address (a reserved address's `natIP`, marked
//! IN_USE while the VM lives), on the network and subnetwork its interface names, which must
//! exist (see `networks::place_interface`).

use crate::catalogue::{self, link};
use crate::compute::{
    checked_name, creation, deletion, fingerprint, get_resource, refuse_duplicate,
};
use crate::errors::ApiError;
use crate::operations::{self, Scope};
use crate::route::Call;
use crate::state::{State, now_rfc3339};
use serde_json::{Value, json};

const DISK_TYPES: &[&str] = &[
    "pd-standard",
    "pd-balanced",
    "pd-ssd",
    "pd-extreme",
    "hyperdisk-balanced",
];

/// `compute.instances.insert`
pub fn insert(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let (project, zone) = (call.param("project"), call.param("zone"));
    let Some(region) = catalogue::region_of(zone) else {
        return Err(ApiError::not_found(&format!(
            "projects/{project}/zones/{zone}"
        )));
    };
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let name = checked_name(call)?;
    let key = format!("projects/{project}/zones/{zone}/instances/{name}");
    refuse_duplicate(state, "instances", &key)?;
    let self_link = link(
        &call.base,
        project,
        &format!("zones/{zone}/instances/{name}"),
    );
    let machine = machine_type(call)?;
    let disks = plan_disks(state, call, &name, &machine)?;
    let nat_ips = plan_nat_ips(state, call, region)?;
    let places = plan_places(state, call, region)?;

    let id = state.next_id().to_string();
    let mut attached = Vec::new();
    for (index, (disk_key, mut disk, mut entry)) in disks.into_iter().enumerate() {
        disk["id"] = json!(state.next_id().to_string());
        disk["users"] = json!([self_link]);
        entry["index"] = json!(index);
        state.kind("disks").insert(disk_key, disk);
        attached.push(entry);
    }
    let mut nics = Vec::new();
    let interfaces = call.body()["networkInterfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let planned = interfaces.into_iter().zip(nat_ips).zip(places);
    for (index, ((mut nic, nat), (network, subnet))) in planned.enumerate() {
        nic["kind"] = json!("compute#networkInterface");
        nic["name"] = json!(format!("nic{index}"));
        nic["network"] = json!(format!("{}/compute/v1/{network}", call.base));
        nic["networkIP"] = json!(format!("10.128.0.{}", 2 + index));
        if let Some(subnet) = subnet {
            let gateway = state.kind("subnetworks")[&subnet]["gatewayAddress"].clone();
            let first = gateway
                .as_str()
                .and_then(|g| g.parse::<std::net::Ipv4Addr>().ok());
            if let Some(first) = first {
                let ip = std::net::Ipv4Addr::from(u32::from(first) + 1 + index as u32);
                nic["networkIP"] = json!(ip.to_string());
            }
            nic["subnetwork"] = json!(format!("{}/compute/v1/{subnet}", call.base));
        }
        nic["stackType"] = json!("IPV4_ONLY");
        nic["fingerprint"] = json!(fingerprint(&nic));
        if let Some((ip, address_key)) = nat {
            if let Some(address) = address_key.and_then(|k| state.kind("addresses").get_mut(&k)) {
                address["status"] = json!("IN_USE");
                address["users"] = json!([self_link]);
            }
            nic["accessConfigs"] = json!([{
                "kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT",
                "natIP": ip, "networkTier": "PREMIUM",
            }]);
        }
        nics.push(nic);
    }
    let mut instance = call.body().clone();
    if instance.get("labels").is_none_or(Value::is_null) {
        instance["labels"] = json!({});
    }
    if let Some(metadata) = instance.get_mut("metadata").filter(|m| m.is_object()) {
        metadata["kind"] = json!("compute#metadata");
        metadata["fingerprint"] = json!(fingerprint(metadata));
    }
    if let Some(tags) = instance.get_mut("tags").filter(|t| t.is_object()) {
        tags["fingerprint"] = json!(fingerprint(tags));
    }
    let fields = [
        ("kind", json!("compute#instance")),
        ("id", json!(id)),
        ("status", json!("PROVISIONING")),
        (
            "zone",
            json!(link(&call.base, project, &format!("zones/{zone}"))),
        ),
        (
            "machineType",
            json!(link(
                &call.base,
                project,
                &format!("zones/{zone}/machineTypes/{}", machine.0)
            )),
        ),
        ("cpuPlatform", json!("Unknown CPU Platform")),
        ("disks", json!(attached)),
        ("networkInterfaces", json!(nics)),
        ("labelFingerprint", json!(fingerprint(&instance["labels"]))),
        ("fingerprint", json!(fingerprint(&json!(name)))),
        ("selfLink", json!(self_link)),
        ("creationTimestamp", json!(now_rfc3339())),
    ];
    for (field, value) in fields {
        instance[field] = value;
    }
    state.kind("instances").insert(key.clone(), instance);
    let target = creation("instances", key, self_link, id, Some("RUNNING"));
    Ok(operations::start(state, call, Scope::Zone(zone), target))
}

/// `compute.instances.get`
pub fn get(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    get_resource(state, "instances", &instance_key(call))
}

/// `compute.instances.delete`: the VM shows STOPPING until its operation is DONE.
pub fn delete(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let key = instance_key(call);
    let instance = get_resource(state, "instances", &key)?;
    if let Some(stored) = state.kind("instances").get_mut(&key) {
        stored["status"] = json!("STOPPING");
    }
    let target = deletion("instances", key, &instance);
    Ok(operations::start(
        state,
        call,
        Scope::Zone(call.param("zone")),
        target,
    ))
}

/// After an instance is removed: delete its autoDelete disks, detach the others, free addresses.
pub fn release(state: &mut State, instance: &Value) {
    let self_link = instance["selfLink"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for disk in instance["disks"].as_array().into_iter().flatten() {
        let source = catalogue::relative(disk["source"].as_str().unwrap_or_default()).to_string();
        if disk["autoDelete"] == json!(true) {
            state.kind("disks").remove(&source);
        } else if let Some(stored) = state.kind("disks").get_mut(&source) {
            stored["users"] = json!([]);
        }
    }
    for address in state.kind("addresses").values_mut() {
        let used_here = address["users"]
            .as_array()
            .is_some_and(|u| u.iter().any(|x| *x == json!(self_link)));
        if used_here {
            address["status"] = json!("RESERVED");
            if let Some(obj) = address.as_object_mut() {
                obj.remove("users");
            }
        }
    }
}

/// `projects/P/zones/Z/instances/I` of the call's path.
pub fn instance_key(call: &Call) -> String {
    format!(
        "projects/{}/zones/{}/instances/{}",
        call.param("project"),
        call.param("zone"),
        call.param("instance")
    )
}

/// (name, architecture) of the requested machine type, which must exist in the zone.
fn machine_type(call: &Call) -> Result<(String, String), ApiError> {
    let zone = call.param("zone");
    let reference = call.body_str("machineType").unwrap_or_default();
    let name = catalogue::last_segment(reference);
    let found = catalogue::machine_type(&call.base, call.param("project"), zone, name);
    match found {
        Some(t) => Ok((
            name.to_string(),
            t["architecture"].as_str().unwrap_or_default().to_string(),
        )),
        None => Err(ApiError::invalid_field(
            "resource.machineType",
            reference,
            &format!("Machine type with name '{name}' does not exist in zone '{zone}'."),
        )),
    }
}

type PlannedDisk = (String, Value, Value);

/// Check the requested disks and build (disk key, Disk resource, AttachedDisk entry) for each.
fn plan_disks(
    state: &mut State,
    call: &Call,
    instance: &str,
    machine: &(String, String),
) -> Result<Vec<PlannedDisk>, ApiError> {
    let (project, zone) = (call.param("project"), call.param("zone"));
    let requested = call.body()["disks"].as_array().cloned().unwrap_or_default();
    let boots = requested
        .iter()
        .filter(|d| d["boot"] == json!(true))
        .count();
    if boots != 1 {
        return Err(ApiError::invalid_field(
            "resource.disks",
            "",
            "Exactly one boot disk must be specified.",
        ));
    }
    let mut planned = Vec::new();
    for (i, entry) in requested.into_iter().enumerate() {
        let field = format!("resource.disks[{i}].initializeParams");
        let Some(params) = entry.get("initializeParams").filter(|p| p.is_object()) else {
            return Err(ApiError::invalid_field(
                &field,
                "",
                "The fake only creates disks from initializeParams.",
            ));
        };
        let image = params["sourceImage"].as_str().unwrap_or_default();
        if !catalogue::is_served_image(image) {
            return Err(ApiError::not_found(catalogue::relative(image)));
        }
        let served = catalogue::image(&call.base);
        if machine.1 != served["architecture"] {
            let why = format!(
                "Image architecture X86_64 does not match machine type {} ({}).",
                machine.0, machine.1
            );
            return Err(ApiError::invalid_field(
                &format!("{field}.sourceImage"),
                image,
                &why,
            ));
        }
        let default_name = if i == 0 {
            instance.to_string()
        } else {
            format!("{instance}-{i}")
        };
        let name = params["diskName"]
            .as_str()
            .map(String::from)
            .unwrap_or(default_name);
        let key = format!("projects/{project}/zones/{zone}/disks/{name}");
        refuse_duplicate(state, "disks", &key)?;
        let disk_type = params["diskType"].as_str().unwrap_or("pd-standard");
        if !DISK_TYPES.contains(&catalogue::last_segment(disk_type)) {
            return Err(ApiError::invalid_field(
                &format!("{field}.diskType"),
                disk_type,
                "Disk type does not exist.",
            ));
        }
        let size: i64 = match &params["diskSizeGb"] {
            Value::Null => 10,
            v => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0),
        };
        if size < 10 {
            let why = "Requested disk size cannot be smaller than the image size (10 GB).";
            return Err(ApiError::invalid_field(
                &format!("{field}.diskSizeGb"),
                &size.to_string(),
                why,
            ));
        }
        let disk_link = link(&call.base, project, &format!("zones/{zone}/disks/{name}"));
        let disk = json!({
            "kind": "compute#disk", "name": name, "sizeGb": size.to_string(), "status": "READY",
            "zone": link(&call.base, project, &format!("zones/{zone}")),
            "type": link(&call.base, project, &format!("zones/{zone}/diskTypes/{}", catalogue::last_segment(disk_type))),
            "sourceImage": served["selfLink"], "sourceImageId": served["id"],
            "architecture": served["architecture"], "physicalBlockSizeBytes": "4096",
            "labels": params.get("labels").cloned().unwrap_or(json!({})),
            "selfLink": disk_link, "creationTimestamp": now_rfc3339(),
        });
        let attached = json!({
            "kind": "compute#attachedDisk", "type": "PERSISTENT", "mode": "READ_WRITE",
            "source": disk_link, "deviceName": entry["deviceName"].as_str().unwrap_or(&name),
            "boot": entry["boot"] == json!(true), "autoDelete": entry["autoDelete"] == json!(true),
            "interface": "SCSI", "diskSizeGb": size.to_string(), "architecture": served["architecture"],
        });
        planned.push((key, disk, attached));
    }
    Ok(planned)
}

/// For each network interface: the network and subnetwork keys it joins (checked to exist).
fn plan_places(
    state: &mut State,
    call: &Call,
    region: &str,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let project = call.param("project");
    let interfaces = call.body()["networkInterfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let placed = interfaces.iter().enumerate();
    placed
        .map(|(i, nic)| crate::networks::place_interface(state, project, region, i, nic))
        .collect()
}

/// For each network interface: its external IP and the reserved address providing it, if any.
type PlannedNat = Option<(String, Option<String>)>;

fn plan_nat_ips(state: &mut State, call: &Call, region: &str) -> Result<Vec<PlannedNat>, ApiError> {
    let project = call.param("project");
    let interfaces = call.body()["networkInterfaces"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if interfaces.is_empty() {
        return Err(ApiError::invalid_field(
            "resource.networkInterfaces",
            "",
            "At least one network interface is required.",
        ));
    }
    let prefix = format!("projects/{project}/regions/{region}/addresses/");
    let mut planned = Vec::new();
    for (i, nic) in interfaces.iter().enumerate() {
        let Some(config) = nic["accessConfigs"].get(0) else {
            planned.push(None);
            continue;
        };
        let Some(ip) = config["natIP"].as_str() else {
            planned.push(Some((state.settings.address_ip.clone(), None)));
            continue;
        };
        let field = format!("resource.networkInterfaces[{i}].accessConfigs[0].natIP");
        let found = state
            .kind("addresses")
            .iter()
            .find(|(k, a)| k.starts_with(&prefix) && a["address"] == json!(ip));
        let Some((key, address)) = found else {
            let why = format!(
                "The specified external IP address '{ip}' was not found in region '{region}'."
            );
            return Err(ApiError::invalid_field(&field, ip, &why));
        };
        if address["status"] == json!("IN_USE") {
            return Err(ApiError::invalid_field(
                &field,
                ip,
                "IP address is already being used by another resource.",
            ));
        }
        planned.push(Some((ip.to_string(), Some(key.clone()))));
    }
    Ok(planned)
}
