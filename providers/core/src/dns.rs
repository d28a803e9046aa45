//! What stands at a DNS name: the record sets preflight reads before the A record is made, the
//! rule for which of them are this environment's own, and which the user's take-over replaces
//! (and `destroy` puts back). Providers read and write them; the decisions are made here once.

use serde::{Deserialize, Serialize};

use crate::{Input, InvalidInput, Phrase, ResourceRef, Result};

/// Detail key of a DNS record's [`ResourceRef`] holding, as JSON, the record sets it replaced:
/// `delete` puts them back instead of leaving the name empty.
pub const DETAIL_REPLACED: &str = "replaced";

/// One record set at a name, as the cloud holds it. Never secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSet {
    /// Type: `A`, `AAAA`, `CNAME`, `TXT`, …
    #[serde(rename = "type")]
    pub rtype: String,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Values as the cloud writes them.
    pub values: Vec<String>,
    /// The `carto-nonce` of the environment that made it, where the cloud lets a record carry
    /// one (Azure record set metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl RecordSet {
    /// An A record set.
    pub fn a(ttl: u32, ip: &str) -> RecordSet {
        RecordSet {
            rtype: "A".into(),
            ttl,
            values: vec![ip.to_string()],
            nonce: None,
        }
    }

    /// NS and SOA: what every zone apex holds. Never a conflict, never replaced.
    pub fn is_zone_plumbing(&self) -> bool {
        matches!(self.rtype.as_str(), "NS" | "SOA")
    }

    /// A, AAAA and CNAME: the sets that decide where the name leads, which a take-over of the
    /// name replaces. Others (TXT, MX, CAA…) stay beside the A record.
    pub fn is_address(&self) -> bool {
        matches!(self.rtype.as_str(), "A" | "AAAA" | "CNAME")
    }

    /// Whether this environment made it: it carries the environment's nonce, or it is an A set
    /// pointing at exactly the environment's own address (a run killed between creating the
    /// record and recording it).
    pub fn is_ours(&self, nonce: &str, our_ip: Option<&str>) -> bool {
        self.nonce.as_deref() == Some(nonce)
            || (self.rtype == "A"
                && our_ip.is_some_and(|ip| self.values.len() == 1 && self.values[0] == ip))
    }
}

impl std::fmt::Display for RecordSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.rtype, self.values.join(","))
    }
}

/// The record sets at a name that block creating this environment's A record: all but the
/// zone's own NS/SOA and what this environment made.
pub fn foreign<'a>(sets: &'a [RecordSet], nonce: &str, our_ip: Option<&str>) -> Vec<&'a RecordSet> {
    sets.iter()
        .filter(|s| !s.is_zone_plumbing() && !s.is_ours(nonce, our_ip))
        .collect()
}

/// `e` restated as "the name changed since preflight read it" when its code is one of
/// `refusals` (the cloud's answers to a conditional change whose precondition failed);
/// any other error is returned as it is.
pub fn changed_meanwhile(
    e: crate::ProviderError,
    domain: &str,
    refusals: &[&str],
) -> crate::ProviderError {
    if !e.code.as_deref().is_some_and(|c| refusals.contains(&c)) {
        return e;
    }
    crate::ProviderError {
        kind: crate::ErrorKind::Other,
        message: format!(
            "the records at {domain} changed after preflight read them, so nothing was replaced ({}); run again to check them anew",
            e.message
        ),
        input: None,
        ..e
    }
}

/// The record sets a DNS record replaced, from its `detail` (none when it replaced nothing).
pub fn replaced(record: &ResourceRef) -> Result<Vec<RecordSet>> {
    match record.detail.get(DETAIL_REPLACED) {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(json).map_err(|e| {
            crate::ProviderError::new(
                crate::ErrorKind::InvalidInput,
                "state file",
                format!(
                    "the replaced record sets of DNS record {} do not parse: {e}",
                    record.name
                ),
            )
        }),
    }
}

/// `record` with the sets it replaced in its `detail`.
pub fn with_replaced(record: ResourceRef, sets: &[RecordSet]) -> ResourceRef {
    if sets.is_empty() {
        return record;
    }
    let json = serde_json::to_string(sets).unwrap_or_default();
    record.with(DETAIL_REPLACED, json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceKind;

    fn set(rtype: &str, value: &str) -> RecordSet {
        RecordSet {
            rtype: rtype.into(),
            ttl: 300,
            values: vec![value.into()],
            nonce: None,
        }
    }

    #[test]
    fn only_what_is_neither_plumbing_nor_ours_blocks() {
        let ours_by_nonce = RecordSet {
            nonce: Some("n1".into()),
            ..set("A", "198.51.100.1")
        };
        let sets = [
            set("NS", "ns1.example."),
            set("SOA", "ns1.example. admin. 1 2 3 4 5"),
            set("A", "203.0.113.9"),
            set("TXT", "\"v=spf1 -all\""),
            set("A", "127.0.0.9"),
            ours_by_nonce,
        ];
        let blocking = foreign(&sets, "n1", Some("127.0.0.9"));
        assert_eq!(blocking, [&sets[2], &sets[3]]);
        assert!(sets[2].is_address() && !sets[3].is_address());
        assert_eq!(foreign(&sets, "n2", None).len(), 4);
    }

    #[test]
    fn replaced_sets_round_trip_through_the_detail() {
        let r = ResourceRef::new(ResourceKind::DnsRecord, "id", "a.example.com", "global");
        assert_eq!(replaced(&r).unwrap(), []);
        let sets = [set("CNAME", "elsewhere.example.net.")];
        let r = with_replaced(r, &sets);
        assert_eq!(replaced(&r).unwrap(), sets);
    }
}

/// `name` lowercased with exactly one trailing dot.
pub fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// Whether `domain` is `zone` or under it, on a label boundary (any case, with or without the
/// trailing dot): `carto.example.com` is in `example.com`, `notexample.com` is not.
pub fn inside(domain: &str, zone: &str) -> bool {
    let (domain, zone) = (fqdn(domain), fqdn(zone));
    domain == zone || domain.ends_with(&format!(".{zone}"))
}

/// Of `wanted` (domain, address) in one zone, those whose A record in `a_records` (that zone's
/// A records: fully qualified name -> values) points at exactly that address: the only records
/// a sweep without state takes as an environment's (one that points elsewhere too, or elsewhere
/// only, is someone else's now).
pub fn pointing_only_at<'w>(
    a_records: &std::collections::HashMap<String, Vec<String>>,
    wanted: &[&'w (String, String)],
) -> Vec<&'w (String, String)> {
    wanted
        .iter()
        .filter(|(domain, ip)| {
            a_records
                .get(&fqdn(domain))
                .is_some_and(|v| v.len() == 1 && v[0] == *ip)
        })
        .copied()
        .collect()
}

/// A DNS zone as one cloud lists it, for [`pick_zone`].
pub trait Zone {
    /// The zone's DNS name (`example.com.` or `example.com`).
    fn dns_name(&self) -> &str;
    /// Whether the DNS zone input `wanted` names this zone (by the cloud's name or id, or DNS name).
    fn is(&self, wanted: &str) -> bool;
    /// How the zone is shown in a list of choices.
    fn label(&self) -> String {
        self.dns_name().to_string()
    }
}

/// How one cloud's zones are spoken of in [`pick_zone`]'s messages.
pub struct ZoneWords<'a> {
    /// The listing call, for the error.
    pub call: &'a str,
    /// What a candidate is, e.g. `public Route53 hosted zone in this account`.
    pub what: String,
    /// How to make one, e.g. `create a hosted zone for its parent domain`.
    pub create: &'a str,
}

/// The zone `domain`'s record goes in, among the candidates `zones` (already narrowed to the
/// public ones the user may mean): the one `wanted` names, which must contain the domain, else
/// the longest suffix of the domain. Failing either is bad input naming the flag and the fix.
pub fn pick_zone<'z, Z: Zone>(
    domain: &str,
    zones: &[&'z Z],
    wanted: Option<&str>,
    words: &ZoneWords<'_>,
) -> Result<&'z Z> {
    let bad = |input: InvalidInput| crate::ProviderError::invalid(words.call, input);
    if let Some(wanted) = wanted {
        let Some(zone) = zones.iter().find(|z| z.is(wanted)) else {
            let labels: Vec<String> = zones.iter().map(|z| z.label()).collect();
            let choices = if labels.is_empty() {
                "(none found)".to_string()
            } else {
                labels.join(", ")
            };
            return Err(bad(InvalidInput::new(
                Input::DnsZone,
                wanted,
                format!("is not a {}", words.what),
            )
            .hint(format!("name one of {choices}"))));
        };
        if !inside(domain, zone.dns_name()) {
            let name = zone.dns_name();
            return Err(bad(InvalidInput::new(
                Input::Domain,
                domain,
                Phrase::from("is not inside ")
                    .input(Input::DnsZone)
                    .text(format!(" {wanted} ({name})")),
            )
            .hint(format!("pick a domain under {name} or another zone"))));
        }
        return Ok(zone);
    }
    zones
        .iter()
        .filter(|z| inside(domain, z.dns_name()))
        .max_by_key(|z| fqdn(z.dns_name()).len())
        .copied()
        .ok_or_else(|| {
            bad(InvalidInput::unnamed(
                Input::Domain,
                Phrase::from(format!("no {} contains ", words.what))
                    .input(Input::Domain)
                    .text(format!(" {domain}")),
            )
            .hint(
                Phrase::from(format!("{}, or name one with ", words.create)).input(Input::DnsZone),
            ))
        })
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn a_sweep_takes_only_records_pointing_at_exactly_their_address() {
        let a = std::collections::HashMap::from([
            ("a.test.".to_string(), vec!["198.51.100.1".to_string()]),
            (
                "b.test.".to_string(),
                vec!["198.51.100.2".to_string(), "203.0.113.9".to_string()],
            ),
            ("c.test.".to_string(), vec!["203.0.113.9".to_string()]),
        ]);
        let wanted = [
            ("A.test".to_string(), "198.51.100.1".to_string()),
            ("b.test".to_string(), "198.51.100.2".to_string()),
            ("c.test".to_string(), "198.51.100.3".to_string()),
            ("d.test".to_string(), "198.51.100.4".to_string()),
        ];
        let wanted: Vec<&(String, String)> = wanted.iter().collect();
        assert_eq!(pointing_only_at(&a, &wanted), [wanted[0]]);
    }

    struct Z(&'static str, &'static str);
    impl Zone for Z {
        fn dns_name(&self) -> &str {
            self.1
        }
        fn is(&self, wanted: &str) -> bool {
            self.0 == wanted || fqdn(self.1) == fqdn(wanted)
        }
    }

    #[test]
    fn the_longest_suffix_on_a_label_boundary_or_the_named_zone() {
        let all = [
            Z("a", "example.com."),
            Z("b", "sub.example.com."),
            Z("c", "other.com"),
        ];
        let zones: Vec<&Z> = all.iter().collect();
        let words = ZoneWords {
            call: "list",
            what: "zone here".into(),
            create: "make one",
        };
        let pick = |d, w| pick_zone(d, &zones, w, &words).map(|z| z.0);
        assert_eq!(pick("x.Sub.Example.com.", None).unwrap(), "b");
        assert_eq!(pick("example.com", None).unwrap(), "a");
        assert_eq!(pick("x.sub.example.com", Some("a")).unwrap(), "a");
        assert_eq!(pick("x.other.com", Some("other.com.")).unwrap(), "c");
        let none = pick("notexample.com", None).unwrap_err();
        assert!(
            none.message
                .starts_with("no zone here contains domain notexample.com; hint: make one"),
            "{none}"
        );
        let outside = pick("x.example.org", Some("c")).unwrap_err();
        assert!(
            outside
                .message
                .starts_with("domain x.example.org is not inside DNS zone c (other.com)"),
            "{outside}"
        );
        let missing = pick("x.example.com", Some("z")).unwrap_err();
        assert!(
            missing
                .message
                .contains("hint: name one of example.com., sub.example.com., other.com"),
            "{missing}"
        );
        assert!(inside("example.com", "example.com.") && !inside("notexample.com", "example.com"));
    }
}
