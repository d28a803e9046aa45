//! Shared setup for the GCP tests: a fake with the project and two managed zones, a provider
//! pointed at it, a spec, and read-back helpers on the fake's state.

#![allow(dead_code)]

use std::time::Duration;

use carto_core::InfraSpec;
use carto_core::retry::RetryPolicy;
use carto_fake_gcp::{Config, FakeServer, TOKEN_PATH};
use carto_gcp::{GcpOptions, GcpProvider};
use serde_json::{Value, json};

pub use carto_core::testing::{OPERATOR_CIDR, PUBLIC_KEY};

pub const PROJECT: &str = "test-proj";
pub const ZONE: &str = "us-central1-a";
/// The address the fake hands out (nothing is ever sent to it).
pub const VM_IP: &str = "127.0.0.78";

/// A fake plus a provider pointed at it.
pub struct Env {
    pub fake: FakeServer,
    pub provider: GcpProvider,
}

/// A short retry policy so failures show quickly.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

/// Starts the fake (operations take two polls, DNS changes one) with project [`PROJECT`]
/// and the public zones `example.com.` and `sub.example.com.`.
pub async fn start() -> Env {
    let fake = FakeServer::start(Config {
        address_ip: VM_IP.into(),
        ..Config::default()
    })
    .await
    .expect("fake starts");
    let state = fake.state();
    state.add_project(PROJECT);
    state.add_managed_zone(PROJECT, "example-zone", "example.com.");
    state.add_managed_zone(PROJECT, "sub-zone", "sub.example.com.");
    let provider = provider_at(&fake.url(), Some(PROJECT)).await;
    Env { fake, provider }
}

/// Test `authorized_user` credentials whose token endpoint is the fake at `url`.
pub fn credentials(url: &str) -> Value {
    json!({
        "type": "authorized_user",
        "client_id": "carto-test-client",
        "client_secret": "carto-test-client-secret",
        "refresh_token": "carto-test-refresh-token",
        "token_uri": format!("{url}{TOKEN_PATH}"),
    })
}

/// A provider sending every call to `url`, in `project`, with [`fast_retry`].
pub async fn provider_at(url: &str, project: Option<&str>) -> GcpProvider {
    GcpProvider::with_authorized_user(
        GcpOptions {
            project: project.map(String::from),
            endpoint_url: Some(url.to_string()),
        },
        credentials(url),
    )
    .await
    .expect("provider")
    .with_retry_policy(fast_retry())
}

/// The spec of environment `env` for `domain`.
pub fn spec(env: &str, domain: &str) -> InfraSpec {
    carto_core::testing::infra_spec(env, domain, ZONE)
}

impl Env {
    /// Resources of one kind in the fake (`instances`, `disks`, `addresses`, `firewalls`).
    pub fn resources(&self, kind: &str) -> Vec<Value> {
        self.fake.state().resources(kind)
    }

    /// How many requests mapped to `method_id`.
    pub fn calls(&self, method_id: &str) -> usize {
        self.fake.state().calls(method_id)
    }

    /// Every insert the fake was sent, of any kind.
    pub fn inserts(&self) -> usize {
        self.fake
            .state()
            .requests()
            .iter()
            .filter(|r| {
                r.method_id
                    .as_deref()
                    .is_some_and(|m| m.ends_with(".insert") || m == "dns.changes.create")
            })
            .count()
    }

    /// The firewall rules in the fake but the `default` network's own (`default-allow-*`).
    pub fn rules(&self) -> Vec<Value> {
        let all = self.resources("firewalls").into_iter();
        all.filter(|r| {
            !r["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("default-"))
        })
        .collect()
    }

    /// Everything that exists in the fake's Compute state: (instances, disks, addresses,
    /// firewall rules but the default network's).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.resources("instances").len(),
            self.resources("disks").len(),
            self.resources("addresses").len(),
            self.rules().len(),
        )
    }

    /// The A records of a zone as `(name, rrdatas)`.
    pub fn a_records(&self, zone: &str) -> Vec<(String, Vec<String>)> {
        self.fake
            .state()
            .record_sets(PROJECT, zone)
            .iter()
            .filter(|r| r["type"] == "A")
            .map(|r| {
                let datas = r["rrdatas"].as_array().cloned().unwrap_or_default();
                (
                    r["name"].as_str().unwrap_or_default().to_string(),
                    datas
                        .iter()
                        .map(|d| d.as_str().unwrap_or_default().to_string())
                        .collect(),
                )
            })
            .collect()
    }
}
