//! The environment's containers: its resource group (`carto-NAME-rg`, which everything but the
//! DNS record lives in, and whose deletion takes everything in it) and its virtual network
//! with one subnet. Deleting the group waits until Resource Manager answers 404.

use std::time::Duration;

use carto_core::retry::{Poll, wait_until};
use carto_core::{InfraSpec, OrAbsent, ResourceKind, ResourceRef, Result};
use serde_json::{Value, json};

use crate::arm::{ensure, find, model, resource_tags};
use crate::config::Clients;
use crate::raw;
use crate::send::{Operation, send, wait_operation};

/// Name of the subnet the NIC joins.
pub const SUBNET: &str = "default";

/// The environment's resource group name.
pub fn group_name(spec: &InfraSpec) -> String {
    spec.env.resource("rg")
}

fn id(v: &Value, call: &str) -> Result<String> {
    v["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| carto_core::ProviderError::missing_field(call, "id"))
}

/// Creates (or finds) the resource group.
pub async fn ensure_group(c: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    const CALLS: (&str, &str) = (
        "resources:ResourceGroups_Get",
        "resources:ResourceGroups_CreateOrUpdate",
    );
    let sub = c.sub()?;
    let rg = group_name(spec);
    let body: azure_mgmt_resources::package_resources_2021_04::models::ResourceGroup = model(
        CALLS.1,
        json!({"location": spec.region, "tags": resource_tags(spec, &[])}),
    )?;
    let rgs = c.resources.resource_groups_client();
    let what = format!("resource group {rg} in {}", spec.region);
    let v = ensure(
        c,
        CALLS,
        &what,
        raw!(rgs.get(&rg, sub)),
        raw!(rgs.create_or_update(&rg, body.clone(), sub)),
    )
    .await?;
    Ok(ResourceRef::new(
        ResourceKind::Group,
        id(&v, CALLS.0)?,
        rg,
        &spec.region,
    ))
}

/// Creates (or finds) the virtual network with its subnet.
pub async fn ensure_vnet(c: &Clients, spec: &InfraSpec) -> Result<ResourceRef> {
    const CALLS: (&str, &str) = (
        "network:VirtualNetworks_Get",
        "network:VirtualNetworks_CreateOrUpdate",
    );
    let sub = c.sub()?;
    let rg = group_name(spec);
    let name = spec.env.resource("vnet");
    let body: azure_mgmt_network::package_2024_03::models::VirtualNetwork = model(
        CALLS.1,
        json!({
            "location": spec.region,
            "tags": resource_tags(spec, &[]),
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [{"name": SUBNET, "properties": {"addressPrefix": "10.0.0.0/24"}}],
            },
        }),
    )?;
    let vnets = c.network.virtual_networks_client();
    let what = format!("virtual network {name} in {rg}");
    let v = ensure(
        c,
        CALLS,
        &what,
        raw!(vnets.get(&rg, &name, sub)),
        raw!(vnets.create_or_update(&rg, &name, body.clone(), sub)),
    )
    .await?;
    Ok(
        ResourceRef::new(ResourceKind::Network, id(&v, CALLS.0)?, name, &spec.region)
            .with("group", rg),
    )
}

/// Deletes the resource group `name` with everything in it and waits until it is gone.
pub async fn delete_group(c: &Clients, name: &str, timeout: Duration) -> Result<()> {
    const DELETE: &str = "resources:ResourceGroups_Delete";
    const GET: &str = "resources:ResourceGroups_Get";
    let sub = c.sub()?;
    let rgs = c.resources.resource_groups_client();
    let Some(rsp) = send(c, DELETE, raw!(rgs.delete(name, sub)))
        .await
        .or_absent()?
    else {
        return Ok(());
    };
    let what = format!("deleting resource group {name}");
    wait_operation(c, DELETE, &what, &Operation::of(&rsp), timeout)
        .await
        .or_absent()?;
    let interval = c.policy.base_delay.max(Duration::from_millis(10));
    wait_until(
        &format!("resource group {name} to be gone"),
        GET,
        timeout,
        interval,
        || async {
            match find(c, GET, raw!(rgs.get(name, sub))).await? {
                None => Ok(Poll::Ready(())),
                Some(v) => Ok(Poll::Pending(format!(
                    "provisioningState {}",
                    crate::arm::state(&v)
                ))),
            }
        },
    )
    .await
}
