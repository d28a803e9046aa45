//! The contract every [`Provider`] keeps, as one test suite (behind the `testing` feature) that
//! each provider's tests run against its emulator: [`provider_contract`] creates a whole
//! environment through the trait in the pipeline's order, lets the cloud check what it made in
//! its own terms ([`Observe::check_made`]), ensures again (the same ids, nothing new: what a
//! resume after a lost answer relies on), lists by tag, leaves an A record someone repointed,
//! deletes in the pipeline's order twice and finds nothing left; [`foreign_record_contract`]
//! refuses someone else's record at the domain unless taken over, and puts a taken-over one
//! back on delete. Per-cloud tests keep only what differs between clouds.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Address, InfraSpec, Provider, RecordSet, Resolved, ResourceKind, ResourceRef};

/// How long a contract step may wait on the emulator.
const WAIT: Duration = Duration::from_secs(60);

/// What a provider made for one environment, as the pipeline would record it.
#[derive(Clone, Debug, PartialEq)]
pub struct Made {
    /// What preflight resolved.
    pub resolved: Resolved,
    /// The SSH key resource, where the cloud has one.
    pub key: Option<ResourceRef>,
    /// The containers (group, network, subnet).
    pub network: Vec<ResourceRef>,
    /// The firewall resources.
    pub firewall: Vec<ResourceRef>,
    /// The static address.
    pub address: Address,
    /// The VM.
    pub vm: ResourceRef,
    /// The A record.
    pub dns: ResourceRef,
}

impl Made {
    /// Every resource, in creation order.
    pub fn all(&self) -> Vec<&ResourceRef> {
        let mut all: Vec<&ResourceRef> = self.network.iter().collect();
        all.extend(&self.key);
        all.extend(&self.firewall);
        all.extend([&self.address.resource, &self.vm, &self.dns]);
        all
    }
}

/// The emulator's side: what the cloud itself says, read without the provider.
#[async_trait]
pub trait Observe: Send + Sync {
    /// Every resource the cloud holds, whoever made it, one line each (kind and id): what
    /// "nothing new" and "nothing left" are compared on.
    async fn inventory(&self) -> Vec<String>;
    /// The values of the A record at `name`, if there is one.
    async fn a_record(&self, name: &str) -> Option<Vec<String>>;
    /// The values of the CNAME record at `name`, if there is one.
    async fn cname(&self, name: &str) -> Option<Vec<String>>;
    /// Makes someone else's CNAME record at `name` pointing at `target`.
    async fn seed_cname(&self, name: &str, target: &str);
    /// Checks what was made in the cloud's own terms (rules, disk, image, tags, …).
    async fn check_made(&self, spec: &InfraSpec, made: &Made);
}

/// Creates the whole environment through the trait, as the pipeline does.
pub async fn create(p: &dyn Provider, spec: &InfraSpec) -> Made {
    let resolved = p.preflight(spec).await.expect("preflight");
    let mut network = p.ensure_network(spec, &resolved).await.expect("network");
    // What needs only the network, at once, as the pipeline makes it.
    let (subnet, key, firewall, address) = tokio::join!(
        p.ensure_subnet(spec, &resolved),
        p.ensure_ssh_key(spec, &resolved),
        p.ensure_firewall(spec, &resolved),
        p.ensure_address(spec, &resolved),
    );
    network.extend(subnet.expect("subnet"));
    let (key, firewall, address) = (
        key.expect("ssh key"),
        firewall.expect("firewall"),
        address.expect("address"),
    );
    let vm = p
        .ensure_vm(spec, &resolved, &firewall, &address)
        .await
        .expect("vm");
    p.wait_vm_ready(&vm, &address, WAIT)
        .await
        .expect("vm ready");
    p.attach_address(&vm, &address)
        .await
        .expect("address attached");
    let dns = p
        .ensure_dns_record(spec, &resolved, &address, &[], WAIT)
        .await
        .expect("dns record");
    Made {
        resolved,
        key,
        network,
        firewall,
        address,
        vm,
        dns,
    }
}

/// Deletes `made` as the pipeline does: the record first, the group last, dependents before
/// what they depend on; a resource inside a group goes with the group.
pub async fn delete_all(p: &dyn Provider, made: &Made) {
    let all = made.all();
    let group = all.iter().find(|r| r.kind == ResourceKind::Group);
    let mut order: Vec<&ResourceRef> = all
        .iter()
        .filter(|r| group.is_none_or(|g| r.group.as_ref() != Some(&g.name)))
        .copied()
        .collect();
    order.sort_by_key(|r| std::cmp::Reverse(r.kind));
    for r in order {
        p.delete(r, WAIT)
            .await
            .unwrap_or_else(|e| panic!("delete {r}: {e}"));
    }
}

/// The whole-environment contract (see the module comment). `spec` should carry an expiry.
pub async fn provider_contract(p: &dyn Provider, cloud: &dyn Observe, spec: &InfraSpec) {
    // After the first reads: an emulator may set up what an account starts with on first use.
    let resolved = p.preflight(spec).await.expect("preflight");
    let found = p
        .find_existing(spec, &resolved)
        .await
        .expect("find_existing");
    assert!(
        found.is_empty(),
        "found before anything was made: {found:?}"
    );
    let empty = cloud.inventory().await;
    let made = create(p, spec).await;
    cloud.check_made(spec, &made).await;
    assert_eq!(
        cloud.a_record(&spec.domain).await,
        Some(vec![made.address.ip.clone()]),
        "the A record points at the address"
    );

    let before = cloud.inventory().await;
    let again = create(p, spec).await;
    assert_eq!(again, made, "ensuring again returned other resources");
    assert_eq!(
        cloud.inventory().await,
        before,
        "ensuring again made something"
    );

    let tagged = p.list_tagged(Some(&spec.env)).await.expect("list_tagged");
    for r in made.all() {
        assert!(
            tagged.iter().any(|t| t.resource.id == r.id),
            "{r} not listed by tag: {tagged:?}"
        );
    }
    let created = crate::created_from_tag(&spec.created.to_string());
    for t in &tagged {
        assert_eq!(
            (t.env.as_str(), t.created, t.expires, t.nonce.as_deref()),
            (
                spec.env.as_str(),
                created,
                spec.expires,
                Some(spec.nonce.as_str())
            ),
            "{} does not carry the environment's tags",
            t.resource
        );
    }

    let mut repointed = made.dns.clone();
    repointed.ip = Some("192.0.2.99".into());
    p.delete(&repointed, WAIT).await.expect("delete is Ok");
    assert_eq!(
        cloud.a_record(&spec.domain).await,
        Some(vec![made.address.ip.clone()]),
        "a record not pointing at the recorded address was deleted"
    );

    for _ in 0..2 {
        delete_all(p, &made).await;
    }
    let left = p.list_tagged(Some(&spec.env)).await.expect("list_tagged");
    assert!(left.is_empty(), "left tagged: {left:?}");
    assert_eq!(cloud.a_record(&spec.domain).await, None, "record left");
    assert_eq!(cloud.inventory().await, empty, "left in the cloud");
}

/// Someone else's CNAME at `spec.domain` (the hazard): read by `find_dns_records`; creating
/// the A record without taking it over, or taking over a stale copy of it, fails and changes
/// nothing; taking it over replaces it, and deleting the record puts it back.
pub async fn foreign_record_contract(p: &dyn Provider, cloud: &dyn Observe, spec: &InfraSpec) {
    let theirs = "shop.elsewhere.example.net.";
    cloud.seed_cname(&spec.domain, theirs).await;
    let resolved = p.preflight(spec).await.expect("preflight");
    let found = p
        .find_dns_records(spec, &resolved)
        .await
        .expect("find_dns_records");
    let cnames: Vec<&RecordSet> = found.iter().filter(|r| r.rtype == "CNAME").collect();
    assert_eq!(cnames.len(), 1, "{found:?}");
    assert_eq!(
        cnames[0]
            .values
            .iter()
            .map(|v| crate::dns::fqdn(v))
            .collect::<Vec<_>>(),
        [theirs]
    );
    p.ensure_network(spec, &resolved).await.expect("network");
    let address = p.ensure_address(spec, &resolved).await.expect("address");

    p.ensure_dns_record(spec, &resolved, &address, &[], WAIT)
        .await
        .expect_err("created beside someone else's CNAME");
    let mut stale = found.clone();
    for set in &mut stale {
        set.values = vec!["old.example.net.".into()];
    }
    p.ensure_dns_record(spec, &resolved, &address, &stale, WAIT)
        .await
        .expect_err("replaced a set other than the one read");
    let intact = |values: Option<Vec<String>>| {
        values.is_some_and(|v| {
            v.iter()
                .map(|v| crate::dns::fqdn(v))
                .eq([theirs.to_string()])
        })
    };
    assert_eq!(cloud.a_record(&spec.domain).await, None);
    assert!(
        intact(cloud.cname(&spec.domain).await),
        "their CNAME changed"
    );

    let record = p
        .ensure_dns_record(spec, &resolved, &address, &found, WAIT)
        .await
        .expect("take over");
    assert_eq!(
        cloud.a_record(&spec.domain).await,
        Some(vec![address.ip.clone()])
    );
    assert_eq!(cloud.cname(&spec.domain).await, None);
    assert_eq!(crate::dns::replaced(&record).expect("replaced"), found);

    p.delete(&record, WAIT).await.expect("delete");
    assert_eq!(cloud.a_record(&spec.domain).await, None);
    assert!(
        intact(cloud.cname(&spec.domain).await),
        "their CNAME did not come back"
    );
}
