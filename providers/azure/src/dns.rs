//! Azure DNS: finding the zone a domain belongs to (the longest matching suffix among the
//! subscription's zones, or the zone the user named, optionally in `--dns-resource-group`),
//! putting the A record set, and deleting it only while it still points at our address.
//! The record set lives in the zone's resource group, never in the environment's.

use carto_core::{EnvName, OrAbsent, ProviderError, ResourceKind, ResourceRef, Result};
use serde_json::{Value, json};

use crate::arm::{body, find, group_of, model, pages, tags};
use crate::config::Clients;
use crate::send::send;

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

fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `domain` is `zone` or inside it.
fn inside(domain: &str, zone: &str) -> bool {
    domain == zone || domain.ends_with(&format!(".{zone}"))
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
    const CALL: &str = "dns:Zones_List";
    let domain = bare(domain);
    let zones: Vec<&Zone> = zones
        .iter()
        .filter(|z| group.is_none_or(|g| z.group.eq_ignore_ascii_case(g)))
        .collect();
    let names = || {
        let n: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
        if n.is_empty() {
            "(none found)".to_string()
        } else {
            n.join(", ")
        }
    };
    let place = group
        .map(|g| format!(" in resource group {g}"))
        .unwrap_or_default();
    if let Some(wanted) = wanted {
        let zone = zones.iter().find(|z| z.name == bare(wanted)).ok_or_else(|| {
            ProviderError::invalid_input(
                CALL,
                format!("--dns-zone {wanted} is not a public Azure DNS zone of this subscription{place}; hint: name one of {}", names()),
            )
        })?;
        if !inside(&domain, &zone.name) {
            return Err(ProviderError::invalid_input(
                CALL,
                format!(
                    "--domain {domain} is not inside --dns-zone {wanted}; hint: pick a domain under {} or another zone",
                    zone.name
                ),
            ));
        }
        return Ok((*zone).clone());
    }
    zones
        .iter()
        .filter(|z| inside(&domain, &z.name))
        .max_by_key(|z| z.name.len())
        .map(|z| (*z).clone())
        .ok_or_else(|| {
            ProviderError::invalid_input(
                CALL,
                format!("no Azure DNS zone of this subscription{place} contains --domain {domain}; hint: create a DNS zone for its parent domain, or name one with --dns-zone"),
            )
        })
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

/// Puts `domain A ip` (TTL [`RECORD_TTL`]) in the zone `zone_id` and reads it back.
pub async fn upsert_a(
    c: &Clients,
    env: &EnvName,
    zone_id: &str,
    domain: &str,
    ip: &str,
) -> Result<ResourceRef> {
    const CALL: &str = "dns:RecordSets_CreateOrUpdate";
    let sub = c.sub()?;
    let (group, zone) = zone_parts(zone_id)?;
    let name = relative(domain, &zone.to_ascii_lowercase());
    let record: azure_mgmt_dns::package_2018_05::models::RecordSet = model(
        CALL,
        json!({"properties": {"TTL": RECORD_TTL, "ARecords": [{"ipv4Address": ip}], "metadata": tags(env)}}),
    )?;
    let sets = c.dns.record_sets_client();
    let rsp = send(c, CALL, || async {
        let b = sets.create_or_update(&group, &zone, &name, "A", record.clone(), sub);
        Ok(b.send().await?.into_raw_response())
    })
    .await?;
    let v = body(CALL, rsp).await?;
    let id = v["id"]
        .as_str()
        .ok_or_else(|| ProviderError::missing_field(CALL, "id"))?;
    Ok(
        ResourceRef::new(ResourceKind::DnsRecord, id, bare(domain), "global")
            .with("zone_id", zone_id)
            .with("ip", ip),
    )
}

/// The A record set for `domain` when its metadata says environment `env` made it (found
/// without a state file), described as [`upsert_a`] describes it.
pub async fn find_ours(c: &Clients, domain: &str, env: &str) -> Result<Option<ResourceRef>> {
    const GET: &str = "dns:RecordSets_Get";
    let sub = c.sub()?;
    let zones = list_zones(c).await?;
    let Ok(zone) = pick_zone(domain, &zones, None, None) else {
        return Ok(None);
    };
    let name = relative(domain, &zone.name);
    let sets = c.dns.record_sets_client();
    let Some(current) = find(
        c,
        GET,
        crate::raw!(sets.get(&zone.group, &zone.name, &name, "A", sub)),
    )
    .await?
    else {
        return Ok(None);
    };
    let meta = &current["properties"]["metadata"];
    let ours = meta[carto_core::TAG_MANAGED_BY] == carto_core::TAG_MANAGED_BY_VALUE
        && meta[carto_core::TAG_ENV] == env;
    let ips = addresses(&current);
    let (Some(id), [ip]) = (current["id"].as_str(), ips.as_slice()) else {
        return Ok(None);
    };
    Ok(ours.then(|| {
        ResourceRef::new(ResourceKind::DnsRecord, id, bare(domain), "global")
            .with("zone_id", &zone.id)
            .with("ip", *ip)
    }))
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

/// Deletes the A record set `resource` while it still points at exactly its `ip` detail; one
/// changed by someone else is left alone with a warning. Absent is success.
pub async fn delete_a(c: &Clients, resource: &ResourceRef) -> Result<()> {
    const GET: &str = "dns:RecordSets_Get";
    const DELETE: &str = "dns:RecordSets_Delete";
    let (Some(zone_id), Some(ip)) = (resource.detail.get("zone_id"), resource.detail.get("ip"))
    else {
        return Err(ProviderError::invalid_input(
            DELETE,
            format!(
                "the state of DNS record {} lacks its zone_id or ip",
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
    let etag = current["etag"].as_str().map(str::to_string);
    send(c, DELETE, || async {
        let mut b = sets.delete(&group, &zone, &name, "A", sub);
        if let Some(etag) = &etag {
            b = b.if_match(etag.clone());
        }
        Ok(b.send().await?.into_raw_response())
    })
    .await
    .or_absent()
    .map(drop)
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
        assert!(e.to_string().contains("--domain nottest"), "{e}");
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
