//! The infra step: the containers (resource group, network) where the cloud has them, then SSH
//! key, firewall and static address at once, then the VM, then wait until it runs with the
//! address attached. Each id is recorded as soon as the provider returns it.

use std::time::Duration;

use carto_core::{Address, Provider, ResourceRef};

use super::preflight::Ready;
use super::record::Recorder;

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
    let (key, firewall, address) = tokio::join!(key, firewall, address);
    key?;
    let (firewall, address) = (firewall?, address?);
    let vm = provider
        .ensure_vm(infra, resolved, &firewall, &address)
        .await?;
    recorder.record(vm.clone())?;
    crate::interrupt::unless_stopped(async {
        Ok(provider
            .wait_vm_ready(&vm, &address, VM_READY_TIMEOUT)
            .await?)
    })
    .await?;
    Ok(Infra { vm, address })
}
