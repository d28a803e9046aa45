//! Ownership: whether a resource found under an environment's name or tag was made by this
//! environment. Names are deterministic and two environments can share one (a name chosen by
//! hand, or a state file lost), so a name proves nothing; the proof is the environment's random nonce,
//! which every resource carries as [`crate::TAG_NONCE`], or the resource's id recorded in the
//! environment's state file (a resource made by a version before the tag).

use std::collections::BTreeMap;

use crate::TaggedResource;

/// The resources of `found` this environment did not make: without `nonce` and not among
/// `known_ids`. Preflight refuses to adopt any of them.
pub fn foreign<'a>(
    found: &'a [TaggedResource],
    nonce: &str,
    known_ids: &[&str],
) -> Vec<&'a TaggedResource> {
    found
        .iter()
        .filter(|t| {
            t.nonce.as_deref() != Some(nonce) && !known_ids.contains(&t.resource.id.as_str())
        })
        .collect()
}

/// Adds to `found` each of `more` it does not hold yet (by id): a resource found both by tag
/// and by name is listed once.
pub fn merge(found: &mut Vec<TaggedResource>, more: impl IntoIterator<Item = TaggedResource>) {
    for t in more {
        if !found.iter().any(|f| f.resource.id == t.resource.id) {
            found.push(t);
        }
    }
}

/// One resource and who made it, for a message: `firewall carto-e-sg (sg-1) in us-east-1,
/// made by another environment (carto-nonce 0f3a…)` or `…, carrying no carto-nonce`.
pub fn describe(t: &TaggedResource) -> String {
    let owner = match (&t.nonce, t.env.is_empty()) {
        (Some(n), _) => format!("made by another environment (carto-nonce {n})"),
        (None, false) => "tagged carto-env but carrying no carto-nonce".to_string(),
        (None, true) => "not made by carto-provision".to_string(),
    };
    format!("{}, {owner}", t.resource)
}

/// `found` split by nonce: one entry per environment that used the name (`None` collects
/// resources without the tag).
pub fn by_nonce(found: Vec<TaggedResource>) -> BTreeMap<Option<String>, Vec<TaggedResource>> {
    let mut groups: BTreeMap<Option<String>, Vec<TaggedResource>> = BTreeMap::new();
    for t in found {
        groups.entry(t.nonce.clone()).or_default().push(t);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ResourceKind, ResourceRef};

    fn found(id: &str, env: &str, nonce: Option<&str>) -> TaggedResource {
        TaggedResource {
            resource: ResourceRef::new(ResourceKind::Firewall, id, "carto-e-sg", "r"),
            env: env.into(),
            created: None,
            expires: None,
            nonce: nonce.map(String::from),
        }
    }

    #[test]
    fn only_our_nonce_or_a_recorded_id_is_ours() {
        let all = [
            found("ours", "e", Some("n1")),
            found("twin", "e", Some("n2")),
            found("by-hand", "", None),
            found("old-version", "e", None),
        ];
        let ids = |v: Vec<&TaggedResource>| -> Vec<String> {
            v.iter().map(|t| t.resource.id.clone()).collect()
        };
        assert_eq!(
            ids(foreign(&all, "n1", &[])),
            ["twin", "by-hand", "old-version"]
        );
        assert_eq!(
            ids(foreign(&all, "n1", &["old-version"])),
            ["twin", "by-hand"]
        );
        assert!(describe(&all[1]).contains("carto-nonce n2"));
        assert!(describe(&all[2]).contains("not made by carto-provision"));
        assert!(describe(&all[3]).contains("no carto-nonce"));
    }

    #[test]
    fn groups_split_by_nonce() {
        let groups = by_nonce(vec![
            found("a", "e", Some("n1")),
            found("b", "e", Some("n2")),
            found("c", "e", Some("n1")),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[&Some("n1".to_string())].len(), 2);
    }
}
