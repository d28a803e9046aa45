//! The trait every cloud implements. About eight verbs over core types only.
//!
//! Contract for implementors:
//! - `preflight` mutates nothing; bad input comes back as [`ErrorKind::InvalidInput`] with one
//!   sentence naming the input and the fix.
//! - `ensure_*` are idempotent: find by the deterministic name (and tags) first, create only
//!   if absent, tag at creation. They return as soon as the cloud has given an id.
//! - The provider keeps no state between calls: the pipeline records every returned
//!   [`ResourceRef`] in the state file immediately.
//! - `delete` treats "not found" as success. The order of deletions is the pipeline's.
//! - Throttling and transient faults are retried inside with [`crate::retry::RetryPolicy`].
//!
//! [`ErrorKind::InvalidInput`]: crate::ErrorKind::InvalidInput

use std::time::Duration;

use async_trait::async_trait;

use crate::{
    Address, Cloud, EnvName, InfraSpec, Planned, RecordSet, Resolved, ResourceRef, Result,
    TaggedResource,
};

/// One cloud's way of creating, finding and deleting an environment's resources.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Which cloud this is.
    fn cloud(&self) -> Cloud;

    /// Checks every input against the cloud without changing anything: region, image,
    /// machine type against the profile, disk, DNS zone.
    async fn preflight(&self, spec: &InfraSpec) -> Result<Resolved>;

    /// Registers the environment's SSH public key (where the cloud has such a resource), or
    /// returns `None` when the key travels in the VM's metadata instead.
    async fn ensure_ssh_key(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Option<ResourceRef>>;

    /// Creates what the environment's other resources live in (the Azure resource group, the
    /// GCP network), first and in order. Clouds whose resources need no container (the AWS
    /// default VPC, a GCP network the user named) keep this default: nothing.
    async fn ensure_network(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>> {
        let _ = (spec, resolved);
        Ok(Vec::new())
    }

    /// Creates, inside what [`Provider::ensure_network`] made, what only the VM needs (the GCP
    /// subnetwork, the Azure virtual network and its subnet): the pipeline runs it beside the
    /// SSH key, firewall and address, which need only the container. The default: nothing.
    async fn ensure_subnet(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>> {
        let _ = (spec, resolved);
        Ok(Vec::new())
    }

    /// Creates the firewall with exactly `spec.firewall`'s rules: one resource where the cloud
    /// groups rules (security group, NSG), one per source range where it does not (GCP).
    async fn ensure_firewall(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Vec<ResourceRef>>;

    /// What the `ensure_*` calls would create for `spec`, in creation order, without calling
    /// the cloud (preflight has): every resource's kind, name and settings, from the same name
    /// functions and rule lists those calls use. `plan` prints it.
    fn planned(&self, spec: &InfraSpec, resolved: &Resolved) -> Vec<Planned>;

    /// Reserves the static public address.
    async fn ensure_address(&self, spec: &InfraSpec, resolved: &Resolved) -> Result<Address>;

    /// Creates the VM with its SSD disk, user-data, firewall and address. Returns once the
    /// cloud has given the VM an id (not when it is running).
    async fn ensure_vm(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
        firewall: &[ResourceRef],
        address: &Address,
    ) -> Result<ResourceRef>;

    /// Waits until the VM runs, and where creation attached the static address, until the VM
    /// carries it. Only reads: the pipeline may abandon it at any point.
    async fn wait_vm_ready(
        &self,
        vm: &ResourceRef,
        address: &Address,
        timeout: Duration,
    ) -> Result<()>;

    /// Attaches the static address to the running VM unless it already is (an Elastic IP is
    /// associated after launch). Clouds that attach it at creation (GCP's access config, the
    /// Azure NIC) keep this default: nothing. A write: the pipeline lets it finish.
    async fn attach_address(&self, vm: &ResourceRef, address: &Address) -> Result<()> {
        let _ = (vm, address);
        Ok(())
    }

    /// Closes the ways to read the VM's user-data once the pipeline has rotated the host key
    /// that travelled in it (the old key is then worthless, but nothing should serve it).
    /// Called once per VM after the rotation is recorded; must be idempotent, and a VM that no
    /// longer exists is an error of kind not found. GCP drops the `user-data` metadata item;
    /// AWS requires IMDSv2 tokens with a hop limit of 1, so containers on the VM cannot reach
    /// the metadata service. The default does nothing: for clouds where user-data cannot be
    /// removed (Azure's `osProfile.customData` is fixed at creation).
    async fn forget_user_data(&self, vm: &ResourceRef) -> Result<()> {
        let _ = vm;
        Ok(())
    }

    /// Every record set at `spec.domain` in the zone preflight resolved, of any type
    /// (read-only). Preflight refuses a name held by someone else (see [`crate::dns::foreign`]).
    async fn find_dns_records(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Vec<RecordSet>>;

    /// Points the A record for `spec.domain` at `address` and waits until the cloud says the
    /// change is live. Creation is conditional: it replaces exactly the sets in `replace` (what
    /// preflight read and the user allowed to be taken over) and fails, changing nothing, when
    /// the name holds anything else; an A record already pointing at `address` is kept. The
    /// returned reference carries `replace` (see [`crate::dns::with_replaced`]).
    async fn ensure_dns_record(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
        address: &Address,
        replace: &[RecordSet],
        timeout: Duration,
    ) -> Result<ResourceRef>;

    /// Deletes one resource and waits until it is gone. Not found is success. A DNS record is
    /// deleted only while it still points at the address recorded in its `ip`, and the
    /// record sets it replaced (its `detail`, see [`crate::dns::replaced`]) are put back. A resource
    /// whose `group` names a recorded [`ResourceKind::Group`] is not passed here:
    /// deleting the group deletes it.
    ///
    /// [`ResourceKind::Group`]: crate::ResourceKind::Group
    async fn delete(&self, resource: &ResourceRef, timeout: Duration) -> Result<()>;

    /// Every resource carrying `managed-by=carto-provision`, restricted to one environment
    /// when `env` is given.
    async fn list_tagged(&self, env: Option<&EnvName>) -> Result<Vec<TaggedResource>>;

    /// Every resource an `ensure_*` of `spec` would adopt (read-only): those tagged with its
    /// environment, and those holding one of its deterministic names whoever made them (with
    /// their tags, if any). Preflight refuses any that lacks the environment's nonce (see
    /// [`crate::ownership::foreign`]). Clouds that find every adoptable resource by tag keep
    /// this default.
    async fn find_existing(
        &self,
        spec: &InfraSpec,
        resolved: &Resolved,
    ) -> Result<Vec<TaggedResource>> {
        let _ = resolved;
        self.list_tagged(Some(&spec.env)).await
    }
}
