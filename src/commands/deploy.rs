//! `carto-provision aws|gcp|azure`: deploys (or resumes) an environment and prints where CARTO is.

use crate::event::Event;
use crate::interrupt;
use crate::pipeline::{self, Events};
use crate::spec::Spec;
use crate::state::StateStore;

use super::{keep_legacy_name, shell_dir};

/// Deploys `spec` (or resumes it) and prints where CARTO answers.
pub async fn run(
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
                Event::Stopped {
                    env: spec.env.to_string(),
                    resume: resume.clone(),
                    destroy: destroy.clone(),
                }
                .emit();
            }
            return Err(e.context(format!(
                "environment {} is not complete; run the same command again to resume (`{resume}`), or remove it with `{destroy}`",
                spec.env
            )));
        }
    };
    if json {
        Event::Deployed { outcome }.emit();
    } else {
        println!(
            "CARTO is up: https://{} (VM {} in environment {})",
            outcome.domain, outcome.ip, outcome.env
        );
    }
    Ok(())
}
