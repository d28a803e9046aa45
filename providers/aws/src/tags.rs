//! The tags every EC2 resource of an environment carries (`Name`, `managed-by`, `carto-env`),
//! given at creation through TagSpecifications, and the filters that find them again.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use carto_core::{EnvName, TAG_ENV, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE};

/// The three tags of one resource named `name` in `env`.
pub fn tags(env: &EnvName, name: &str) -> Vec<Tag> {
    [
        ("Name", name),
        (TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE),
        (TAG_ENV, env.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build())
    .collect()
}

/// A TagSpecification giving a new resource of `kind` its tags at creation.
pub fn spec(kind: ResourceType, env: &EnvName, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags(env, name)))
        .build()
}

/// Filters matching resources made by this tool, in `env` when given.
pub fn filters(env: Option<&EnvName>) -> Vec<Filter> {
    let mut out = vec![filter(
        &format!("tag:{TAG_MANAGED_BY}"),
        TAG_MANAGED_BY_VALUE,
    )];
    if let Some(env) = env {
        out.push(filter(&format!("tag:{TAG_ENV}"), env.as_str()));
    }
    out
}

/// One EC2 filter with one value.
pub fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The value of tag `key`, if present.
pub fn value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// `Some(s)` unless `s` is absent or empty (moto answers unset ids as empty strings).
pub fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_env_and_owner() {
        let env = EnvName::parse("my-env").expect("valid");
        let t = tags(&env, "carto-my-env-sg");
        assert_eq!(value(&t, "Name"), Some("carto-my-env-sg"));
        assert_eq!(value(&t, TAG_MANAGED_BY), Some("carto-provision"));
        assert_eq!(value(&t, TAG_ENV), Some("my-env"));
        let f = filters(Some(&env));
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].name(), Some("tag:carto-env"));
        assert_eq!(f[1].values(), ["my-env"]);
        assert_eq!(filters(None).len(), 1);
    }
}
