//! Labels every resource carries (`managed-by=carto-provision`, `carto-env=NAME`), the
//! Compute list filter that finds them, and the same pair written into a firewall rule's
//! description: Compute firewall rules have no labels.

use std::collections::HashMap;

use carto_core::{EnvName, TAG_ENV, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE};

/// The labels of one environment's resources.
pub fn labels(env: &EnvName) -> HashMap<String, String> {
    HashMap::from([
        (TAG_MANAGED_BY.to_string(), TAG_MANAGED_BY_VALUE.to_string()),
        (TAG_ENV.to_string(), env.as_str().to_string()),
    ])
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
pub fn description(env: &EnvName) -> String {
    format!("{TAG_MANAGED_BY}={TAG_MANAGED_BY_VALUE} {TAG_ENV}={env}")
}

/// The environment a firewall rule's description names, if carto-provision wrote it.
pub fn env_of_description(description: &str) -> Option<String> {
    let words: HashMap<&str, &str> = description
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect();
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
        assert_eq!(
            env_of_description(&description(&env)).as_deref(),
            Some("my-env")
        );
        assert_eq!(env_of_description("someone else's rule"), None);
        assert_eq!(env_of(&labels(&env)).as_deref(), Some("my-env"));
        assert_eq!(
            filter(Some(&env)),
            "labels.managed-by = \"carto-provision\" AND labels.carto-env = \"my-env\""
        );
    }
}
