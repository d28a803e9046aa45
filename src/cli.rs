//! The command line: clap structs and nothing else. Every flag can also come from a
//! `CARTO_PROVISION_*` environment variable. `spec.rs` turns these raw values into a
//! validated `Spec`; nothing after that sees a raw flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod smoke;
pub use smoke::SmokeArgs;

/// Create a CARTO Self-Hosted VM in your cloud, install CARTO on it, and verify it answers.
#[derive(Debug, Parser)]
#[command(name = "carto-provision", version, about, max_term_width = 100)]
pub struct Cli {
    /// Print one JSON event per line instead of progress lines.
    #[arg(long, global = true, env = "CARTO_PROVISION_JSON")]
    pub json: bool,
    /// Where environment state files and keys live [default: $XDG_STATE_HOME/carto-provision].
    #[arg(
        long,
        global = true,
        env = "CARTO_PROVISION_STATE_DIR",
        value_name = "DIR"
    )]
    pub state_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or resume) an environment on AWS, install CARTO and verify HTTPS.
    Aws(AwsArgs),
    /// Create (or resume) an environment on Google Cloud, install CARTO and verify HTTPS.
    Gcp(GcpArgs),
    /// Create (or resume) an environment on Azure, install CARTO and verify HTTPS.
    Azure(AzureArgs),
    /// Show everything a deployment would create, with sizes, firewall and DNS; change nothing.
    Plan {
        #[command(subcommand)]
        target: PlanTarget,
    },
    /// Delete every resource an environment's state file records, then the state file; without
    /// a state file, every resource tagged with the environment on `--cloud`.
    Destroy(DestroyArgs),
    /// Show an environment's resources, address and whether HTTPS answers.
    Status(NameArgs),
    /// List the environments this machine has state for.
    List,
    /// List every environment found by tag in the clouds, with its age and expiry; with --yes,
    /// destroy those whose --ttl has passed (never one without a ttl, unless --include names it).
    Gc(GcArgs),
    /// Deploy one environment per cloud at once, verify each, always tear them down, report.
    Smoke(SmokeArgs),
}

/// The cloud a plan is for.
#[derive(Debug, Subcommand)]
pub enum PlanTarget {
    /// Plan an AWS deployment.
    Aws(AwsArgs),
    /// Plan a Google Cloud deployment.
    Gcp(GcpArgs),
    /// Plan an Azure deployment.
    Azure(AzureArgs),
}

/// An environment name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// Environment name (as `list` shows it; by default the domain with dots as dashes).
    pub name: String,
}

/// `destroy` flags.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Environment name (as `list` shows it; by default the domain with dots as dashes).
    pub name: String,
    /// Without a state file: find the environment's resources by tag on this cloud.
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// With --cloud, when two environments of this name exist: the `carto-nonce` of the one to
    /// destroy (the refusal lists them).
    #[arg(long, requires = "cloud")]
    pub nonce: Option<String>,
    #[command(flatten)]
    pub access: CloudAccess,
}

/// `gc` flags.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only environments at least this old (e.g. 24h, 90m, 7d), besides having expired.
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Also collect these environments, which have no ttl (or have not expired yet).
    #[arg(long, value_name = "NAME", num_args = 1.., value_delimiter = ',')]
    pub include: Vec<String>,
    /// Clouds to look in.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "aws,gcp,azure"
    )]
    pub clouds: Vec<CloudArg>,
    /// Destroy the expired environments (without it, only list).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub access: CloudAccess,
}

/// Where to look for tagged resources when no state file says (destroy --cloud, gc).
#[derive(Debug, Args)]
pub struct CloudAccess {
    /// AWS region, Azure location or GCP zone to look in [default: the cloud's deploy default].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Google Cloud project.
    #[arg(long, env = "CLOUDSDK_CORE_PROJECT")]
    pub project: Option<String>,
    /// Azure subscription.
    #[arg(long, env = "AZURE_SUBSCRIPTION_ID")]
    pub subscription: Option<String>,
    /// AWS endpoint override (a local emulator).
    #[arg(
        long,
        env = "CARTO_PROVISION_AWS_ENDPOINT_URL",
        value_name = "URL",
        hide = true
    )]
    pub aws_endpoint_url: Option<String>,
    /// Google Cloud endpoint override (a local emulator).
    #[arg(
        long,
        env = "CARTO_PROVISION_GCP_ENDPOINT_URL",
        value_name = "URL",
        hide = true
    )]
    pub gcp_endpoint_url: Option<String>,
    /// Azure endpoint override (a local emulator).
    #[arg(
        long,
        env = "CARTO_PROVISION_AZURE_ENDPOINT_URL",
        value_name = "URL",
        hide = true
    )]
    pub azure_endpoint_url: Option<String>,
}

/// A cloud, as `--cloud` / `--clouds` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
}

impl From<CloudArg> for carto_core::Cloud {
    fn from(cloud: CloudArg) -> carto_core::Cloud {
        match cloud {
            CloudArg::Aws => carto_core::Cloud::Aws,
            CloudArg::Gcp => carto_core::Cloud::Gcp,
            CloudArg::Azure => carto_core::Cloud::Azure,
        }
    }
}

/// Flags of an AWS deployment.
#[derive(Debug, Args)]
pub struct AwsArgs {
    #[command(flatten)]
    pub common: DeployArgs,
    /// AWS region.
    #[arg(long, env = "CARTO_PROVISION_REGION", default_value = "us-east-1")]
    pub region: String,
    /// EC2 instance type [default: m6i.2xlarge for --profile default, m6i.xlarge for min].
    #[arg(
        long,
        env = "CARTO_PROVISION_INSTANCE_TYPE",
        conflicts_with = "profile"
    )]
    pub instance_type: Option<String>,
    /// Send AWS API calls to this endpoint (a local emulator) instead of AWS.
    #[arg(long, env = "CARTO_PROVISION_AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// Flags of a Google Cloud deployment.
#[derive(Debug, Args)]
pub struct GcpArgs {
    #[command(flatten)]
    pub common: DeployArgs,
    /// Project to create the environment in [default: from Application Default Credentials].
    #[arg(long, env = "CLOUDSDK_CORE_PROJECT")]
    pub project: Option<String>,
    /// Compute Engine zone.
    #[arg(long, env = "CARTO_PROVISION_ZONE", default_value = "us-central1-a")]
    pub zone: String,
    /// Machine type [default: n2-standard-8 for --profile default, n2-standard-4 for min].
    #[arg(long, env = "CARTO_PROVISION_MACHINE_TYPE", conflicts_with = "profile")]
    pub machine_type: Option<String>,
    /// Boot disk type: pd-ssd or pd-balanced (both SSD) [default: pd-ssd].
    #[arg(long, env = "CARTO_PROVISION_DISK_TYPE")]
    pub disk_type: Option<String>,
    /// Put the VM in this existing VPC network instead of the environment's own (created and
    /// deleted with it). Refused when any of its firewall rules opens a port other than 80/443
    /// to the whole Internet on the VM (the project's `default` network opens 22 and 3389).
    #[arg(long, env = "CARTO_PROVISION_NETWORK", value_name = "NAME")]
    pub network: Option<String>,
    /// Send Google Cloud API calls to this endpoint (a local emulator) instead of Google's.
    #[arg(long, env = "CARTO_PROVISION_GCP_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// Flags of an Azure deployment.
#[derive(Debug, Args)]
pub struct AzureArgs {
    #[command(flatten)]
    pub common: DeployArgs,
    /// Subscription to create the environment in [default: from the environment or Azure CLI].
    #[arg(long, env = "AZURE_SUBSCRIPTION_ID")]
    pub subscription: Option<String>,
    /// Azure location.
    #[arg(long, env = "CARTO_PROVISION_LOCATION", default_value = "eastus")]
    pub location: String,
    /// VM size [default: Standard_D8s_v5 for --profile default, Standard_D4s_v5 for min].
    #[arg(long, env = "CARTO_PROVISION_VM_SIZE", conflicts_with = "profile")]
    pub vm_size: Option<String>,
    /// Resource group of the DNS zone [default: found with the zone].
    #[arg(long, env = "CARTO_PROVISION_DNS_RESOURCE_GROUP")]
    pub dns_resource_group: Option<String>,
    /// Send Azure Resource Manager calls to this endpoint (a local emulator) instead of Azure's.
    #[arg(long, env = "CARTO_PROVISION_AZURE_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// Flags every cloud's deployment takes.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Domain CARTO will answer on (an A record is created for it).
    #[arg(long, env = "CARTO_PROVISION_DOMAIN")]
    pub domain: String,
    /// Installation package folder holding customer.env and key.json.
    #[arg(long, env = "CARTO_PROVISION_PACKAGE", value_name = "DIR", required_unless_present_all = ["customer_env", "key_json"])]
    pub package: Option<PathBuf>,
    /// customer.env of the installation package (instead of --package).
    #[arg(
        long,
        env = "CARTO_PROVISION_CUSTOMER_ENV",
        value_name = "FILE",
        conflicts_with = "package",
        requires = "key_json"
    )]
    pub customer_env: Option<PathBuf>,
    /// key.json of the installation package (instead of --package).
    #[arg(
        long,
        env = "CARTO_PROVISION_KEY_JSON",
        value_name = "FILE",
        conflicts_with = "package",
        requires = "customer_env"
    )]
    pub key_json: Option<PathBuf>,
    /// Environment name [default: the domain with dots as dashes].
    #[arg(long, env = "CARTO_PROVISION_NAME")]
    pub name: Option<String>,
    /// Size profile: min = 4 vCPU / 16 GiB (CARTO's minimum), default = 8 vCPU / 32 GiB.
    #[arg(long, env = "CARTO_PROVISION_PROFILE", value_enum, default_value_t = ProfileArg::Default)]
    pub profile: ProfileArg,
    /// SSD disk size in GB (at least 60).
    #[arg(long, env = "CARTO_PROVISION_DISK_GB", default_value_t = 100)]
    pub disk_gb: u32,
    /// Address range allowed to SSH in [default: this machine's public address as /32].
    #[arg(long, env = "CARTO_PROVISION_SSH_CIDR", value_name = "CIDR")]
    pub ssh_cidr: Option<String>,
    /// Accept an --ssh-cidr wider than /24 (IPv4) or /56 (IPv6); /0 is refused even so.
    #[arg(long, env = "CARTO_PROVISION_ALLOW_WIDE_SSH")]
    pub allow_wide_ssh: bool,
    /// DNS zone for the A record [default: the zone with the longest suffix of the domain].
    #[arg(long, env = "CARTO_PROVISION_DNS_ZONE")]
    pub dns_zone: Option<String>,
    /// Time to live (e.g. 8h, 90m, 7d) from the environment's creation: every resource is
    /// tagged carto-expires and `gc --yes` destroys it once that has passed. Without it the
    /// environment never expires and `gc` keeps it.
    #[arg(long, env = "CARTO_PROVISION_TTL", value_name = "DURATION")]
    pub ttl: Option<String>,
    /// Replace the A, AAAA or CNAME records another owner already has at --domain (without
    /// it, any record there stops the run). Their values are kept in the state file and
    /// `destroy` puts them back.
    #[arg(long, env = "CARTO_PROVISION_TAKE_OVER_DNS")]
    pub take_over_dns: bool,
    /// carto-selfhosted release tag to install [default: the tag this environment's state
    /// file records, else the newest release of --selfhosted-repo (`git ls-remote --tags` on
    /// the VM; release candidates excluded)].
    #[arg(long, env = "CARTO_PROVISION_SELFHOSTED_VERSION", value_name = "TAG")]
    pub selfhosted_version: Option<String>,
    /// Git repository the VM clones carto-selfhosted from.
    #[arg(
        long,
        env = "CARTO_PROVISION_SELFHOSTED_REPO",
        default_value = "https://github.com/CartoDB/carto-selfhosted.git"
    )]
    pub selfhosted_repo: String,
    /// Upload this local carto-selfhosted checkout instead of cloning (air-gapped VMs).
    #[arg(long, env = "CARTO_PROVISION_SELFHOSTED_SOURCE", value_name = "DIR")]
    pub selfhosted_source: Option<PathBuf>,
    /// Where Docker comes from: the distribution's docker.io with Compose v2 (Ubuntu 22.04's
    /// docker-compose-v2), Compose v1 (distro-v1, crashes when it recreates containers), or
    /// Docker's own apt repository (then --docker-apt-url is required).
    #[arg(long, env = "CARTO_PROVISION_DOCKER_SOURCE", value_enum, default_value_t = DockerSourceArg::Distro)]
    pub docker_source: DockerSourceArg,
    /// Base URL of Docker's apt repository for Ubuntu, as Docker's install guide gives it
    /// (with --docker-source docker).
    #[arg(long, env = "CARTO_PROVISION_DOCKER_APT_URL", value_name = "URL")]
    pub docker_apt_url: Option<String>,
    /// How long to wait for SSH to answer, in seconds.
    #[arg(
        long,
        env = "CARTO_PROVISION_SSH_TIMEOUT",
        default_value_t = 600,
        value_name = "SECS"
    )]
    pub ssh_timeout: u64,
    /// How long to wait for every CARTO service to be up, in seconds.
    #[arg(
        long,
        env = "CARTO_PROVISION_HEALTHY_TIMEOUT",
        default_value_t = 1200,
        value_name = "SECS"
    )]
    pub healthy_timeout: u64,
}

/// `--profile` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProfileArg {
    /// 4 vCPU / 16 GiB.
    Min,
    /// 8 vCPU / 32 GiB.
    Default,
}

/// `--docker-source` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DockerSourceArg {
    /// Docker's own apt repository (docker-ce + compose plugin + docker-compose shim).
    Docker,
    /// The distribution's docker.io and Compose v2 (`docker-compose-v2`, or `docker-compose`
    /// where that is v2), plus the hyphenated `docker-compose` install.sh needs.
    Distro,
    /// The distribution's docker.io and docker-compose 1.29 (Compose v1): it fails with
    /// `KeyError: 'ContainerConfig'` whenever it recreates a container on newer engines.
    #[value(name = "distro-v1")]
    DistroV1,
}
