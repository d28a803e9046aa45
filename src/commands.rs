//! One function per command: what `main.rs` dispatches to. Each builds what it needs
//! (state store, provider, progress) and hands over to the pipeline.

use std::time::Duration;

use anyhow::Context;

use crate::cli::{Cli, Command, DestroyArgs, PlanTarget};
use crate::interrupt;
use crate::pipeline::{self, Events, Step, plan};
use crate::progress::{Human, Json};
use crate::providers::ProviderConfig;
use crate::spec::{self, InputError, Spec};
use crate::state::{EnvState, StateStore};

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = StateStore::new(match cli.state_dir {
        Some(dir) => dir,
        None => StateStore::default_dir()?,
    });
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
            deploy(spec::from_aws(&args)?, &store, events.as_ref(), cli.json).await
        }
        Command::Gcp(args) => {
            deploy(spec::from_gcp(&args)?, &store, events.as_ref(), cli.json).await
        }
        Command::Azure(args) => {
            deploy(spec::from_azure(&args)?, &store, events.as_ref(), cli.json).await
        }
        Command::Plan { target } => {
            let spec = match target {
                PlanTarget::Aws(args) => spec::from_aws(&args)?,
                PlanTarget::Gcp(args) => spec::from_gcp(&args)?,
                PlanTarget::Azure(args) => spec::from_azure(&args)?,
            };
            plan(spec, &store, cli.json).await
        }
        Command::Destroy(d) => destroy(&store, &d, events.as_ref(), cli.json).await,
        Command::Gc(args) => crate::gc::run(&args, &store, events.as_ref(), cli.json).await,
        Command::Smoke(args) => crate::smoke::run(args, &store, cli.json).await,
        Command::Status(n) => status(&store, &n.name, cli.json).await,
        Command::List => list(&store, cli.json),
    }
}

/// A deployment an earlier version made under the name it derived from the same domain (see
/// [`carto_core::EnvName::legacy_from_domain`]) keeps that name, so the same command still
/// resumes, updates or plans it.
fn keep_legacy_name(mut spec: Spec, store: &StateStore) -> anyhow::Result<Spec> {
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

async fn deploy(
    spec: Spec,
    store: &StateStore,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let spec = keep_legacy_name(spec, store)?;
    let provider = spec.provider.connect().await?;
    let outcome = match pipeline::deploy(&spec, provider.as_ref(), store, events).await {
        Ok(outcome) => outcome,
        // Nothing recorded means nothing exists: leave no lock or key behind either.
        Err(e) if store.load(&spec.env).ok().flatten().is_none() => {
            store.remove(&spec.env)?;
            return Err(e);
        }
        Err(e) => {
            let resume = interrupt::shell_line(std::env::args());
            let destroy = format!(
                "carto-provision destroy {} --state-dir {}",
                spec.env,
                shell_dir(store)
            );
            if json {
                println!(
                    "{}",
                    serde_json::json!({"event": "stopped", "env": spec.env.as_str(), "resume": resume, "destroy": destroy})
                );
            }
            return Err(e.context(format!(
                "environment {} is not complete; run the same command again to resume (`{resume}`), or remove it with `{destroy}`",
                spec.env
            )));
        }
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "deployed", "outcome": outcome})
        );
    } else {
        println!(
            "CARTO is up: https://{} (VM {} in environment {})",
            outcome.domain, outcome.ip, outcome.env
        );
    }
    Ok(())
}

async fn plan(spec: Spec, store: &StateStore, json: bool) -> anyhow::Result<()> {
    let spec = keep_legacy_name(spec, store)?;
    let provider = spec.provider.connect().await?;
    let state = store.load(&spec.env)?.filter(|s| s.cloud == spec.cloud());
    let plan = plan::make(&spec, provider.as_ref(), state.as_ref()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", plan.render());
    }
    Ok(())
}

fn load(store: &StateStore, name: &str) -> anyhow::Result<EnvState> {
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
fn shell_dir(store: &StateStore) -> String {
    interrupt::shell_line([store.dir().display().to_string()])
}

async fn destroy(
    store: &StateStore,
    args: &DestroyArgs,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let name = args.name.as_str();
    let env = carto_core::EnvName::parse(name).map_err(InputError)?;
    let state = match (store.load(&env)?, args.cloud) {
        (Some(state), Some(cloud)) if state.cloud != carto_core::Cloud::from(cloud) => {
            return Err(InputError(format!(
                "environment {name} is on {} according to its state file in {}, not on {}: drop --cloud",
                state.cloud,
                store.dir().display(),
                carto_core::Cloud::from(cloud)
            ))
            .into());
        }
        (Some(state), _) => state,
        (None, Some(cloud)) => {
            let config = spec::access(cloud, &args.access);
            return destroy_untracked(store, &env, config, args.nonce.as_deref(), events, json)
                .await;
        }
        (None, None) => {
            return Err(InputError(format!(
                "no state file for environment {name} in {}: pass --cloud aws|gcp|azure (and --region) to find its resources by tag, or --state-dir",
                store.dir().display()
            ))
            .into());
        }
    };
    let _lock = store.lock(&state.name)?;
    let provider = ProviderConfig::from_state(&state)?.connect().await?;
    let on_deleted =
        |r: &carto_core::ResourceRef| events.note(Step::Destroy, &format!("deleted {r}"));
    let deleted = pipeline::timed(
        events,
        Step::Destroy,
        pipeline::destroy::run(store, state, provider.as_ref(), &on_deleted),
    )
    .await?;
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "destroyed", "env": name, "deleted": deleted})
        );
    } else {
        println!(
            "environment {name} destroyed: {} resources deleted, state removed",
            deleted.len()
        );
    }
    Ok(())
}

/// `destroy NAME --cloud …` without a state file: deletes what the cloud finds tagged with the
/// environment, then any local keys left for it. Two environments of one name (two nonces)
/// are refused unless `nonce` picks one.
async fn destroy_untracked(
    store: &StateStore,
    env: &carto_core::EnvName,
    config: ProviderConfig,
    nonce: Option<&str>,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let _lock = store.lock(env)?;
    let provider = config.connect().await?;
    let tagged = provider
        .list_tagged(Some(env))
        .await
        .with_context(|| format!("listing the resources tagged carto-env={env}"))?;
    let (chosen, found) = pick_nonce_group(env, config.cloud(), tagged, nonce)?;
    if let Some(n) = chosen {
        events.note(
            Step::Destroy,
            &format!("environment {env} of carto-nonce {n}"),
        );
    }
    for r in &found {
        events.note(Step::Destroy, &format!("found {r}"));
    }
    let on_deleted =
        |r: &carto_core::ResourceRef| events.note(Step::Destroy, &format!("deleted {r}"));
    let deleted = pipeline::timed(
        events,
        Step::Destroy,
        pipeline::destroy::untracked(provider.as_ref(), env, &found, &on_deleted),
    )
    .await?;
    store.remove(env)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "destroyed", "env": env.as_str(), "found": found, "deleted": deleted, "state": false})
        );
    } else {
        println!(
            "environment {env} destroyed without a state file: {} resources found by tag on {}, {} deleted",
            found.len(),
            config.cloud(),
            deleted.len()
        );
    }
    Ok(())
}

/// The resources of the one environment named `env` found by tag: all of them when they
/// carry one nonce (or none), else those of `nonce`; two nonces without `--nonce`, or a
/// `--nonce` matching none, is bad input listing the groups.
fn pick_nonce_group(
    env: &carto_core::EnvName,
    cloud: carto_core::Cloud,
    tagged: Vec<carto_core::TaggedResource>,
    nonce: Option<&str>,
) -> Result<(Option<String>, Vec<carto_core::ResourceRef>), InputError> {
    let groups = carto_core::ownership::by_nonce(tagged);
    let listing = || {
        groups
            .iter()
            .map(|(n, rs)| {
                format!(
                    "{} ({} resources)",
                    n.as_deref().unwrap_or("no nonce"),
                    rs.len()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (chosen, resources) = match nonce {
        Some(n) => groups.get_key_value(&Some(n.to_string())).ok_or_else(|| {
            InputError(format!(
                "--nonce {n}: no resource tagged carto-env={env} on {cloud} carries it; found: {}",
                if groups.is_empty() {
                    "nothing".to_string()
                } else {
                    listing()
                }
            ))
        })?,
        None if groups.len() > 1 => {
            return Err(InputError(format!(
                "{} environments named {env} exist on {cloud}, told apart by their carto-nonce: {}; pass --nonce with the one to destroy",
                groups.len(),
                listing()
            )));
        }
        None => match groups.iter().next() {
            Some(all) => all,
            None => return Ok((None, Vec::new())),
        },
    };
    let resources = resources.iter().map(|t| t.resource.clone()).collect();
    Ok((chosen.clone(), resources))
}

async fn status(store: &StateStore, name: &str, json: bool) -> anyhow::Result<()> {
    let state = load(store, name)?;
    let provider = ProviderConfig::from_state(&state)?.connect().await?;
    let live = provider
        .list_tagged(Some(&state.name))
        .await
        .context("listing the environment's resources")?;
    let https = match &state.public_ip {
        Some(ip) => {
            let ip = ip
                .parse()
                .context("the state file's public address is not an IP address")?;
            crate::https_probe::https(
                &state.domain,
                ip,
                443,
                &["/"],
                false,
                Duration::from_secs(10),
            )
            .await
            .map_err(|e| e.to_string())
        }
        None => Err("no public address yet".to_string()),
    };
    if json {
        let https = match &https {
            Ok(_) => serde_json::json!({"ok": true}),
            Err(e) => serde_json::json!({"ok": false, "error": e}),
        };
        println!(
            "{}",
            serde_json::json!({"state": state, "live": live, "https": https})
        );
        return Ok(());
    }
    println!(
        "environment {} on {} ({}), domain {}, step reached: {}",
        state.name, state.cloud, state.region, state.domain, state.step
    );
    println!(
        "public address: {}",
        state.public_ip.as_deref().unwrap_or("-")
    );
    for r in &state.resources {
        let found = live.iter().any(|t| t.resource.id == r.id);
        println!(
            "  {:<10} {:<32} {:<24} {}",
            r.kind,
            r.name,
            r.id,
            if found || r.kind == carto_core::ResourceKind::DnsRecord {
                ""
            } else {
                "(not found in the cloud)"
            }
        );
    }
    match https {
        Ok(_) => println!("https://{}/ answers", state.domain),
        Err(e) => println!("https://{}/ does not answer: {e}", state.domain),
    }
    Ok(())
}

fn list(store: &StateStore, json: bool) -> anyhow::Result<()> {
    let envs = store.list()?;
    if json {
        println!("{}", serde_json::to_string(&envs)?);
        return Ok(());
    }
    if envs.is_empty() {
        println!("no environments in {}", store.dir().display());
    }
    for s in envs {
        println!(
            "{:<32} {:<6} {:<14} {:<32} {:<10} {}",
            s.name,
            s.cloud,
            s.region,
            s.domain,
            s.step,
            s.public_ip.as_deref().unwrap_or("-")
        );
    }
    Ok(())
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
