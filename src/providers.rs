//! The one place that knows which clouds exist: turns a [`ProviderConfig`] into a
//! `Box<dyn Provider>`. The pipeline never branches on a cloud's name.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use carto_core::{
    Address, Cloud, EnvName, InfraSpec, Planned, Provider, ProviderError, RecordSet, Resolved,
    ResourceRef, Result, TaggedResource,
};

use crate::input::{InputError, with_flags};
use crate::state::EnvState;

/// How to reach one cloud: its options struct, without any secret.
#[derive(Clone, Debug)]
pub enum ProviderConfig {
    /// AWS.
    Aws(carto_aws::AwsOptions),
    /// Google Cloud.
    Gcp(carto_gcp::GcpOptions),
    /// Azure.
    Azure(carto_azure::AzureOptions),
}

/// Keys under which what reaches the cloud again is kept in the state file's `extra`.
const AWS_ENDPOINT: &str = "aws_endpoint_url";
const GCP_PROJECT: &str = "gcp_project";
const GCP_ENDPOINT: &str = "gcp_endpoint_url";
const AZURE_SUBSCRIPTION: &str = "azure_subscription";
const AZURE_DNS_GROUP: &str = "azure_dns_resource_group";
const AZURE_ENDPOINT: &str = "azure_endpoint_url";

impl ProviderConfig {
    /// AWS in `region`, through `endpoint_url` when given (a local emulator).
    pub fn aws(region: &str, endpoint_url: Option<String>) -> Self {
        ProviderConfig::Aws(carto_aws::AwsOptions {
            region: region.to_string(),
            endpoint_url,
        })
    }

    /// Google Cloud `project` (else the credentials' project), through `endpoint_url` when given.
    pub fn gcp(project: Option<String>, endpoint_url: Option<String>) -> Self {
        ProviderConfig::Gcp(carto_gcp::GcpOptions {
            project,
            endpoint_url,
        })
    }

    /// Azure `subscription` (else the environment's), through `endpoint_url` when given.
    pub fn azure(
        subscription: Option<String>,
        dns_resource_group: Option<String>,
        endpoint_url: Option<String>,
    ) -> Self {
        ProviderConfig::Azure(carto_azure::AzureOptions {
            subscription,
            dns_resource_group,
            endpoint_url,
        })
    }

    /// Which cloud.
    pub fn cloud(&self) -> Cloud {
        match self {
            ProviderConfig::Aws(_) => Cloud::Aws,
            ProviderConfig::Gcp(_) => Cloud::Gcp,
            ProviderConfig::Azure(_) => Cloud::Azure,
        }
    }

    /// Builds the provider (credentials are read here, from the cloud's usual places). Its
    /// refusals of bad input name the CLI's flags (see [`crate::input`]).
    pub async fn connect(&self) -> Result<Box<dyn Provider>, ProviderError> {
        let inner: Box<dyn Provider> = match self {
            ProviderConfig::Aws(opts) => Box::new(
                carto_aws::AwsProvider::new(opts.clone())
                    .await
                    .map_err(with_flags)?,
            ),
            ProviderConfig::Gcp(opts) => Box::new(
                carto_gcp::GcpProvider::new(opts.clone())
                    .await
                    .map_err(with_flags)?,
            ),
            ProviderConfig::Azure(opts) => Box::new(
                carto_azure::AzureProvider::new(opts.clone())
                    .await
                    .map_err(with_flags)?,
            ),
        };
        Ok(Box::new(Flagged(inner)))
    }

    /// Writes what `destroy` and `status` need to reach the same cloud again (the region is
    /// kept by the state itself; project, subscription and emulator endpoints go in `extra`).
    /// Never a credential.
    pub fn remember(&self, extra: &mut BTreeMap<String, String>) {
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(value) = value {
                extra.insert(key.into(), value.clone());
            }
        };
        match self {
            ProviderConfig::Aws(opts) => put(AWS_ENDPOINT, &opts.endpoint_url),
            ProviderConfig::Gcp(opts) => {
                put(GCP_PROJECT, &opts.project);
                put(GCP_ENDPOINT, &opts.endpoint_url);
            }
            ProviderConfig::Azure(opts) => {
                put(AZURE_SUBSCRIPTION, &opts.subscription);
                put(AZURE_DNS_GROUP, &opts.dns_resource_group);
                put(AZURE_ENDPOINT, &opts.endpoint_url);
            }
        }
    }

    /// The config that reaches the cloud an environment's state file describes.
    pub fn from_state(state: &EnvState) -> Result<Self, InputError> {
        let get = |key: &str| state.extra.get(key).cloned();
        Ok(match state.cloud {
            Cloud::Aws => ProviderConfig::aws(&state.region, get(AWS_ENDPOINT)),
            Cloud::Gcp => ProviderConfig::gcp(get(GCP_PROJECT), get(GCP_ENDPOINT)),
            Cloud::Azure => ProviderConfig::azure(
                get(AZURE_SUBSCRIPTION),
                get(AZURE_DNS_GROUP),
                get(AZURE_ENDPOINT),
            ),
        })
    }
}

/// A provider whose errors word refused inputs with the CLI's flags: every call is passed on
/// as it is, default methods included, and only the error's message is rendered anew. Each
/// call is also a span of the run's timeline ([`crate::timeline`]).
struct Flagged(Box<dyn Provider>);

/// Times `call` as the cloud call `name` and words its refusal with the CLI's flags.
async fn call<T>(name: &str, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    crate::timeline::cloud(name, call).await.map_err(with_flags)
}

#[async_trait]
impl Provider for Flagged {
    fn cloud(&self) -> Cloud {
        self.0.cloud()
    }

    fn planned(&self, spec: &InfraSpec, resolved: &Resolved) -> Vec<Planned> {
        self.0.planned(spec, resolved)
    }

    async fn preflight(&self, spec: &InfraSpec) -> Result<Resolved> {
        call("preflight", self.0.preflight(spec)).await
    }

    async fn ensure_ssh_key(&self, spec: &InfraSpec, r: &Resolved) -> Result<Option<ResourceRef>> {
        call("ensure_ssh_key", self.0.ensure_ssh_key(spec, r)).await
    }

    async fn ensure_network(&self, spec: &InfraSpec, r: &Resolved) -> Result<Vec<ResourceRef>> {
        call("ensure_network", self.0.ensure_network(spec, r)).await
    }

    async fn ensure_subnet(&self, spec: &InfraSpec, r: &Resolved) -> Result<Vec<ResourceRef>> {
        call("ensure_subnet", self.0.ensure_subnet(spec, r)).await
    }

    async fn ensure_firewall(&self, spec: &InfraSpec, r: &Resolved) -> Result<Vec<ResourceRef>> {
        call("ensure_firewall", self.0.ensure_firewall(spec, r)).await
    }

    async fn ensure_address(&self, spec: &InfraSpec, r: &Resolved) -> Result<Address> {
        call("ensure_address", self.0.ensure_address(spec, r)).await
    }

    async fn ensure_vm(
        &self,
        spec: &InfraSpec,
        r: &Resolved,
        firewall: &[ResourceRef],
        address: &Address,
    ) -> Result<ResourceRef> {
        call("ensure_vm", self.0.ensure_vm(spec, r, firewall, address)).await
    }

    async fn wait_vm_ready(&self, vm: &ResourceRef, a: &Address, timeout: Duration) -> Result<()> {
        call("wait_vm_ready", self.0.wait_vm_ready(vm, a, timeout)).await
    }

    async fn attach_address(&self, vm: &ResourceRef, a: &Address) -> Result<()> {
        call("attach_address", self.0.attach_address(vm, a)).await
    }

    async fn forget_user_data(&self, vm: &ResourceRef) -> Result<()> {
        call("forget_user_data", self.0.forget_user_data(vm)).await
    }

    async fn find_dns_records(&self, spec: &InfraSpec, r: &Resolved) -> Result<Vec<RecordSet>> {
        call("find_dns_records", self.0.find_dns_records(spec, r)).await
    }

    async fn ensure_dns_record(
        &self,
        spec: &InfraSpec,
        r: &Resolved,
        address: &Address,
        replace: &[RecordSet],
        timeout: Duration,
    ) -> Result<ResourceRef> {
        let record = self.0.ensure_dns_record(spec, r, address, replace, timeout);
        call("ensure_dns_record", record).await
    }

    async fn delete(&self, resource: &ResourceRef, timeout: Duration) -> Result<()> {
        call(
            &format!("delete {}", resource.kind),
            self.0.delete(resource, timeout),
        )
        .await
    }

    async fn list_tagged(&self, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
        call("list_tagged", self.0.list_tagged(env)).await
    }

    async fn find_existing(&self, spec: &InfraSpec, r: &Resolved) -> Result<Vec<TaggedResource>> {
        call("find_existing", self.0.find_existing(spec, r)).await
    }
}
