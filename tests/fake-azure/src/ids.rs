//! ARM resource ids taken apart: subscription, resource group, provider namespace, type,
//! name and parent, from a request path such as
//! `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a`.
//! Pure string work; no state.

use crate::routes::percent_decode;

/// A parsed ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    /// The id as the client spelled it (no trailing slash).
    pub id: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource group name ("" when the id is above groups).
    pub group: String,
    /// Provider namespace (`Microsoft.Resources` for a resource group).
    pub namespace: String,
    /// ARM type: `Microsoft.Network/virtualNetworks/subnets`.
    pub rtype: String,
    /// Last segment.
    pub name: String,
    /// The parent resource's id for a child resource (subnet → its virtual network).
    pub parent: Option<String>,
}

impl ResourceId {
    /// Parses a request path; `None` when it is not below `/subscriptions/{id}`. Segments are
    /// percent-decoded and ARM's fixed words take their canonical spelling
    /// (`resourcegroups` → `resourceGroups`), as ARM answers them.
    pub fn parse(path: &str) -> Option<Self> {
        let canonical: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .enumerate()
            .map(|(i, s)| match (i, s.to_ascii_lowercase().as_str()) {
                (0, "subscriptions") => "subscriptions".to_string(),
                (2, "resourcegroups") => "resourceGroups".to_string(),
                (_, "providers") => "providers".to_string(),
                _ => percent_decode(s),
            })
            .collect();
        let id = format!("/{}", canonical.join("/"));
        let segs: Vec<&str> = canonical.iter().map(String::as_str).collect();
        if !segs.first()?.eq_ignore_ascii_case("subscriptions") {
            return None;
        }
        let subscription = segs.get(1)?.to_string();
        let group = match segs.get(2) {
            Some(s) if s.eq_ignore_ascii_case("resourcegroups") => {
                segs.get(3).map(|g| g.to_string()).unwrap_or_default()
            }
            _ => String::new(),
        };
        let prov = segs
            .iter()
            .position(|s| s.eq_ignore_ascii_case("providers"));
        let (namespace, rtype, parent) = match prov {
            Some(i) => {
                let ns = segs.get(i + 1)?.to_string();
                let rest = &segs[i + 2..];
                let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
                let parent = (rest.len() > 2).then(|| {
                    let cut: usize = segs[segs.len() - 2..].iter().map(|s| s.len() + 1).sum();
                    id[..id.len() - cut].to_string()
                });
                (ns.clone(), format!("{ns}/{}", types.join("/")), parent)
            }
            None => (
                "Microsoft.Resources".to_string(),
                "Microsoft.Resources/resourceGroups".to_string(),
                None,
            ),
        };
        Some(Self {
            name: segs.last()?.to_string(),
            id,
            subscription,
            group,
            namespace,
            rtype,
            parent,
        })
    }

    /// Lower-cased id: the store key.
    pub fn key(&self) -> String {
        self.id.to_ascii_lowercase()
    }

    /// Store key of the resource group holding this resource.
    pub fn group_key(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}",
            self.subscription, self.group
        )
        .to_ascii_lowercase()
    }

    /// Whether this is a resource group itself.
    pub fn is_group(&self) -> bool {
        self.rtype == "Microsoft.Resources/resourceGroups"
    }

    /// Lower-cased type, for comparisons.
    pub fn type_lc(&self) -> String {
        self.rtype.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_resource_has_parent_and_type() {
        let r = ResourceId::parse(
            "/subscriptions/s1/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v/subnets/a/",
        )
        .expect("parses");
        assert_eq!(r.rtype, "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(r.group, "RG");
        assert_eq!(r.name, "a");
        assert_eq!(
            r.parent.as_deref(),
            Some(
                "/subscriptions/s1/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v"
            )
        );
        assert_eq!(r.group_key(), "/subscriptions/s1/resourcegroups/rg");
    }

    #[test]
    fn group_and_record_set() {
        let g = ResourceId::parse("/subscriptions/s1/resourcegroups/rg1").expect("group");
        assert!(g.is_group());
        assert_eq!(g.id, "/subscriptions/s1/resourceGroups/rg1");
        assert_eq!(g.parent, None);
        let r = ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/dnsZones/z.com/A/%40",
        )
        .expect("record");
        assert_eq!(r.name, "@");
        assert_eq!(r.rtype, "Microsoft.Network/dnsZones/A");
        assert!(r.parent.is_some_and(|p| p.ends_with("/dnsZones/z.com")));
        assert!(ResourceId::parse("/providers/x").is_none());
    }
}
