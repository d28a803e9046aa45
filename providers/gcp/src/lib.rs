//! PLACEHOLDER being replaced by the gcp provider; only its public interface is fixed here.

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
        "gcp",
        "the gcp provider is not written yet",
    ))
}

/// How to reach Google Cloud.
#[derive(Clone, Debug, Default)]
pub struct GcpOptions {
    /// Project; `None` means the one Application Default Credentials name.
    pub project: Option<String>,
    /// Base URL replacing Google's API endpoints (a local emulator).
    pub endpoint_url: Option<String>,
}

/// The Google Cloud implementation of [`Provider`].
#[derive(Clone, Debug)]
pub struct GcpProvider;

impl GcpProvider {
    /// A provider using Application Default Credentials.
    pub async fn new(_opts: GcpOptions) -> Result<GcpProvider> {
        Ok(GcpProvider)
    }
}

#[async_trait]
impl Provider for GcpProvider {
    fn cloud(&self) -> Cloud {
        Cloud::Gcp
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
