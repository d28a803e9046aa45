//! The tags every EC2 resource of an environment carries (`Name`, `managed-by`, `carto-env`),
//! given at creation through TagSpecifications, and the filters that find them again.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use carto_core::{
    EnvName, InfraSpec, ResourceRef, TAG_CREATED, TAG_ENV, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE,
    TAG_NONCE, TaggedResource,
};

/// Tag on the Elastic IP naming the domain its A record is for, so a destroy without a state
/// file finds the record (Route53 records carry no tags).
pub const TAG_DOMAIN: &str = "carto-domain";

/// The tags of one resource named `name` of `spec`'s environment: `Name` and the core labels.
pub fn tags(spec: &InfraSpec, name: &str) -> Vec<Tag> {
    std::iter::once(("Name", name.to_string()))
        .chain(spec.labels())
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// A TagSpecification giving a new resource of `kind` its tags at creation, plus `extra`.
pub fn spec(
    kind: ResourceType,
    spec: &InfraSpec,
    name: &str,
    extra: &[(&str, &str)],
) -> TagSpecification {
    let extra = extra
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build());
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags(spec, name).into_iter().chain(extra).collect()))
        .build()
}

/// The creation time a resource's [`TAG_CREATED`] tag holds.
pub fn created(tags: &[Tag]) -> Option<carto_core::Time> {
    value(tags, TAG_CREATED).and_then(carto_core::created_from_tag)
}

/// The expiry (Unix seconds) a resource's [`carto_core::TAG_EXPIRES`] tag holds.
pub fn expires(tags: &[Tag]) -> Option<i64> {
    value(tags, carto_core::TAG_EXPIRES).and_then(carto_core::expires_from_tag)
}

/// `resource` as found by tag: its environment, creation time (the tag, else the cloud's
/// `launched` time), expiry and nonce, from `tags`.
pub fn tagged(resource: ResourceRef, tags: &[Tag], launched: Option<String>) -> TaggedResource {
    TaggedResource {
        resource,
        env: value(tags, TAG_ENV).unwrap_or("").to_string(),
        created: created(tags).or_else(|| launched.as_deref().and_then(carto_core::parse_time)),
        expires: expires(tags),
        nonce: value(tags, TAG_NONCE).map(str::to_string),
    }
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
    fn tags_name_env_owner_and_creation() {
        let env = EnvName::parse("my-env").expect("valid");
        let spec = carto_core::testing::infra_spec("my-env", "carto.example.com", "us-east-1");
        let t = tags(&spec, "carto-my-env-sg");
        assert_eq!(value(&t, "Name"), Some("carto-my-env-sg"));
        assert_eq!(value(&t, TAG_MANAGED_BY), Some("carto-provision"));
        assert_eq!(value(&t, TAG_ENV), Some("my-env"));
        assert_eq!(created(&t), carto_core::created_from_tag("1795710422"));
        let f = filters(Some(&env));
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].name(), Some("tag:carto-env"));
        assert_eq!(f[1].values(), ["my-env"]);
        assert_eq!(filters(None).len(), 1);
    }
}
