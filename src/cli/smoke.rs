//! PLACEHOLDER: `smoke` flags (owned by the smoke work).

use std::path::PathBuf;

use clap::Args;

use super::CloudArg;

/// `smoke` flags.
#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// Clouds to deploy to, one environment each, at once.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "aws,gcp,azure"
    )]
    pub clouds: Vec<CloudArg>,
    /// Each environment's domain is `<cloud>-<id>.<suffix>`.
    #[arg(long, value_name = "SUFFIX")]
    pub domain_suffix: String,
    /// Installation package folder holding customer.env and key.json.
    #[arg(long, value_name = "DIR")]
    pub package: PathBuf,
}
