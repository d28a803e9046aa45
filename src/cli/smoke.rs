//! `smoke` flags: which clouds, how the environments are named, where the reports go, and the
//! deployment flags forwarded unchanged to every cloud's deployment. Per-cloud settings
//! (region, project, subscription, endpoints) are not flags here: each deployment reads them
//! from its own environment variables, which it inherits (see `carto-provision aws --help`).

use std::path::PathBuf;

use clap::Args;

use super::{CloudArg, DockerSourceArg, ProfileArg};

/// `smoke` flags.
#[derive(Debug, Args)]
#[command(after_help = "\
Each cloud's environment is `smoke-<cloud>-<run id>` with the domain `<cloud>-<run id>.<suffix>`; \
all are deployed at once, verified, then destroyed (also after a failure or Ctrl-C), and the \
cloud is searched by tag for anything left. Every deployment's and destroy's output is kept in \
<state dir>/smoke-<run id>/.

Exit status: 0 when every cloud passed and nothing was left behind; 1 when a cloud failed, a \
resource was left behind or the run was interrupted (the table and the report say which); \
2 for bad input, before anything was created.")]
pub struct SmokeArgs {
    /// Clouds to deploy to, one environment each, at once.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "aws,gcp,azure"
    )]
    pub clouds: Vec<CloudArg>,
    /// Each environment's domain is `<cloud>-<run id>.<suffix>` (a DNS zone each cloud serves).
    #[arg(long, value_name = "SUFFIX")]
    pub domain_suffix: String,
    /// Installation package folder holding customer.env and key.json.
    #[arg(long, value_name = "DIR")]
    pub package: PathBuf,
    /// The run's id in every name: lowercase letters and digits [default: 6 random hex digits].
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Keep the environments (for debugging) instead of destroying them.
    #[arg(long)]
    pub keep: bool,
    /// Write the run's report as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Write the run as a JUnit XML test suite (one test case per cloud) to this file.
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,
    /// Every environment's time to live (its --ttl): should the smoke itself be killed before
    /// it destroys them, `gc --yes` collects them once this has passed.
    #[arg(long, value_name = "DURATION", default_value = "6h")]
    pub ttl: String,
    #[command(flatten)]
    pub forward: ForwardArgs,
}

/// Deployment flags passed on to every cloud's deployment when given (otherwise each
/// deployment takes its own default or environment variable).
#[derive(Debug, Default, Args)]
pub struct ForwardArgs {
    /// Address range allowed to SSH in [default: this machine's public address as /32].
    #[arg(long, value_name = "CIDR")]
    pub ssh_cidr: Option<String>,
    /// Size profile of every VM.
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
    /// carto-selfhosted release tag to install.
    #[arg(long, value_name = "TAG")]
    pub selfhosted_version: Option<String>,
    /// Git repository the VMs clone carto-selfhosted from.
    #[arg(long, value_name = "URL")]
    pub selfhosted_repo: Option<String>,
    /// Where Docker comes from on the VMs.
    #[arg(long, value_enum)]
    pub docker_source: Option<DockerSourceArg>,
    /// Docker's apt repository for Ubuntu (with --docker-source docker).
    #[arg(long, value_name = "URL")]
    pub docker_apt_url: Option<String>,
    /// How long each deployment waits for SSH, in seconds.
    #[arg(long, value_name = "SECS")]
    pub ssh_timeout: Option<u64>,
    /// How long each deployment waits for every CARTO service, in seconds.
    #[arg(long, value_name = "SECS")]
    pub healthy_timeout: Option<u64>,
}
