//! Destroy: deletes an environment's resources in dependency order. With a state file, what it
//! records, forgetting each resource in the file as soon as it is gone; the file itself goes
//! only when nothing is left, so an interrupted destroy can simply be run again. Without one,
//! what the cloud finds tagged with the environment.

use std::time::Duration;

use anyhow::Context;
use carto_core::{EnvName, Provider, ResourceKind, ResourceRef};

use crate::interrupt;
use crate::state::{EnvState, StateStore};

/// Deletion order: what depends on something goes before it (the record before the VM it
/// points at, the VM before its address, firewall and key, a subnet before its network, which
/// the VM and the firewall rules were in, the group last).
pub const DELETE_ORDER: &[ResourceKind] = &[
    ResourceKind::DnsRecord,
    ResourceKind::Vm,
    ResourceKind::Nic,
    ResourceKind::Address,
    ResourceKind::Firewall,
    ResourceKind::SshKey,
    ResourceKind::Subnet,
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
    let env = state.name.clone();
    let resources = state.resources.clone();
    let deleted = delete_in_order(provider, &env, &resources, |gone| {
        state.forget(gone);
        store.save(&state)?;
        on_deleted(gone);
        Ok(())
    })
    .await?;
    store.remove(&state.name)?;
    Ok(deleted)
}

/// Deletes `found` (what the cloud has tagged with `env`, no state file) in dependency order.
pub async fn untracked(
    provider: &dyn Provider,
    env: &EnvName,
    found: &[ResourceRef],
    on_deleted: &dyn Fn(&ResourceRef),
) -> anyhow::Result<Vec<ResourceRef>> {
    delete_in_order(provider, env, found, |gone| {
        on_deleted(gone);
        Ok(())
    })
    .await
}

/// Deletes `resources` kind by kind in [`DELETE_ORDER`]; a group takes its members with it
/// (they are not deleted one by one). `after` runs for every resource gone; a stop asked for
/// by a signal is honoured after it.
async fn delete_in_order(
    provider: &dyn Provider,
    env: &EnvName,
    resources: &[ResourceRef],
    mut after: impl FnMut(&ResourceRef) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<ResourceRef>> {
    let mut deleted = Vec::new();
    for kind in DELETE_ORDER {
        let batch = resources
            .iter()
            .filter(|r| r.kind == *kind && !goes_with_group(r, resources));
        for resource in batch {
            provider
                .delete(resource, DELETE_TIMEOUT)
                .await
                .with_context(|| format!("deleting {resource} of environment {env}"))?;
            let members = resources.iter().filter(|r| in_group(r, resource));
            for gone in members.chain([resource]) {
                after(gone)?;
                deleted.push(gone.clone());
            }
            interrupt::check()?;
        }
    }
    Ok(deleted)
}

/// Whether `r` lives in `group` (its `group` names it), so deleting the group
/// deletes it.
fn in_group(r: &ResourceRef, group: &ResourceRef) -> bool {
    group.kind == ResourceKind::Group
        && r.kind != ResourceKind::Group
        && r.group.as_ref() == Some(&group.name)
}

/// Whether one of `all` is a group `r` lives in.
fn goes_with_group(r: &ResourceRef, all: &[ResourceRef]) -> bool {
    all.iter().any(|g| in_group(r, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_takes_its_members_but_not_the_record() {
        let group = ResourceRef::new(ResourceKind::Group, "/rg/carto-e-rg", "carto-e-rg", "x");
        let vm = ResourceRef::new(ResourceKind::Vm, "/rg/vm", "carto-e-vm", "x")
            .with_group("carto-e-rg");
        let record = ResourceRef::new(ResourceKind::DnsRecord, "r", "carto.test", "global");
        let all = [group.clone(), vm.clone(), record.clone()];
        assert!(in_group(&vm, &group));
        assert!(goes_with_group(&vm, &all));
        assert!(!goes_with_group(&record, &all));
        assert!(!goes_with_group(&group, &all));
    }

    /// A state file exactly as the version before the typed fields wrote it (an Azure
    /// environment, with AWS's and GCP's keys beside): the old `detail` keys load into the
    /// fields destroy and the providers read, and only the cloud's own keys stay in `detail`.
    #[test]
    fn an_old_state_file_loads_into_the_typed_fields() {
        let old = r#"{
  "schema_version": 1,
  "name": "old-env",
  "cloud": "azure",
  "region": "eastus",
  "domain": "carto.example.test",
  "nonce": "0123456789abcdef",
  "created_at": "2026-11-26T16:27:02Z",
  "updated_at": "2026-11-26T16:40:00Z",
  "step": "infra",
  "resources": [
    {"kind": "group", "id": "/subscriptions/s/resourceGroups/carto-old-env-rg", "name": "carto-old-env-rg", "region": "eastus"},
    {"kind": "vm", "id": "/subscriptions/s/resourceGroups/carto-old-env-rg/providers/Microsoft.Compute/virtualMachines/carto-old-env-vm", "name": "carto-old-env-vm", "region": "eastus", "detail": {"group": "carto-old-env-rg", "nic": "carto-old-env-nic"}},
    {"kind": "address", "id": "eipalloc-1", "name": "carto-old-env-ip", "region": "us-east-1", "detail": {"domain": "carto.example.test", "public_ip": "192.0.2.7"}},
    {"kind": "dns-record", "id": "Z1/carto.example.test", "name": "carto.example.test", "region": "global", "detail": {"ip": "192.0.2.7", "zone_id": "/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/dnszones/example.test"}},
    {"kind": "dns-record", "id": "zone/carto", "name": "carto.example.test", "region": "global", "detail": {"ip": "192.0.2.8", "zone": "example-test"}}
  ],
  "public_ip": "192.0.2.7",
  "host_key_fingerprint": null,
  "ssh_user": "carto",
  "extra": {}
}
"#;
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::state::StateStore::new(tmp.path());
        let name = carto_core::EnvName::parse("old-env").unwrap();
        std::fs::write(store.state_path(&name), old).unwrap();
        let state = store.load(&name).unwrap().expect("loads");
        let r = &state.resources;
        assert!(goes_with_group(&r[1], r), "the VM goes with its group");
        assert_eq!(r[1].detail.keys().collect::<Vec<_>>(), ["nic"]);
        let typed = |r: &ResourceRef| (r.ip.clone(), r.dns_zone.clone(), r.domain.clone());
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            typed(&r[2]),
            (some("192.0.2.7"), None, some("carto.example.test"))
        );
        let zone =
            "/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/dnszones/example.test";
        assert_eq!(typed(&r[3]), (some("192.0.2.7"), some(zone), None));
        assert_eq!(
            typed(&r[4]),
            (some("192.0.2.8"), some("example-test"), None)
        );
        assert!(r[2..].iter().all(|r| r.detail.is_empty()));
        let again: ResourceRef =
            serde_json::from_value(serde_json::to_value(&r[1]).unwrap()).unwrap();
        assert_eq!(again, r[1], "the new shape round-trips");
    }

    #[test]
    fn what_lives_in_a_network_goes_before_it() {
        let at = |k| DELETE_ORDER.iter().position(|o| *o == k).unwrap();
        let net = at(ResourceKind::Network);
        assert!(at(ResourceKind::Subnet) < net);
        for inside in [ResourceKind::Vm, ResourceKind::Nic, ResourceKind::Firewall] {
            assert!(at(inside) < at(ResourceKind::Subnet), "{inside}");
        }
    }
}
