//! Compute long-running operations: created by inserts and deletes, they go PENDING -> RUNNING ->
//! DONE over the configured number of polls (get or wait), applying their effect at DONE.
//! Also the `requestId` rules: a repeated id returns the earlier operation.

use crate::catalogue::link;
use crate::errors::ApiError;
use crate::route::Call;
use crate::state::{Effect, Op, State, now_rfc3339};
use serde_json::{Value, json};

/// Where an operation lives.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// `zones/{zone}/operations`
    Zone(&'a str),
    /// `regions/{region}/operations`
    Region(&'a str),
    /// `global/operations`
    Global,
}

impl Scope<'_> {
    fn prefix(&self) -> String {
        match self {
            Scope::Zone(z) => format!("zones/{z}"),
            Scope::Region(r) => format!("regions/{r}"),
            Scope::Global => "global".to_string(),
        }
    }
}

/// What the new operation is about.
pub struct Target {
    /// `insert` or `delete`.
    pub op_type: &'static str,
    /// The target resource's self link.
    pub link: String,
    /// The target resource's id.
    pub id: String,
    /// Applied when the operation reaches DONE.
    pub effect: Option<Effect>,
    /// Applied instead when the operation fails (see `FakeState::fail_next_operation`).
    pub undo: Option<Effect>,
}

/// Reject a malformed `requestId` (Compute wants a non-zero UUID); on a repeat, the earlier
/// operation of the same method, as it is now.
pub fn replay(state: &State, call: &Call) -> Result<Option<Value>, ApiError> {
    let Some(id) = call.query("requestId") else {
        return Ok(None);
    };
    if !is_uuid(id) {
        return Err(ApiError::invalid_field(
            "requestId",
            id,
            "The request ID must be a valid UUID with the exception that zero UUID is not supported.",
        ));
    }
    let key = (call.param("project").to_string(), id.to_string());
    let earlier = state.request_ids.get(&key);
    let earlier = earlier.filter(|(method, _)| *method == call.method_id);
    Ok(earlier.and_then(|(_, path)| state.operations.get(path).map(|op| op.value.clone())))
}

/// Create an operation for `call` and remember its `requestId`.
pub fn start(state: &mut State, call: &Call, scope: Scope<'_>, target: Target) -> Value {
    let project = call.param("project").to_string();
    let id = state.next_id();
    let name = format!(
        "operation-{id}-{:08x}",
        id.wrapping_mul(2_654_435_761) as u32
    );
    let path = format!("projects/{project}/{}/operations/{name}", scope.prefix());
    let now = now_rfc3339();
    let mut value = json!({
        "kind": "compute#operation",
        "id": id.to_string(),
        "name": name,
        "operationType": target.op_type,
        "targetLink": target.link,
        "targetId": target.id,
        "status": "PENDING",
        "progress": 0,
        "user": "fake-caller@example.com",
        "insertTime": now,
        "selfLink": link(&call.base, &project, &format!("{}/operations/{name}", scope.prefix())),
    });
    match scope {
        Scope::Zone(z) => value["zone"] = json!(link(&call.base, &project, &format!("zones/{z}"))),
        Scope::Region(r) => {
            value["region"] = json!(link(&call.base, &project, &format!("regions/{r}")));
        }
        Scope::Global => {}
    }
    if let Some(request_id) = call.query("requestId") {
        let key = (project, request_id.to_string());
        state
            .request_ids
            .insert(key, (call.method_id.clone(), path.clone()));
    }
    let mut op = Op {
        value,
        polls: 0,
        effect: target.effect,
        undo: target.undo,
        failure: state.op_failures.remove(&call.method_id),
    };
    if state.settings.polls_to_done == 0 {
        finish(state, &mut op);
    }
    let value = op.value.clone();
    state.operations.insert(path, op);
    value
}

/// `*Operations.get` / `*Operations.wait`: one poll moves the operation one step on.
pub fn poll(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let project = call.param("project");
    let scope = if !call.param("zone").is_empty() {
        Scope::Zone(call.param("zone"))
    } else if !call.param("region").is_empty() {
        Scope::Region(call.param("region"))
    } else {
        Scope::Global
    };
    let path = format!(
        "projects/{project}/{}/operations/{}",
        scope.prefix(),
        call.param("operation")
    );
    let Some(mut op) = state.operations.remove(&path) else {
        return Err(ApiError::not_found(&path));
    };
    if op.value["status"] != "DONE" {
        op.polls += 1;
        if op.polls >= state.settings.polls_to_done {
            finish(state, &mut op);
        } else {
            op.value["status"] = json!("RUNNING");
            op.value["startTime"] = json!(now_rfc3339());
        }
    }
    let value = op.value.clone();
    state.operations.insert(path, op);
    Ok(value)
}

fn finish(state: &mut State, op: &mut Op) {
    let now = now_rfc3339();
    op.value["status"] = json!("DONE");
    op.value["progress"] = json!(100);
    if op.value.get("startTime").is_none() {
        op.value["startTime"] = json!(now);
    }
    op.value["endTime"] = json!(now);
    let effect = match op.failure.take() {
        Some(failure) => {
            op.value["error"] =
                json!({"errors": [{"code": failure.code, "message": failure.message}]});
            op.value["httpErrorStatusCode"] = json!(failure.http_status);
            op.value["httpErrorMessage"] = json!(failure.message);
            op.undo.take()
        }
        None => op.effect.take(),
    };
    apply(state, effect);
}

fn apply(state: &mut State, effect: Option<Effect>) {
    match effect {
        Some(Effect::SetStatus { kind, key, status }) => {
            if let Some(resource) = state.kind(kind).get_mut(&key) {
                resource["status"] = json!(status);
            }
        }
        Some(Effect::Remove { kind, key }) => match (state.kind(kind).remove(&key), kind) {
            (Some(removed), "instances") => crate::instances::release(state, &removed),
            (Some(removed), "subnetworks") => crate::networks::release_subnetwork(state, &removed),
            _ => {}
        },
        None => {}
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    let lengths = groups.iter().map(|g| g.len()).collect::<Vec<_>>();
    lengths == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
        && s.chars().any(|c| c != '0' && c != '-')
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn request_ids_must_be_non_zero_uuids() {
        assert!(is_uuid("0b6f0d2e-3c1a-4f7e-9a52-6f2f1e9d8c7b"));
        assert!(!is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(!is_uuid("carto-my-env-vm"));
        assert!(!is_uuid("0b6f0d2e-3c1a-4f7e-9a52-6f2f1e9d8c7"));
    }
}
