//! Writes the state file as the run goes: every resource the moment its id is known, the
//! public address, the host key fingerprint and the last step reached. Nothing is written
//! until preflight has passed, so a run rejected there leaves no file behind; from then on the
//! file holds the environment's nonce, which every resource it makes carries, so a run killed
//! at any later point resumes as the same environment.

use std::sync::Mutex;

use carto_core::ResourceRef;
use chrono::{DateTime, Utc};

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
        let mut state = match store.load(&spec.env)? {
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
        state.expires_at = expiry(spec.ttl, &state)?;
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

/// The environment's expiry: `--ttl` from its creation, else what its state records. Once
/// resources exist they carry the recorded expiry as a tag, so a different `--ttl` is refused
/// rather than leaving the environment's resources disagreeing about when it expires.
fn expiry(
    ttl: Option<std::time::Duration>,
    state: &EnvState,
) -> Result<Option<DateTime<Utc>>, InputError> {
    let Some(ttl) = ttl else {
        return Ok(state.expires_at);
    };
    let asked = state.created_at + ttl;
    if state.resources.is_empty() || state.expires_at == Some(asked) {
        return Ok(Some(asked));
    }
    let now = match state.expires_at {
        Some(t) => format!("expires at {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
        None => "has no ttl".to_string(),
    };
    Err(InputError(format!(
        "--ttl: environment {} already {now} and its resources are tagged so: run again without --ttl (or with the same one), or destroy it and create it anew",
        state.name
    )))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use carto_core::{Cloud, EnvName, ResourceKind};

    use super::*;

    #[test]
    fn the_expiry_is_fixed_once_resources_carry_it() {
        let mut state = EnvState::new(EnvName::parse("e").unwrap(), Cloud::Aws, "r", "e.test");
        let hour = Some(Duration::from_secs(3600));
        let in_an_hour = Some(state.created_at + Duration::from_secs(3600));
        assert_eq!(expiry(None, &state).unwrap(), None);
        assert_eq!(expiry(hour, &state).unwrap(), in_an_hour);
        state.expires_at = in_an_hour;
        state.record(ResourceRef::new(ResourceKind::Vm, "i-1", "vm", "r"));
        assert_eq!(
            expiry(None, &state).unwrap(),
            in_an_hour,
            "recorded one kept"
        );
        assert_eq!(expiry(hour, &state).unwrap(), in_an_hour);
        let e = expiry(Some(Duration::from_secs(60)), &state).unwrap_err();
        assert!(
            e.0.starts_with("--ttl: environment e already expires at"),
            "{e}"
        );
        state.expires_at = None;
        assert!(expiry(hour, &state).unwrap_err().0.contains("has no ttl"));
    }
}
