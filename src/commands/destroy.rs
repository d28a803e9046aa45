//! `destroy NAME`: by the state file, or by tag with `--cloud` when there is none.

use anyhow::Context;

use crate::cli::DestroyArgs;
use crate::event::Event;
use crate::pipeline::{self, Events, Step};
use crate::providers::ProviderConfig;
use crate::spec::{self, InputError};
use crate::state::StateStore;

/// Destroys the environment `args` names.
pub async fn run(
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
        Event::Destroyed {
            env: name.to_string(),
            state: true,
            found: None,
            deleted,
        }
        .emit();
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
        Event::Destroyed {
            env: env.to_string(),
            state: false,
            found: Some(found),
            deleted,
        }
        .emit();
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
