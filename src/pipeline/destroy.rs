//! Destroy: deletes every resource an environment's state file records, in dependency order,
//! forgetting each in the state file as soon as it is gone. The state file itself goes only
//! when nothing is left, so an interrupted destroy can simply be run again.

use std::time::Duration;

use anyhow::Context;
use carto_core::{Provider, ResourceKind, ResourceRef};

use crate::state::{EnvState, StateStore};

/// Deletion order: what depends on something goes before it (the record before the VM it
/// points at, the VM before its address, firewall and key, the group last).
pub const DELETE_ORDER: &[ResourceKind] = &[
    ResourceKind::DnsRecord,
    ResourceKind::Vm,
    ResourceKind::Nic,
    ResourceKind::Address,
    ResourceKind::Firewall,
    ResourceKind::SshKey,
    ResourceKind::Network,
    ResourceKind::Group,
];

/// Whether `r` lives in `group` (its `detail["group"]` names it), so deleting the group
/// deletes it.
fn in_group(r: &ResourceRef, group: &ResourceRef) -> bool {
    r.kind != ResourceKind::Group && r.detail.get("group") == Some(&group.name)
}

/// Whether one of `all` is a group `r` lives in.
fn goes_with_group(r: &ResourceRef, all: &[ResourceRef]) -> bool {
    all.iter()
        .any(|g| g.kind == ResourceKind::Group && in_group(r, g))
}

/// How long one deletion may take (a security group waits for its instance to be gone).
const DELETE_TIMEOUT: Duration = Duration::from_secs(600);

/// Deletes everything `state` records through `provider`, saving after each deletion, then
/// removes the state file and keys. Returns what was deleted.
pub async fn run(
    store: &StateStore,
    mut state: EnvState,
    provider: &dyn Provider,
    on_deleted: &dyn Fn(&ResourceRef),
) -> anyhow::Result<Vec<ResourceRef>> {
    let mut deleted = Vec::new();
    for kind in DELETE_ORDER {
        let batch: Vec<ResourceRef> = state
            .resources
            .iter()
            .filter(|r| r.kind == *kind && !goes_with_group(r, &state.resources))
            .cloned()
            .collect();
        for resource in batch {
            provider
                .delete(&resource, DELETE_TIMEOUT)
                .await
                .with_context(|| format!("deleting {resource} of environment {}", state.name))?;
            // A group takes its members with it.
            let members: Vec<ResourceRef> = if resource.kind == ResourceKind::Group {
                state
                    .resources
                    .iter()
                    .filter(|r| in_group(r, &resource))
                    .cloned()
                    .collect()
            } else {
                Vec::new()
            };
            for gone in members.into_iter().chain([resource]) {
                state.forget(&gone);
                store.save(&state)?;
                on_deleted(&gone);
                deleted.push(gone);
            }
        }
    }
    store.remove(&state.name)?;
    Ok(deleted)
}
