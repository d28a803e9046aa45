//! The provider's options and the SDK clients built from them: one shared SDK configuration
//! (credentials from the default chain, or static ones in tests; an endpoint override in
//! tests), the SDK's own retries switched off, and per-region EC2/SSM clients made on demand.
//! Also the region check preflight runs first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::Credentials;
use carto_core::retry::RetryPolicy;
use carto_core::{Input, InvalidInput, ProviderError, Result};

use crate::send::send;

/// Region used when the user names none, and for account-wide calls (DescribeRegions, Route53).
pub const DEFAULT_REGION: &str = "us-east-1";

/// What the CLI hands the AWS provider. No credentials: those come from the default chain
/// (environment, profile, SSO, instance metadata).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// Region the environment lives in (`us-east-1` when empty).
    pub region: String,
    /// Endpoint for EC2, Route53 and SSM alike; only tests set it (a local emulator). With it,
    /// credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` only.
    pub endpoint_url: Option<String>,
}

/// The SDK configuration every client is built from, plus our retry policy.
#[derive(Clone, Debug)]
pub(crate) struct Clients {
    sdk: SdkConfig,
    /// Retries throttling and transient faults (the SDK itself makes one attempt).
    pub policy: RetryPolicy,
    /// Each region's default VPC id once looked up (`network::default_vpc`): preflight,
    /// `find_existing` and the security group all need it, and it does not move during a run.
    pub default_vpcs: Arc<Mutex<HashMap<String, String>>>,
}

impl Clients {
    /// Loads the shared configuration; `credentials` replaces the default chain when given.
    pub async fn load(opts: &AwsOptions, credentials: Option<Credentials>) -> Clients {
        let region = if opts.region.is_empty() {
            DEFAULT_REGION.to_string()
        } else {
            opts.region.clone()
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region))
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(url) = &opts.endpoint_url {
            // A local emulator: credentials from the environment only, so the default chain
            // never reaches for instance metadata (169.254.169.254) off this machine.
            loader = loader
                .endpoint_url(url)
                .credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        if let Some(credentials) = credentials {
            loader = loader.credentials_provider(credentials);
        }
        Clients {
            sdk: loader.load().await,
            policy: RetryPolicy::from_env(),
            default_vpcs: Arc::default(),
        }
    }

    /// An EC2 client for `region`.
    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// An SSM client for `region`.
    pub fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }

    /// The Route53 client (a global service).
    pub fn route53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.sdk)
    }
}

/// Checks that `region` is one this account can use. DescribeRegions is asked in
/// [`DEFAULT_REGION`]: a client for an unknown region has no endpoint to reach.
pub async fn check_region(clients: &Clients, region: &str) -> Result<()> {
    let ec2 = clients.ec2(DEFAULT_REGION);
    let out = send(&clients.policy, "ec2:DescribeRegions", || {
        ec2.describe_regions().send()
    })
    .await?;
    let names: Vec<&str> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name())
        .collect();
    if names.contains(&region) {
        return Ok(());
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    Err(ProviderError::invalid(
        "ec2:DescribeRegions",
        InvalidInput::new(
            Input::Region,
            region,
            "is not an AWS region this account can use",
        )
        .hint(format!("choose one of {}", sorted.join(", "))),
    ))
}
