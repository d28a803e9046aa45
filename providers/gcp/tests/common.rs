//! Shared setup for the GCP tests: a fake with the project and two managed zones, a provider
//! pointed at it, a spec, and read-back helpers on the fake's state.

#![allow(dead_code)]

use std::time::Duration;

use carto_core::retry::RetryPolicy;
use carto_core::{EnvName, InfraSpec, Profile, firewall_rules};
use carto_fake_gcp::{Config, FakeServer, TOKEN_PATH};
use carto_gcp::{GcpOptions, GcpProvider};
use serde_json::{Value, json};

pub const PROJECT: &str = "test-proj";
pub const ZONE: &str = "us-central1-a";
/// The operator's address the SSH rule must name (TEST-NET-3, never contacted).
pub const OPERATOR_CIDR: &str = "203.0.113.7/32";
/// A throwaway ed25519 public key (its private half was deleted when made).
pub const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK/DHYONxZhsQB3L0cAuWbfaPKswFft9LeMg4jJ+Yzsq carto-test";
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
    InfraSpec {
        env: EnvName::parse(env).expect("valid env name"),
        domain: domain.into(),
        region: ZONE.into(),
        machine_type: None,
        profile: Profile::Default,
        disk_gb: 60,
        disk_type: None,
        dns_zone: None,
        network: None,
        firewall: firewall_rules(OPERATOR_CIDR),
        ssh_public_key: PUBLIC_KEY.into(),
        user_data: format!("#cloud-config\nssh_authorized_keys:\n  - {PUBLIC_KEY}\n"),
        nonce: format!("nonce-{env}"),
        created: 1_795_710_422,
        expires: None,
    }
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
