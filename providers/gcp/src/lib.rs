//! The Google Cloud provider: one environment is its own custom-mode VPC network with one
//! subnetwork (or a network the user named, whose rules preflight checks), three firewall
//! rules in it (on the environment's network tag), a reserved static external address, an
//! Ubuntu 22.04 instance with an SSD boot disk, and a Cloud DNS A record.
//!
//! [`GcpProvider`] implements the core [`Provider`] trait over Compute Engine and Cloud DNS
//! (google-cloud-rust, Application Default Credentials). SDK types stay inside this crate;
//! every call is sent through one helper that sorts errors by reason ([`errors`]) and retries
//! throttling and transient faults with the core retry policy; every operation is waited on
//! and its error surfaced ([`operation`]). Each file owns one resource: `image.rs` (image
//! family), `machine.rs` (machine type, disk), `network.rs` (network and subnetwork),
//! `exposure.rs` (a named network's rules), `firewall.rs` (firewall rules), `address.rs`
//! (static address), `vm.rs` (instance), `dns.rs` (Cloud DNS), `labels.rs` (labels and
//! filters), `config.rs` (options, clients, project, zone).

mod address;
mod config;
mod dns;
pub mod errors;
mod exposure;
mod firewall;
mod image;
mod labels;
mod machine;
mod network;
mod operation;
mod send;
mod vm;

use std::time::Duration;

use async_trait::async_trait;
use carto_core::retry::RetryPolicy;
use carto_core::{
    Address, Cloud, EnvName, ErrorKind, InfraSpec, Planned, Provider, ProviderError, RecordSet,
    Resolved, ResourceKind, ResourceRef, Result, TaggedResource,
};

pub use config::{DEFAULT_ZONE, GcpOptions};
pub use image::{IMAGE_FAMILY, IMAGE_PROJECT};
pub use labels::network_tag;
pub use machine::{DEFAULT_DISK_TYPE, SSD_TYPES, default_type};
pub use operation::request_id;

use config::Clients;

/// The Google Cloud implementation of [`Provider`]. Holds SDK clients only, no resource state.
#[derive(Clone, Debug)]
pub struct GcpProvider {
    clients: Clients,
}

impl GcpProvider {
    /// A provider using Application Default Credentials.
    pub async fn new(opts: GcpOptions) -> Result<GcpProvider> {
        Ok(GcpProvider {
            clients: Clients::load(&opts, None).await?,
        })
    }

    /// A provider using the `authorized_user` credentials in `json` (the format of gcloud's
    /// ADC file, `token_uri` honoured): tests point `token_uri` at the local fake.
    pub async fn with_authorized_user(
        opts: GcpOptions,
        json: serde_json::Value,
    ) -> Result<GcpProvider> {
        let creds = google_cloud_auth::credentials::user_account::Builder::new(json)
            .build()
            .map_err(config::build_error)?;
        Ok(GcpProvider {
            clients: Clients::load(&opts, Some(creds)).await?,
        })
    }

    /// Replaces the retry policy (by default [`RetryPolicy::from_env`]) and polls operations
    /// at twice its base delay (at most every 2 s).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> GcpProvider {
        self.clients.policy = policy;
        self.clients.poll = (policy.base_delay * 2).min(Duration::from_secs(2));
        self
    }
}

#[async_trait]
impl Provider for GcpProvider {
    fn cloud(&self) -> Cloud {
        Cloud::Gcp
    }

    async fn preflight(&self, spec: &InfraSpec) -> Result<Resolved> {
        let c = &self.clients;
        c.project()?;
        carto_core::check_disk(
            "compute.instances.insert",
            spec.disk_gb,
            carto_core::MIN_DISK_GB,
        )?;
        let disk_type = machine::check_disk_type(spec.disk_type.as_deref())?;
        firewall::check_rules(&spec.firewall)?;
        let machine_type = spec
            .machine_type
            .clone()
            .unwrap_or_else(|| default_type(spec.profile).to_string());
        // Every lookup at once (one round trip), their answers judged in this order, so a
        // wrong project is named before the zone or machine type it makes look wrong.
        let (project, zone, size, image, exposure, zones) = tokio::join!(
            config::check_project(c),
            config::check_zone(c, &spec.region),
            machine::check_type(
                c,
                &spec.region,
                &machine_type,
                spec.machine_type.is_some(),
                spec.profile,
            ),
            image::ubuntu_jammy(c),
            exposure::check(c, spec),
            dns::list_zones(c),
        );
        project?;
        zone?;
        let size = size?;
        let image = image?;
        exposure?;
        let zones = zones?;
        let zone = dns::pick_zone(&spec.domain, &zones, spec.dns_zone.as_deref())?;
        Ok(Resolved {
            region: spec.region.clone(),
            image: image.id,
            image_name: image.name,
            machine_type,
            size,
            disk_gb: spec.disk_gb,
            disk_type,
            dns_zone_id: zone.name,
            dns_zone_name: zone.dns_name,
            ssh_user: vm::SSH_USER.to_string(),
        })
    }

    /// GCP has no key resource: the key travels in the instance's `ssh-keys` metadata.
    async fn ensure_ssh_key(
        &self,
        _spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Option<ResourceRef>> {
        Ok(None)
    }

    /// The environment's own network and subnetwork, unless the user named a network.
    fn planned(&self, spec: &InfraSpec, resolved: &Resolved) -> Vec<Planned> {
        let mut planned = network::planned(spec);
        planned.extend(firewall::planned(spec));
        planned.extend([
            Planned::new(
                ResourceKind::Address,
                address::name(&spec.env),
                format!(
                    "static external IPv4 address in {}, premium tier",
                    config::region_of(&spec.region)
                ),
            ),
            Planned::vm(
                vm::name(&spec.env),
                resolved,
                ", the SSH key in its metadata, the address in its access config",
            ),
            Planned::dns_record(spec, resolved),
        ]);
        planned
    }

    async fn ensure_network(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>> {
        network::ensure(&self.clients, spec).await
    }

    async fn ensure_subnet(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>> {
        network::ensure_subnet(&self.clients, spec).await
    }

    async fn ensure_firewall(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>> {
        firewall::ensure_rules(&self.clients, spec).await
    }

    async fn ensure_address(&self, spec: &InfraSpec, _resolved: &Resolved) -> Result<Address> {
        address::ensure_address(&self.clients, spec).await
    }

    /// The firewall rules apply through the environment's network tag, which the instance
    /// carries; `firewall` only has to be non-empty.
    async fn ensure_vm(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
        firewall: &[ResourceRef],
        address: &Address,
    ) -> Result<ResourceRef> {
        if firewall.is_empty() {
            return Err(ProviderError::new(
                ErrorKind::InvalidInput,
                "compute.instances.insert",
                "no firewall rules were created for the instance's network tag",
            ));
        }
        vm::ensure_instance(&self.clients, spec, resolved, address).await
    }

    async fn wait_vm_ready(
        &self,
        vm: &ResourceRef,
        address: &Address,
        timeout: Duration,
    ) -> Result<()> {
        vm::wait_running(&self.clients, vm, address, timeout).await
    }

    async fn forget_user_data(&self, vm: &ResourceRef) -> Result<()> {
        vm::forget_user_data(&self.clients, vm).await
    }

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
        timeout: Duration,
    ) -> Result<ResourceRef> {
        dns::create_a(
            &self.clients,
            &resolved.dns_zone_id,
            &spec.domain,
            &address.ip,
            replace,
            timeout,
        )
        .await
    }

    async fn delete(&self, resource: &ResourceRef, timeout: Duration) -> Result<()> {
        let c = &self.clients;
        match resource.kind {
            ResourceKind::DnsRecord => dns::delete_a(c, resource, timeout).await,
            ResourceKind::Vm => vm::delete_instance(c, resource, timeout).await,
            ResourceKind::Address => address::delete_address(c, resource, timeout).await,
            ResourceKind::Firewall => firewall::delete_rule(c, resource, timeout).await,
            ResourceKind::Subnet => network::delete_subnet(c, resource, timeout).await,
            ResourceKind::Network => network::delete_network(c, resource, timeout).await,
            other => Err(ProviderError::new(
                ErrorKind::InvalidInput,
                "delete",
                format!("GCP environments have no {other} resource ({resource})"),
            )),
        }
    }

    async fn find_existing(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<TaggedResource>> {
        // Every GCP resource is adopted by name.
        let c = &self.clients;
        let (mut found, rules, networks, address, vm) = tokio::try_join!(
            self.list_tagged(Some(&spec.env)),
            firewall::find_named(c, spec),
            network::find_named(c, spec),
            address::find_named(c, spec),
            vm::find_named(c, spec),
        )?;
        let mut named = [rules, networks].concat();
        named.extend(address.into_iter().chain(vm));
        carto_core::ownership::merge(&mut found, named);
        Ok(found)
    }

    async fn list_tagged(&self, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
        let c = &self.clients;
        // One listing per kind, all at once (each follows its own pages).
        let addresses_and_records = async {
            let (addresses, zones) =
                tokio::try_join!(address::list_tagged(c, env), dns::list_zones(c))?;
            // Cloud DNS records carry no labels: the record is the one the address's
            // description names.
            let keys = carto_core::record_keys(&addresses);
            let records = dns::find_a_all(c, &zones, &keys).await?;
            let mut found = carto_core::records_of_addresses(&addresses, &records);
            found.extend(addresses);
            Ok(found)
        };
        let (mut found, more, rules, networks) = tokio::try_join!(
            vm::list_tagged(c, env),
            addresses_and_records,
            firewall::list_tagged(c, env),
            network::list_tagged(c, env),
        )?;
        found.extend(more);
        found.extend(rules);
        found.extend(networks);
        Ok(found)
    }
}
