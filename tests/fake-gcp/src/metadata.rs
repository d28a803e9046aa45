//! `compute.instances.setMetadata`: replaces an instance's metadata items, conditional on the
//! metadata fingerprint the caller read, as Compute does: a missing or stale fingerprint is
//! refused with 412 conditionNotMet and changes nothing. An accepted change is applied at once
//! with a new fingerprint; the returned operation only reports it.

use crate::compute::{fingerprint, get_resource};
use crate::errors::ApiError;
use crate::instances::instance_key;
use crate::operations::{self, Scope, Target};
use crate::route::Call;
use crate::state::State;
use serde_json::{Value, json};

/// `compute.instances.setMetadata`
pub fn set_metadata(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    if let Some(earlier) = operations::replay(state, call)? {
        return Ok(earlier);
    }
    let key = instance_key(call);
    let instance = get_resource(state, "instances", &key)?;
    let current = instance["metadata"]["fingerprint"].as_str();
    if call.body_str("fingerprint") != current {
        return Err(ApiError::new(
            412,
            "conditionNotMet",
            "Supplied fingerprint does not match current metadata fingerprint.",
        ));
    }
    let items = call.body()["items"].as_array().cloned().unwrap_or_default();
    let mut metadata = json!({ "kind": "compute#metadata", "items": items });
    // Over the content and the previous fingerprint: every accepted write gets a new one.
    metadata["fingerprint"] = json!(fingerprint(&json!([metadata, current])));
    if let Some(stored) = state.kind("instances").get_mut(&key) {
        stored["metadata"] = metadata;
    }
    let target = Target {
        op_type: "setMetadata",
        link: instance["selfLink"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        id: instance["id"].as_str().unwrap_or_default().to_string(),
        effect: None,
        undo: None,
    };
    Ok(operations::start(
        state,
        call,
        Scope::Zone(call.param("zone")),
        target,
    ))
}
