//! One module per command: what `main.rs` dispatches to. Each builds what it needs (state
//! store, provider, progress) and hands over to the pipeline. What several commands share
//! (finding an environment's state, its name from an earlier version) lives here.

mod deploy;
mod destroy;
pub mod gc;
mod list;
mod plan;
mod status;

use crate::cli::{Cli, Command, PlanTarget};
use crate::interrupt;
use crate::pipeline::Events;
use crate::progress::{Human, Json};
use crate::spec::{self, InputError, Spec};
use crate::state::{EnvState, StateStore};

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = StateStore::new(match cli.state_dir {
        Some(dir) => dir,
        None => StateStore::default_dir()?,
    });
    // A deployment's and a destroy's timelines; the other commands print one line each.
    let timed = matches!(
        cli.command,
        Command::Aws(_) | Command::Gcp(_) | Command::Azure(_) | Command::Destroy(_)
    );
    crate::timeline::start(cli.json && timed);
    let events: Box<dyn Events> = if cli.json {
        Box::new(Json)
    } else {
        Box::new(Human::default())
    };
    if !matches!(cli.command, Command::Smoke(_)) {
        crate::interrupt::listen();
    }
    match cli.command {
        Command::Aws(args) => {
            deploy::run(spec::from_aws(&args)?, &store, events.as_ref(), cli.json).await
        }
        Command::Gcp(args) => {
            deploy::run(spec::from_gcp(&args)?, &store, events.as_ref(), cli.json).await
        }
        Command::Azure(args) => {
            deploy::run(spec::from_azure(&args)?, &store, events.as_ref(), cli.json).await
        }
        Command::Plan { target } => {
            let spec = match target {
                PlanTarget::Aws(args) => spec::from_aws(&args)?,
                PlanTarget::Gcp(args) => spec::from_gcp(&args)?,
                PlanTarget::Azure(args) => spec::from_azure(&args)?,
            };
            plan::run(spec, &store, cli.json).await
        }
        Command::Destroy(d) => destroy::run(&store, &d, events.as_ref(), cli.json).await,
        Command::Gc(args) => gc::run(&args, &store, events.as_ref(), cli.json).await,
        Command::Smoke(args) => crate::smoke::run(args, &store, cli.json).await,
        Command::Status(n) => status::run(&store, &n.name, cli.json).await,
        Command::List => list::run(&store, cli.json),
    }
}

/// A deployment an earlier version made under the name it derived from the same domain (see
/// [`carto_core::EnvName::legacy_from_domain`]) keeps that name, so the same command still
/// resumes, updates or plans it.
pub(crate) fn keep_legacy_name(mut spec: Spec, store: &StateStore) -> anyhow::Result<Spec> {
    let domain = spec.domain.as_str();
    if carto_core::EnvName::from_domain(domain).ok().as_ref() == Some(&spec.env)
        && store.load(&spec.env)?.is_none()
        && let Some(legacy) = carto_core::EnvName::legacy_from_domain(domain)
        && store.load(&legacy)?.is_some_and(|s| s.domain == domain)
    {
        tracing::info!("environment {legacy}: the name an earlier version gave {domain}");
        spec.env = legacy;
    }
    Ok(spec)
}

pub(crate) fn load(store: &StateStore, name: &str) -> anyhow::Result<EnvState> {
    let env = carto_core::EnvName::parse(name).map_err(InputError)?;
    store.load(&env)?.ok_or_else(|| {
        InputError(format!(
            "no environment named {name} in {}: `carto-provision list` shows the known ones, or pass --state-dir",
            store.dir().display()
        ))
        .into()
    })
}

/// The state folder as one shell word.
pub(crate) fn shell_dir(store: &StateStore) -> String {
    interrupt::shell_line([store.dir().display().to_string()])
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn aws_spec(pkg: &std::path::Path, domain: &str, name: Option<&str>) -> Spec {
        let mut argv = vec![
            "carto-provision",
            "aws",
            "--domain",
            domain,
            "--ssh-cidr",
            "192.0.2.1/32",
        ];
        let pkg = pkg.to_str().expect("utf-8 path");
        argv.extend(["--package", pkg]);
        if let Some(n) = name {
            argv.extend(["--name", n]);
        }
        match Cli::try_parse_from(argv).expect("flags").command {
            Command::Aws(args) => spec::from_aws(&args).expect("spec"),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_deployment_under_an_earlier_versions_name_keeps_it() {
        let tmp = tempfile::tempdir().unwrap();
        let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
        let store = StateStore::new(tmp.path().join("state"));
        let domain = "my-shop.example.test";
        let fresh = aws_spec(&pkg, domain, None);
        assert!(fresh.env.as_str().starts_with("my-shop-example-test--"));
        let expected = fresh.env.clone();
        let unchanged = keep_legacy_name(fresh, &store).unwrap();
        assert_eq!(unchanged.env, expected, "no earlier state: the new name");

        let legacy = carto_core::EnvName::parse("my-shop-example-test").unwrap();
        let old = EnvState::new(legacy.clone(), carto_core::Cloud::Aws, "us-east-1", domain);
        store.save(&old).unwrap();
        let kept = keep_legacy_name(aws_spec(&pkg, domain, None), &store).unwrap();
        assert_eq!(kept.env, legacy, "the earlier deployment is found again");
        let named = keep_legacy_name(aws_spec(&pkg, domain, Some("other")), &store).unwrap();
        assert_eq!(named.env.as_str(), "other", "an explicit --name wins");
        let elsewhere = keep_legacy_name(aws_spec(&pkg, "my.shop.example.test", None), &store);
        assert_eq!(
            elsewhere.unwrap().env.as_str(),
            "my-shop-example-test",
            "another domain's plain name is its own"
        );
    }
}
