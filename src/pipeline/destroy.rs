//! Destroy: deletes an environment's resources in waves: every resource whose prerequisites
//! are gone ([`waits_for`]) is deleted at once, and only what the cloud forces to wait waits.
//! With a state file, what it records, forgetting each resource in the file as soon as it is
//! gone; the file itself goes only when nothing is left, so an interrupted destroy can simply
//! be run again. Without one, what the cloud finds tagged with the environment.

use std::time::Duration;

use carto_core::{EnvName, Provider, ResourceKind, ResourceRef};
use futures::future::join_all;

use crate::interrupt;
use crate::state::{EnvState, StateStore};

/// The order resources are listed in (and within a wave, deleted in): what depends on
/// something before it.
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

/// The kinds that must be gone before `kind` can go, because some cloud refuses otherwise:
/// an address, a firewall or a subnet still attached to the VM or its interface, a network
/// still holding subnets or firewall rules. The record, the VM, the key and the group wait for
/// nothing (a group's members go with it and are not deleted one by one).
pub fn waits_for(kind: ResourceKind) -> &'static [ResourceKind] {
    use ResourceKind::*;
    match kind {
        DnsRecord | Vm | SshKey | Group => &[],
        Nic => &[Vm],
        Address | Firewall | Subnet => &[Vm, Nic],
        Network => &[Vm, Nic, Subnet, Firewall, Address],
    }
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

/// Deletes `resources` in waves: each wave is everything whose [`waits_for`] kinds are all
/// gone, deleted at once (listed in [`DELETE_ORDER`]); a group takes its members with it (they
/// are not deleted one by one). `after` runs for every resource gone, even when another of its
/// wave failed; then the first failure is returned. A stop asked for by a signal is honoured
/// between waves.
async fn delete_in_order(
    provider: &dyn Provider,
    env: &EnvName,
    resources: &[ResourceRef],
    mut after: impl FnMut(&ResourceRef) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<ResourceRef>> {
    let rank = |r: &ResourceRef| DELETE_ORDER.iter().position(|k| *k == r.kind);
    let mut left: Vec<&ResourceRef> = resources
        .iter()
        .filter(|r| !goes_with_group(r, resources))
        .collect();
    left.sort_by_key(|r| rank(r));
    let mut deleted = Vec::new();
    while !left.is_empty() {
        let (wave, later): (Vec<&ResourceRef>, Vec<&ResourceRef>) = left
            .iter()
            .partition(|r| !left.iter().any(|o| waits_for(r.kind).contains(&o.kind)));
        let results = join_all(wave.iter().map(|r| provider.delete(r, DELETE_TIMEOUT))).await;
        let mut failure = None;
        for (resource, result) in wave.into_iter().zip(results) {
            if let Err(e) = result {
                failure.get_or_insert_with(|| {
                    anyhow::Error::new(e)
                        .context(format!("deleting {resource} of environment {env}"))
                });
                continue;
            }
            let members = resources.iter().filter(|r| in_group(r, resource));
            for gone in members.chain([resource]) {
                after(gone)?;
                deleted.push(gone.clone());
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        left = later;
        interrupt::check()?;
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
    fn every_kind_waits_only_for_kinds_listed_before_it() {
        for kind in DELETE_ORDER {
            let at = DELETE_ORDER.iter().position(|k| k == kind).unwrap();
            for before in waits_for(*kind) {
                let b = DELETE_ORDER.iter().position(|k| k == before).unwrap();
                assert!(b < at, "{kind:?} waits for {before:?}, listed after it");
            }
        }
    }

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
