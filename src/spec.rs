//! Turns raw CLI values into a validated [`Spec`], in one place (ripgrep's low/high args).
//!
//! Everything that can be checked without a cloud is checked here, before any provider is
//! built: domain, environment name, disk size, SSH range, the installation package and the
//! carto-selfhosted tag. Each failure is one sentence naming the input and the fix.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use carto_core::{Cloud, EnvName, Profile};

use crate::cli::{
    AwsArgs, AzureArgs, CloudAccess, CloudArg, DeployArgs, DockerSourceArg, GcpArgs, ProfileArg,
};
use crate::domain::Domain;
use crate::package::{Package, PackageSource};
use crate::providers::ProviderConfig;
use crate::remote::DockerSource;

pub use carto_core::MIN_DISK_GB;

pub use crate::input::InputError;

/// A validated deployment request.
#[derive(Debug)]
pub struct Spec {
    /// The cloud and how to reach it.
    pub provider: ProviderConfig,
    /// Environment name.
    pub env: EnvName,
    /// Domain CARTO answers on.
    pub domain: Domain,
    /// Region or zone.
    pub region: String,
    /// Machine type, when the user chose one.
    pub machine_type: Option<String>,
    /// Size profile.
    pub profile: Profile,
    /// Disk size in GB.
    pub disk_gb: u32,
    /// Disk type, when the user chose one.
    pub disk_type: Option<String>,
    /// An existing network to use instead of the environment's own (`--network`, GCP).
    pub network: Option<String>,
    /// Operator range for SSH; `None` means this machine's public address, found in preflight.
    pub ssh_cidr: Option<String>,
    /// DNS zone named by the user.
    pub dns_zone: Option<String>,
    /// The checked installation package (holds secrets; its Debug redacts them).
    pub package: Package,
    /// carto-selfhosted tag; `None`: the tag recorded in the state file, else the newest
    /// release of the repository, resolved on the VM.
    pub selfhosted_version: Option<String>,
    /// Repository the VM clones.
    pub selfhosted_repo: String,
    /// Local checkout to upload instead of cloning.
    pub selfhosted_source: Option<PathBuf>,
    /// Where Docker comes from.
    pub docker_source: DockerSource,
    /// Docker's apt repository URL (with `DockerSource::Docker`).
    pub docker_apt_url: Option<String>,
    /// How long SSH may take to answer.
    pub ssh_timeout: Duration,
    /// How long the services may take to be up.
    pub healthy_timeout: Duration,
    /// Time to live from the environment's creation (`--ttl`); `None`: it never expires.
    pub ttl: Option<Duration>,
    /// Whether records someone else holds at the domain may be replaced (`--take-over-dns`).
    pub take_over_dns: bool,
}

impl Spec {
    /// The cloud this spec deploys to.
    pub fn cloud(&self) -> Cloud {
        self.provider.cloud()
    }
}

/// How to reach `cloud` when no state file says (`destroy --cloud`, `gc`): the flags, else
/// the deploy defaults.
pub fn access(cloud: CloudArg, a: &CloudAccess) -> ProviderConfig {
    match cloud {
        CloudArg::Aws => ProviderConfig::aws(
            a.region.as_deref().unwrap_or(carto_aws::DEFAULT_REGION),
            a.aws_endpoint_url.clone(),
        ),
        CloudArg::Gcp => ProviderConfig::gcp(a.project.clone(), a.gcp_endpoint_url.clone()),
        CloudArg::Azure => {
            ProviderConfig::azure(a.subscription.clone(), None, a.azure_endpoint_url.clone())
        }
    }
}

/// Validates an AWS deployment's flags.
pub fn from_aws(args: &AwsArgs) -> Result<Spec, InputError> {
    let provider = ProviderConfig::aws(&args.region, args.endpoint_url.clone());
    from_common(
        &args.common,
        provider,
        args.region.clone(),
        args.instance_type.clone(),
    )
}

/// Validates a Google Cloud deployment's flags.
pub fn from_gcp(args: &GcpArgs) -> Result<Spec, InputError> {
    let provider = ProviderConfig::gcp(args.project.clone(), args.endpoint_url.clone());
    let mut spec = from_common(
        &args.common,
        provider,
        args.zone.clone(),
        args.machine_type.clone(),
    )?;
    spec.disk_type = args.disk_type.clone();
    spec.network = args.network.clone();
    Ok(spec)
}

/// Validates an Azure deployment's flags.
pub fn from_azure(args: &AzureArgs) -> Result<Spec, InputError> {
    let provider = ProviderConfig::azure(
        args.subscription.clone(),
        args.dns_resource_group.clone(),
        args.endpoint_url.clone(),
    );
    from_common(
        &args.common,
        provider,
        args.location.clone(),
        args.vm_size.clone(),
    )
}

fn from_common(
    a: &DeployArgs,
    provider: ProviderConfig,
    region: String,
    machine_type: Option<String>,
) -> Result<Spec, InputError> {
    let domain = Domain::parse(&a.domain).map_err(|e| InputError(e.to_string()))?;
    let env = match &a.name {
        Some(name) => EnvName::parse(name).map_err(|e| InputError(format!("--name: {e}")))?,
        None => EnvName::from_domain(domain.as_str())
            .map_err(|e| InputError(format!("--domain {}: {e}; pass --name", domain.as_str())))?,
    };
    carto_core::check_disk("disk size", a.disk_gb, MIN_DISK_GB)
        .map_err(|e| InputError(crate::input::with_flags(e).message))?;
    let ssh_cidr = a
        .ssh_cidr
        .as_deref()
        .map(|c| check_cidr(c, a.allow_wide_ssh))
        .transpose()?;
    let source = match (&a.package, &a.customer_env, &a.key_json) {
        (Some(dir), _, _) => PackageSource::from_dir(dir),
        (None, Some(env_file), Some(key)) => PackageSource { customer_env: env_file.clone(), key_json: key.clone(), certs: None },
        _ => return Err(InputError("no installation package: pass --package DIR, or --customer-env FILE and --key-json FILE".into())),
    };
    let package = Package::load(&source, &domain, a.selfhosted_version.as_deref())
        .map_err(|e| InputError(e.to_string()))?;
    check_url("--selfhosted-repo", &a.selfhosted_repo, REPO_SCHEMES)?;
    if let Some(url) = &a.docker_apt_url {
        check_url("--docker-apt-url", url, &["https"])?;
    }
    if matches!(a.docker_source, DockerSourceArg::Docker)
        && !a
            .docker_apt_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    {
        return Err(InputError(
            "--docker-source docker needs --docker-apt-url https://… (Docker's apt repository for Ubuntu, from Docker's install guide), or use --docker-source distro".into(),
        ));
    }
    if let Some(dir) = &a.selfhosted_source
        && (!dir.join("install.sh").is_file() || !dir.join("docker-compose.yml").is_file())
    {
        return Err(InputError(format!(
            "--selfhosted-source {}: not a carto-selfhosted checkout (no install.sh or docker-compose.yml); point it at a clone of the repository",
            dir.display()
        )));
    }
    Ok(Spec {
        provider,
        env,
        domain,
        region,
        // A machine type the user names is held to CARTO's minimum, not to the default size.
        profile: match (&machine_type, a.profile) {
            (Some(_), _) | (None, ProfileArg::Min) => Profile::Min,
            (None, ProfileArg::Default) => Profile::Default,
        },
        machine_type,
        disk_gb: a.disk_gb,
        disk_type: None,
        network: None,
        ssh_cidr,
        dns_zone: a.dns_zone.clone(),
        package,
        selfhosted_version: a.selfhosted_version.clone(),
        selfhosted_repo: a.selfhosted_repo.clone(),
        selfhosted_source: a.selfhosted_source.clone(),
        docker_source: match a.docker_source {
            DockerSourceArg::Docker => DockerSource::Docker,
            DockerSourceArg::Distro => DockerSource::Distro,
            DockerSourceArg::DistroV1 => DockerSource::DistroV1,
        },
        docker_apt_url: a.docker_apt_url.clone(),
        ssh_timeout: Duration::from_secs(a.ssh_timeout),
        healthy_timeout: Duration::from_secs(a.healthy_timeout),
        ttl: a
            .ttl
            .as_deref()
            .map(|t| parse_duration("--ttl", t))
            .transpose()?,
        take_over_dns: a.take_over_dns,
    })
}

/// Schemes `--selfhosted-repo` may use (besides git's `user@host:path` form).
const REPO_SCHEMES: &[&str] = &["https", "http", "ssh", "git", "file"];

/// Checks a URL flag that ends up on the VM's command line: one of `schemes` (or, for a git
/// repository, `user@host:path`), with no whitespace or shell metacharacter in it.
fn check_url(flag: &str, url: &str, schemes: &[&str]) -> Result<(), InputError> {
    const UNSAFE: &str = ";&|$`'\"<>(){}[]*?!~#\\";
    if let Some(c) = url
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || UNSAFE.contains(*c))
    {
        return Err(InputError(format!(
            "{flag} {url:?} holds {c:?}, which no URL here needs: give a plain URL such as {}",
            if schemes.contains(&"git") {
                "https://host/org/repo.git"
            } else {
                "https://host/path"
            }
        )));
    }
    let scheme_ok = url
        .split_once("://")
        .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty());
    let scp_like = schemes.contains(&"git")
        && !url.starts_with('-')
        && url.split_once(':').is_some_and(|(user_host, path)| {
            user_host.contains('@') && !user_host.contains('/') && !path.is_empty()
        });
    if scheme_ok || scp_like {
        return Ok(());
    }
    Err(InputError(format!(
        "{flag} {url:?} is not a URL: give one starting with {}",
        schemes
            .iter()
            .map(|s| format!("{s}://"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Parses a duration flag (`--ttl`, `--older-than`): a whole number above zero with a unit s,
/// m, h or d (`24h`, `90m`, `7d`).
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration, InputError> {
    let bad = || {
        InputError(format!(
            "{flag} {text:?} is not a duration: give a number above zero with a unit, like 8h, 90m or 7d"
        ))
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    match n.checked_mul(secs) {
        Some(s) if s > 0 => Ok(Duration::from_secs(s)),
        _ => Err(bad()),
    }
}

/// Widest SSH source ranges accepted without `--allow-wide-ssh`: an office, not a provider.
const WIDEST_V4: u8 = 24;
/// The IPv6 counterpart of [`WIDEST_V4`] (one site's allocation).
const WIDEST_V6: u8 = 56;

/// Checks an SSH source range: an IPv4 or IPv6 network with a prefix, never the whole
/// Internet, and no wider than /24 (IPv4) or /56 (IPv6) unless `allow_wide`.
pub fn check_cidr(cidr: &str, allow_wide: bool) -> Result<String, InputError> {
    let bad = || {
        InputError(format!(
            "--ssh-cidr {cidr:?} is not an address range: give one like 203.0.113.7/32"
        ))
    };
    let (ip, prefix) = cidr.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(bad());
    }
    if prefix == 0 {
        return Err(InputError(format!(
            "--ssh-cidr {cidr} would open SSH to the whole Internet: give your own address as /32"
        )));
    }
    let widest = if ip.is_ipv4() { WIDEST_V4 } else { WIDEST_V6 };
    if prefix < widest && !allow_wide {
        return Err(InputError(format!(
            "--ssh-cidr {cidr} opens SSH to more than a /{widest}: give your own address (/32 or /128), or pass --allow-wide-ssh if that range is really yours"
        )));
    }
    Ok(format!("{ip}/{prefix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_or_fail_clearly() {
        let d = |t| parse_duration("--ttl", t);
        assert_eq!(d("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(d("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(d("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(d("1s").unwrap(), Duration::from_secs(1));
        for bad in [
            "24",
            "h",
            "1.5h",
            "-1h",
            "24hours",
            "",
            "0h",
            "99999999999999999999d",
        ] {
            let e = d(bad).unwrap_err().to_string();
            assert!(e.starts_with("--ttl "), "{bad}: {e}");
        }
    }

    #[test]
    fn urls_reaching_the_vm_are_plain() {
        let repo = |u| check_url("--selfhosted-repo", u, REPO_SCHEMES);
        for good in [
            "https://github.com/CartoDB/carto-selfhosted.git",
            "file:///srv/carto-selfhosted.git",
            "git@github.com:CartoDB/carto-selfhosted.git",
            "ssh://git@host:2222/org/repo.git",
        ] {
            assert!(repo(good).is_ok(), "{good}");
        }
        for bad in [
            "https://h/r.git; rm -rf /",
            "https://h/$(id).git",
            "https://h/`id`.git",
            "https://h/r .git",
            "https://h/\"r\".git",
            "--upload-pack=touch",
            "/srv/repo.git",
            "ftp://h/r.git",
            "",
        ] {
            let e = repo(bad).unwrap_err().0;
            assert!(e.starts_with("--selfhosted-repo "), "{bad}: {e}");
        }
        let apt = |u| check_url("--docker-apt-url", u, &["https"]);
        assert!(apt("https://download.example/linux/ubuntu").is_ok());
        assert!(apt("http://download.example/linux/ubuntu").is_err());
        assert!(apt("https://x/ubuntu'$(id)").is_err());
    }

    #[test]
    fn cidr_rules() {
        let narrow = |c| check_cidr(c, false);
        assert_eq!(narrow("203.0.113.7/32").unwrap(), "203.0.113.7/32");
        assert_eq!(narrow("2001:db8::1/128").unwrap(), "2001:db8::1/128");
        assert_eq!(narrow("203.0.113.0/24").unwrap(), "203.0.113.0/24");
        assert_eq!(narrow("2001:db8::/56").unwrap(), "2001:db8::/56");
        for bad in ["203.0.113.7", "203.0.113.7/33", "x/32", "0.0.0.0/0", "::/0"] {
            assert!(narrow(bad).is_err(), "{bad} accepted");
        }
        for wide in ["203.0.0.0/16", "10.0.0.0/23", "2001:db8::/48"] {
            let e = narrow(wide).unwrap_err().0;
            assert!(e.contains("--allow-wide-ssh"), "{wide}: {e}");
            assert_eq!(check_cidr(wide, true).unwrap(), wide);
        }
        for never in ["0.0.0.0/0", "::/0"] {
            assert!(check_cidr(never, true).is_err(), "{never} accepted");
        }
        assert!(
            narrow("0.0.0.0/0")
                .unwrap_err()
                .to_string()
                .contains("whole Internet")
        );
    }
}
