//! Long-running operations: starting one (its `Azure-AsyncOperation` and `Location` URLs),
//! answering polls, and applying its effect exactly once when it completes (provisioned, or
//! deleted with everything below it). An operation stays in progress for the configured number
//! of observations; a poll of its URL and a GET of its resource each count as one, so clients
//! that poll the operation and clients that poll `provisioningState` both see it finish.

use serde_json::{Value, json};

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

/// Registers an operation; with zero polls configured the effect applies at once.
pub fn start(
    store: &mut Store,
    effect: Effect,
    base: &str,
    subscription: &str,
    namespace: &str,
    api_version: &str,
) -> OpUrls {
    let id = store.next_id();
    let polls_left = store.lro_polls;
    let mut op = Operation {
        polls_left,
        effect,
        done: false,
    };
    if polls_left == 0 {
        apply(store, &op.effect);
        op.done = true;
    } else {
        let key = match &op.effect {
            Effect::Provisioned(k) | Effect::Delete(k) => k.clone(),
        };
        store.pending.insert(key, id.clone());
    }
    store.ops.insert(id.clone(), op);
    let at = format!("{base}/subscriptions/{subscription}/providers/{namespace}/locations/fake");
    OpUrls {
        status: format!("{at}/operations/{id}?api-version={api_version}"),
        result: format!("{at}/operationResults/{id}?api-version={api_version}"),
    }
}

/// Counts one observation of operation `id`: `Some(true)` while it is still in progress,
/// `Some(false)` once done (the effect applied on the first such observation).
pub fn observe(store: &mut Store, id: &str) -> Option<bool> {
    let op = store.ops.get_mut(id)?;
    if op.polls_left > 0 {
        op.polls_left -= 1;
        return Some(true);
    }
    if !op.done {
        op.done = true;
        let effect = op.effect.clone();
        store.pending.retain(|_, v| v != id);
        apply(store, &effect);
    }
    Some(false)
}

/// Counts a GET of resource `key` as an observation of its unfinished operation, if any.
pub fn observe_resource(store: &mut Store, key: &str) {
    if let Some(id) = store.pending.get(key).cloned() {
        observe(store, &id);
    }
}

/// Applies an operation's effect to the store.
pub fn apply(store: &mut Store, effect: &Effect) {
    match effect {
        Effect::Provisioned(key) => {
            let kids: Vec<String> = store
                .resources
                .get(key)
                .and_then(|v| v["type"].as_str())
                .map(str::to_ascii_lowercase)
                .and_then(|t| shape::embedded_of(&t))
                .map(|coll| shape::children(store, key, coll))
                .unwrap_or_default();
            for k in kids.iter().chain(std::iter::once(key)) {
                if let Some(v) = store.resources.get_mut(k) {
                    let t = v["type"].as_str().unwrap_or_default().to_ascii_lowercase();
                    shape::set_state(v, &t, "Succeeded");
                }
            }
        }
        Effect::Delete(key) => {
            let below = format!("{key}/");
            store
                .resources
                .retain(|k, _| k != key && !k.starts_with(&below));
        }
    }
}

/// Whether a path is an operation URL: `/subscriptions/s/providers/ns/locations/l/{operations|operationResults}/id`.
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
pub fn poll(
    store: &mut Store,
    is_status: bool,
    id: &str,
    self_url: &str,
    retry_after: u64,
) -> Reply {
    let Some(running) = observe(store, id) else {
        return Reply::error(&crate::ArmError::new(
            404,
            "OperationNotFound",
            format!("The operation '{id}' could not be found."),
        ));
    };
    let status = if running { "InProgress" } else { "Succeeded" };
    if is_status {
        let body: Value = json!({"name": id, "status": status});
        let mut r = Reply::json(200, body);
        if running {
            r.headers
                .push(("Retry-After".into(), retry_after.to_string()));
        }
        r
    } else if running {
        let mut r = Reply::empty(202);
        r.headers.push(("Location".into(), self_url.to_string()));
        r.headers
            .push(("Retry-After".into(), retry_after.to_string()));
        r
    } else {
        Reply::empty(200)
    }
}
