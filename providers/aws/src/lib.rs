//! The AWS provider: one environment is an EC2 key pair, a security group in the default VPC,
//! an Elastic IP, an Ubuntu 22.04 instance with a gp3 root volume, and a Route53 A record.
//!
//! [`AwsProvider`] implements the core [`Provider`] trait over EC2, Route53 and SSM. SDK types
//! stay inside this crate; every call is sent through one helper that sorts errors by code
//! ([`errors`]) and retries throttling and transient faults with the core retry policy.
//! Each file owns one resource: `image.rs` (AMI), `machine.rs` (instance type, disk),
//! `network.rs` (security group), `key.rs` (key pair), `address.rs` (Elastic IP), `vm.rs` (instance),
//! `dns.rs` (Route53), `tags.rs` (tags and tag filters), `config.rs` (options, clients, region).

mod address;
mod config;
mod dns;
pub mod errors;
mod image;
mod key;
mod machine;
mod network;
mod send;
mod tags;
mod vm;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::config::Credentials;
use carto_core::retry::RetryPolicy;
use carto_core::{
    Address, Cloud, EnvName, InfraSpec, Planned, Provider, ProviderError, RecordSet, Resolved,
    ResourceKind, ResourceRef, Result, TaggedResource,
};

pub use config::{AwsOptions, DEFAULT_REGION};
pub use image::{CANONICAL_OWNER, JAMMY_NAME_PATTERN, UBUNTU_SSM_PARAMETER};
pub use machine::default_type;

use config::Clients;

/// The AWS implementation of [`Provider`]. Holds SDK configuration only, no resource state.
#[derive(Clone, Debug)]
pub struct AwsProvider {
    clients: Clients,
    region: String,
}

impl AwsProvider {
    /// A provider using the default credential chain (environment, profile, SSO, IMDS).
    pub async fn new(opts: AwsOptions) -> Result<AwsProvider> {
        Ok(Self::build(opts, None).await)
    }

    /// A provider with fixed credentials, for tests against a local emulator.
    pub async fn with_static_credentials(
        opts: AwsOptions,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<AwsProvider> {
        let credentials =
            Credentials::new(access_key_id, secret_access_key, None, None, "carto-static");
        Ok(Self::build(opts, Some(credentials)).await)
    }

    async fn build(opts: AwsOptions, credentials: Option<Credentials>) -> AwsProvider {
        let region = if opts.region.is_empty() {
            DEFAULT_REGION.to_string()
        } else {
            opts.region.clone()
        };
        AwsProvider {
            clients: Clients::load(&opts, credentials).await,
            region,
        }
    }

    /// Replaces the retry policy (by default [`RetryPolicy::from_env`]).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> AwsProvider {
        self.clients.policy = policy;
        self
    }

    /// The region this provider lists and sweeps in.
    pub fn region(&self) -> &str {
        &self.region
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }

    async fn preflight(&self, spec: &InfraSpec) -> Result<Resolved> {
        let c = &self.clients;
        carto_core::check_disk("preflight", spec.disk_gb, carto_core::MIN_DISK_GB)?;
        let machine_type = spec
            .machine_type
            .clone()
            .unwrap_or_else(|| default_type(spec.profile).to_string());
        // Every lookup at once (none needs another's answer). A region that does not exist
        // ends the preflight as soon as it is known, whatever the others (which run in it)
        // are doing; the other errors come in the order a user fixes them.
        let lookups = async {
            Ok(tokio::join!(
                machine::check_type(c, &spec.region, &machine_type, spec.profile),
                network::default_vpc(c, &spec.region),
                image::ubuntu_jammy(c, &spec.region),
                dns::list_zones(c),
            ))
        };
        let ((), (size, vpc, image, zones)) =
            tokio::try_join!(config::check_region(c, &spec.region), lookups)?;
        let size = size?;
        vpc?;
        let image = image?;
        let zone = dns::pick_zone(&spec.domain, &zones?, spec.dns_zone.as_deref())?;
        Ok(Resolved {
            region: spec.region.clone(),
            image: image.id,
            image_name: image.name,
            machine_type,
            size,
            disk_gb: spec.disk_gb,
            disk_type: "gp3".to_string(),
            dns_zone_id: zone.id,
            dns_zone_name: zone.name,
            ssh_user: "ubuntu".to_string(),
        })
    }

    fn planned(&self, spec: &InfraSpec, resolved: &Resolved) -> Vec<Planned> {
        let env = &spec.env;
        vec![
            Planned::new(
                ResourceKind::SshKey,
                key::name(env),
                "EC2 key pair of the environment's ed25519 public key (the private half stays on this machine)",
            ),
            Planned::new(
                ResourceKind::Firewall,
                network::group_name(env),
                format!(
                    "security group in the default VPC: inbound {}; nothing else",
                    carto_core::planned::inbound(&spec.firewall)
                ),
            ),
            Planned::new(
                ResourceKind::Address,
                address::name(env),
                "Elastic IP (static public IPv4), associated once the VM runs",
            ),
            Planned::vm(vm::name(env), resolved, ", IMDSv2 only"),
            Planned::dns_record(spec, resolved),
        ]
    }

    async fn ensure_ssh_key(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Option<ResourceRef>> {
        key::ensure_key_pair(&self.clients, spec).await.map(Some)
    }

    async fn ensure_firewall(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>> {
        Ok(vec![
            network::ensure_security_group(&self.clients, spec).await?,
        ])
    }

    async fn ensure_address(&self, spec: &InfraSpec, _resolved: &Resolved) -> Result<Address> {
        address::ensure_address(&self.clients, spec).await
    }

    async fn ensure_vm(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
        firewall: &[ResourceRef],
        _address: &Address,
    ) -> Result<ResourceRef> {
        let group = firewall.first().ok_or_else(|| {
            ProviderError::invalid_input("ec2:RunInstances", "no security group to attach")
        })?;
        vm::ensure_instance(&self.clients, spec, resolved, &group.id).await
    }

    async fn wait_vm_ready(
        &self,
        vm: &ResourceRef,
        address: &Address,
        timeout: Duration,
    ) -> Result<()> {
        let _ = address;
        vm::wait_running(&self.clients, vm, timeout).await
    }

    async fn attach_address(&self, vm: &ResourceRef, address: &Address) -> Result<()> {
        address::associate(&self.clients, address, &vm.id).await
    }

    async fn forget_user_data(&self, vm: &ResourceRef) -> Result<()> {
        vm::close_metadata(&self.clients, vm).await
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
            ResourceKind::Address => address::delete_address(c, resource).await,
            ResourceKind::Firewall => network::delete_security_group(c, resource, timeout).await,
            ResourceKind::SshKey => key::delete_key_pair(c, resource).await,
            other => Err(carto_core::ProviderError::new(
                carto_core::ErrorKind::InvalidInput,
                "delete",
                format!("AWS environments have no {other} resource ({resource})"),
            )),
        }
    }

    async fn find_existing(
        &self,
        spec: &InfraSpec,
        _resolved: &Resolved,
    ) -> Result<Vec<TaggedResource>> {
        // Instances and addresses are adopted by tag only; the key pair and the security
        // group by name.
        let (mut found, key, group) = tokio::try_join!(
            self.list_tagged(Some(&spec.env)),
            key::find_named(&self.clients, spec),
            network::find_named(&self.clients, spec),
        )?;
        carto_core::ownership::merge(&mut found, [key, group].into_iter().flatten());
        Ok(found)
    }

    async fn list_tagged(&self, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
        let c = &self.clients;
        let region = self.region.as_str();
        // One listing per kind, all at once.
        let addresses_and_records = async {
            let (addresses, zones) =
                tokio::try_join!(address::list_tagged(c, region, env), dns::list_zones(c))?;
            // Route53 records carry no tags: the record is the one the address's domain tag
            // names; all of them found by one listing per zone.
            let keys = carto_core::record_keys(&addresses);
            let records = dns::find_a_all(c, &zones, &keys).await?;
            let mut found = carto_core::records_of_addresses(&addresses, &records);
            found.extend(addresses);
            Ok(found)
        };
        let (mut found, more, groups, keys) = tokio::try_join!(
            vm::list_tagged(c, region, env),
            addresses_and_records,
            network::list_tagged(c, region, env),
            key::list_tagged(c, region, env),
        )?;
        found.extend(more);
        found.extend(groups);
        found.extend(keys);
        Ok(found)
    }
}
