//! Writes the state file as the run goes: every resource the moment its id is known, the
//! public address, the host key fingerprint and the last step reached. Nothing is written
//! before the first resource exists, so a run rejected in preflight leaves no file behind.

use std::sync::Mutex;

use carto_core::ResourceRef;

use super::Step;
use crate::interrupt;
use crate::spec::{InputError, Spec};
use crate::state::{EnvState, StateStore};

/// The run's view of its state file.
pub struct Recorder<'a> {
    store: &'a StateStore,
    state: Mutex<EnvState>,
}

impl<'a> Recorder<'a> {
    /// Loads the environment's state, or starts a new one (not yet written). Refuses an
    /// existing environment of the same name on another cloud or for another domain.
    pub fn open(store: &'a StateStore, spec: &Spec) -> anyhow::Result<Recorder<'a>> {
        let state = match store.load(&spec.env)? {
            Some(s) => {
                if s.cloud != spec.cloud() || s.domain != spec.domain.as_str() {
                    return Err(InputError(format!(
                        "environment {} already exists for {} on {} (state in {}): choose another --name, or destroy it first",
                        spec.env,
                        s.domain,
                        s.cloud,
                        store.dir().display()
                    ))
                    .into());
                }
                s
            }
            None => EnvState::new(
                spec.env.clone(),
                spec.cloud(),
                spec.region.clone(),
                spec.domain.to_string(),
            ),
        };
        Ok(Recorder {
            store,
            state: Mutex::new(state),
        })
    }

    /// Records a resource and saves at once; then stops the run if a signal asked for it.
    pub fn record(&self, resource: ResourceRef) -> anyhow::Result<()> {
        let kind = resource.kind;
        interrupt::die_at(&format!("unrecorded:{kind}"));
        self.update(|s| s.record(resource))?;
        interrupt::die_at(&format!("recorded:{kind}"));
        Ok(interrupt::check()?)
    }

    /// Records that `step` completed.
    pub fn reached(&self, step: Step) -> anyhow::Result<()> {
        self.update(|s| s.step = step.as_str().to_string())
    }

    /// Changes the state and saves at once.
    pub fn update(&self, change: impl FnOnce(&mut EnvState)) -> anyhow::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut state);
        state.updated_at = chrono::Utc::now();
        self.store.save(&state)?;
        Ok(())
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> EnvState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
