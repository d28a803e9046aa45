//! The infra step: the containers (resource group, network) where the cloud has them, then the
//! VM's subnet, SSH key, firewall and static address at once, then the VM, then wait until it
//! runs (a wait a stop request may end), then attach the address (a write it may not). Each id
//! is recorded as soon as the provider returns it. A VM that replaces the recorded one resets
//! the host key rotation; after the rotation, the provider forgets the VM's user-data.

use std::time::Duration;

use carto_core::{Address, Provider, ResourceKind, ResourceRef};

use super::preflight::Ready;
use super::record::Recorder;
use crate::state::EnvState;

/// How long a VM may take to run.
const VM_READY_TIMEOUT: Duration = Duration::from_secs(600);

/// What the infra step made.
#[derive(Clone, Debug)]
pub struct Infra {
    /// The VM.
    pub vm: ResourceRef,
    /// Its static public address.
    pub address: Address,
}

/// Whether `vm` is another VM than the one the state recorded (the old one is gone and the
/// provider created a new one, booting with this run's user-data).
fn replaces_recorded_vm(state: &EnvState, vm: &ResourceRef) -> bool {
    state
        .find(ResourceKind::Vm)
        .is_some_and(|known| known.id != vm.id)
}

/// Closes the ways to the VM's user-data once its host key was rotated (once per VM; see
/// `Provider::forget_user_data`).
pub async fn forget_user_data(
    provider: &dyn Provider,
    infra: &Infra,
    recorder: &Recorder<'_>,
) -> anyhow::Result<()> {
    let state = recorder.snapshot();
    if !state.host_key_rotated || state.user_data_forgotten {
        return Ok(());
    }
    provider.forget_user_data(&infra.vm).await?;
    recorder.update(|s| s.user_data_forgotten = true)
}

/// Creates (or finds) the environment's cloud resources.
pub async fn run(
    provider: &dyn Provider,
    ready: &Ready,
    recorder: &Recorder<'_>,
) -> anyhow::Result<Infra> {
    let (infra, resolved) = (&ready.infra, &ready.resolved);
    for container in provider.ensure_network(infra, resolved).await? {
        recorder.record(container)?;
    }
    let subnet = async {
        for inner in provider.ensure_subnet(infra, resolved).await? {
            recorder.record(inner)?;
        }
        anyhow::Ok(())
    };
    let key = async {
        if let Some(key) = provider.ensure_ssh_key(infra, resolved).await? {
            recorder.record(key)?;
        }
        anyhow::Ok(())
    };
    let firewall = async {
        let rules = provider.ensure_firewall(infra, resolved).await?;
        for rule in &rules {
            recorder.record(rule.clone())?;
        }
        anyhow::Ok(rules)
    };
    let address = async {
        let address = provider.ensure_address(infra, resolved).await?;
        recorder.record(address.resource.clone())?;
        recorder.update(|s| s.public_ip = Some(address.ip.clone()))?;
        anyhow::Ok(address)
    };
    let (subnet, key, firewall, address) = tokio::join!(subnet, key, firewall, address);
    subnet?;
    key?;
    let (firewall, address) = (firewall?, address?);
    let vm = provider
        .ensure_vm(infra, resolved, &firewall, &address)
        .await?;
    if replaces_recorded_vm(&recorder.snapshot(), &vm) {
        // A new VM boots with this run's user-data host key: the old rotation does not hold.
        let fingerprint = ready.keys.host_fingerprint();
        recorder.update(|s| {
            s.reset_host_key();
            s.host_key_fingerprint = Some(fingerprint);
        })?;
    }
    recorder.record(vm.clone())?;
    crate::interrupt::unless_stopped(async {
        Ok(provider
            .wait_vm_ready(&vm, &address, VM_READY_TIMEOUT)
            .await?)
    })
    .await?;
    provider.attach_address(&vm, &address).await?;
    Ok(Infra { vm, address })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(id: &str) -> ResourceRef {
        ResourceRef::new(ResourceKind::Vm, id, "carto-env-vm", "eu-west-1")
    }

    #[test]
    fn only_a_vm_with_another_id_resets_the_host_key_rotation() {
        let mut state = EnvState::new(
            carto_core::EnvName::parse("env").unwrap(),
            carto_core::Cloud::Aws,
            "eu-west-1",
            "carto.example.com",
        );
        assert!(!replaces_recorded_vm(&state, &vm("i-1")), "first VM");
        state.record(vm("i-1"));
        assert!(!replaces_recorded_vm(&state, &vm("i-1")), "same VM");
        assert!(replaces_recorded_vm(&state, &vm("i-2")), "new VM");

        state.host_key_public = Some("ssh-ed25519 AAAA".into());
        state.host_key_rotated = true;
        state.user_data_forgotten = true;
        state.reset_host_key();
        assert_eq!(
            (
                state.host_key_public,
                state.host_key_rotated,
                state.user_data_forgotten
            ),
            (None, false, false)
        );
    }
}
