//! Labels every resource carries (`managed-by=carto-provision`, `carto-env=NAME`,
//! `carto-created=SECONDS`), the Compute list filter that finds them, and the same words
//! written into a description where a resource has no labels (firewall rules) or a value no
//! label can hold (the address's domain); and a Compute resource as a core one ([`reference`]).

use std::collections::HashMap;

use carto_core::{
    EnvName, InfraSpec, ResourceKind, ResourceRef, TAG_CREATED, TAG_ENV, TAG_EXPIRES,
    TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE, TAG_NONCE, TaggedResource,
};

/// Word in the address's description naming the domain its A record is for, so a destroy
/// without a state file finds the record (a label value cannot hold a dot).
pub const DOMAIN_WORD: &str = "carto-domain";

/// A Compute resource `name` in `scope` (a zone, a region, `global`) as a core resource: its
/// numeric id, or its name when Compute gave none.
pub fn reference(kind: ResourceKind, id: Option<u64>, name: &str, scope: &str) -> ResourceRef {
    let id = id.map_or_else(|| name.to_string(), |i| i.to_string());
    ResourceRef::new(kind, id, name, scope)
}

/// The labels of one environment's resources.
pub fn labels(spec: &InfraSpec) -> HashMap<String, String> {
    spec.labels()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// The creation time the `carto-created` label or description word holds, else the cloud's
/// own `fallback` (its RFC 3339 `creationTimestamp`).
pub fn created(
    labels: &HashMap<String, String>,
    description: Option<&str>,
    fallback: Option<&String>,
) -> Option<carto_core::Time> {
    let from_description = || words(description?).get(TAG_CREATED).map(|v| v.to_string());
    labels
        .get(TAG_CREATED)
        .cloned()
        .or_else(from_description)
        .and_then(|v| carto_core::created_from_tag(&v))
        .or_else(|| fallback.and_then(|t| carto_core::parse_time(t)))
}

/// The expiry (Unix seconds) the `carto-expires` label or description word holds.
pub fn expires(labels: &HashMap<String, String>, description: Option<&str>) -> Option<i64> {
    let from_description = || words(description?).get(TAG_EXPIRES).map(|v| v.to_string());
    labels
        .get(TAG_EXPIRES)
        .cloned()
        .or_else(from_description)
        .and_then(|v| carto_core::expires_from_tag(&v))
}

/// The nonce the `carto-nonce` label or description word holds.
pub fn nonce(labels: &HashMap<String, String>, description: Option<&str>) -> Option<String> {
    let from_description = || words(description?).get(TAG_NONCE).map(|v| v.to_string());
    labels.get(TAG_NONCE).cloned().or_else(from_description)
}

/// `resource` of environment `env` (empty when it names none) as its labels (or, for a
/// firewall rule, its description words) describe it; `fallback` is the cloud's creation time.
pub fn tagged(
    resource: ResourceRef,
    env: String,
    labels: &HashMap<String, String>,
    description: Option<&str>,
    fallback: Option<&String>,
) -> TaggedResource {
    TaggedResource {
        resource,
        env,
        created: created(labels, description, fallback),
        expires: expires(labels, description),
        nonce: nonce(labels, description),
    }
}

/// The `key=value` words of a description.
pub fn words(description: &str) -> HashMap<&str, &str> {
    description
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect()
}

/// The network tag the environment's firewall rules target and its VM carries.
pub fn network_tag(env: &EnvName) -> String {
    format!("carto-{env}")
}

/// A Compute `filter` for resources managed by carto-provision, of `env` when given.
pub fn filter(env: Option<&EnvName>) -> String {
    let mut f = format!("labels.{TAG_MANAGED_BY} = \"{TAG_MANAGED_BY_VALUE}\"");
    if let Some(env) = env {
        f.push_str(&format!(" AND labels.{TAG_ENV} = \"{env}\""));
    }
    f
}

/// The environment a label map names, if it is managed by carto-provision.
pub fn env_of(labels: &HashMap<String, String>) -> Option<String> {
    (labels.get(TAG_MANAGED_BY).map(String::as_str) == Some(TAG_MANAGED_BY_VALUE))
        .then(|| labels.get(TAG_ENV).cloned())
        .flatten()
}

/// The description of a firewall rule: the labels it cannot carry, as `key=value` words.
pub fn description(spec: &InfraSpec) -> String {
    labels(spec)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The environment a firewall rule's description names, if carto-provision wrote it.
pub fn env_of_description(description: &str) -> Option<String> {
    let words = words(description);
    (words.get(TAG_MANAGED_BY) == Some(&TAG_MANAGED_BY_VALUE))
        .then(|| words.get(TAG_ENV).map(|e| e.to_string()))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_round_trips() {
        let env = EnvName::parse("my-env").unwrap();
        let spec = InfraSpec {
            nonce: "n".into(),
            ..carto_core::testing::infra_spec("my-env", "carto.example.com", "us-central1-a")
        };
        let text = description(&spec);
        assert_eq!(
            text,
            "carto-created=1795710422 carto-env=my-env carto-nonce=n managed-by=carto-provision"
        );
        assert_eq!(env_of_description(&text).as_deref(), Some("my-env"));
        assert_eq!(
            created(&HashMap::new(), Some(&text), None),
            carto_core::created_from_tag("1795710422")
        );
        assert_eq!(env_of_description("someone else's rule"), None);
        assert_eq!(env_of(&labels(&spec)).as_deref(), Some("my-env"));
        assert_eq!(
            filter(Some(&env)),
            "labels.managed-by = \"carto-provision\" AND labels.carto-env = \"my-env\""
        );
    }
}
