//! PLACEHOLDER being replaced by the azure provider; only its public interface is fixed here.

use std::time::Duration;

use async_trait::async_trait;
use carto_core::{
    Address, Cloud, EnvName, ErrorKind, InfraSpec, Provider, ProviderError, Resolved, ResourceRef,
    Result, TaggedResource,
};

/// Not written yet.
fn unsupported<T>() -> Result<T> {
    Err(ProviderError::new(
        ErrorKind::InvalidInput,
        "azure",
        "the azure provider is not written yet",
    ))
}

/// How to reach Azure.
#[derive(Clone, Debug, Default)]
pub struct AzureOptions {
    /// Subscription id; `None` means the one the environment or the Azure CLI names.
    pub subscription: Option<String>,
    /// Resource group of the DNS zone; `None` means found with the zone.
    pub dns_resource_group: Option<String>,
    /// Base URL replacing Azure Resource Manager (a local emulator).
    pub endpoint_url: Option<String>,
}

/// The Azure implementation of [`Provider`].
#[derive(Clone, Debug)]
pub struct AzureProvider;

impl AzureProvider {
    /// A provider using the environment's credentials, the Azure CLI login or managed identity.
    pub async fn new(_opts: AzureOptions) -> Result<AzureProvider> {
        Ok(AzureProvider)
    }
}

#[async_trait]
impl Provider for AzureProvider {
    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }
    async fn preflight(&self, _spec: &InfraSpec) -> Result<Resolved> {
        unsupported()
    }
    async fn ensure_ssh_key(&self, _: &InfraSpec, _: &Resolved) -> Result<Option<ResourceRef>> {
        unsupported()
    }
    async fn ensure_firewall(&self, _: &InfraSpec, _: &Resolved) -> Result<Vec<ResourceRef>> {
        unsupported()
    }
    async fn ensure_address(&self, _: &InfraSpec, _: &Resolved) -> Result<Address> {
        unsupported()
    }
    async fn ensure_vm(
        &self,
        _: &InfraSpec,
        _: &Resolved,
        _: &[ResourceRef],
        _: &Address,
    ) -> Result<ResourceRef> {
        unsupported()
    }
    async fn wait_vm_ready(&self, _: &ResourceRef, _: &Address, _: Duration) -> Result<()> {
        unsupported()
    }
    async fn ensure_dns_record(
        &self,
        _: &InfraSpec,
        _: &Resolved,
        _: &Address,
        _: Duration,
    ) -> Result<ResourceRef> {
        unsupported()
    }
    async fn delete(&self, _: &ResourceRef, _: Duration) -> Result<()> {
        unsupported()
    }
    async fn list_tagged(&self, _: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
        unsupported()
    }
}
