//! Cloud DNS handlers: managed zones (seeded by tests, listed and read), changes (applied at
//! once, reported `pending` until read the configured number of times, then `done`) and the
//! record-set listing.

use crate::errors::ApiError;
use crate::route::Call;
use crate::state::{DnsChange, State, now_rfc3339};
use serde_json::{Value, json};

/// Create a public zone with its apex SOA and NS records.
pub fn seed_zone(state: &mut State, project: &str, name: &str, dns_name: &str) -> Value {
    let servers: Vec<String> = ["a1", "b1", "c1", "d1"]
        .iter()
        .map(|s| format!("ns-cloud-{s}.googledomains.com."))
        .collect();
    let zone = json!({
        "kind": "dns#managedZone",
        "name": name,
        "dnsName": dns_name,
        "id": state.next_id().to_string(),
        "description": "",
        "visibility": "public",
        "nameServers": servers,
        "labels": {},
        "creationTime": now_rfc3339(),
    });
    let soa = format!(
        "{} cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300",
        servers[0]
    );
    let apex = vec![
        record(dns_name, "NS", 21600, json!(servers)),
        record(dns_name, "SOA", 21600, json!([soa])),
    ];
    let key = (project.to_string(), name.to_string());
    state.rrsets.insert(key.clone(), apex);
    state.dns_zones.insert(key, zone.clone());
    zone
}

fn record(name: &str, kind: &str, ttl: i64, rrdatas: Value) -> Value {
    json!({"kind": "dns#resourceRecordSet", "name": name, "type": kind, "ttl": ttl, "rrdatas": rrdatas})
}

/// `dns.managedZones.list`, filtered by `dnsName` when given.
pub fn list_zones(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let project = call.param("project");
    let wanted = call.query("dnsName");
    let zones: Vec<Value> = state
        .dns_zones
        .iter()
        .filter(|((p, _), z)| p == project && wanted.is_none_or(|d| z["dnsName"] == json!(d)))
        .map(|(_, z)| z.clone())
        .collect();
    Ok(json!({"kind": "dns#managedZonesListResponse", "managedZones": zones}))
}

/// `dns.managedZones.get` (by name or id).
pub fn get_zone(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    zone_name(state, call).map(|(_, zone)| zone)
}

/// `dns.changes.create`: deletions then additions, all checked before any is applied.
pub fn create_change(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let (name, zone) = zone_name(state, call)?;
    let key = (call.param("project").to_string(), name);
    let body = call.body();
    let additions = body["additions"].as_array().cloned().unwrap_or_default();
    let deletions = body["deletions"].as_array().cloned().unwrap_or_default();
    if additions.is_empty() && deletions.is_empty() {
        return Err(ApiError::invalid(
            "The 'entity.change' resource named 'change' is invalid: it is empty",
        ));
    }
    let mut records = state.rrsets.get(&key).cloned().unwrap_or_default();
    for (i, gone) in deletions.iter().enumerate() {
        let at = format!("entity.change.deletions[{i}]");
        let pos = records.iter().position(|r| same_set(r, gone));
        let Some(pos) = pos else {
            return Err(ApiError::new(
                404,
                "notFound",
                format!(
                    "The resource '{at}' named '{}' does not exist.",
                    label(gone)
                ),
            ));
        };
        if records[pos]["rrdatas"] != gone["rrdatas"] || records[pos]["ttl"] != gone["ttl"] {
            return Err(ApiError::new(
                412,
                "conditionNotMet",
                format!("Precondition not met for '{at}'"),
            ));
        }
        records.remove(pos);
    }
    let dns_name = zone["dnsName"].as_str().unwrap_or_default();
    for (i, added) in additions.iter().enumerate() {
        let at = format!("entity.change.additions[{i}]");
        check_addition(added, dns_name, &at)?;
        if records.iter().any(|r| same_set(r, added)) {
            return Err(ApiError::already_exists_named(&at, &label(added)));
        }
        // A CNAME shares its name with no other set (RFC 1034 3.6.2), as Cloud DNS enforces.
        let cname = |r: &Value| r["type"] == "CNAME";
        if records
            .iter()
            .any(|r| r["name"] == added["name"] && (cname(r) || cname(added)))
        {
            return Err(ApiError::new(
                409,
                "cnameResourceRecordSetConflict",
                format!(
                    "The resource '{at}' named '{}' conflicts with a CNAME set at that name.",
                    label(added)
                ),
            ));
        }
        let mut stored = added.clone();
        stored["kind"] = json!("dns#resourceRecordSet");
        records.push(stored);
    }
    state.rrsets.insert(key.clone(), records);
    let id = state
        .changes
        .keys()
        .filter(|(p, z, _)| *p == key.0 && *z == key.1)
        .count()
        + 1;
    let done = state.settings.dns_polls_to_done == 0;
    let change = json!({
        "kind": "dns#change",
        "id": id.to_string(),
        "startTime": now_rfc3339(),
        "status": if done { "done" } else { "pending" },
        "additions": additions,
        "deletions": deletions,
    });
    let stored = DnsChange {
        value: change.clone(),
        polls: 0,
    };
    state.changes.insert((key.0, key.1, id.to_string()), stored);
    Ok(change)
}

/// `dns.changes.get`: each read moves a pending change towards `done`.
pub fn get_change(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let (name, _) = zone_name(state, call)?;
    let id = call.param("changeId");
    let key = (call.param("project").to_string(), name, id.to_string());
    let needed = state.settings.dns_polls_to_done;
    let Some(change) = state.changes.get_mut(&key) else {
        return Err(missing("changeId", id));
    };
    change.polls += 1;
    if change.polls >= needed {
        change.value["status"] = json!("done");
    }
    Ok(change.value.clone())
}

/// `dns.resourceRecordSets.list`, filtered by `name` and `type` when given.
pub fn list_rrsets(state: &mut State, call: &Call) -> Result<Value, ApiError> {
    let (name, _) = zone_name(state, call)?;
    let key = (call.param("project").to_string(), name);
    let (want_name, want_type) = (call.query("name"), call.query("type"));
    let rrsets: Vec<Value> = state
        .rrsets
        .get(&key)
        .into_iter()
        .flatten()
        .filter(|r| want_name.is_none_or(|n| r["name"] == json!(n)))
        .filter(|r| want_type.is_none_or(|t| r["type"] == json!(t)))
        .cloned()
        .collect();
    Ok(json!({"kind": "dns#resourceRecordSetsListResponse", "rrsets": rrsets}))
}

/// The zone a call names (by name or numeric id): (its name, the zone).
fn zone_name(state: &State, call: &Call) -> Result<(String, Value), ApiError> {
    let (project, wanted) = (call.param("project"), call.param("managedZone"));
    state
        .dns_zones
        .iter()
        .find(|((p, n), z)| p == project && (n == wanted || z["id"] == json!(wanted)))
        .map(|((_, n), z)| (n.clone(), z.clone()))
        .ok_or_else(|| missing("managedZone", wanted))
}

fn missing(param: &str, value: &str) -> ApiError {
    ApiError::new(
        404,
        "notFound",
        format!("The 'parameters.{param}' resource named '{value}' does not exist."),
    )
}

fn same_set(a: &Value, b: &Value) -> bool {
    a["name"] == b["name"] && a["type"] == b["type"]
}

fn label(set: &Value) -> String {
    format!(
        "{} ({})",
        set["name"].as_str().unwrap_or_default(),
        set["type"].as_str().unwrap_or_default()
    )
}

fn check_addition(set: &Value, dns_name: &str, at: &str) -> Result<(), ApiError> {
    let name = set["name"].as_str().unwrap_or_default();
    if !name.ends_with('.') || !(name == dns_name || name.ends_with(&format!(".{dns_name}"))) {
        return Err(ApiError::invalid(format!(
            "The resource record set '{at}' is invalid because the DNS name '{name}' is not within the zone '{dns_name}'."
        )));
    }
    let kind = set["type"].as_str().unwrap_or_default();
    let datas = set["rrdatas"].as_array().cloned().unwrap_or_default();
    if kind.is_empty() || datas.is_empty() {
        return Err(ApiError::invalid(format!(
            "The resource '{at}' needs a type and at least one rrdata."
        )));
    }
    for (i, data) in datas.iter().enumerate() {
        let text = data.as_str().unwrap_or_default();
        if kind == "A" && text.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(ApiError::invalid(format!(
                "Invalid value for '{at}.rrdata[{i}]': '{text}'"
            )));
        }
    }
    Ok(())
}
