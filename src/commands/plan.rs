//! `plan`: what a deployment would do, read-only.

use crate::pipeline::plan;
use crate::spec::Spec;
use crate::state::StateStore;

use super::keep_legacy_name;

/// Prints what deploying `spec` would do.
pub async fn run(spec: Spec, store: &StateStore, json: bool) -> anyhow::Result<()> {
    let spec = keep_legacy_name(spec, store)?;
    let provider = spec.provider.connect().await?;
    let state = store.load(&spec.env)?.filter(|s| s.cloud == spec.cloud());
    let plan = plan::make(&spec, provider.as_ref(), state.as_ref()).await?;
    if json {
        crate::event::Event::Plan(Box::new(plan)).emit();
    } else {
        print!("{}", plan.render());
    }
    Ok(())
}
