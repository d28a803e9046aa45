//! References between resources: a PUT may only point (`{"id": "/subscriptions/…"}`) at
//! resources that exist, and a resource still pointed at by another cannot be deleted —
//! ARM's `InvalidResourceReference` and in-use errors. Generic JSON walks over the store.

use serde_json::Value;

use crate::errors::ArmError;
use crate::state::Store;

/// Every `id` value of nested objects in `v` (the root's own `id` excluded).
fn nested_ids<'v>(v: &'v Value, root: bool, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(m) => {
            if !root && let Some(id) = m.get("id").and_then(Value::as_str) {
                out.push(id);
            }
            for x in m.values() {
                nested_ids(x, false, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| nested_ids(x, false, out)),
        _ => {}
    }
}

/// Fails when `body` (for resource `own_key`) references a resource that does not exist.
pub fn check_targets(
    store: &Store,
    own_key: &str,
    own_id: &str,
    body: &Value,
) -> Result<(), ArmError> {
    let mut ids = Vec::new();
    nested_ids(body, true, &mut ids);
    for id in ids {
        let key = id.to_ascii_lowercase();
        if !key.starts_with("/subscriptions/") || key.starts_with(own_key) {
            continue;
        }
        if !store.resources.contains_key(&key) {
            return Err(ArmError::new(
                400,
                "InvalidResourceReference",
                format!(
                    "Resource {id} referenced by resource {own_id} was not found. Please make \
                     sure that the referenced resource exists, and that both resources are in \
                     the same region."
                ),
            ));
        }
    }
    Ok(())
}

/// Fails when a resource outside `key`'s subtree still references `key` or a child of it.
pub fn check_unused(store: &Store, key: &str, id: &str, type_lc: &str) -> Result<(), ArmError> {
    let below = format!("{key}/");
    for (other_key, other) in &store.resources {
        if other_key == key || other_key.starts_with(&below) {
            continue;
        }
        let mut ids = Vec::new();
        nested_ids(other, true, &mut ids);
        let hit = ids.iter().any(|r| {
            let r = r.to_ascii_lowercase();
            r == key || r.starts_with(&below)
        });
        if hit {
            let code = match type_lc {
                "microsoft.network/publicipaddresses" => "PublicIPAddressCannotBeDeleted",
                "microsoft.network/networkinterfaces" => "NicInUse",
                "microsoft.network/virtualnetworks/subnets"
                | "microsoft.network/virtualnetworks" => "InUseSubnetCannotBeDeleted",
                "microsoft.network/networksecuritygroups" => {
                    "InUseNetworkSecurityGroupCannotBeDeleted"
                }
                _ => "InUseCannotBeDeleted",
            };
            let by = other["id"].as_str().unwrap_or(other_key);
            return Err(ArmError::new(
                400,
                code,
                format!("Resource {id} is in use by {by} and cannot be deleted."),
            ));
        }
    }
    Ok(())
}
