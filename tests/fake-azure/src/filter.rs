//! The `$filter` of list calls, in the subset ARM documents for resource groups and
//! resources: `tagName eq 'n'`, `tagName eq 'n' and tagValue eq 'v'`, `resourceType eq 't'`,
//! `substringof('s', resourceGroup)`, clauses joined by `and` (a tag filter alone: ARM
//! combines it with nothing else). Anything else is refused, as ARM refuses filters it cannot
//! apply. A list of resources filtered by tag name and value answers them without their
//! tags, as ARM documents.

use serde_json::Value;

use crate::errors::ArmError;
use crate::ids::ResourceId;

/// A parsed filter; every set field must match.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    tag_name: Option<String>,
    tag_value: Option<String>,
    resource_type: Option<String>,
    group_contains: Option<String>,
}

fn invalid(f: &str) -> ArmError {
    ArmError::new(
        400,
        "InvalidFilterInQueryString",
        format!(
            "The $filter '{f}' is not supported. Supported: tagName eq '…' [and tagValue eq '…'], resourceType eq '…', substringof('…', resourceGroup)."
        ),
    )
}

impl Filter {
    /// Parses `$filter`; `None` gives a filter that keeps everything.
    pub fn parse(filter: Option<&str>) -> Result<Self, ArmError> {
        let mut out = Self::default();
        let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
            return Ok(out);
        };
        for clause in f.split(" and ") {
            if let Some(arg) = clause
                .trim()
                .strip_prefix("substringof(")
                .and_then(|a| a.strip_suffix(", resourceGroup)"))
            {
                let value = arg.strip_prefix('\'').and_then(|v| v.strip_suffix('\''));
                out.group_contains = Some(value.ok_or_else(|| invalid(f))?.to_ascii_lowercase());
                continue;
            }
            let (field, value) = clause.trim().split_once(" eq ").ok_or_else(|| invalid(f))?;
            let value = value.trim();
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .ok_or_else(|| invalid(f))?
                .to_string();
            let slot = match field.trim() {
                "tagName" => &mut out.tag_name,
                "tagValue" => &mut out.tag_value,
                "resourceType" => &mut out.resource_type,
                _ => return Err(invalid(f)),
            };
            *slot = Some(value);
        }
        let others = out.resource_type.is_some() || out.group_contains.is_some();
        if out.tag_value.is_some() && out.tag_name.is_none() || out.tag_name.is_some() && others {
            return Err(invalid(f));
        }
        Ok(out)
    }

    /// Whether ARM answers the resources this filter selects without their tags: it filters
    /// by tag name and value.
    pub fn drops_tags(&self) -> bool {
        self.tag_value.is_some()
    }

    /// Whether a stored resource passes.
    pub fn keeps(&self, v: &Value) -> bool {
        let type_ok = self.resource_type.as_ref().is_none_or(|t| {
            v["type"]
                .as_str()
                .is_some_and(|have| have.eq_ignore_ascii_case(t))
        });
        let tag_ok = self.tag_name.as_ref().is_none_or(|name| {
            let tags = v["tags"].as_object();
            let value = tags.and_then(|m| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            });
            match (&self.tag_value, value) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(want), Some(have)) => have.as_str() == Some(want.as_str()),
            }
        });
        let group_ok = self.group_contains.as_ref().is_none_or(|part| {
            v["id"]
                .as_str()
                .and_then(ResourceId::parse)
                .is_some_and(|id| id.group.to_ascii_lowercase().contains(part.as_str()))
        });
        type_ok && tag_ok && group_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_and_type_clauses() {
        let v = json!({"type": "Microsoft.Network/virtualNetworks", "tags": {"carto-env": "a"}});
        let keeps = |f: &str| Filter::parse(Some(f)).expect("parses").keeps(&v);
        assert!(keeps("tagName eq 'carto-env'"));
        assert!(keeps("tagName eq 'Carto-Env' and tagValue eq 'a'"));
        assert!(!keeps("tagName eq 'carto-env' and tagValue eq 'b'"));
        assert!(!keeps("tagName eq 'other'"));
        assert!(keeps("resourceType eq 'microsoft.network/virtualNetworks'"));
        let in_group = json!({"id": "/subscriptions/s/resourceGroups/Carto-A-rg/providers/x/y/z"});
        let group = |f: &str| Filter::parse(Some(f)).expect("parses").keeps(&in_group);
        assert!(group("substringof('carto-a', resourceGroup)"));
        assert!(!group("substringof('carto-b', resourceGroup)"));
        assert!(Filter::parse(None).expect("none").keeps(&v));
        for bad in [
            "name eq 'x'",
            "tagValue eq 'a'",
            "tagName eq x",
            "startswith(name,'a')",
            "tagName eq 'a' and resourceType eq 'b'",
            "substringof(carto, resourceGroup)",
        ] {
            assert!(Filter::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
