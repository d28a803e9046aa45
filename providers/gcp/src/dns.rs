//! Cloud DNS: finding the public managed zone a domain belongs to (the longest dnsName
//! suffix, or the zone the user named), reading what stands at the domain, creating the A
//! record in one change whose deletions are exactly what a take-over replaces (so Cloud DNS
//! refuses it when the name changed since) and waiting until the change is `done`, and
//! deleting the record only while it still points at our address, putting back what it
//! replaced.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use carto_core::retry::{Poll, wait_until};
use carto_core::{
    ErrorKind, OrAbsent, ProviderError, RecordSet, ResourceKind, ResourceRef, Result,
};
use google_cloud_dns_v1::model::{Change, ResourceRecordSet};

use crate::config::Clients;
use crate::send::{list_all, send};

/// TTL of the A record, in seconds: short, so a re-created environment is reachable soon.
pub const RECORD_TTL: i32 = 60;

/// A managed zone: its name (the id Cloud DNS calls take) and DNS name with its trailing dot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// `example-zone`.
    pub name: String,
    /// `example.com.`.
    pub dns_name: String,
    /// Private zones never hold the public record.
    pub private: bool,
}

pub use carto_core::dns::fqdn;

impl carto_core::dns::Zone for Zone {
    fn dns_name(&self) -> &str {
        &self.dns_name
    }
    fn is(&self, wanted: &str) -> bool {
        self.name == wanted || self.dns_name == fqdn(wanted)
    }
    fn label(&self) -> String {
        format!("{} ({})", self.name, self.dns_name)
    }
}

/// Every managed zone of the project.
pub async fn list_zones(c: &Clients) -> Result<Vec<Zone>> {
    const CALL: &str = "dns.managedZones.list";
    let project = c.project()?;
    let zones = list_all(&c.policy, CALL, |token| {
        c.managed_zones
            .list()
            .set_project(project)
            .set_or_clear_page_token(token)
            .send()
    })
    .await?;
    Ok(zones
        .iter()
        .map(|z| Zone {
            name: z.name.clone().unwrap_or_default(),
            dns_name: fqdn(z.dns_name.as_deref().unwrap_or_default()),
            private: z.visibility.as_ref().and_then(|v| v.name()) == Some("private"),
        })
        .collect())
}

/// Picks the public zone for `domain`: the one named by `wanted` (zone name or DNS name),
/// which must contain the domain, else the longest suffix of the domain among public zones.
pub fn pick_zone(domain: &str, zones: &[Zone], wanted: Option<&str>) -> Result<Zone> {
    let public: Vec<&Zone> = zones.iter().filter(|z| !z.private).collect();
    let words = carto_core::dns::ZoneWords {
        call: "dns.managedZones.list",
        what: "public Cloud DNS managed zone of this project".into(),
        create: "create a managed zone for its parent domain",
    };
    carto_core::dns::pick_zone(domain, &public, wanted, &words).cloned()
}

/// Every record set at `name` in `zone` (one list call filtered by name).
async fn record_sets(c: &Clients, zone: &str, name: &str) -> Result<Vec<ResourceRecordSet>> {
    let project = c.project()?;
    let page = send(&c.policy, "dns.resourceRecordSets.list", || {
        c.rrsets
            .list()
            .set_project(project)
            .set_managed_zone(zone)
            .set_name(name)
            .send()
    })
    .await?;
    Ok(page
        .rrsets
        .into_iter()
        .filter(|r| r.name.as_deref().map(fqdn).as_deref() == Some(name))
        .collect())
}

/// The A record set of `name` in `zone`, if there is one.
async fn current_a(c: &Clients, zone: &str, name: &str) -> Result<Option<ResourceRecordSet>> {
    let sets = record_sets(c, zone, name).await?;
    Ok(sets.into_iter().find(|r| r.r#type.as_deref() == Some("A")))
}

/// The Cloud DNS form of a core record set at `name`.
fn record_set(name: &str, set: &RecordSet) -> ResourceRecordSet {
    let mut r = ResourceRecordSet::default();
    r.name = Some(name.to_string());
    r.r#type = Some(set.rtype.clone());
    r.ttl = Some(set.ttl as i32);
    r.rrdatas = set.values.clone();
    r
}

/// The core form of a Cloud DNS record set.
fn core_set(r: &ResourceRecordSet) -> RecordSet {
    RecordSet {
        rtype: r.r#type.clone().unwrap_or_default(),
        ttl: r.ttl.unwrap_or(0).max(0) as u32,
        values: r.rrdatas.clone(),
        nonce: None,
    }
}

/// Applies `change` to `zone` and waits until Cloud DNS reports it `done`.
async fn apply(c: &Clients, zone: &str, change: Change, timeout: Duration) -> Result<()> {
    const CALL: &str = "dns.changes.create";
    let project = c.project()?;
    let made = send(&c.policy, CALL, || {
        c.changes
            .create()
            .set_project(project)
            .set_managed_zone(zone)
            .set_body(change.clone())
            .send()
    })
    .await?;
    let id = made
        .id
        .clone()
        .ok_or_else(|| ProviderError::missing_field(CALL, "change id"))?;
    let status = |ch: &Change| {
        ch.status
            .as_ref()
            .and_then(|s| s.name())
            .unwrap_or("unknown")
            .to_string()
    };
    if status(&made) == "done" {
        return Ok(());
    }
    let what = format!("Cloud DNS change {id} in zone {zone} to be done");
    wait_until(&what, "dns.changes.get", timeout, c.poll, || async {
        let now = send(&c.policy, "dns.changes.get", || {
            c.changes
                .get()
                .set_project(project)
                .set_managed_zone(zone)
                .set_change_id(&id)
                .send()
        })
        .await?;
        Ok(match status(&now).as_str() {
            "done" => Poll::Ready(()),
            other => Poll::Pending(format!("status {other}")),
        })
    })
    .await
}

/// The record's reference as the pipeline records it.
fn reference(zone: &str, domain: &str, ip: &str) -> ResourceRef {
    ResourceRef::new(ResourceKind::DnsRecord, fqdn(domain), domain, "global")
        .with_dns_zone(zone)
        .with_ip(ip)
}

/// Creates `domain A ip` in `zone` in one change whose deletions are exactly the sets in
/// `replace` (what preflight read), so Cloud DNS refuses it (412 for deletions that no longer
/// match, 409 for an A record that appeared) when the name changed since. Nothing changes when
/// the record already points at `ip` alone.
pub async fn create_a(
    c: &Clients,
    zone: &str,
    domain: &str,
    ip: &str,
    replace: &[RecordSet],
    timeout: Duration,
) -> Result<ResourceRef> {
    let name = fqdn(domain);
    let made = carto_core::dns::with_replaced(reference(zone, domain, ip), replace);
    let current = current_a(c, zone, &name).await?;
    if current.as_ref().is_some_and(|r| r.rrdatas == [ip]) {
        return Ok(made);
    }
    let mut change = Change::default();
    change.additions = vec![record_set(&name, &RecordSet::a(RECORD_TTL as u32, ip))];
    change.deletions = replace.iter().map(|s| record_set(&name, s)).collect();
    apply(c, zone, change, timeout)
        .await
        .map_err(|e| carto_core::dns::changed_meanwhile(e, domain, REFUSALS))?;
    Ok(made)
}

/// Cloud DNS's answers to a change whose deletions or additions no longer match the zone.
const REFUSALS: &[&str] = &[
    "conditionNotMet",
    "alreadyExists",
    "notFound",
    "HTTP 409",
    "HTTP 412",
];

/// Every record set at `domain` in `zone`, in core form.
pub async fn find_records(c: &Clients, zone: &str, domain: &str) -> Result<Vec<RecordSet>> {
    let sets = record_sets(c, zone, &fqdn(domain)).await?;
    Ok(sets.iter().map(core_set).collect())
}

/// The A records pointing at exactly their address among `wanted` (domain, address), in
/// `zones` (the project's or account's, listed beside the addresses): one
/// listing of the zones and one paged listing of the A records of each zone that holds one of
/// the domains, however many there are (a sweep of hundreds of environments asks per zone,
/// not per environment).
pub async fn find_a_all(
    c: &Clients,
    zones: &[Zone],
    wanted: &[(String, String)],
) -> Result<Vec<ResourceRef>> {
    let mut by_zone: BTreeMap<String, Vec<&(String, String)>> = BTreeMap::new();
    for w in wanted {
        if let Ok(zone) = pick_zone(&w.0, zones, None) {
            by_zone.entry(zone.name).or_default().push(w);
        }
    }
    let project = c.project()?;
    let lists = by_zone.iter().map(|(zone, domains)| async move {
        let sets = list_all(&c.policy, "dns.resourceRecordSets.list", |token| {
            c.rrsets
                .list()
                .set_project(project)
                .set_managed_zone(zone)
                .set_type("A")
                .set_or_clear_page_token(token)
                .send()
        })
        .await?;
        let a: HashMap<String, Vec<String>> = sets
            .into_iter()
            .filter(|r| r.r#type.as_deref() == Some("A"))
            .map(|r| (r.name.as_deref().map(fqdn).unwrap_or_default(), r.rrdatas))
            .collect();
        Ok::<_, carto_core::ProviderError>(
            carto_core::dns::pointing_only_at(&a, domains)
                .into_iter()
                .map(|(domain, ip)| reference(zone, domain, ip))
                .collect::<Vec<_>>(),
        )
    });
    let found = futures::future::try_join_all(lists).await?;
    Ok(found.into_iter().flatten().collect())
}

/// Deletes the A record `resource` describes while it still points at exactly its `ip`
/// detail, putting back in the same change the record sets it replaced; a record changed by
/// someone else is left alone with a warning. A missing record or zone is success.
pub async fn delete_a(c: &Clients, resource: &ResourceRef, timeout: Duration) -> Result<()> {
    let (Some(zone), Some(ip)) = (&resource.dns_zone, &resource.ip) else {
        return Err(ProviderError::new(
            ErrorKind::InvalidInput,
            "dns.changes.create",
            format!(
                "the state of DNS record {} lacks its DNS zone or IP",
                resource.name
            ),
        ));
    };
    let restore = carto_core::dns::replaced(resource)?;
    let name = fqdn(&resource.name);
    let Some(current) = current_a(c, zone, &name).await.or_absent()?.flatten() else {
        return Ok(());
    };
    if current.rrdatas != [ip.as_str()] {
        tracing::warn!(record = %name, expected = %ip, found = ?current.rrdatas, "A record no longer points at this environment's address; leaving it");
        return Ok(());
    }
    let mut change = Change::default();
    change.deletions = vec![current];
    change.additions = restore.iter().map(|s| record_set(&name, s)).collect();
    apply(c, zone, change, timeout).await.or_absent().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, dns_name: &str, private: bool) -> Zone {
        Zone {
            name: name.into(),
            dns_name: dns_name.into(),
            private,
        }
    }

    fn zones() -> Vec<Zone> {
        vec![
            zone("example", "example.com.", false),
            zone("sub", "sub.example.com.", false),
            zone("other", "other.com.", false),
            zone("deep", "deep.sub.example.com.", true),
        ]
    }

    #[test]
    fn longest_public_suffix_wins() {
        assert_eq!(
            pick_zone("carto.sub.example.com", &zones(), None)
                .unwrap()
                .name,
            "sub"
        );
        assert_eq!(
            pick_zone("x.deep.sub.example.com", &zones(), None)
                .unwrap()
                .name,
            "sub"
        );
        assert_eq!(
            pick_zone("Carto.Example.com.", &zones(), None)
                .unwrap()
                .name,
            "example"
        );
        let err = pick_zone("notexample.com", &zones(), None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.to_string().contains("domain notexample.com"), "{err}");
    }

    #[test]
    fn named_zone_must_contain_domain() {
        assert_eq!(
            pick_zone("a.sub.example.com", &zones(), Some("example"))
                .unwrap()
                .name,
            "example"
        );
        assert_eq!(
            pick_zone("a.sub.example.com", &zones(), Some("sub.example.com"))
                .unwrap()
                .name,
            "sub"
        );
        let outside = pick_zone("a.example.org", &zones(), Some("other")).unwrap_err();
        assert!(
            outside
                .to_string()
                .starts_with("domain a.example.org is not inside DNS zone other"),
            "{outside}"
        );
        let missing = pick_zone("a.example.com", &zones(), Some("nope")).unwrap_err();
        assert!(
            missing.to_string().starts_with("DNS zone nope is not"),
            "{missing}"
        );
    }
}
