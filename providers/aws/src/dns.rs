//! Route53: finding the public hosted zone a domain belongs to (the longest matching suffix,
//! or the zone the user named), reading what stands at the domain, creating the A record
//! conditionally (CREATE, plus an exact DELETE of each set a take-over replaces) and waiting
//! until the change is INSYNC, and deleting the record only while it still points at our
//! address, putting back what it replaced.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use carto_core::OrAbsent;
use carto_core::retry::{Poll, wait_until};
use carto_core::{ErrorKind, ProviderError, RecordSet, ResourceKind, ResourceRef, Result};

use crate::config::Clients;
use crate::send::send;

/// TTL of the A record, in seconds: short, so a re-created environment is reachable soon.
pub const RECORD_TTL: i64 = 60;
/// How often to poll GetChange.
const POLL: Duration = Duration::from_secs(2);

/// A hosted zone: id without the `/hostedzone/` prefix, name with its trailing dot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// `Z0123…`.
    pub id: String,
    /// `example.com.`.
    pub name: String,
    /// Private zones never hold the public record.
    pub private: bool,
}

pub use carto_core::dns::fqdn;

impl carto_core::dns::Zone for Zone {
    fn dns_name(&self) -> &str {
        &self.name
    }
    fn is(&self, wanted: &str) -> bool {
        self.id == bare_id(wanted) || self.name == fqdn(wanted)
    }
}

/// `Z123` from `/hostedzone/Z123` (or `Z123`).
fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Every hosted zone of the account. ListHostedZonesByName lists zones FROM a name on (not
/// only that name), so all pages are read and names compared here.
pub async fn list_zones(clients: &Clients) -> Result<Vec<Zone>> {
    let r53 = clients.route53();
    let mut zones = Vec::new();
    let mut next: Option<(String, String)> = None;
    loop {
        let out = send(&clients.policy, "route53:ListHostedZonesByName", || {
            r53.list_hosted_zones_by_name()
                .set_dns_name(next.as_ref().map(|n| n.0.clone()))
                .set_hosted_zone_id(next.as_ref().map(|n| n.1.clone()))
                .send()
        })
        .await?;
        zones.extend(out.hosted_zones().iter().map(|z| Zone {
            id: bare_id(z.id()).to_string(),
            name: fqdn(z.name()),
            private: z.config().is_some_and(|c| c.private_zone()),
        }));
        match (
            out.is_truncated(),
            out.next_dns_name(),
            out.next_hosted_zone_id(),
        ) {
            (true, Some(name), Some(id)) => next = Some((name.to_string(), id.to_string())),
            _ => return Ok(zones),
        }
    }
}

/// Picks the public zone for `domain`: the one named by `wanted` (name or id), which must
/// contain the domain, else the longest suffix of the domain among the public zones.
pub fn pick_zone(domain: &str, zones: &[Zone], wanted: Option<&str>) -> Result<Zone> {
    let public: Vec<&Zone> = zones.iter().filter(|z| !z.private).collect();
    let words = carto_core::dns::ZoneWords {
        call: "route53:ListHostedZonesByName",
        what: "public Route53 hosted zone in this account".into(),
        create: "create a hosted zone for its parent domain",
    };
    carto_core::dns::pick_zone(domain, &public, wanted, &words).cloned()
}

fn build_error(e: aws_sdk_route53::error::BuildError) -> ProviderError {
    ProviderError::new(
        ErrorKind::Other,
        "route53:ChangeResourceRecordSets",
        format!("could not build the change: {e}"),
    )
}

/// The A record set `domain -> ip`.
fn a_record(domain: &str, ip: &str, ttl: i64) -> Result<ResourceRecordSet> {
    record_set(domain, &RecordSet::a(ttl as u32, ip))
}

/// The Route53 form of a core record set at `domain`.
fn record_set(domain: &str, set: &RecordSet) -> Result<ResourceRecordSet> {
    let records = set
        .values
        .iter()
        .map(|v| {
            ResourceRecord::builder()
                .value(v)
                .build()
                .map_err(build_error)
        })
        .collect::<Result<Vec<_>>>()?;
    ResourceRecordSet::builder()
        .name(fqdn(domain))
        .r#type(RrType::from(set.rtype.as_str()))
        .ttl(i64::from(set.ttl))
        .set_resource_records(Some(records))
        .build()
        .map_err(build_error)
}

/// The core form of a Route53 record set (an alias as `ALIAS <target>`, which has no TTL).
fn core_set(set: &ResourceRecordSet) -> RecordSet {
    let values = match set.alias_target() {
        Some(alias) => vec![format!("ALIAS {}", alias.dns_name())],
        None => set
            .resource_records()
            .iter()
            .map(|r| r.value().to_string())
            .collect(),
    };
    RecordSet {
        rtype: set.r#type().as_str().to_string(),
        ttl: set.ttl().unwrap_or(0) as u32,
        values,
        nonce: None,
    }
}

/// One change of a batch.
fn change_of(action: ChangeAction, record: ResourceRecordSet) -> Result<Change> {
    Change::builder()
        .action(action)
        .resource_record_set(record)
        .build()
        .map_err(build_error)
}

/// Applies one batch of changes to `zone_id` (all or nothing: Route53 checks every CREATE and
/// DELETE against the zone first) and waits until Route53 reports it INSYNC.
async fn change(
    clients: &Clients,
    zone_id: &str,
    changes: Vec<Change>,
    timeout: Duration,
) -> Result<()> {
    let r53 = clients.route53();
    let batch = ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .map_err(build_error)?;
    let out = send(&clients.policy, "route53:ChangeResourceRecordSets", || {
        r53.change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch.clone())
            .send()
    })
    .await?;
    let change_id = out
        .change_info()
        .map(|c| bare_id(c.id()).to_string())
        .ok_or_else(|| {
            ProviderError::missing_field("route53:ChangeResourceRecordSets", "ChangeInfo")
        })?;
    let what = format!("Route53 change {change_id} to be INSYNC");
    wait_until(&what, "route53:GetChange", timeout, POLL, || async {
        let out = send(&clients.policy, "route53:GetChange", || {
            r53.get_change().id(&change_id).send()
        })
        .await?;
        match out.change_info().map(|c| c.status()) {
            Some(ChangeStatus::Insync) => Ok(Poll::Ready(())),
            Some(status) => Ok(Poll::Pending(format!("status {}", status.as_str()))),
            None => Ok(Poll::Pending("no change info".into())),
        }
    })
    .await
}

/// The record's reference as the pipeline records it.
fn reference(zone_id: &str, domain: &str, ip: &str) -> ResourceRef {
    ResourceRef::new(ResourceKind::DnsRecord, fqdn(domain), domain, "global")
        .with_dns_zone(zone_id)
        .with_ip(ip)
}

/// Creates `domain A ip` (TTL [`RECORD_TTL`]) in `zone_id`, replacing exactly the sets in
/// `replace`, in one batch: a CREATE (never an UPSERT) and a DELETE per replaced set with the
/// values preflight read, so Route53 refuses the whole batch when the name changed since.
/// An A record already pointing at `ip` is kept as it is.
pub async fn create_a(
    clients: &Clients,
    zone_id: &str,
    domain: &str,
    ip: &str,
    replace: &[RecordSet],
    timeout: Duration,
) -> Result<ResourceRef> {
    let made = carto_core::dns::with_replaced(reference(zone_id, domain, ip), replace);
    let current = record_sets(clients, zone_id, &fqdn(domain)).await?;
    if current
        .iter()
        .map(core_set)
        .any(|s| s.rtype == "A" && s.values == [ip])
    {
        return Ok(made);
    }
    let mut changes = Vec::new();
    for set in replace {
        changes.push(change_of(ChangeAction::Delete, record_set(domain, set)?)?);
    }
    changes.push(change_of(
        ChangeAction::Create,
        a_record(domain, ip, RECORD_TTL)?,
    )?);
    change(clients, zone_id, changes, timeout)
        .await
        .map_err(|e| carto_core::dns::changed_meanwhile(e, domain, REFUSALS))?;
    Ok(made)
}

/// Route53's answer to a batch whose CREATE or DELETE no longer matches the zone.
const REFUSALS: &[&str] = &["InvalidChangeBatch"];

/// Every record set at `name` in `zone_id` (none when the zone is gone).
async fn record_sets(
    clients: &Clients,
    zone_id: &str,
    name: &str,
) -> Result<Vec<ResourceRecordSet>> {
    let r53 = clients.route53();
    let out = send(&clients.policy, "route53:ListResourceRecordSets", || {
        r53.list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(name)
            .max_items(100)
            .send()
    })
    .await;
    let Some(out) = out.or_absent()? else {
        return Ok(Vec::new());
    };
    Ok(out
        .resource_record_sets()
        .iter()
        .filter(|r| fqdn(r.name()) == name)
        .cloned()
        .collect())
}

/// Every record set at `domain` in `zone_id`, in core form.
pub async fn find_records(
    clients: &Clients,
    zone_id: &str,
    domain: &str,
) -> Result<Vec<RecordSet>> {
    let sets = record_sets(clients, zone_id, &fqdn(domain)).await?;
    Ok(sets.iter().map(core_set).collect())
}

/// The A records pointing at exactly their address among `wanted` (domain, address), in
/// `zones` (the project's or account's, listed beside the addresses), as
/// [`create_a`] describes them: one listing of the zones and one paged listing of each zone
/// that holds one of the domains, however many environments there are (a sweep of hundreds
/// asks per zone, not per environment).
pub async fn find_a_all(
    clients: &Clients,
    zones: &[Zone],
    wanted: &[(String, String)],
) -> Result<Vec<ResourceRef>> {
    let mut by_zone: BTreeMap<String, Vec<&(String, String)>> = BTreeMap::new();
    for w in wanted {
        if let Ok(zone) = pick_zone(&w.0, zones, None) {
            by_zone.entry(zone.id.clone()).or_default().push(w);
        }
    }
    let lists = by_zone.iter().map(|(zone_id, domains)| async move {
        let a = a_records(clients, zone_id).await?;
        Ok::<_, ProviderError>(
            carto_core::dns::pointing_only_at(&a, domains)
                .into_iter()
                .map(|(domain, ip)| reference(zone_id, domain, ip))
                .collect::<Vec<_>>(),
        )
    });
    let found = futures::future::try_join_all(lists).await?;
    Ok(found.into_iter().flatten().collect())
}

/// Every plain A record of `zone_id` (fully qualified name -> values), following Route53's
/// pages; none when the zone is gone.
async fn a_records(clients: &Clients, zone_id: &str) -> Result<HashMap<String, Vec<String>>> {
    let r53 = clients.route53();
    let mut found = HashMap::new();
    let mut next: Option<(String, RrType)> = None;
    loop {
        let out = send(&clients.policy, "route53:ListResourceRecordSets", || {
            r53.list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .set_start_record_name(next.as_ref().map(|n| n.0.clone()))
                .set_start_record_type(next.as_ref().map(|n| n.1.clone()))
                .max_items(300)
                .send()
        })
        .await;
        let Some(out) = out.or_absent()? else {
            return Ok(found);
        };
        for set in out.resource_record_sets() {
            if *set.r#type() == RrType::A
                && let Some(v) = values(set)
            {
                found.insert(fqdn(set.name()), v.into_iter().map(String::from).collect());
            }
        }
        next = match (
            out.is_truncated(),
            out.next_record_name(),
            out.next_record_type(),
        ) {
            (true, Some(name), Some(t)) => Some((name.to_string(), t.clone())),
            _ => return Ok(found),
        };
    }
}

/// The A record set `name` in `zone_id`; `None` when there is no such record or zone.
async fn current_a(
    clients: &Clients,
    zone_id: &str,
    name: &str,
) -> Result<Option<ResourceRecordSet>> {
    let sets = record_sets(clients, zone_id, name).await?;
    Ok(sets.into_iter().find(|r| *r.r#type() == RrType::A))
}

/// The values of a plain (non-alias) record set.
fn values(set: &ResourceRecordSet) -> Option<Vec<&str>> {
    set.alias_target()
        .is_none()
        .then(|| set.resource_records().iter().map(|r| r.value()).collect())
}

/// Deletes the A record `resource` describes while it still points at exactly its `ip`
/// detail, putting back in the same batch the record sets it replaced; a record changed by
/// someone else is left alone with a warning. A missing record or zone is success.
pub async fn delete_a(clients: &Clients, resource: &ResourceRef, timeout: Duration) -> Result<()> {
    let (Some(zone_id), Some(ip)) = (&resource.dns_zone, &resource.ip) else {
        return Err(ProviderError::new(
            ErrorKind::InvalidInput,
            "route53:ChangeResourceRecordSets",
            format!(
                "the state of DNS record {} lacks its DNS zone or IP",
                resource.name
            ),
        ));
    };
    let restore = carto_core::dns::replaced(resource)?;
    let name = fqdn(&resource.name);
    let Some(current) = current_a(clients, zone_id, &name).await? else {
        return Ok(());
    };
    let found = values(&current);
    if found != Some(vec![ip.as_str()]) {
        tracing::warn!(record = %name, expected = %ip, found = ?found, "A record no longer points at this environment's address; leaving it");
        return Ok(());
    }
    let mut changes = vec![change_of(ChangeAction::Delete, current)?];
    for set in &restore {
        changes.push(change_of(ChangeAction::Create, record_set(&name, set)?)?);
    }
    change(clients, zone_id, changes, timeout)
        .await
        .or_absent()
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: &str, name: &str, private: bool) -> Zone {
        Zone {
            id: id.into(),
            name: name.into(),
            private,
        }
    }

    fn zones() -> Vec<Zone> {
        vec![
            zone("Z1", "example.com.", false),
            zone("Z2", "sub.example.com.", false),
            zone("Z3", "other.com.", false),
            zone("Z4", "deep.sub.example.com.", true),
        ]
    }

    #[test]
    fn longest_public_suffix_wins() {
        assert_eq!(
            pick_zone("carto.sub.example.com", &zones(), None)
                .unwrap()
                .id,
            "Z2"
        );
        assert_eq!(
            pick_zone("x.deep.sub.example.com", &zones(), None)
                .unwrap()
                .id,
            "Z2"
        );
        assert_eq!(
            pick_zone("Carto.Example.com.", &zones(), None).unwrap().id,
            "Z1"
        );
        // A suffix must end on a label boundary: notexample.com is not in example.com.
        let err = pick_zone("notexample.com", &zones(), None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("domain notexample.com")
                && err.to_string().contains("DNS zone"),
            "{err}"
        );
    }

    #[test]
    fn named_zone_by_name_or_id_must_contain_domain() {
        assert_eq!(
            pick_zone("a.sub.example.com", &zones(), Some("example.com"))
                .unwrap()
                .id,
            "Z1"
        );
        assert_eq!(
            pick_zone("a.sub.example.com", &zones(), Some("/hostedzone/Z2"))
                .unwrap()
                .id,
            "Z2"
        );
        let outside = pick_zone("a.example.org", &zones(), Some("Z3")).unwrap_err();
        assert!(
            outside
                .to_string()
                .starts_with("domain a.example.org is not inside DNS zone Z3"),
            "{outside}"
        );
        let missing = pick_zone("a.example.com", &zones(), Some("nope.com")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("DNS zone nope.com is not a public"),
            "{missing}"
        );
    }
}
