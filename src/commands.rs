//! One function per command: what `main.rs` dispatches to. Each builds what it needs
//! (state store, provider, progress) and hands over to the pipeline.

use std::time::Duration;

use anyhow::Context;

use crate::cli::{Cli, Command, PlanTarget};
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
            plan(spec, cli.json).await
        }
        Command::Destroy(d) => destroy(&store, &d.name, events.as_ref(), cli.json).await,
        Command::Gc(_) => Err(InputError("gc is not written yet".into()).into()),
        Command::Smoke(args) => crate::smoke::run(args, &store, cli.json).await,
        Command::Status(n) => status(&store, &n.name, cli.json).await,
        Command::List => list(&store, cli.json),
    }
}

async fn deploy(
    spec: Spec,
    store: &StateStore,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let provider = spec.provider.connect().await?;
    let outcome = match pipeline::deploy(&spec, provider.as_ref(), store, events).await {
        Ok(outcome) => outcome,
        // Nothing recorded means nothing exists: leave no lock or key behind either.
        Err(e) if store.load(&spec.env).ok().flatten().is_none() => {
            store.remove(&spec.env)?;
            return Err(e);
        }
        Err(e) => {
            return Err(e.context(format!(
                "environment {} is not complete; run the same command again to resume, or `carto-provision destroy {}` to remove it",
                spec.env, spec.env
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

async fn plan(spec: Spec, json: bool) -> anyhow::Result<()> {
    let provider = spec.provider.connect().await?;
    let plan = plan::make(&spec, provider.as_ref()).await?;
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

async fn destroy(
    store: &StateStore,
    name: &str,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let state = load(store, name)?;
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
            crate::verify::https(
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
