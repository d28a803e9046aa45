//! ARM resource semantics over the store: create-or-update (201 then 200, If-Match /
//! If-None-Match, immutable location, references checked, children inline), get (404
//! `ResourceNotFound` / `ResourceGroupNotFound`), delete (202 + polling for long-running
//! operations, 204 when absent where the contract allows it, in-use refused) and lists.
//! Bodies arrive here already checked against the contract.

use serde_json::{Value, json};

use crate::errors::ArmError;
use crate::filter::Filter;
use crate::ids::ResourceId;
use crate::lro;
use crate::refs;
use crate::reply::Reply;
use crate::routes::Route;
use crate::shape;
use crate::skus;
use crate::state::{Effect, Store};

/// One request, as the handlers need it.
#[derive(Debug)]
pub struct Call<'a> {
    /// The matched operation.
    pub route: &'a Route,
    /// The resource addressed (or the scope listed).
    pub rid: ResourceId,
    /// Parsed JSON body, if any.
    pub body: Option<Value>,
    /// `If-Match` header.
    pub if_match: Option<String>,
    /// `If-None-Match` header.
    pub if_none_match: Option<String>,
    /// Base URL of the fake, for operation URLs.
    pub base: &'a str,
    /// `Retry-After` seconds on long-running answers.
    pub retry_after: u64,
    /// `$filter` of list calls.
    pub filter: Option<String>,
    /// `$expand` of get calls.
    pub expand: Option<String>,
    /// `$skiptoken` of a list's later page: the store key of the last item already answered.
    pub after: Option<String>,
    /// The request's URL without `$skiptoken`: a list's `nextLink` adds it back.
    pub link: String,
}

/// The list operations served, each paged by `nextLink`.
pub const LISTS: &[&str] = &[
    "Zones_List",
    "ResourceGroups_List",
    "Resources_List",
    "Resources_ListByResourceGroup",
    "RecordSets_ListByType",
];

/// Runs the call against the store.
pub fn handle(store: &mut Store, call: Call<'_>) -> Result<Reply, ArmError> {
    let op = call.route.op_id.as_str();
    match call.route.method.as_str() {
        "PUT" => put(store, call),
        "DELETE" => delete(store, &call),
        "GET" if op == "Zones_List" => list(store, &call, |r, _| {
            r.eq_ignore_ascii_case("Microsoft.Network/dnsZones")
        }),
        "GET" if op == "ResourceGroups_List" => list(store, &call, |r, _| {
            r == "Microsoft.Resources/resourceGroups"
        }),
        "GET" if op == "Resources_List" => {
            let mut reply = list(store, &call, |_, key| {
                key.split_once("/providers/")
                    .is_some_and(|(_, rest)| rest.matches('/').count() == 2)
            })?;
            generic_items(&mut reply);
            if Filter::parse(call.filter.as_deref())?.drops_tags() {
                untagged(&mut reply);
            }
            Ok(reply)
        }
        "GET" if op == "Resources_ListByResourceGroup" => {
            group_exists(store, &call.rid)?;
            let prefix = format!("{}/providers/", call.rid.group_key());
            let mut reply = list(store, &call, |_, key| {
                key.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.matches('/').count() == 2)
            })?;
            generic_items(&mut reply);
            Ok(reply)
        }
        "GET" if op == "RecordSets_ListByType" => {
            // `.../dnsZones/{zone}/{type}`: the zone is the path without its last segment.
            let zone = call.rid.id.rsplit_once('/').map_or("", |(z, _)| z);
            let zone = ResourceId::parse(zone).ok_or_else(|| not_found(store, &call.rid))?;
            if !store.resources.contains_key(&zone.key()) {
                return Err(not_found(store, &zone));
            }
            let prefix = format!("{}/", call.rid.key());
            list(store, &call, |_, key| {
                key.strip_prefix(&prefix).is_some_and(|n| !n.contains('/'))
            })
        }
        _ => {
            lro::observe_resource(store, &call.rid.key());
            get(store, &call)
        }
    }
}

fn group_exists(store: &Store, rid: &ResourceId) -> Result<(), ArmError> {
    if store.resources.contains_key(&rid.group_key()) {
        Ok(())
    } else {
        Err(ArmError::group_not_found(&rid.group))
    }
}

fn not_found(store: &Store, rid: &ResourceId) -> ArmError {
    if rid.is_group() {
        return ArmError::group_not_found(&rid.group);
    }
    if let Err(e) = group_exists(store, rid) {
        return e;
    }
    ArmError::resource_not_found(&rid.rtype, &rid.name, &rid.group)
}

fn get(store: &Store, call: &Call<'_>) -> Result<Reply, ArmError> {
    let mut v = shape::render(store, &call.rid.key()).ok_or_else(|| not_found(store, &call.rid))?;
    let expand = call.expand.as_deref().unwrap_or_default();
    if expand.eq_ignore_ascii_case("instanceView")
        && call.rid.type_lc() == "microsoft.compute/virtualmachines"
    {
        shape::add_instance_view(&mut v);
    }
    Ok(Reply::json(200, v))
}

/// One page of the subscription's resources `keep` selects (by type and store key) that pass
/// the call's `$filter`, in store-key order from after `$skiptoken`; `nextLink` when more
/// follow.
fn list(
    store: &Store,
    call: &Call<'_>,
    keep: impl Fn(&str, &str) -> bool,
) -> Result<Reply, ArmError> {
    let filter = Filter::parse(call.filter.as_deref())?;
    let sub = format!("/subscriptions/{}/", call.rid.subscription).to_ascii_lowercase();
    let after = call.after.as_deref().unwrap_or_default();
    let mut keys = store
        .resources
        .iter()
        .filter(|(k, _)| k.as_str() > after && k.starts_with(&sub))
        .filter(|(k, v)| keep(v["type"].as_str().unwrap_or(""), k))
        .filter(|(_, v)| filter.keeps(v))
        .map(|(k, _)| k);
    let page: Vec<&String> = keys.by_ref().take(store.page_size).collect();
    let value: Vec<Value> = page
        .iter()
        .filter_map(|k| shape::render(store, k))
        .collect();
    let mut body = json!({ "value": value });
    if let (Some(last), Some(_)) = (page.last(), keys.next()) {
        let token: String = form_urlencoded::byte_serialize(last.as_bytes()).collect();
        body["nextLink"] = json!(format!("{}&$skiptoken={token}", call.link));
    }
    Ok(Reply::json(200, body))
}

/// `GenericResourceExpanded` items carry only the envelope, not `properties`.
fn generic_items(reply: &mut Reply) {
    if let Some(items) = reply.body.as_mut().and_then(|b| b["value"].as_array_mut()) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.retain(|k, _| matches!(k.as_str(), "id" | "name" | "type" | "location" | "tags"));
        }
    }
}

/// ARM: "when resources are filtered by tag name and value, the original tags for each
/// resource will not be returned in the results".
fn untagged(reply: &mut Reply) {
    if let Some(items) = reply.body.as_mut().and_then(|b| b["value"].as_array_mut()) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            item.remove("tags");
        }
    }
}

fn put(store: &mut Store, call: Call<'_>) -> Result<Reply, ArmError> {
    let rid = &call.rid;
    let key = rid.key();
    if !rid.is_group() {
        group_exists(store, rid)?;
    }
    if let Some(parent) = &rid.parent
        && !store.resources.contains_key(&parent.to_ascii_lowercase())
    {
        let prid = ResourceId::parse(parent).ok_or_else(|| not_found(store, rid))?;
        return Err(not_found(store, &prid));
    }
    let old = store.resources.get(&key).cloned();
    preconditions(old.as_ref(), &call)?;
    cname_alone(store, rid)?;
    let mut body = call.body.clone().unwrap_or_else(|| json!({}));
    if let (Some(old), Some(new)) = (&old, body["location"].as_str()) {
        let was = old["location"].as_str().unwrap_or_default();
        if !same_location(was, new) {
            return Err(ArmError::new(
                400,
                "InvalidResourceLocation",
                format!(
                    "The resource '{}' already exists in location '{was}' in resource group '{}'. \
                     A resource with the same name cannot be created in location '{new}'.",
                    rid.name, rid.group
                ),
            ));
        }
    }
    refs::check_targets(store, &key, &rid.id, &body)?;
    if let Some(path) = old
        .as_ref()
        .and_then(|o| shape::changed_create_only(&rid.type_lc(), o, &body))
    {
        return Err(ArmError::new(
            409,
            "PropertyChangeNotAllowed",
            format!("Changing property '{path}' is not allowed."),
        ));
    }
    let type_lc = rid.type_lc();
    if type_lc == "microsoft.compute/virtualmachines" {
        let size = body["properties"]["hardwareProfile"]["vmSize"].as_str();
        if let Some(size) = size.filter(|s| !skus::known(s)) {
            let loc = body["location"].as_str().unwrap_or_default();
            return Err(ArmError::new(
                409,
                "SkuNotAvailable",
                format!(
                    "The requested VM size for resource '{}' is currently not available in \
                     location '{loc}'. Please try another size or deploy to a different location.",
                    size
                ),
            ));
        }
    }
    let inline = shape::embedded_of(&type_lc).map(|coll| {
        let items = body["properties"]
            .as_object_mut()
            .and_then(|p| p.remove(coll))
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        (coll, items)
    });
    if let Some((coll, items)) = &inline {
        let keep: Vec<String> = items
            .iter()
            .filter_map(|i| i["name"].as_str())
            .map(|n| {
                format!(
                    "{key}/{}/{}",
                    coll.to_ascii_lowercase(),
                    n.to_ascii_lowercase()
                )
            })
            .collect();
        let child_type = format!("{type_lc}/{}", coll.to_ascii_lowercase());
        for k in shape::children(store, &key, coll) {
            if !keep.contains(&k) {
                let id = store
                    .resources
                    .get(&k)
                    .and_then(|v| v["id"].as_str())
                    .unwrap_or(&k)
                    .to_string();
                refs::check_unused(store, &k, &id, &child_type)?;
            }
        }
    }
    let envelope = json!({
        "id": rid.id,
        "name": rid.name,
        "type": rid.rtype,
        "etag": format!("W/\"{}\"", store.next_id()),
    });
    if let (Some(obj), Some(env)) = (body.as_object_mut(), envelope.as_object()) {
        for (k, v) in env {
            obj.insert(k.clone(), v.clone());
        }
    }
    if rid.is_group() {
        body.as_object_mut().map(|o| o.remove("etag"));
    }
    shape::generate(store, rid, &mut body, old.as_ref());
    let lro = call.route.long_running();
    let pending = lro && store.lro_polls > 0;
    let state = match (pending, old.is_some(), rid.namespace.as_str()) {
        (false, _, _) => "Succeeded",
        (true, false, "Microsoft.Compute") => "Creating",
        (true, _, _) => "Updating",
    };
    shape::set_state(&mut body, &type_lc, state);
    if let Some((coll, items)) = inline {
        for k in shape::children(store, &key, coll) {
            store.resources.remove(&k);
        }
        for mut item in items {
            let name = item["name"].as_str().unwrap_or_default().to_string();
            if name.is_empty() {
                return Err(ArmError::invalid_content(format!(
                    "The request content was invalid: '{coll}' items need a 'name'."
                )));
            }
            let child_id = format!("{}/{coll}/{name}", rid.id);
            let child_type = format!("{}/{coll}", rid.rtype);
            item["id"] = json!(child_id);
            item["type"] = json!(child_type);
            item["etag"] = json!(format!("W/\"{}\"", store.next_id()));
            shape::set_state(&mut item, &child_type.to_ascii_lowercase(), state);
            store.resources.insert(child_id.to_ascii_lowercase(), item);
        }
    }
    store.resources.insert(key.clone(), body);
    let created = old.is_none();
    let status = if created && call.route.declares(201) {
        201
    } else {
        200
    };
    let mut reply = Reply::json(status, shape::render(store, &key).unwrap_or_default());
    if lro {
        let urls = lro::start(store, Effect::Provisioned(key.clone()), scope(&call));
        reply = reply
            .with("Azure-AsyncOperation", urls.status)
            .with("Retry-After", call.retry_after.to_string());
    }
    Ok(reply)
}

fn scope<'a>(call: &'a Call<'a>) -> lro::Scope<'a> {
    lro::Scope {
        base: call.base,
        subscription: &call.rid.subscription,
        namespace: &call.rid.namespace,
        api_version: &call.route.api_version,
        op_id: &call.route.op_id,
    }
}

fn same_location(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace(' ', "").to_ascii_lowercase();
    norm(a) == norm(b)
}

/// A DNS record set shares its name with no CNAME set, and a CNAME set with no other set
/// (RFC 1034 3.6.2), as Azure DNS enforces (409 Conflict).
fn cname_alone(store: &Store, rid: &ResourceId) -> Result<(), ArmError> {
    let (Some(zone), Some(rtype)) = (
        &rid.parent,
        rid.rtype.strip_prefix("Microsoft.Network/dnsZones/"),
    ) else {
        return Ok(());
    };
    let prefix = format!("{}/", zone.to_ascii_lowercase());
    let suffix = format!("/{}", rid.name.to_ascii_lowercase());
    let other = store.resources.keys().find_map(|k| {
        let t = k.strip_prefix(&prefix)?.strip_suffix(&suffix)?;
        (!t.contains('/') && !t.eq_ignore_ascii_case(rtype)).then_some(t)
    });
    match other {
        Some(t) if t.eq_ignore_ascii_case("CNAME") || rtype.eq_ignore_ascii_case("CNAME") => {
            Err(ArmError::new(
                409,
                "Conflict",
                format!(
                    "The record could not be created because a {} record with the same name already exists in this zone.",
                    t.to_ascii_uppercase()
                ),
            ))
        }
        _ => Ok(()),
    }
}

fn preconditions(old: Option<&Value>, call: &Call<'_>) -> Result<(), ArmError> {
    let failed = |m: String| Err(ArmError::new(412, "PreconditionFailed", m));
    if call.if_none_match.as_deref() == Some("*") && old.is_some() {
        return failed(format!(
            "The resource '{}' already exists and If-None-Match '*' was given.",
            call.rid.name
        ));
    }
    if let Some(want) = &call.if_match {
        let etag = old.and_then(|o| o["etag"].as_str());
        if want != "*" && etag != Some(want.as_str()) || want == "*" && old.is_none() {
            return failed(format!(
                "The etag '{want}' does not match the current etag of '{}'.",
                call.rid.name
            ));
        }
    }
    Ok(())
}

fn delete(store: &mut Store, call: &Call<'_>) -> Result<Reply, ArmError> {
    let rid = &call.rid;
    let key = rid.key();
    if !store.resources.contains_key(&key) {
        if rid.is_group() {
            return Err(not_found(store, rid));
        }
        group_exists(store, rid)?;
        if call.route.declares(204) {
            return Ok(Reply::empty(204));
        }
        return Err(not_found(store, rid));
    }
    if !rid.is_group() {
        refs::check_unused(store, &key, &rid.id, &rid.type_lc())?;
    }
    if !call.route.long_running() {
        lro::apply(store, &Effect::Delete(key));
        return Ok(Reply::empty(200));
    }
    if let Some(v) = store.resources.get_mut(&key) {
        shape::set_state(v, &rid.type_lc(), "Deleting");
    }
    let urls = lro::start(store, Effect::Delete(key), scope(call));
    Ok(Reply::empty(202)
        .with("Location", urls.result)
        .with("Azure-AsyncOperation", urls.status)
        .with("Retry-After", call.retry_after.to_string()))
}
