//! Compute `*.list` for instances, disks, addresses, firewalls, networks and subnetworks, with the subset of Compute's
//! `filter` syntax a label sweep needs: `labels.KEY = "VALUE"`, `name != x`, terms joined by
//! `AND` or written as `(a = b) (c = d)`. Anything else is refused as Compute refuses it.

use crate::catalogue::link;
use crate::errors::ApiError;
use crate::route::Call;
use crate::state::State;
use serde_json::{Value, json};

/// `compute.{instances,disks,addresses,firewalls,networks,subnetworks}.list`
pub fn list(state: &mut State, call: &Call, kind: &'static str) -> Result<Value, ApiError> {
    let project = call.param("project");
    let scope = match kind {
        "addresses" | "subnetworks" => format!("regions/{}", call.param("region")),
        "firewalls" | "networks" => "global".to_string(),
        _ => format!("zones/{}", call.param("zone")),
    };
    let prefix = format!("projects/{project}/{scope}/{kind}/");
    let terms = match call.query("filter") {
        Some(text) => parse(text)?,
        None => Vec::new(),
    };
    let size = page_size(state, call)?;
    let matching: Vec<Value> = state
        .kind(kind)
        .iter()
        .filter(|(key, _)| key.starts_with(&prefix))
        .filter(|(_, item)| terms.iter().all(|t| t.matches(item)))
        .map(|(_, item)| item.clone())
        .collect();
    let (items, next) = page(matching, call, size)?;
    let list_kind = match kind {
        "addresses" => "compute#addressList",
        "firewalls" => "compute#firewallList",
        "networks" => "compute#networkList",
        "subnetworks" => "compute#subnetworkList",
        "disks" => "compute#diskList",
        _ => "compute#instanceList",
    };
    let mut out = json!({
        "kind": list_kind,
        "id": format!("projects/{project}/{scope}/{kind}"),
        "selfLink": link(&call.base, project, &format!("{scope}/{kind}")),
    });
    // Compute leaves `items` out of an empty list.
    if !items.is_empty() {
        out["items"] = json!(items);
    }
    if let Some(token) = next {
        out["nextPageToken"] = json!(token);
    }
    Ok(out)
}

/// `compute.{instances,addresses,subnetworks}.aggregatedList`: every zone's (region's) items, grouped
/// under `zones/Z` (`regions/R`) as Compute groups them.
pub fn aggregated(state: &mut State, call: &Call, kind: &'static str) -> Result<Value, ApiError> {
    let project = call.param("project");
    let prefix = format!("projects/{project}/");
    let terms = match call.query("filter") {
        Some(text) => parse(text)?,
        None => Vec::new(),
    };
    let size = page_size(state, call)?;
    let matching: Vec<(String, Value)> = state
        .kind(kind)
        .iter()
        .filter(|(key, item)| key.starts_with(&prefix) && terms.iter().all(|t| t.matches(item)))
        .map(|(key, item)| (key.clone(), item.clone()))
        .collect();
    let (items, next) = page(matching, call, size)?;
    let mut groups = serde_json::Map::new();
    for (key, item) in &items {
        let Some(rest) = key.strip_prefix(&prefix) else {
            continue;
        };
        // rest = zones/Z/instances/N or regions/R/addresses/N
        let scope: Vec<&str> = rest.splitn(3, '/').take(2).collect();
        let group = groups
            .entry(scope.join("/"))
            .or_insert_with(|| json!({ kind: [] }));
        if let Some(list) = group[kind].as_array_mut() {
            list.push(item.clone());
        }
    }
    let list_kind = match kind {
        "addresses" => "compute#addressAggregatedList",
        "subnetworks" => "compute#subnetworkAggregatedList",
        _ => "compute#instanceAggregatedList",
    };
    let mut out = json!({
        "kind": list_kind,
        "id": format!("projects/{project}/aggregated/{kind}"),
        "items": groups,
        "selfLink": link(&call.base, project, &format!("aggregated/{kind}")),
    });
    if let Some(token) = next {
        out["nextPageToken"] = json!(token);
    }
    Ok(out)
}

/// The page size of this call: its `maxResults` (Compute caps it at 500), at most the fake's.
fn page_size(state: &State, call: &Call) -> Result<usize, ApiError> {
    let asked = match call.query("maxResults") {
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| ApiError::invalid(format!("Invalid value for maxResults: {n}")))?,
        None => 500,
    };
    Ok(asked.min(500).min(state.page_size).max(1))
}

/// The page `pageToken` names (an offset this fake handed out) of `items`, and the token of
/// the next page when there is one.
fn page<T>(items: Vec<T>, call: &Call, size: usize) -> Result<(Vec<T>, Option<String>), ApiError> {
    let from = match call.query("pageToken") {
        Some(t) if !t.is_empty() => t
            .parse::<usize>()
            .map_err(|_| ApiError::invalid(format!("Invalid value for pageToken: {t}")))?,
        _ => 0,
    };
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(from).take(size).collect();
    let next = (from + size < total).then(|| (from + size).to_string());
    Ok((items, next))
}

/// One `field op value` comparison.
#[derive(Debug, PartialEq)]
struct Term {
    field: Vec<String>,
    equal: bool,
    value: String,
}

impl Term {
    fn matches(&self, item: &Value) -> bool {
        let found = self.field.iter().try_fold(item, |v, k| v.get(k));
        let text = match found {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        (text.as_deref() == Some(self.value.as_str())) == self.equal
    }
}

fn parse(filter: &str) -> Result<Vec<Term>, ApiError> {
    let refuse = || ApiError::invalid_field("filter", filter, "Invalid list filter expression.");
    let flattened = filter.replace('(', " ").replace(')', " AND ");
    let mut terms = Vec::new();
    for chunk in flattened
        .split(" AND ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let (field, equal, value) = match (chunk.split_once("!="), chunk.split_once('=')) {
            (Some((f, v)), _) => (f, false, v),
            (None, Some((f, v))) => (f, true, v),
            (None, None) => return Err(refuse()),
        };
        let field = field.trim();
        let value = value.trim().trim_matches('"');
        let well_formed = !field.is_empty()
            && !value.is_empty()
            && !field.contains(char::is_whitespace)
            && !value.contains(char::is_whitespace);
        if !well_formed {
            return Err(refuse());
        }
        terms.push(Term {
            field: field.split('.').map(String::from).collect(),
            equal,
            value: value.to_string(),
        });
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_both_spellings() {
        let a = parse("labels.carto-env = \"env-1\" AND name != x").unwrap_or_default();
        let b = parse("(labels.carto-env = env-1) (name != \"x\")").unwrap_or_default();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert!(!a[1].equal && a[0].field == ["labels", "carto-env"]);
    }

    #[test]
    fn labels_match_and_garbage_is_refused() {
        let terms = parse("labels.carto-env=env-1").unwrap_or_default();
        assert!(terms[0].matches(&json!({"labels": {"carto-env": "env-1"}})));
        assert!(!terms[0].matches(&json!({"labels": {"carto-env": "env-2"}})));
        assert!(!terms[0].matches(&json!({})));
        assert!(parse("labels.carto-env").is_err());
        assert!(parse("name = a b").is_err());
    }
}
