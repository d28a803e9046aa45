//! What a smoke run will do, decided before any process starts: one [`Target`] per cloud with
//! its environment name, domain, and the exact argument lists of its deployment and destroy.
//!
//! The deployment's arguments are parsed here with the same clap definitions and validated by
//! the same `spec::from_*` functions the child will run, so bad input (a domain suffix, the
//! package, an SSH range) stops the smoke with one message before anything is created, and
//! the validated spec's provider config is what the leftover check uses when a deployment
//! fails before it has a state file. This module starts nothing and touches no cloud.

use std::ffi::OsString;
use std::path::Path;

use carto_core::{Cloud, EnvName};
use clap::{Parser, ValueEnum};

use crate::cli::{Cli, CloudArg, Command, SmokeArgs};
use crate::providers::ProviderConfig;
use crate::spec::{self, InputError};

/// Longest run id: keeps `smoke-azure-<id>` a short environment name.
pub const MAX_RUN_ID: usize = 16;

/// One cloud's part of a smoke run.
#[derive(Clone, Debug)]
pub struct Target {
    /// The cloud.
    pub cloud: Cloud,
    /// `smoke-<cloud>-<id>`.
    pub env: EnvName,
    /// `<cloud>-<id>.<suffix>`.
    pub domain: String,
    /// How the deployment reaches the cloud (from its flags and environment variables).
    pub provider: ProviderConfig,
    /// The deployment's arguments after the program name.
    pub deploy_args: Vec<OsString>,
    /// The destroy's arguments after the program name.
    pub destroy_args: Vec<OsString>,
}

/// A new run id: 6 random hex digits.
pub fn random_run_id() -> String {
    format!("{:06x}", fastrand::u32(..0x100_0000))
}

/// Checks a `--run-id`.
pub fn check_run_id(id: &str) -> Result<(), InputError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_RUN_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(InputError(format!(
            "--run-id {id:?}: use 1 to {MAX_RUN_ID} lowercase letters and digits (it goes into names and domains)"
        )))
    }
}

/// The targets of a run, validated, in the order the clouds were given.
pub fn targets(
    args: &SmokeArgs,
    run_id: &str,
    state_dir: &Path,
) -> Result<Vec<Target>, InputError> {
    check_run_id(run_id)?;
    if args.clouds.is_empty() {
        return Err(InputError(
            "--clouds: name at least one of aws, gcp, azure".into(),
        ));
    }
    let mut targets: Vec<Target> = Vec::new();
    for &cloud in &args.clouds {
        let cloud = core_cloud(cloud);
        if targets.iter().any(|t| t.cloud == cloud) {
            return Err(InputError(format!(
                "--clouds names {cloud} twice: give each cloud once"
            )));
        }
        targets.push(target(args, cloud, run_id, state_dir)?);
    }
    Ok(targets)
}

fn target(
    args: &SmokeArgs,
    cloud: Cloud,
    run_id: &str,
    state_dir: &Path,
) -> Result<Target, InputError> {
    let suffix = args.domain_suffix.trim_end_matches('.');
    let env = format!("smoke-{cloud}-{run_id}");
    let domain = format!("{cloud}-{run_id}.{suffix}");
    let globals: Vec<OsString> = vec![
        "--json".into(),
        "--state-dir".into(),
        state_dir.as_os_str().to_owned(),
    ];
    let mut deploy_args = globals.clone();
    deploy_args.extend(
        [
            cloud.as_str(),
            "--name",
            &env,
            "--domain",
            &domain,
            "--package",
        ]
        .map(OsString::from),
    );
    deploy_args.push(args.package.as_os_str().to_owned());
    deploy_args.extend(["--ttl".into(), args.ttl.clone().into()]);
    deploy_args.extend(forwarded(args));
    let provider = validate(cloud, &deploy_args)
        .map_err(|e| InputError(format!("{cloud}'s deployment: {}", e.0)))?;
    let mut destroy_args = globals;
    destroy_args.extend(["destroy".into(), env.clone().into()]);
    Ok(Target {
        cloud,
        env: EnvName::parse(&env).map_err(|e| InputError(format!("--run-id: {e}")))?,
        domain,
        provider,
        deploy_args,
        destroy_args,
    })
}

/// The forwarded flags that were given, as arguments.
fn forwarded(args: &SmokeArgs) -> Vec<OsString> {
    let f = &args.forward;
    let mut out: Vec<OsString> = Vec::new();
    let mut put = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            out.push(flag.into());
            out.push(value.into());
        }
    };
    let name = |v: Option<clap::builder::PossibleValue>| v.map(|p| p.get_name().to_string());
    put("--ssh-cidr", f.ssh_cidr.clone());
    put(
        "--profile",
        name(f.profile.and_then(|p| p.to_possible_value())),
    );
    put("--selfhosted-version", f.selfhosted_version.clone());
    put("--selfhosted-repo", f.selfhosted_repo.clone());
    put(
        "--docker-source",
        name(f.docker_source.and_then(|d| d.to_possible_value())),
    );
    put("--docker-apt-url", f.docker_apt_url.clone());
    put("--ssh-timeout", f.ssh_timeout.map(|s| s.to_string()));
    put(
        "--healthy-timeout",
        f.healthy_timeout.map(|s| s.to_string()),
    );
    out
}

/// Parses and validates a deployment's arguments exactly as the child will, returning how it
/// reaches its cloud.
fn validate(cloud: Cloud, deploy_args: &[OsString]) -> Result<ProviderConfig, InputError> {
    let argv =
        std::iter::once(OsString::from("carto-provision")).chain(deploy_args.iter().cloned());
    let cli = Cli::try_parse_from(argv).map_err(|e| {
        // clap's own text, first line only (the rest is usage help for the child's command).
        let text = e.to_string();
        InputError(
            text.lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string(),
        )
    })?;
    let spec = match cli.command {
        Command::Aws(a) => spec::from_aws(&a)?,
        Command::Gcp(a) => spec::from_gcp(&a)?,
        Command::Azure(a) => spec::from_azure(&a)?,
        other => {
            return Err(InputError(format!(
                "internal: {cloud}'s arguments parsed as {other:?}"
            )));
        }
    };
    Ok(spec.provider)
}

/// The core cloud a `--clouds` value names.
pub fn core_cloud(c: CloudArg) -> Cloud {
    match c {
        CloudArg::Aws => Cloud::Aws,
        CloudArg::Gcp => Cloud::Gcp,
        CloudArg::Azure => Cloud::Azure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(dir: &Path) -> std::path::PathBuf {
        carto_harness::package::write(&dir.join("package"), "2025.10.1", &[]).unwrap()
    }

    fn args(extra: &[&str], pkg: &Path) -> SmokeArgs {
        let mut argv = vec![
            "carto-provision",
            "smoke",
            "--clouds",
            "aws",
            "--domain-suffix",
            "smoke.test.",
        ];
        argv.extend(extra);
        let mut argv: Vec<OsString> = argv.into_iter().map(OsString::from).collect();
        argv.extend(["--package".into(), pkg.as_os_str().to_owned()]);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Smoke(a) => a,
            other => panic!("{other:?}"),
        }
    }

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn names_domains_and_argv_per_cloud() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = package(dir.path());
        let a = args(
            &[
                "--ssh-cidr",
                "127.0.0.1/32",
                "--profile",
                "min",
                "--docker-source",
                "distro",
                "--ssh-timeout",
                "300",
            ],
            &pkg,
        );
        let t = targets(&a, "ab12cd", Path::new("/st")).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].env.to_string(), "smoke-aws-ab12cd");
        assert_eq!(t[0].domain, "aws-ab12cd.smoke.test");
        assert_eq!(
            strings(&t[0].deploy_args),
            [
                "--json",
                "--state-dir",
                "/st",
                "aws",
                "--name",
                "smoke-aws-ab12cd",
                "--domain",
                "aws-ab12cd.smoke.test",
                "--package",
                pkg.to_str().unwrap(),
                "--ttl",
                "6h",
                "--ssh-cidr",
                "127.0.0.1/32",
                "--profile",
                "min",
                "--docker-source",
                "distro",
                "--ssh-timeout",
                "300",
            ]
        );
        assert_eq!(
            strings(&t[0].destroy_args),
            [
                "--json",
                "--state-dir",
                "/st",
                "destroy",
                "smoke-aws-ab12cd"
            ]
        );
        assert_eq!(t[0].provider.cloud(), Cloud::Aws);
    }

    #[test]
    fn bad_input_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = package(dir.path());
        let a = args(&[], &pkg);
        for id in ["", "ABC", "a-b", "12345678901234567"] {
            assert!(
                targets(&a, id, Path::new("/st")).is_err(),
                "{id:?} accepted"
            );
        }
        let twice = args(&["--clouds", "aws,aws"], &pkg);
        assert!(
            targets(&twice, "abc", Path::new("/st"))
                .unwrap_err()
                .0
                .contains("twice")
        );
        let cidr = args(&["--ssh-cidr", "0.0.0.0/0"], &pkg);
        let e = targets(&cidr, "abc", Path::new("/st")).unwrap_err().0;
        assert!(e.starts_with("aws's deployment: --ssh-cidr"), "{e}");
        let missing = args(&[], &dir.path().join("nope"));
        assert!(targets(&missing, "abc", Path::new("/st")).is_err());
    }

    #[test]
    fn random_ids_are_six_hex_digits() {
        for _ in 0..50 {
            let id = random_run_id();
            assert_eq!(id.len(), 6);
            check_run_id(&id).unwrap();
        }
    }
}
