//! The environment's containers: its resource group (`carto-NAME-rg`, which everything but the
//! DNS record lives in, and whose deletion takes everything in it) and its virtual network
//! with one subnet. Deleting the group waits until Resource Manager answers 404, and is refused
//! while the group holds a resource its environment did not make.

use std::time::Duration;

use carto_core::retry::{Poll, wait_until};
use carto_core::{
    ErrorKind, InfraSpec, OrAbsent, ProviderError, ResourceKind, ResourceRef, Result, TAG_ENV,
    TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE, TAG_NONCE, TaggedResource,
};
use serde_json::{Value, json};

use crate::arm::{ensure, find, model, pages, resource_tags};
use crate::config::Clients;
use crate::operation::{Operation, wait_operation};
use crate::raw;
use crate::tagged;
use crate::transport::send;

/// Name of the subnet the NIC joins.
pub const SUBNET: &str = "default";

/// The virtual network's address space, and its one subnet's.
pub const VNET_CIDR: &str = "10.0.0.0/16";
/// The range of [`SUBNET`].
pub const SUBNET_CIDR: &str = "10.0.0.0/24";

/// The environment's virtual network's name: `carto-ENV-vnet`.
pub fn vnet_name(spec: &InfraSpec) -> String {
    spec.env.resource("vnet")
}

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
    let name = vnet_name(spec);
    let body: azure_mgmt_network::package_2024_03::models::VirtualNetwork = model(
        CALLS.1,
        json!({
            "location": spec.region,
            "tags": resource_tags(spec, &[]),
            "properties": {
                "addressSpace": {"addressPrefixes": [VNET_CIDR]},
                "subnets": [{"name": SUBNET, "properties": {"addressPrefix": SUBNET_CIDR}}],
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
            .with_group(rg),
    )
}

/// The resource group holding the environment's name, whoever made it.
pub async fn find_named(c: &Clients, spec: &InfraSpec) -> Result<Option<TaggedResource>> {
    let (sub, rg) = (c.sub()?, group_name(spec));
    let rgs = c.resources.resource_groups_client();
    let found = find(c, "resources:ResourceGroups_Get", raw!(rgs.get(&rg, sub))).await?;
    Ok(found.as_ref().and_then(tagged::found))
}

/// The members of `group` its environment did not make: those without the group's
/// `carto-nonce` (or, for a group made before the tag, without its `managed-by` and
/// `carto-env`). A managed disk counts as the group's when it belongs to one of the group's
/// VMs (Azure does not copy a VM's tags onto its OS disk).
pub fn strangers<'a>(group: &Value, members: &'a [Value]) -> Vec<&'a Value> {
    let tags = &group["tags"];
    let ours = |v: &Value| match tags[TAG_NONCE].as_str() {
        Some(nonce) => v["tags"][TAG_NONCE] == nonce,
        None => {
            v["tags"][TAG_MANAGED_BY] == TAG_MANAGED_BY_VALUE && v["tags"][TAG_ENV] == tags[TAG_ENV]
        }
    };
    let our_vms: Vec<String> = members
        .iter()
        .filter(|v| {
            ours(v)
                && tagged::kind_of(v["type"].as_str().unwrap_or_default()) == Some(ResourceKind::Vm)
        })
        .filter_map(|v| v["id"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let vm_disk = |v: &Value| {
        v["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Compute/disks"))
            && v["managedBy"]
                .as_str()
                .is_some_and(|vm| our_vms.contains(&vm.to_ascii_lowercase()))
    };
    members.iter().filter(|v| !ours(v) && !vm_disk(v)).collect()
}

/// Deletes the resource group `name` with everything in it and waits until it is gone. A group
/// holding a resource its environment did not make (see [`strangers`]) is refused with
/// [`ErrorKind::Conflict`], nothing deleted.
pub async fn delete_group(c: &Clients, name: &str, timeout: Duration) -> Result<()> {
    const DELETE: &str = "resources:ResourceGroups_Delete";
    const GET: &str = "resources:ResourceGroups_Get";
    const LIST: &str = "resources:Resources_ListByResourceGroup";
    let sub = c.sub()?;
    let rgs = c.resources.resource_groups_client();
    let res = c.resources.resources_client();
    // The group and what it holds, read at once; an absent group makes the listing fail too.
    let (group, members) = futures::join!(
        find(c, GET, raw!(rgs.get(name, sub))),
        pages(c, LIST, || {
            res.list_by_resource_group(name, sub).into_stream()
        })
    );
    let Some(group) = group? else {
        return Ok(());
    };
    let members = members?;
    let strangers = strangers(&group, &members);
    if !strangers.is_empty() {
        let listed: Vec<String> = strangers
            .iter()
            .map(|v| {
                format!(
                    "{} ({})",
                    v["name"].as_str().unwrap_or("?"),
                    v["type"].as_str().unwrap_or("?")
                )
            })
            .collect();
        return Err(ProviderError::new(
            ErrorKind::Conflict,
            DELETE,
            format!(
                "resource group {name} holds {} resource(s) this environment did not make: {}; nothing was deleted; hint: move them to another resource group or delete them, then destroy again",
                listed.len(),
                listed.join(", ")
            ),
        ));
    }
    let Some(rsp) = send(&c.policy, DELETE, raw!(rgs.delete(name, sub)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strangers_are_members_without_the_groups_nonce_but_not_our_vms_disks() {
        let group = json!({"tags": {"carto-nonce": "n1", "carto-env": "e", "managed-by": "carto-provision"}});
        let vm = json!({"id": "/s/rg/providers/Microsoft.Compute/virtualMachines/carto-e-vm", "type": "Microsoft.Compute/virtualMachines", "tags": {"carto-nonce": "n1", "carto-env": "e", "managed-by": "carto-provision"}});
        let disk = json!({"id": "d", "type": "Microsoft.Compute/disks", "managedBy": "/S/RG/providers/Microsoft.Compute/virtualMachines/CARTO-E-VM", "tags": {}});
        let loose_disk = json!({"id": "d2", "type": "Microsoft.Compute/disks", "tags": {}});
        let twin = json!({"id": "t", "type": "Microsoft.Network/publicIPAddresses", "tags": {"carto-nonce": "n2", "carto-env": "e", "managed-by": "carto-provision"}});
        let members = [vm, disk, loose_disk.clone(), twin.clone()];
        let ids = |v: Vec<&Value>| v.iter().map(|m| m["id"].clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(strangers(&group, &members)),
            [loose_disk["id"].clone(), twin["id"].clone()]
        );
        // A group made before the nonce tag: its environment's managed members are its own.
        let old = json!({"tags": {"carto-env": "e", "managed-by": "carto-provision"}});
        assert_eq!(ids(strangers(&old, &members)), [loose_disk["id"].clone()]);
    }
}
