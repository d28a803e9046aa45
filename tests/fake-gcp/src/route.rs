//! One validated call (method id, path variables, query, body) and the table sending it to the
//! handler that implements that discovery method.

use crate::errors::ApiError;
use crate::state::State;
use crate::{compute, dns, instances, lists, metadata, networks, operations};
use serde_json::Value;
use std::collections::HashMap;

/// A request that has been mapped to a discovery method and validated against it.
#[derive(Debug, Clone)]
pub struct Call {
    /// Discovery method id.
    pub method_id: String,
    /// Path variables.
    pub path_params: HashMap<String, String>,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// JSON body, when the method takes one.
    pub body: Option<Value>,
    /// The fake's own base URL (self links point back at the fake, never at Google).
    pub base: String,
}

impl Call {
    /// A path variable ("" if absent, which routing rules out for declared variables).
    pub fn param(&self, name: &str) -> &str {
        self.path_params.get(name).map(String::as_str).unwrap_or("")
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        let found = self.query.iter().find(|(k, _)| k == name);
        found.map(|(_, v)| v.as_str())
    }

    /// The body, or an empty object.
    pub fn body(&self) -> &Value {
        static EMPTY: Value = Value::Null;
        self.body.as_ref().unwrap_or(&EMPTY)
    }

    /// A string field of the body.
    pub fn body_str(&self, field: &str) -> Option<&str> {
        self.body().get(field).and_then(Value::as_str)
    }
}

/// Run the handler for `call.method_id`; methods in the contract without a handler get 501.
pub fn dispatch(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let touches_networks = ["networks", "subnetworks", "firewalls", "instances"]
        .iter()
        .any(|r| call.method_id.starts_with(&format!("compute.{r}.")));
    if touches_networks {
        networks::seed_defaults(state, &call.base, call.param("project"));
    }
    match call.method_id.as_str() {
        "compute.projects.get" => compute::get_project(state, call),
        "compute.zones.get" => compute::get_zone(call),
        "compute.machineTypes.get" => compute::get_machine_type(call),
        "compute.images.getFromFamily" => compute::image_from_family(call),
        "compute.images.get" => compute::get_image(call),
        "compute.addresses.insert" => compute::insert_address(state, call),
        "compute.addresses.get" => compute::get_address(state, call),
        "compute.addresses.delete" => compute::delete_address(state, call),
        "compute.firewalls.insert" => compute::insert_firewall(state, call),
        "compute.firewalls.get" => compute::get_firewall(state, call),
        "compute.firewalls.delete" => compute::delete_firewall(state, call),
        "compute.firewalls.update" => compute::update_firewall(state, call),
        "compute.networks.insert" => networks::insert_network(state, call),
        "compute.networks.get" => networks::get_network(state, call),
        "compute.networks.delete" => networks::delete_network(state, call),
        "compute.networks.list" => lists::list(state, call, "networks"),
        "compute.subnetworks.insert" => networks::insert_subnetwork(state, call),
        "compute.subnetworks.get" => networks::get_subnetwork(state, call),
        "compute.subnetworks.delete" => networks::delete_subnetwork(state, call),
        "compute.subnetworks.list" => lists::list(state, call, "subnetworks"),
        "compute.subnetworks.aggregatedList" => lists::aggregated(state, call, "subnetworks"),
        "compute.disks.get" => compute::get_disk(state, call),
        "compute.instances.list" => lists::list(state, call, "instances"),
        "compute.disks.list" => lists::list(state, call, "disks"),
        "compute.addresses.list" => lists::list(state, call, "addresses"),
        "compute.firewalls.list" => lists::list(state, call, "firewalls"),
        "compute.instances.aggregatedList" => lists::aggregated(state, call, "instances"),
        "compute.addresses.aggregatedList" => lists::aggregated(state, call, "addresses"),
        "compute.instances.insert" => instances::insert(state, call),
        "compute.instances.get" => instances::get(state, call),
        "compute.instances.delete" => instances::delete(state, call),
        "compute.instances.setMetadata" => metadata::set_metadata(state, call),
        "compute.zoneOperations.get"
        | "compute.zoneOperations.wait"
        | "compute.regionOperations.get"
        | "compute.regionOperations.wait"
        | "compute.globalOperations.get"
        | "compute.globalOperations.wait" => operations::poll(state, call),
        "dns.managedZones.list" => dns::list_zones(state, call),
        "dns.managedZones.get" => dns::get_zone(state, call),
        "dns.changes.create" => dns::create_change(state, call),
        "dns.changes.get" => dns::get_change(state, call),
        "dns.resourceRecordSets.list" => dns::list_rrsets(state, call),
        other => Err(ApiError::new(
            501,
            "notImplemented",
            format!("{other} is in the contract but the fake does not implement it"),
        )),
    }
}
