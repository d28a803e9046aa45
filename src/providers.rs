//! The one place that knows which clouds exist: turns a [`ProviderConfig`] into a
//! `Box<dyn Provider>`. The pipeline never branches on a cloud's name.

use carto_core::{Cloud, Provider, ProviderError};

/// How to reach one cloud: its options struct, without any secret.
#[derive(Clone, Debug)]
pub enum ProviderConfig {
    /// AWS.
    Aws(carto_aws::AwsOptions),
}

impl ProviderConfig {
    /// AWS in `region`, through `endpoint_url` when given (a local emulator).
    pub fn aws(region: &str, endpoint_url: Option<String>) -> Self {
        ProviderConfig::Aws(carto_aws::AwsOptions {
            region: region.to_string(),
            endpoint_url,
        })
    }

    /// Which cloud.
    pub fn cloud(&self) -> Cloud {
        match self {
            ProviderConfig::Aws(_) => Cloud::Aws,
        }
    }

    /// Builds the provider (credentials are read here, from the cloud's usual places).
    pub async fn connect(&self) -> Result<Box<dyn Provider>, ProviderError> {
        Ok(match self {
            ProviderConfig::Aws(opts) => Box::new(carto_aws::AwsProvider::new(opts.clone()).await?),
        })
    }
}

/// Key under which the AWS endpoint override is kept in the state file's `extra`.
const AWS_ENDPOINT: &str = "aws_endpoint_url";

impl ProviderConfig {
    /// Writes what `destroy` and `status` need to reach the same cloud again (region is kept
    /// by the state itself; an emulator endpoint goes in `extra`). Never a credential.
    pub fn remember(&self, extra: &mut std::collections::BTreeMap<String, String>) {
        match self {
            ProviderConfig::Aws(opts) => {
                if let Some(url) = &opts.endpoint_url {
                    extra.insert(AWS_ENDPOINT.into(), url.clone());
                }
            }
        }
    }

    /// The config that reaches the cloud an environment's state file describes.
    pub fn from_state(state: &crate::state::EnvState) -> Result<Self, crate::spec::InputError> {
        match state.cloud {
            Cloud::Aws => Ok(ProviderConfig::aws(
                &state.region,
                state.extra.get(AWS_ENDPOINT).cloned(),
            )),
            other => Err(crate::spec::InputError(format!(
                "environment {} is on {other}, which this build of carto-provision does not support yet: upgrade carto-provision",
                state.name
            ))),
        }
    }
}
