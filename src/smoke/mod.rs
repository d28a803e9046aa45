//! PLACEHOLDER: the cross-cloud smoke deployment (owned by the smoke work).

use crate::cli::SmokeArgs;
use crate::spec::InputError;
use crate::state::StateStore;

/// Runs `smoke`.
pub async fn run(_args: SmokeArgs, _store: &StateStore, _json: bool) -> anyhow::Result<()> {
    Err(InputError("smoke is not written yet".into()).into())
}
