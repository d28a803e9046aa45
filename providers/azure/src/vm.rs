//! The VM and its NIC: the NIC (subnet, the NSG, the public IP with deleteOption=Delete), then
//! the VM (Premium_LRS OS disk of the requested size with deleteOption=Delete, admin user
//! `ubuntu` with the SSH key only and password authentication disabled, cloud-init in
//! customData, the NIC with deleteOption=Delete), waiting until it runs. customData is
//! user-data: it is never logged. It cannot be removed afterwards: `osProfile.customData` is
//! fixed when the VM is created (a PUT or PATCH that changes it is refused), so this provider
//! keeps `Provider::forget_user_data`'s default, nothing. The host key in it is worthless once
//! the pipeline rotated it (a root-only copy may stay on the VM, under /var/lib/waagent).

use std::time::Duration;

use base64::Engine;
use carto_core::retry::{Poll, wait_until};
use carto_core::{
    Address, ErrorKind, InfraSpec, ProviderError, Resolved, ResourceKind, ResourceRef, Result,
};
use serde_json::{Value, json};

use crate::arm::{OP_TIMEOUT, ensure, find, model, resource_tags, state};
use crate::config::Clients;
use crate::machine::DISK_TYPE;
use crate::network::{SUBNET, group_name};
use crate::raw;
use crate::transport::send;

/// The admin user cloud-init and SSH use.
pub const ADMIN: &str = "ubuntu";
/// api-version of the VM PUT (the azure_mgmt_compute 0.21 package's).
const VM_API: &str = "2024-07-01";

fn id_of<'a>(refs: &'a [ResourceRef], kind: ResourceKind, call: &str) -> Result<&'a str> {
    refs.iter()
        .find(|r| r.kind == kind)
        .map(|r| r.id.as_str())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::InvalidInput,
                call,
                format!("no {kind} to attach"),
            )
        })
}

/// The environment's NIC's name: `carto-ENV-nic`.
pub fn nic_name(spec: &InfraSpec) -> String {
    spec.env.resource("nic")
}

/// The environment's VM's name: `carto-ENV-vm`.
pub fn name(spec: &InfraSpec) -> String {
    spec.env.resource("vm")
}

/// Creates (or finds) the NIC in the environment's subnet with the NSG and the public IP.
async fn ensure_nic(c: &Clients, spec: &InfraSpec, nsg: &str, address: &Address) -> Result<String> {
    const CALLS: (&str, &str) = (
        "network:NetworkInterfaces_Get",
        "network:NetworkInterfaces_CreateOrUpdate",
    );
    let sub = c.sub()?;
    let rg = group_name(spec);
    let name = nic_name(spec);
    let vnet = address
        .resource
        .id
        .split("/providers/")
        .next()
        .unwrap_or_default()
        .to_string()
        + "/providers/Microsoft.Network/virtualNetworks/"
        + &crate::network::vnet_name(spec);
    let body: azure_mgmt_network::package_2024_03::models::NetworkInterface = model(
        CALLS.1,
        json!({
            "location": spec.region,
            "tags": resource_tags(spec, &[]),
            "properties": {
                "networkSecurityGroup": {"id": nsg},
                "ipConfigurations": [{
                    "name": "ipconfig1",
                    "properties": {
                        "primary": true,
                        "subnet": {"id": format!("{vnet}/subnets/{SUBNET}")},
                        "privateIPAllocationMethod": "Dynamic",
                        "publicIPAddress": {"id": address.resource.id, "properties": {"deleteOption": "Delete"}},
                    },
                }],
            },
        }),
    )?;
    let nics = c.network.network_interfaces_client();
    let what = format!("network interface {name} in {rg}");
    let v = ensure(
        c,
        CALLS,
        &what,
        raw!(nics.get(&rg, &name, sub)),
        raw!(nics.create_or_update(&rg, &name, body.clone(), sub)),
    )
    .await?;
    v["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ProviderError::missing_field(CALLS.0, "id"))
}

/// The VM's request body.
pub fn vm_body(spec: &InfraSpec, resolved: &Resolved, nic: &str) -> Value {
    let mut image = resolved.image.split(':');
    let mut part = || image.next().unwrap_or("latest").to_string();
    let (publisher, offer, sku, version) = (part(), part(), part(), part());
    let name = name(spec);
    json!({
        "location": spec.region,
        "tags": resource_tags(spec, &[]),
        "properties": {
            "hardwareProfile": {"vmSize": resolved.machine_type},
            "storageProfile": {
                "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": version},
                "osDisk": {
                    "name": spec.env.resource("osdisk"),
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "diskSizeGB": resolved.disk_gb,
                    "deleteOption": "Delete",
                    "managedDisk": {"storageAccountType": DISK_TYPE},
                },
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": ADMIN,
                "customData": base64::engine::general_purpose::STANDARD.encode(&spec.user_data),
                "linuxConfiguration": {
                    "disablePasswordAuthentication": true,
                    "ssh": {"publicKeys": [{
                        "path": format!("/home/{ADMIN}/.ssh/authorized_keys"),
                        "keyData": spec.ssh_public_key.trim(),
                    }]},
                },
            },
            "networkProfile": {"networkInterfaces": [
                {"id": nic, "properties": {"primary": true, "deleteOption": "Delete"}},
            ]},
        },
    })
}

/// Creates the NIC and the VM (or finds them; the VM is looked up while the NIC is made);
/// returns once Resource Manager gave the VM an id.
pub async fn ensure_vm(
    c: &Clients,
    spec: &InfraSpec,
    resolved: &Resolved,
    firewall: &[ResourceRef],
    address: &Address,
) -> Result<ResourceRef> {
    const GET: &str = "compute:VirtualMachines_Get";
    const PUT: &str = "compute:VirtualMachines_CreateOrUpdate";
    let sub = c.sub()?;
    let rg = group_name(spec);
    let nsg = id_of(firewall, ResourceKind::Firewall, PUT)?;
    let name = name(spec);
    let vms = c.compute.virtual_machines_client();
    // The VM is looked up while its NIC is made: the lookup needs nothing of the NIC.
    let (nic, found) = futures::try_join!(
        ensure_nic(c, spec, nsg, address),
        find(c, GET, raw!(vms.get(&rg, &name, sub)))
    )?;
    let v = match found {
        Some(v) => v,
        None => {
            // REST through the same pipeline, not the SDK model: azure_mgmt_compute 0.21's
            // VirtualMachine serializes the read-only `properties.timeCreated` (as null), which
            // Resource Manager's contract refuses in a request.
            let path = format!(
                "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"
            );
            let body = vm_body(spec, resolved, &nic);
            tracing::info!(vm = %name, size = %resolved.machine_type, "creating VM");
            send(&c.policy, PUT, || c.rest.put(&path, VM_API, &body))
                .await?
                .body
        }
    };
    let id = v["id"]
        .as_str()
        .ok_or_else(|| ProviderError::missing_field(PUT, "id"))?;
    Ok(ResourceRef::new(ResourceKind::Vm, id, name, &spec.region)
        .with_group(rg)
        .with("nic", nic))
}

/// The power state code of an instance view (`running`, `starting`, …).
fn power(v: &Value) -> Option<&str> {
    v["properties"]["instanceView"]["statuses"]
        .as_array()?
        .iter()
        .filter_map(|s| s["code"].as_str())
        .find_map(|c| c.strip_prefix("PowerState/"))
}

/// Waits until the VM is provisioned and running, and its NIC carries `address`.
pub async fn wait_running(
    c: &Clients,
    vm: &ResourceRef,
    address: &Address,
    timeout: Duration,
) -> Result<()> {
    const GET: &str = "compute:VirtualMachines_Get";
    let sub = c.sub()?;
    let rg = vm
        .group
        .clone()
        .or_else(|| crate::arm::group_of(&vm.id))
        .unwrap_or_default();
    let vms = c.compute.virtual_machines_client();
    let interval = c.policy.base_delay.max(Duration::from_millis(10)) * 4;
    let what = format!("VM {} to run", vm.name);
    wait_until(&what, GET, timeout, interval, || async {
        let v = find(c, GET, raw!(vms.get(&rg, &vm.name, sub).expand("instanceView"))).await?;
        let Some(v) = v else { return Ok(Poll::Pending("not found".into())) };
        match (state(&v), power(&v)) {
            ("Succeeded", Some("running")) => Ok(Poll::Ready(())),
            (s @ ("Failed" | "Canceled"), _) => Err(ProviderError::new(
                ErrorKind::Other,
                GET,
                format!("VM {} ended provisioning {s}; hint: destroy the environment and deploy again, or pick another VM size or location", vm.name),
            )),
            (s, p) => Ok(Poll::Pending(format!("provisioningState {s}, power {}", p.unwrap_or("unknown")))),
        }
    })
    .await?;
    let nic = vm.detail.get("nic").cloned().unwrap_or_default();
    let nic_name = nic.rsplit('/').next().unwrap_or_default();
    let nics = c.network.network_interfaces_client();
    const NIC: &str = "network:NetworkInterfaces_Get";
    let n = find(c, NIC, raw!(nics.get(&rg, nic_name, sub)))
        .await?
        .unwrap_or(Value::Null);
    let attached = n["properties"]["ipConfigurations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|cfg| {
            cfg["properties"]["publicIPAddress"]["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(&address.resource.id))
        });
    if attached {
        Ok(())
    } else {
        Err(ProviderError::new(
            ErrorKind::Other,
            NIC,
            format!(
                "the NIC {nic_name} of VM {} does not carry public IP {}",
                vm.name, address.resource.name
            ),
        ))
    }
}

/// Deletes one resource of the environment outside a group deletion (by kind) and waits.
pub async fn delete_one(c: &Clients, r: &ResourceRef, timeout: Duration) -> Result<()> {
    use carto_core::OrAbsent;
    let sub = c.sub()?;
    let rg = r
        .group
        .clone()
        .or_else(|| crate::arm::group_of(&r.id))
        .unwrap_or_default();
    let n = r.name.as_str();
    let (call, rsp) = match r.kind {
        ResourceKind::Vm => {
            let x = c.compute.virtual_machines_client();
            (
                "compute:VirtualMachines_Delete",
                send(
                    &c.policy,
                    "compute:VirtualMachines_Delete",
                    raw!(x.delete(&rg, n, sub)),
                )
                .await,
            )
        }
        ResourceKind::Nic => {
            let x = c.network.network_interfaces_client();
            (
                "network:NetworkInterfaces_Delete",
                send(
                    &c.policy,
                    "network:NetworkInterfaces_Delete",
                    raw!(x.delete(&rg, n, sub)),
                )
                .await,
            )
        }
        ResourceKind::Address => {
            let x = c.network.public_ip_addresses_client();
            (
                "network:PublicIPAddresses_Delete",
                send(
                    &c.policy,
                    "network:PublicIPAddresses_Delete",
                    raw!(x.delete(&rg, n, sub)),
                )
                .await,
            )
        }
        ResourceKind::Firewall => {
            let x = c.network.network_security_groups_client();
            (
                "network:NetworkSecurityGroups_Delete",
                send(
                    &c.policy,
                    "network:NetworkSecurityGroups_Delete",
                    raw!(x.delete(&rg, n, sub)),
                )
                .await,
            )
        }
        ResourceKind::Network => {
            let x = c.network.virtual_networks_client();
            (
                "network:VirtualNetworks_Delete",
                send(
                    &c.policy,
                    "network:VirtualNetworks_Delete",
                    raw!(x.delete(&rg, n, sub)),
                )
                .await,
            )
        }
        other => {
            return Err(ProviderError::new(
                ErrorKind::InvalidInput,
                "delete",
                format!("Azure environments have no {other} resource ({r})"),
            ));
        }
    };
    let Some(rsp) = rsp.or_absent()? else {
        return Ok(());
    };
    let op = crate::operation::Operation::of(&rsp);
    crate::operation::wait_operation(
        c,
        call,
        &format!("deleting {r}"),
        &op,
        timeout.min(OP_TIMEOUT),
    )
    .await
    .or_absent()
    .map(drop)
}
