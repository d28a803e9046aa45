//! Long-running operations: starting one (its `Azure-AsyncOperation` and `Location` URLs),
//! answering polls, and applying its outcome exactly once when it completes (provisioned, or
//! deleted with everything below it, or — when a test injected it — failed with an error).
//! An operation stays in progress for the configured number of observations; a poll of its
//! URL and a GET of its resource each count as one, so clients that poll the operation and
//! clients that poll `provisioningState` both see it finish.

use serde_json::json;

use crate::errors::ArmError;
use crate::reply::Reply;
use crate::shape;
use crate::state::{Effect, Operation, Store};

/// Where an operation can be polled.
#[derive(Debug, Clone)]
pub struct OpUrls {
    /// `Azure-AsyncOperation` URL (status document).
    pub status: String,
    /// `Location` URL (202 until done).
    pub result: String,
}

/// What an operation belongs to: the call that started it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Base URL of the fake.
    pub base: &'a str,
    /// Subscription of the resource.
    pub subscription: &'a str,
    /// Provider namespace (in the operation URL).
    pub namespace: &'a str,
    /// api-version of the starting call (echoed in the operation URL).
    pub api_version: &'a str,
    /// operationId of the starting call (for injected failures).
    pub op_id: &'a str,
}

/// Where an observed operation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still running.
    Running,
    /// Finished well.
    Succeeded,
    /// Finished with this error (code, message).
    Failed(String, String),
}

/// Registers an operation; with zero polls configured the outcome applies at once.
pub fn start(store: &mut Store, effect: Effect, scope: Scope<'_>) -> OpUrls {
    let id = store.next_id();
    let failure = store
        .failures
        .get_mut(scope.op_id)
        .and_then(|q| q.pop_front());
    let op = Operation {
        polls_left: store.lro_polls,
        effect,
        done: false,
        failure,
    };
    let key = match &op.effect {
        Effect::Provisioned(k) | Effect::Delete(k) => k.clone(),
    };
    let immediate = op.polls_left == 0;
    store.ops.insert(id.clone(), op);
    store.pending.insert(key, id.clone());
    if immediate {
        observe(store, &id);
    }
    let at = format!(
        "{}/subscriptions/{}/providers/{}/locations/fake",
        scope.base, scope.subscription, scope.namespace
    );
    let v = scope.api_version;
    OpUrls {
        status: format!("{at}/operations/{id}?api-version={v}"),
        result: format!("{at}/operationResults/{id}?api-version={v}"),
    }
}

/// Counts one observation of operation `id` (`None` if unknown); the first observation
/// after the in-progress ones completes it.
pub fn observe(store: &mut Store, id: &str) -> Option<Progress> {
    let op = store.ops.get_mut(id)?;
    if op.polls_left > 0 {
        op.polls_left -= 1;
        return Some(Progress::Running);
    }
    let failure = op.failure.clone();
    if !op.done {
        op.done = true;
        let effect = op.effect.clone();
        store.pending.retain(|_, v| v != id);
        match &failure {
            None => apply(store, &effect),
            Some(_) => fail(store, &effect),
        }
    }
    Some(match failure {
        None => Progress::Succeeded,
        Some((code, message)) => Progress::Failed(code, message),
    })
}

/// Counts a GET of resource `key` as an observation of its unfinished operation, if any.
pub fn observe_resource(store: &mut Store, key: &str) {
    if let Some(id) = store.pending.get(key).cloned() {
        observe(store, &id);
    }
}

fn set_states(store: &mut Store, key: &str, state: &str) {
    let kids: Vec<String> = store
        .resources
        .get(key)
        .and_then(|v| v["type"].as_str())
        .map(str::to_ascii_lowercase)
        .and_then(|t| shape::embedded_of(&t))
        .map(|coll| shape::children(store, key, coll))
        .unwrap_or_default();
    for k in kids.iter().map(String::as_str).chain(std::iter::once(key)) {
        if let Some(v) = store.resources.get_mut(k) {
            let t = v["type"].as_str().unwrap_or_default().to_ascii_lowercase();
            shape::set_state(v, &t, state);
        }
    }
}

/// Applies an operation's effect to the store.
pub fn apply(store: &mut Store, effect: &Effect) {
    match effect {
        Effect::Provisioned(key) => set_states(store, key, "Succeeded"),
        Effect::Delete(key) => {
            let below = format!("{key}/");
            store
                .resources
                .retain(|k, _| k != key && !k.starts_with(&below));
        }
    }
}

/// A failed operation leaves its resource in place, `provisioningState: Failed`.
fn fail(store: &mut Store, effect: &Effect) {
    match effect {
        Effect::Provisioned(key) | Effect::Delete(key) => set_states(store, key, "Failed"),
    }
}

/// Whether a path is an operation URL:
/// `/subscriptions/s/providers/ns/locations/l/{operations|operationResults}/id`.
pub fn parse_poll(path: &str) -> Option<(bool, String)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["subscriptions", _, "providers", _, "locations", _, kind, id] => {
            let is_status = match *kind {
                "operations" => true,
                "operationResults" => false,
                _ => return None,
            };
            Some((is_status, id.to_string()))
        }
        _ => None,
    }
}

/// Answers one poll of operation `id`.
pub fn poll(store: &mut Store, is_status: bool, id: &str, self_url: &str, retry: u64) -> Reply {
    let Some(progress) = observe(store, id) else {
        return Reply::error(&ArmError::new(
            404,
            "OperationNotFound",
            format!("The operation '{id}' could not be found."),
        ));
    };
    match (progress, is_status) {
        (Progress::Running, true) => Reply::json(200, json!({"name": id, "status": "InProgress"}))
            .with("Retry-After", retry.to_string()),
        (Progress::Running, false) => Reply::empty(202)
            .with("Location", self_url)
            .with("Retry-After", retry.to_string()),
        (Progress::Succeeded, true) => Reply::json(200, json!({"name": id, "status": "Succeeded"})),
        (Progress::Succeeded, false) => Reply::empty(200),
        (Progress::Failed(code, message), true) => Reply::json(
            200,
            json!({"name": id, "status": "Failed", "error": {"code": code, "message": message}}),
        ),
        (Progress::Failed(code, message), false) => {
            Reply::error(&ArmError::new(400, &code, message))
        }
    }
}
