//! Shared setup for the AWS tests: a moto server, a provider pointed at it, a spec, and raw
//! SDK clients (test-only) to look at what the provider made.

use std::net::Ipv4Addr;
use std::time::Duration;

use carto_aws::{AwsOptions, AwsProvider};
use carto_core::InfraSpec;
use carto_core::retry::RetryPolicy;
use carto_harness::moto::Moto;

pub use carto_core::testing::OPERATOR_CIDR;

pub const REGION: &str = "us-east-1";

/// A moto server plus a provider and SDK clients pointed at it.
pub struct Env {
    pub moto: Moto,
    pub provider: AwsProvider,
    pub ec2: aws_sdk_ec2::Client,
    pub r53: aws_sdk_route53::Client,
}

/// A short retry policy so failures show quickly.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

/// SDK configuration for `endpoint` with test credentials.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// Starts moto handing out `vm_ip` and builds the provider and clients.
pub async fn start(vm_ip: Ipv4Addr) -> Env {
    let moto = tokio::task::spawn_blocking(move || Moto::start(vm_ip))
        .await
        .expect("join")
        .expect("moto starts");
    let provider = provider_at(&moto.endpoint()).await;
    let sdk = sdk_config(&moto.endpoint()).await;
    Env {
        ec2: aws_sdk_ec2::Client::new(&sdk),
        r53: aws_sdk_route53::Client::new(&sdk),
        moto,
        provider,
    }
}

/// A provider sending every call to `endpoint`, with test credentials and [`fast_retry`].
pub async fn provider_at(endpoint: &str) -> AwsProvider {
    AwsProvider::with_static_credentials(
        AwsOptions {
            region: REGION.into(),
            endpoint_url: Some(endpoint.into()),
        },
        "testing",
        "testing",
    )
    .await
    .expect("provider")
    .with_retry_policy(fast_retry())
}

/// The spec of environment `env` for `domain`.
pub fn spec(env: &str, domain: &str) -> InfraSpec {
    carto_core::testing::infra_spec(env, domain, REGION)
}

impl Env {
    /// Creates a public hosted zone; returns its bare id.
    pub async fn create_zone(&self, name: &str) -> String {
        let out = self
            .r53
            .create_hosted_zone()
            .name(name)
            .caller_reference(format!("test-{name}"))
            .send()
            .await
            .expect("create hosted zone");
        let id = out.hosted_zone().expect("zone").id();
        id.rsplit('/').next().unwrap_or(id).to_string()
    }

    /// Counts of (live instances, security groups other than default, Elastic IPs, key pairs).
    pub async fn counts(&self) -> (usize, usize, usize, usize) {
        let instances = self
            .ec2
            .describe_instances()
            .send()
            .await
            .expect("describe instances");
        let live = instances
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated"))
            .count();
        let sgs = self
            .ec2
            .describe_security_groups()
            .send()
            .await
            .expect("describe sgs");
        let sgs = sgs
            .security_groups()
            .iter()
            .filter(|g| g.group_name() != Some("default"))
            .count();
        let eips = self.ec2.describe_addresses().send().await.expect("eips");
        let keys = self.ec2.describe_key_pairs().send().await.expect("keys");
        (live, sgs, eips.addresses().len(), keys.key_pairs().len())
    }
}
