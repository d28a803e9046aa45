//! The Azure provider: one environment is a resource group (`carto-NAME-rg`) holding a virtual
//! network, a network security group, a Standard static public IP, a NIC and an Ubuntu 22.04 VM
//! with a Premium_LRS OS disk, plus an A record set in the DNS zone's own resource group.
//!
//! [`AzureProvider`] implements the core [`Provider`] trait over Resource Manager with the
//! azure_mgmt_* clients; SDK types stay inside this crate. Each create is a PUT by name after a
//! GET, and long-running operations are followed through `Azure-AsyncOperation`/`Location` by
//! [`operation`] (the SDK's own wait re-PUTs). Destroy deletes the record set (only while it
//! points at our address) and then the group, which takes everything in it.
//! Files: `config.rs` (options, credentials, clients), `transport.rs` (pipeline policies,
//! sending with retries), `operation.rs` (long-running operations), `errors.rs` (error answers
//! and their sorting), `arm.rs` (find/ensure/list shapes), `location.rs` (subscription,
//! location), `machine.rs` (VM size, disk), `image.rs` (Ubuntu image), `network.rs` (group,
//! VNet), `firewall.rs` (NSG), `address.rs` (public IP), `vm.rs` (NIC, VM), `dns.rs` (zone,
//! record set), `tagged.rs` (tag listing). Modules depend one way: `errors` <- `transport` <-
//! `config` <- `operation`.

mod address;
mod arm;
mod config;
mod dns;
pub mod errors;
mod firewall;
mod image;
mod location;
mod machine;
mod network;
pub mod operation;
mod tagged;
pub mod transport;
mod vm;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::auth::TokenCredential;
use carto_core::retry::RetryPolicy;
use carto_core::{
    Address, Cloud, EnvName, InfraSpec, Planned, Provider, RecordSet, Resolved, ResourceKind,
    ResourceRef, Result, TaggedResource,
};

pub use config::{ARM_ENDPOINT, ARM_SCOPE, AzureOptions, DEFAULT_LOCATION};
pub use firewall::security_rules;
pub use image::UBUNTU;
pub use machine::{DISK_TYPE, MIN_DISK_GB, default_size};
pub use vm::ADMIN;

use config::{Chain, Clients};

/// The Azure implementation of [`Provider`]. Holds clients only, no resource state.
#[derive(Clone, Debug)]
pub struct AzureProvider {
    clients: Clients,
}

impl AzureProvider {
    /// A provider using the environment's credentials, the Azure CLI login or managed identity.
    pub async fn new(opts: AzureOptions) -> Result<AzureProvider> {
        Self::with_credential(opts, Arc::new(Chain::from_env())).await
    }

    /// A provider authenticating with `credential` (tests, or a caller's own chain).
    pub async fn with_credential(
        opts: AzureOptions,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<AzureProvider> {
        Ok(AzureProvider {
            clients: Clients::new(&opts, credential).await?,
        })
    }

    /// Replaces the retry policy (by default [`RetryPolicy::from_env`]).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> AzureProvider {
        self.clients.policy = policy;
        self
    }
}

#[async_trait]
impl Provider for AzureProvider {
    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }

    async fn preflight(&self, spec: &InfraSpec) -> Result<Resolved> {
        let c = &self.clients;
        c.sub()?;
        carto_core::check_disk("azure:disk", spec.disk_gb, machine::MIN_DISK_GB)?;
        let size = spec
            .machine_type
            .clone()
            .unwrap_or_else(|| default_size(spec.profile).to_string());
        // Every lookup at once, their answers judged in this order, so a wrong location is
        // named before the size or image it makes look wrong.
        let (location, found, version, zones) = tokio::join!(
            location::check(c, &spec.region),
            machine::check_size(c, &spec.region, &size, spec.profile),
            image::latest(c, &spec.region),
            dns::list_zones(c),
        );
        location?;
        let found = found?;
        let version = version?;
        let zones = zones?;
        let zone = dns::pick_zone(
            &spec.domain,
            &zones,
            spec.dns_zone.as_deref(),
            c.dns_resource_group.as_deref(),
        )?;
        Ok(Resolved {
            region: spec.region.clone(),
            image: image::urn(&version),
            image_name: format!("Ubuntu 22.04 LTS ({})", image::urn(&version)),
            machine_type: size,
            size: found,
            disk_gb: spec.disk_gb,
            disk_type: DISK_TYPE.to_string(),
            dns_zone_id: zone.id,
            dns_zone_name: format!("{}.", zone.name),
            ssh_user: ADMIN.to_string(),
        })
    }

    fn planned(&self, spec: &InfraSpec, resolved: &Resolved) -> Vec<Planned> {
        vec![
            Planned::new(
                ResourceKind::Group,
                network::group_name(spec),
                format!(
                    "resource group in {}: everything below but the record lives in it",
                    spec.region
                ),
            ),
            Planned::new(
                ResourceKind::Network,
                network::vnet_name(spec),
                format!(
                    "virtual network {}, subnet {} {}",
                    network::VNET_CIDR,
                    network::SUBNET,
                    network::SUBNET_CIDR
                ),
            ),
            firewall::planned(spec),
            Planned::new(
                ResourceKind::Address,
                address::name(spec),
                "Standard-SKU static public IPv4 address",
            ),
            Planned::new(
                ResourceKind::Nic,
                vm::nic_name(spec),
                "network interface with the NSG and the public address, deleted with the VM",
            ),
            Planned::vm(
                vm::name(spec),
                resolved,
                ", the SSH key in its osProfile, password login disabled",
            ),
            Planned::dns_record(spec, resolved),
        ]
    }

    async fn ensure_network(&self, spec: &InfraSpec, _: &Resolved) -> Result<Vec<ResourceRef>> {
        Ok(vec![network::ensure_group(&self.clients, spec).await?])
    }

    async fn ensure_subnet(&self, spec: &InfraSpec, _: &Resolved) -> Result<Vec<ResourceRef>> {
        Ok(vec![network::ensure_vnet(&self.clients, spec).await?])
    }

    async fn ensure_ssh_key(&self, _: &InfraSpec, _: &Resolved) -> Result<Option<ResourceRef>> {
        // The key travels in the VM's osProfile.
        Ok(None)
    }

    async fn ensure_firewall(&self, spec: &InfraSpec, _: &Resolved) -> Result<Vec<ResourceRef>> {
        Ok(vec![firewall::ensure_nsg(&self.clients, spec).await?])
    }

    async fn ensure_address(&self, spec: &InfraSpec, _: &Resolved) -> Result<Address> {
        address::ensure_address(&self.clients, spec).await
    }

    async fn ensure_vm(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
        firewall: &[ResourceRef],
        address: &Address,
    ) -> Result<ResourceRef> {
        vm::ensure_vm(&self.clients, spec, resolved, firewall, address).await
    }

    async fn wait_vm_ready(
        &self,
        vm: &ResourceRef,
        address: &Address,
        timeout: Duration,
    ) -> Result<()> {
        vm::wait_running(&self.clients, vm, address, timeout).await
    }

    // forget_user_data: the default (nothing). A VM's osProfile.customData cannot be changed
    // or removed after creation; see vm.rs.

    async fn find_dns_records(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Vec<RecordSet>> {
        dns::find_records(&self.clients, &resolved.dns_zone_id, &spec.domain).await
    }

    async fn ensure_dns_record(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
        address: &Address,
        replace: &[RecordSet],
        _timeout: Duration,
    ) -> Result<ResourceRef> {
        // Azure DNS serves a record set as soon as its PUT succeeded: nothing to wait for.
        dns::create_a(
            &self.clients,
            spec,
            &resolved.dns_zone_id,
            &address.ip,
            replace,
        )
        .await
    }

    async fn delete(&self, resource: &ResourceRef, timeout: Duration) -> Result<()> {
        let c = &self.clients;
        match resource.kind {
            ResourceKind::DnsRecord => dns::delete_a(c, resource).await,
            ResourceKind::Group => network::delete_group(c, &resource.name, timeout).await,
            _ => vm::delete_one(c, resource, timeout).await,
        }
    }

    async fn find_existing(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<TaggedResource>> {
        // Everything but the record lives in the group, adopted by name.
        let mut found = self.list_tagged(Some(&spec.env)).await?;
        let named = network::find_named(&self.clients, spec).await?;
        carto_core::ownership::merge(&mut found, named);
        Ok(found)
    }

    async fn list_tagged(&self, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
        tagged::list(&self.clients, env).await
    }
}
