//! Options, credentials and clients: how the provider reaches Azure Resource Manager.
//!
//! Credentials are tried in the documented order: the environment (client secret or federated
//! token; `AZURE_AUTHORITY_HOST` honoured), then the Azure CLI login, then managed identity
//! (IMDS). The subscription is the option (from the user, or `AZURE_SUBSCRIPTION_ID`) else
//! the Azure CLI's default. Every SDK client is built on one endpoint with pinned scopes,
//! the SDK's own retries off (ours are in [`crate::transport`]) and its pipeline policies.
//! Nothing here creates or reads a resource.

use std::sync::Arc;

use azure_core::auth::{AccessToken, TokenCredential};
use azure_core::{ClientOptions, RetryOptions, Url};
use azure_identity::{
    AzureCliCredential, EnvironmentCredential, TokenCredentialOptions,
    VirtualMachineManagedIdentityCredential,
};
use carto_core::retry::RetryPolicy;
use carto_core::{Input, InvalidInput, Phrase, ProviderError, Result};

use crate::transport::{ApiVersion, ArmStatus, NETWORK_API, RESOURCES_API, Rest};

/// Azure's public Resource Manager endpoint.
pub const ARM_ENDPOINT: &str = "https://management.azure.com";
/// The token scope of Resource Manager, pinned (not derived from the endpoint).
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// Location used when none is given.
pub const DEFAULT_LOCATION: &str = "eastus";

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

/// The credential chain: environment, Azure CLI, managed identity, first success wins.
#[derive(Debug)]
pub struct Chain {
    sources: Vec<(&'static str, Arc<dyn TokenCredential>)>,
}

impl Chain {
    /// The chain from this process's environment.
    pub fn from_env() -> Chain {
        let mut sources: Vec<(&'static str, Arc<dyn TokenCredential>)> = Vec::new();
        let options = TokenCredentialOptions::default();
        if let Ok(c) = EnvironmentCredential::create(options.clone()) {
            sources.push(("environment", Arc::new(c)));
        }
        if let Ok(c) = AzureCliCredential::create() {
            sources.push(("azure cli", Arc::new(c)));
        }
        sources.push((
            "managed identity",
            Arc::new(VirtualMachineManagedIdentityCredential::new(options)),
        ));
        Chain { sources }
    }
}

#[async_trait::async_trait]
impl TokenCredential for Chain {
    async fn get_token(&self, scopes: &[&str]) -> azure_core::Result<AccessToken> {
        let mut failures = Vec::new();
        for (name, source) in &self.sources {
            match source.get_token(scopes).await {
                Ok(token) => return Ok(token),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        Err(azure_core::Error::message(
            azure_core::error::ErrorKind::Credential,
            format!(
                "no Azure credential worked (set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run `az login`): {}",
                failures.join("; ")
            ),
        ))
    }

    async fn clear_cache(&self) -> azure_core::Result<()> {
        for (_, source) in &self.sources {
            source.clear_cache().await?;
        }
        Ok(())
    }
}

/// The SDK clients, the raw pipeline for operation polls, the subscription and retry policy.
#[derive(Clone)]
pub struct Clients {
    /// Compute (VMs, SKUs, images), api-version 2024-07-01.
    pub compute: azure_mgmt_compute::package_2024_07_01::Client,
    /// Network (VNet, NSG, public IP, NIC).
    pub network: azure_mgmt_network::package_2024_03::Client,
    /// DNS zones and record sets, api-version 2018-05-01.
    pub dns: azure_mgmt_dns::package_2018_05::Client,
    /// Resource groups and generic resource lists.
    pub resources: azure_mgmt_resources::package_resources_2021_04::Client,
    /// Subscriptions and their locations.
    pub subscriptions: azure_mgmt_resources::package_subscriptions_2021_01::Client,
    /// Operation polls (`Azure-AsyncOperation` / `Location` URLs) through the same pipeline.
    pub rest: Rest,
    /// The subscription, if one was named or found.
    pub subscription: Option<String>,
    /// Resource group of the DNS zone, if named.
    pub dns_resource_group: Option<String>,
    /// Retries of throttled and transient calls.
    pub policy: RetryPolicy,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("subscription", &self.subscription)
            .field("endpoint", &self.rest.endpoint().as_str())
            .finish()
    }
}

/// SDK options: no SDK retries, errors read by [`ArmStatus`], api-version pinned if given.
fn options(pin: Option<&'static str>) -> ClientOptions {
    let mut options = ClientOptions::default().retry(RetryOptions::none());
    if let Some(version) = pin {
        options
            .per_call_policies_mut()
            .push(Arc::new(ApiVersion(version)));
    }
    options.per_retry_policies_mut().push(Arc::new(ArmStatus));
    options
}

impl Clients {
    /// Clients for `opts` with `credential`.
    pub async fn new(opts: &AzureOptions, credential: Arc<dyn TokenCredential>) -> Result<Self> {
        let raw = opts.endpoint_url.as_deref().unwrap_or(ARM_ENDPOINT);
        let endpoint = Url::parse(raw.trim_end_matches('/')).map_err(|e| {
            ProviderError::invalid(
                "azure:endpoint",
                InvalidInput::new(Input::EndpointUrl, raw, format!("is not a URL ({e})"))
                    .hint("pass http://HOST:PORT"),
            )
        })?;
        let scopes = vec![ARM_SCOPE.to_string()];
        let cred = || credential.clone();
        let subscription = match &opts.subscription {
            Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ if opts.endpoint_url.is_none() => AzureCliCredential::get_subscription().await.ok(),
            _ => None,
        };
        Ok(Clients {
            compute: azure_mgmt_compute::package_2024_07_01::Client::new(
                endpoint.clone(),
                cred(),
                scopes.clone(),
                options(None),
            ),
            // azure_mgmt_network 0.21 is generated for 2024-03-01 only; the contracts are 2024-05-01.
            network: azure_mgmt_network::package_2024_03::Client::new(
                endpoint.clone(),
                cred(),
                scopes.clone(),
                options(Some(NETWORK_API)),
            ),
            dns: azure_mgmt_dns::package_2018_05::Client::new(
                endpoint.clone(),
                cred(),
                scopes.clone(),
                options(None),
            ),
            // azure_mgmt_resources 0.21 is generated for 2021-04-01; the contracts are 2024-03-01.
            resources: azure_mgmt_resources::package_resources_2021_04::Client::new(
                endpoint.clone(),
                cred(),
                scopes.clone(),
                options(Some(RESOURCES_API)),
            ),
            subscriptions: azure_mgmt_resources::package_subscriptions_2021_01::Client::new(
                endpoint.clone(),
                cred(),
                scopes.clone(),
                options(None),
            ),
            rest: Rest::new(endpoint, credential, scopes, options(None)),
            subscription,
            dns_resource_group: opts.dns_resource_group.clone(),
            policy: RetryPolicy::from_env(),
        })
    }

    /// The subscription, or the input error that says how to name one.
    pub fn sub(&self) -> Result<&str> {
        self.subscription.as_deref().ok_or_else(|| {
            ProviderError::invalid(
                "azure:subscription",
                InvalidInput::unnamed(
                    Input::Subscription,
                    Phrase::from("no Azure subscription: pass ")
                        .input(Input::Subscription)
                        .text(" ID or set ")
                        .env(Input::Subscription)
                        .text(" (or choose one with `az account set`)"),
                ),
            )
        })
    }
}
