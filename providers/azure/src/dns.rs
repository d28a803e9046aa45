//! Azure DNS: finding the zone a domain belongs to (the longest matching suffix among the
//! subscription's zones, or the zone the user named, optionally in the DNS resource group the user named),
//! reading what stands at the domain, putting the A record set only where none exists
//! (`If-None-Match: *`, after deleting exactly what a take-over replaces), and deleting it only
//! while it still points at our address, putting back what it replaced.
//! The record set lives in the zone's resource group, never in the environment's.

use std::collections::HashMap;

use carto_core::{
    InfraSpec, OrAbsent, ProviderError, RecordSet, ResourceKind, ResourceRef, Result, TAG_NONCE,
};
use serde_json::{Value, json};

use crate::arm::{find, group_of, model, pages, tags};
use crate::config::Clients;
use crate::transport::send;

/// TTL of the A record, in seconds.
pub const RECORD_TTL: i64 = 60;

/// A DNS zone: ARM id, name without the final dot, resource group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// ARM id.
    pub id: String,
    /// `example.com`.
    pub name: String,
    /// Its resource group.
    pub group: String,
}

impl carto_core::dns::Zone for Zone {
    fn dns_name(&self) -> &str {
        &self.name
    }
    fn is(&self, wanted: &str) -> bool {
        self.name == bare(wanted)
    }
}

fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Every DNS zone of the subscription.
pub async fn list_zones(c: &Clients) -> Result<Vec<Zone>> {
    const CALL: &str = "dns:Zones_List";
    let sub = c.sub()?;
    let zones = c.dns.zones_client();
    let all = pages(c, CALL, || zones.list(sub).into_stream()).await?;
    Ok(all
        .iter()
        .filter(|z| z["properties"]["zoneType"].as_str().unwrap_or("Public") == "Public")
        .filter_map(|z| {
            let id = z["id"].as_str()?;
            Some(Zone {
                id: id.to_string(),
                name: bare(z["name"].as_str()?),
                group: group_of(id)?,
            })
        })
        .collect())
}

/// Picks the zone for `domain`: `wanted` (a name) if given, which must contain the domain,
/// else the longest suffix; only zones in `group` when one is named.
pub fn pick_zone(
    domain: &str,
    zones: &[Zone],
    wanted: Option<&str>,
    group: Option<&str>,
) -> Result<Zone> {
    let zones: Vec<&Zone> = zones
        .iter()
        .filter(|z| group.is_none_or(|g| z.group.eq_ignore_ascii_case(g)))
        .collect();
    let place = group
        .map(|g| format!(" in resource group {g}"))
        .unwrap_or_default();
    let words = carto_core::dns::ZoneWords {
        call: "dns:Zones_List",
        what: format!("Azure DNS zone of this subscription{place}"),
        create: "create a DNS zone for its parent domain",
    };
    carto_core::dns::pick_zone(domain, &zones, wanted, &words).cloned()
}

/// The record set name of `domain` in `zone` (`@` for the apex).
fn relative(domain: &str, zone: &str) -> String {
    let domain = bare(domain);
    match domain.strip_suffix(&format!(".{zone}")) {
        Some(r) => r.to_string(),
        None => "@".to_string(),
    }
}

/// Resource group and zone name of a zone id.
fn zone_parts(zone_id: &str) -> Result<(String, String)> {
    let group = group_of(zone_id);
    let name = zone_id.rsplit('/').next().map(str::to_string);
    match (group, name) {
        (Some(g), Some(n)) if !n.is_empty() => Ok((g, n)),
        _ => Err(ProviderError::invalid_input(
            "dns:RecordSets",
            format!("{zone_id} is not an Azure DNS zone id"),
        )),
    }
}

/// Record types read at a name (NS and SOA, the zone's own, are never a conflict).
const TYPES: [&str; 8] = ["A", "AAAA", "CNAME", "TXT", "MX", "CAA", "SRV", "PTR"];

/// The record sets at `domain` in the zone `zone_id`, each with its etag.
async fn record_sets(c: &Clients, zone_id: &str, domain: &str) -> Result<Vec<(RecordSet, Value)>> {
    const GET: &str = "dns:RecordSets_Get";
    let sub = c.sub()?;
    let (group, zone) = zone_parts(zone_id)?;
    let name = relative(domain, &zone.to_ascii_lowercase());
    let sets = c.dns.record_sets_client();
    // One read per type, all at once: a single round trip before the record is put.
    let found = futures::future::try_join_all(TYPES.map(|rtype| {
        let (group, zone, name, sets) = (&group, &zone, &name, &sets);
        async move {
            let get = crate::raw!(sets.get(group, zone, name, rtype, sub));
            Ok::<_, ProviderError>(find(c, GET, get).await?.map(|v| (core_set(rtype, &v), v)))
        }
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The core form of an ARM record set of type `rtype`.
fn core_set(rtype: &str, v: &Value) -> RecordSet {
    let p = &v["properties"];
    let list = |key: &str, field: &str| -> Vec<String> {
        p[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r[field].as_str().map(str::to_string))
            .collect()
    };
    let values = match rtype {
        "A" => list("ARecords", "ipv4Address"),
        "AAAA" => list("AAAARecords", "ipv6Address"),
        "CNAME" => p["CNAMERecord"]["cname"]
            .as_str()
            .map(|c| vec![c.to_string()])
            .unwrap_or_default(),
        _ => p
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.ends_with("Records") || k.ends_with("Record"))
            .map(|(_, v)| v.to_string())
            .collect(),
    };
    RecordSet {
        rtype: rtype.to_string(),
        ttl: p["TTL"].as_u64().unwrap_or(0) as u32,
        values,
        nonce: p["metadata"][TAG_NONCE].as_str().map(str::to_string),
    }
}

/// The ARM body of a core record set (A, AAAA or CNAME: the sets a take-over replaces).
fn arm_body(set: &RecordSet, metadata: Option<Value>) -> Result<Value> {
    let records = match set.rtype.as_str() {
        "A" => {
            json!({"ARecords": set.values.iter().map(|v| json!({"ipv4Address": v})).collect::<Vec<_>>()})
        }
        "AAAA" => {
            json!({"AAAARecords": set.values.iter().map(|v| json!({"ipv6Address": v})).collect::<Vec<_>>()})
        }
        "CNAME" => json!({"CNAMERecord": {"cname": set.values.first()}}),
        other => {
            return Err(ProviderError::invalid_input(
                "dns:RecordSets_CreateOrUpdate",
                format!(
                    "a {other} record set cannot be written back; only A, AAAA and CNAME are taken over"
                ),
            ));
        }
    };
    let mut properties = records;
    properties["TTL"] = json!(set.ttl);
    if let Some(metadata) = metadata {
        properties["metadata"] = metadata;
    }
    Ok(json!({ "properties": properties }))
}

/// Puts one record set `rtype` at `name` only where none exists yet (`If-None-Match: *`).
async fn create_set(
    c: &Clients,
    zone_id: &str,
    name: &str,
    rtype: &str,
    body: Value,
) -> Result<Value> {
    const CALL: &str = "dns:RecordSets_CreateOrUpdate";
    let sub = c.sub()?;
    let (group, zone) = zone_parts(zone_id)?;
    let record: azure_mgmt_dns::package_2018_05::models::RecordSet = model(CALL, body)?;
    let sets = c.dns.record_sets_client();
    let rsp = send(&c.policy, CALL, || async {
        let b = sets
            .create_or_update(&group, &zone, name, rtype, record.clone(), sub)
            .if_none_match("*");
        Ok(b.send().await?.into_raw_response())
    })
    .await?;
    crate::arm::body(CALL, rsp).await
}

/// Deletes one record set only while its etag is still `etag`.
async fn delete_set(
    c: &Clients,
    zone_id: &str,
    name: &str,
    rtype: &str,
    etag: Option<&str>,
) -> Result<()> {
    const DELETE: &str = "dns:RecordSets_Delete";
    let sub = c.sub()?;
    let (group, zone) = zone_parts(zone_id)?;
    let sets = c.dns.record_sets_client();
    send(&c.policy, DELETE, || async {
        let mut b = sets.delete(&group, &zone, name, rtype, sub);
        if let Some(etag) = etag {
            b = b.if_match(etag.to_string());
        }
        Ok(b.send().await?.into_raw_response())
    })
    .await
    .or_absent()
    .map(drop)
}

/// Every record set at `domain` in the zone `zone_id`, in core form.
pub async fn find_records(c: &Clients, zone_id: &str, domain: &str) -> Result<Vec<RecordSet>> {
    let sets = record_sets(c, zone_id, domain).await?;
    Ok(sets.into_iter().map(|(s, _)| s).collect())
}

/// Creates `domain A ip` (TTL [`RECORD_TTL`], the environment's nonce in its metadata) in the
/// zone `zone_id`: each set in `replace` is deleted only while it still holds what preflight
/// read (and its etag), then ours is put with `If-None-Match: *`, so a record that appeared
/// meanwhile is never overwritten. An A record already pointing at `ip` is kept.
pub async fn create_a(
    c: &Clients,
    spec: &InfraSpec,
    zone_id: &str,
    ip: &str,
    replace: &[RecordSet],
) -> Result<ResourceRef> {
    let domain = spec.domain.as_str();
    let (_, zone) = zone_parts(zone_id)?;
    let name = relative(domain, &zone.to_ascii_lowercase());
    let current = record_sets(c, zone_id, domain).await?;
    let reference = |id: &str| {
        let r = ResourceRef::new(ResourceKind::DnsRecord, id, bare(domain), "global")
            .with_dns_zone(zone_id)
            .with_ip(ip);
        carto_core::dns::with_replaced(r, replace)
    };
    if let Some((_, v)) = current
        .iter()
        .find(|(s, _)| s.rtype == "A" && s.values == [ip])
    {
        let id = v["id"]
            .as_str()
            .ok_or_else(|| ProviderError::missing_field("dns:RecordSets_Get", "id"))?;
        return Ok(reference(id));
    }
    for wanted in replace {
        let held = current.iter().find(|(s, _)| s.rtype == wanted.rtype);
        let Some((set, v)) = held.filter(|(s, _)| s.values == wanted.values) else {
            return Err(changed_meanwhile(domain, &wanted.rtype));
        };
        delete_set(c, zone_id, &name, &set.rtype, v["etag"].as_str()).await?;
    }
    let metadata = tags(&spec.env, &spec.nonce);
    let body = arm_body(&RecordSet::a(RECORD_TTL as u32, ip), Some(metadata))?;
    let v = create_set(c, zone_id, &name, "A", body)
        .await
        .map_err(|e| match e.code.as_deref() {
            Some("PreconditionFailed") => changed_meanwhile(domain, "A"),
            _ => e,
        })?;
    let id = v["id"]
        .as_str()
        .ok_or_else(|| ProviderError::missing_field("dns:RecordSets_CreateOrUpdate", "id"))?;
    Ok(reference(id))
}

/// The error for a record set that changed after preflight read it.
fn changed_meanwhile(domain: &str, rtype: &str) -> ProviderError {
    ProviderError::new(
        carto_core::ErrorKind::Other,
        "dns:RecordSets_CreateOrUpdate",
        format!(
            "the {rtype} record set at {domain} changed after preflight read it, so nothing was overwritten; run again to check it anew"
        ),
    )
}

/// Up to this many records wanted in one zone are read one by one, all at once (one round
/// trip); more come from one paged listing of the zone's A record sets.
const READ_ONE_BY_ONE: usize = 8;

/// The A record of each `(domain, environment)` when this tool made it for that environment
/// (metadata `managed-by` and `carto-env`; found without a state file) and it points at one
/// address, described as [`create_a`] describes it; `None` otherwise, in the order asked.
/// The zones used are read at once: a few records by name, many by one paged listing of the
/// zone's A record sets, so a sweep of hundreds of environments costs a few pages.
pub async fn find_ours(
    c: &Clients,
    zones: &[Zone],
    wanted: &[(&str, &str)],
) -> Result<Vec<Option<ResourceRef>>> {
    const GET: &str = "dns:RecordSets_Get";
    const LIST: &str = "dns:RecordSets_ListByType";
    let sub = c.sub()?;
    let picked: Vec<Option<Zone>> = wanted
        .iter()
        .map(|(domain, _)| pick_zone(domain, zones, None, None).ok())
        .collect();
    let mut names: HashMap<&str, (&Zone, Vec<String>)> = HashMap::new();
    for ((domain, _), zone) in wanted.iter().zip(&picked) {
        if let Some(zone) = zone {
            let entry = names.entry(&zone.id).or_insert((zone, Vec::new()));
            entry.1.push(relative(domain, &zone.name));
        }
    }
    let sets = c.dns.record_sets_client();
    let sets = &sets;
    let reads = names.into_iter().map(|(id, (zone, names))| async move {
        let found: Vec<Value> = if names.len() <= READ_ONE_BY_ONE {
            let gets = names.iter().map(|name| async move {
                let get = crate::raw!(sets.get(&zone.group, &zone.name, name, "A", sub));
                find(c, GET, get).await
            });
            futures::future::try_join_all(gets)
                .await?
                .into_iter()
                .flatten()
                .collect()
        } else {
            pages(c, LIST, || {
                sets.list_by_type(&zone.group, &zone.name, "A", sub)
                    .into_stream()
            })
            .await?
        };
        let named: HashMap<String, Value> = found
            .into_iter()
            .filter_map(|v| Some((v["name"].as_str()?.to_ascii_lowercase(), v)))
            .collect();
        Ok::<_, ProviderError>((id.to_string(), named))
    });
    let by_zone: HashMap<String, HashMap<String, Value>> = futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect();
    Ok(wanted
        .iter()
        .zip(&picked)
        .map(|((domain, env), zone)| {
            let zone = zone.as_ref()?;
            let current = by_zone.get(&zone.id)?.get(&relative(domain, &zone.name))?;
            let meta = &current["properties"]["metadata"];
            let ours = meta[carto_core::TAG_MANAGED_BY] == carto_core::TAG_MANAGED_BY_VALUE
                && meta[carto_core::TAG_ENV] == *env;
            let ips = addresses(current);
            let (Some(id), [ip], true) = (current["id"].as_str(), ips.as_slice(), ours) else {
                return None;
            };
            Some(
                ResourceRef::new(ResourceKind::DnsRecord, id, bare(domain), "global")
                    .with_dns_zone(&zone.id)
                    .with_ip(*ip),
            )
        })
        .collect())
}

/// The addresses of an A record set.
fn addresses(v: &Value) -> Vec<&str> {
    v["properties"]["ARecords"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["ipv4Address"].as_str())
        .collect()
}

/// Deletes the A record set `resource` while it still points at exactly its `ip` detail (and
/// its etag), then puts back the record sets it replaced; one changed by someone else is left
/// alone with a warning. Absent is success.
pub async fn delete_a(c: &Clients, resource: &ResourceRef) -> Result<()> {
    const GET: &str = "dns:RecordSets_Get";
    const DELETE: &str = "dns:RecordSets_Delete";
    let restore = carto_core::dns::replaced(resource)?;
    let (Some(zone_id), Some(ip)) = (&resource.dns_zone, &resource.ip) else {
        return Err(ProviderError::invalid_input(
            DELETE,
            format!(
                "the state of DNS record {} lacks its DNS zone or IP",
                resource.name
            ),
        ));
    };
    let sub = c.sub()?;
    let (group, zone) = zone_parts(zone_id)?;
    let name = relative(&resource.name, &zone.to_ascii_lowercase());
    let sets = c.dns.record_sets_client();
    let Some(current) = find(
        c,
        GET,
        crate::raw!(sets.get(&group, &zone, &name, "A", sub)),
    )
    .await?
    else {
        return Ok(());
    };
    let found = addresses(&current);
    if found != [ip.as_str()] {
        tracing::warn!(record = %resource.name, expected = %ip, ?found, "A record no longer points at this environment's address; leaving it");
        return Ok(());
    }
    delete_set(c, zone_id, &name, "A", current["etag"].as_str()).await?;
    for set in restore {
        create_set(c, zone_id, &name, &set.rtype, arm_body(&set, None)?).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, group: &str) -> Zone {
        Zone {
            id: format!(
                "/subscriptions/s/resourceGroups/{group}/providers/Microsoft.Network/dnszones/{name}"
            ),
            name: name.into(),
            group: group.into(),
        }
    }

    #[test]
    fn longest_suffix_and_named_zone() {
        let zones = [
            zone("test", "dns"),
            zone("sub.test", "dns"),
            zone("other", "x"),
        ];
        assert_eq!(
            pick_zone("a.sub.test", &zones, None, None).unwrap().name,
            "sub.test"
        );
        assert_eq!(
            pick_zone("carto.test.", &zones, None, None).unwrap().name,
            "test"
        );
        assert_eq!(
            pick_zone("a.sub.test", &zones, Some("test."), None)
                .unwrap()
                .name,
            "test"
        );
        let e = pick_zone("nottest", &zones, None, None).unwrap_err();
        assert!(e.to_string().contains("domain nottest"), "{e}");
        assert!(pick_zone("a.other", &zones, None, Some("dns")).is_err());
        assert!(pick_zone("a.test", &zones, Some("other"), None).is_err());
        assert_eq!(relative("carto.test", "test"), "carto");
        assert_eq!(relative("test", "test"), "@");
        assert_eq!(
            zone_parts(&zones[0].id).unwrap(),
            ("dns".into(), "test".into())
        );
    }
}
