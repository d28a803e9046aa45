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
            .filter(|r| r.kind == *kind)
            .cloned()
            .collect();
        for resource in batch {
            provider
                .delete(&resource, DELETE_TIMEOUT)
                .await
                .with_context(|| format!("deleting {resource} of environment {}", state.name))?;
            state.forget(&resource);
            store.save(&state)?;
            on_deleted(&resource);
            deleted.push(resource);
        }
    }
    store.remove(&state.name)?;
    Ok(deleted)
}
