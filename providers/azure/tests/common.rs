//! A fake Resource Manager with one subscription and the DNS zone `test` in resource group
//! `dns-rg`, a provider pointed at it with a token the fake issued, and a spec.

use std::sync::Arc;

use azure_core::auth::{AccessToken, Secret, TokenCredential};
use carto_azure::{AzureOptions, AzureProvider};
use carto_core::InfraSpec;
use carto_core::retry::RetryPolicy;
use carto_fake_azure::{FakeConfig, FakeServer, FakeState};
use serde_json::json;

pub const SUB: &str = "00000000-0000-0000-0000-0000000c0de1";
pub const IP: &str = "127.0.0.2";

/// A credential handing out tokens the fake issued.
#[derive(Debug)]
pub struct FakeToken(pub FakeState);

#[async_trait::async_trait]
impl TokenCredential for FakeToken {
    async fn get_token(&self, _: &[&str]) -> azure_core::Result<AccessToken> {
        let expires = azure_core::date::parse_rfc3339("2999-01-01T00:00:00Z")?;
        Ok(AccessToken::new(Secret::new(self.0.issue_token()), expires))
    }
    async fn clear_cache(&self) -> azure_core::Result<()> {
        Ok(())
    }
}

pub async fn fake() -> FakeServer {
    let fake = FakeServer::start(FakeConfig {
        subscriptions: vec![SUB.to_string()],
        lro_polls: 2,
        public_ip: IP.parse().unwrap(),
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts");
    let rg = format!("/subscriptions/{SUB}/resourceGroups/dns-rg");
    let (s, b) = fake.call(
        "PUT",
        &format!("{rg}?api-version=2024-03-01"),
        Some(&json!({"location": "eastus"})),
    );
    assert!(s < 300, "{s} {b}");
    let zone = format!("{rg}/providers/Microsoft.Network/dnsZones/test?api-version=2018-05-01");
    let (s, b) = fake.call("PUT", &zone, Some(&json!({"location": "global"})));
    assert!(s < 300, "{s} {b}");
    fake
}

pub async fn provider_for(fake: &FakeServer, subscription: Option<&str>) -> AzureProvider {
    let opts = AzureOptions {
        subscription: subscription.map(str::to_string),
        dns_resource_group: None,
        endpoint_url: Some(fake.url().to_string()),
    };
    AzureProvider::with_credential(opts, Arc::new(FakeToken(fake.state().clone())))
        .await
        .expect("provider")
        .with_retry_policy(RetryPolicy {
            base_delay: std::time::Duration::from_millis(5),
            max_delay: std::time::Duration::from_millis(50),
            ..RetryPolicy::default()
        })
}

pub async fn provider(fake: &FakeServer) -> AzureProvider {
    provider_for(fake, Some(SUB)).await
}

pub fn spec(env: &str) -> InfraSpec {
    InfraSpec {
        disk_gb: 100,
        ..carto_core::testing::infra_spec(env, "carto.test", "eastus")
    }
}

/// How many requests changed something (PUT or DELETE) so far.
pub fn writes(state: &FakeState) -> usize {
    state
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" || r.method == "DELETE")
        .count()
}
