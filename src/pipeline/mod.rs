//! The deployment as a table of steps, and the runner that walks it.
//!
//! ```text
//! preflight -> infra -> dns --------------------------------.
//!                    \-> bootstrap -> install -> healthy -> verify
//! ```
//! Every step is idempotent: a resource is found before it is created and every remote step
//! checks before it acts, so running the same command again resumes where a run stopped.
//! Each resource id is written to the state file the moment the cloud returns it, so
//! `destroy` always knows exactly what exists.

pub mod bootstrap;
pub mod destroy;
pub mod dns;
pub mod events;
pub mod hostkey;
pub mod infra;
pub mod install;
pub mod on_vm;
pub mod plan;
pub mod preflight;
pub mod record;
pub mod verify;

use std::time::Instant;

use anyhow::Context;
use carto_core::Provider;

pub use events::{Events, Step};
use record::Recorder;

use crate::interrupt;
use crate::spec::Spec;
use crate::state::StateStore;
use crate::timeline::{self, SpanKind};

/// What a finished deployment tells the user.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Environment name.
    pub env: String,
    /// Domain.
    pub domain: String,
    /// The VM's public address.
    pub ip: String,
    /// HTTPS paths that answered, with their status.
    pub verified: Vec<(String, u16)>,
}

/// Creates (or resumes) the environment `spec` describes, installs CARTO and verifies it.
pub async fn deploy(
    spec: &Spec,
    provider: &dyn Provider,
    store: &StateStore,
    events: &dyn Events,
) -> anyhow::Result<Outcome> {
    let _lock = store.lock(&spec.env)?;
    let rec = Recorder::open(store, spec)?;
    let ready = timed(
        events,
        Step::Preflight,
        preflight::run(spec, provider, store, &rec),
    )
    .await?;
    let infra = timed(events, Step::Infra, infra::run(provider, &ready, &rec)).await?;
    rec.reached(Step::Infra)?;
    let dns = timed(events, Step::Dns, dns::run(provider, &ready, &infra, &rec));
    let vm = on_vm::OnVm {
        spec,
        ready: &ready,
        store,
        recorder: &rec,
        events,
    };
    let on_vm = async {
        let bootstrap = async {
            let session = vm.bootstrap(&infra).await?;
            infra::forget_user_data(provider, &infra, &rec).await?;
            Ok(session)
        };
        let session = timed(events, Step::Bootstrap, bootstrap).await?;
        let session = timed(events, Step::Install, vm.install(session)).await?;
        timed(events, Step::Healthy, vm.wait_healthy(session)).await
    };
    let (dns, on_vm) = tokio::join!(dns, on_vm);
    dns?;
    on_vm?;
    let verified = timed(events, Step::Verify, verify::run(spec, &infra, &rec)).await?;
    Ok(Outcome {
        env: spec.env.to_string(),
        domain: spec.domain.to_string(),
        ip: infra.address.ip.clone(),
        verified,
    })
}

/// Runs one step between its start and end events, naming the step in the error. A step that
/// changes the cloud runs to its end (it stops itself at safe points); any other ends at once
/// when a signal asks the run to stop.
pub async fn timed<T>(
    events: &dyn Events,
    step: Step,
    fut: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    interrupt::check()?;
    let start = Instant::now();
    let span = timeline::begin(SpanKind::Step, step.as_str());
    events.step_started(step);
    let result = if step.changes_cloud() {
        fut.await
    } else {
        interrupt::unless_stopped(fut).await
    };
    let result = result.with_context(|| step.failure());
    span.end(result.is_ok());
    if result.is_ok() {
        interrupt::die_at(&format!("step:{step}"));
    }
    events.step_finished(
        step,
        start.elapsed(),
        result.as_ref().err().map(|e| format!("{e:#}")),
    );
    result
}
