//! The instance: Ubuntu boot disk from the image (SSD type, at least 60 GB, deleted with the
//! VM), in the environment's network and subnetwork, the static address as its natIP, the
//! environment's network tag, metadata `ssh-keys` (`ubuntu:<key>`) and `user-data`
//! (cloud-init), labels on the instance and its disk. Also the wait until it runs with that
//! address, the removal of its `user-data` item once the host key in it was rotated, its
//! deletion, and the label sweep.

use std::time::Duration;

use carto_core::retry::{Poll, wait_until};
use carto_core::{
    Address, EnvName, ErrorKind, InfraSpec, OrAbsent, ProviderError, Resolved, ResourceKind,
    ResourceRef, Result, TaggedResource,
};
use google_cloud_compute_v1::model::{
    AccessConfig, AttachedDisk, AttachedDiskInitializeParams, Instance, Metadata, NetworkInterface,
    Tags, metadata::Items,
};

use crate::config::Clients;
use crate::labels;
use crate::network::{self, Placement};
use crate::operation::{self, OPERATION_TIMEOUT, Scope};
use crate::send::{list_all, send};

/// The user cloud-init creates and SSH logs in as.
pub const SSH_USER: &str = "ubuntu";

/// The metadata item cloud-init reads its user-data from.
pub const USER_DATA: &str = "user-data";
/// How often a metadata write refused for a stale fingerprint is read and tried again.
const STALE_FINGERPRINT_RETRIES: u32 = 3;

/// The instance's resource name.
pub fn name(env: &EnvName) -> String {
    env.resource("vm")
}

async fn get(c: &Clients, zone: &str, name: &str) -> Result<Option<Instance>> {
    let project = c.project()?;
    send(&c.policy, "compute.instances.get", || {
        c.instances
            .get()
            .set_project(project)
            .set_zone(zone)
            .set_instance(name)
            .send()
    })
    .await
    .or_absent()
}

/// The instance holding the environment's name in its zone, whoever made it.
pub async fn find_named(c: &Clients, spec: &InfraSpec) -> Result<Option<TaggedResource>> {
    let (zone, name) = (spec.region.as_str(), name(&spec.env));
    Ok(get(c, zone, &name).await?.map(|i| {
        let env = labels::env_of(&i.labels).unwrap_or_default();
        labels::tagged(reference(i.id, &name, zone), env, &i.labels, None, None)
    }))
}

fn reference(id: Option<u64>, name: &str, zone: &str) -> ResourceRef {
    labels::reference(ResourceKind::Vm, id, name, zone)
}

fn metadata_item(key: &str, value: &str) -> Items {
    let mut item = Items::default();
    item.key = Some(key.to_string());
    item.value = Some(value.to_string());
    item
}

/// The instance to insert. Holds the user-data: never log it.
fn body(spec: &InfraSpec, resolved: &Resolved, address: &Address, place: Placement) -> Instance {
    let zone = &resolved.region;
    let name = name(&spec.env);
    let mut params = AttachedDiskInitializeParams::default();
    params.disk_name = Some(name.clone());
    params.source_image = Some(resolved.image.clone());
    params.disk_size_gb = Some(i64::from(resolved.disk_gb));
    params.disk_type = Some(format!("zones/{zone}/diskTypes/{}", resolved.disk_type));
    params.labels = labels::labels(spec);
    let mut disk = AttachedDisk::default();
    disk.boot = Some(true);
    disk.auto_delete = Some(true);
    disk.initialize_params = Some(params);

    let mut access = AccessConfig::default();
    access.r#type = Some("ONE_TO_ONE_NAT".into());
    access.name = Some("External NAT".to_string());
    access.nat_ip = Some(address.ip.clone());
    access.network_tier = Some("PREMIUM".into());
    let mut nic = NetworkInterface::default();
    nic.network = Some(place.network);
    nic.subnetwork = place.subnetwork;
    nic.access_configs = vec![access];

    let mut metadata = Metadata::default();
    metadata.items = vec![
        metadata_item(
            "ssh-keys",
            &format!("{SSH_USER}:{}", spec.ssh_public_key.trim()),
        ),
        metadata_item(USER_DATA, &spec.user_data),
    ];
    let mut tags = Tags::default();
    tags.items = vec![labels::network_tag(&spec.env)];

    let mut i = Instance::default();
    i.name = Some(name);
    i.machine_type = Some(format!(
        "zones/{zone}/machineTypes/{}",
        resolved.machine_type
    ));
    i.labels = labels::labels(spec);
    i.disks = vec![disk];
    i.network_interfaces = vec![nic];
    i.metadata = Some(metadata);
    i.tags = Some(tags);
    i
}

/// Creates the instance unless it exists; returns once the insert operation is DONE.
pub async fn ensure_instance(
    c: &Clients,
    spec: &InfraSpec,
    resolved: &Resolved,
    address: &Address,
) -> Result<ResourceRef> {
    const CALL: &str = "compute.instances.insert";
    let zone = resolved.region.as_str();
    let name = name(&spec.env);
    if let Some(found) = get(c, zone, &name).await? {
        if labels::env_of(&found.labels).as_deref() != Some(spec.env.as_str()) {
            return Err(ProviderError::new(
                ErrorKind::Conflict,
                CALL,
                format!(
                    "instance {name} in {zone} exists but is not labelled carto-env={}; delete or rename it",
                    spec.env
                ),
            ));
        }
        return Ok(reference(found.id, &name, zone));
    }
    let project = c.project()?;
    let request_id = operation::request_id(&spec.nonce, &name, "insert");
    let place = network::placement(c, spec).await?;
    let instance = body(spec, resolved, address, place);
    let insert = || {
        c.instances
            .insert()
            .set_project(project)
            .set_zone(zone)
            .set_request_id(&request_id)
            .set_body(instance.clone())
            .send()
    };
    let id = operation::inserted_id(c, CALL, Scope::Zone(zone), insert).await?;
    Ok(reference(Some(id), &name, zone))
}

/// The instance's external IPs (natIP of each access config).
fn nat_ips(i: &Instance) -> Vec<String> {
    i.network_interfaces
        .iter()
        .flat_map(|n| n.access_configs.iter())
        .filter_map(|a| a.nat_ip.clone())
        .collect()
}

/// Waits until the instance is RUNNING with `address` as its external IP.
pub async fn wait_running(
    c: &Clients,
    vm: &ResourceRef,
    address: &Address,
    timeout: Duration,
) -> Result<()> {
    let what = format!(
        "instance {} in {} to run with address {}",
        vm.name, vm.region, address.ip
    );
    wait_until(&what, "compute.instances.get", timeout, c.poll, || async {
        let Some(i) = get(c, &vm.region, &vm.name).await? else {
            return Ok(Poll::Pending("instance not found".to_string()));
        };
        let status = i
            .status
            .as_ref()
            .and_then(|s| s.name())
            .unwrap_or("unknown");
        let ips = nat_ips(&i);
        if status == "RUNNING" && ips.contains(&address.ip) {
            return Ok(Poll::Ready(()));
        }
        if matches!(status, "TERMINATED" | "STOPPED" | "SUSPENDED") {
            return Err(ProviderError::new(
                ErrorKind::Other,
                "compute.instances.get",
                format!(
                    "instance {} is {status}; start it or destroy the environment",
                    vm.name
                ),
            ));
        }
        Ok(Poll::Pending(format!(
            "status {status}, external IPs {ips:?}"
        )))
    })
    .await
}

/// Drops the `user-data` metadata item (the others, `ssh-keys` included, stay) once the host
/// key that travelled in it was rotated. The write is conditional on the metadata fingerprint
/// just read; when Compute refuses it as stale (412 conditionNotMet: the metadata changed in
/// between), the metadata is read again and the write retried.
pub async fn forget_user_data(c: &Clients, vm: &ResourceRef) -> Result<()> {
    const CALL: &str = "compute.instances.setMetadata";
    let project = c.project()?;
    let zone = vm.region.as_str();
    let mut stale = 0;
    loop {
        let Some(instance) = get(c, zone, &vm.name).await? else {
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                "compute.instances.get",
                format!("instance {} in {zone} no longer exists", vm.name),
            ));
        };
        let mut metadata = instance.metadata.unwrap_or_default();
        let user_data = |i: &Items| i.key.as_deref() == Some(USER_DATA);
        if !metadata.items.iter().any(user_data) {
            return Ok(());
        }
        metadata.items.retain(|i| !user_data(i));
        let op = send(&c.policy, CALL, || {
            c.instances
                .set_metadata()
                .set_project(project)
                .set_zone(zone)
                .set_instance(&vm.name)
                .set_body(metadata.clone())
                .send()
        })
        .await;
        match op {
            Ok(op) => {
                operation::wait(c, CALL, Scope::Zone(zone), op, OPERATION_TIMEOUT).await?;
                return Ok(());
            }
            Err(e) if e.kind == ErrorKind::Conflict && stale < STALE_FINGERPRINT_RETRIES => {
                stale += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes the instance (its auto-delete boot disk goes with it) and waits until it is gone.
pub async fn delete_instance(c: &Clients, vm: &ResourceRef, timeout: Duration) -> Result<()> {
    const CALL: &str = "compute.instances.delete";
    let project = c.project()?;
    let zone = vm.region.as_str();
    let op = send(&c.policy, CALL, || {
        c.instances
            .delete()
            .set_project(project)
            .set_zone(zone)
            .set_instance(&vm.name)
            .send()
    })
    .await
    .or_absent()?;
    operation::deleted(c, CALL, Scope::Zone(zone), op, timeout).await
}

/// Every instance labelled by carto-provision (of `env` when given), in every zone.
pub async fn list_tagged(c: &Clients, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
    const CALL: &str = "compute.instances.aggregatedList";
    let project = c.project()?;
    let filter = labels::filter(env);
    let all = list_all(&c.policy, CALL, |token| {
        c.instances
            .aggregated_list()
            .set_project(project)
            .set_filter(&filter)
            .set_or_clear_page_token(token)
            .send()
    })
    .await?;
    let mut found = Vec::new();
    for i in &all {
        let Some(owner) = labels::env_of(&i.labels) else {
            continue;
        };
        let name = i.name.clone().unwrap_or_default();
        let zone = i
            .zone
            .as_deref()
            .and_then(|z| z.rsplit('/').next())
            .unwrap_or_default();
        let created = i.creation_timestamp.as_ref();
        let r = reference(i.id, &name, zone);
        found.push(labels::tagged(r, owner, &i.labels, None, created));
    }
    Ok(found)
}
