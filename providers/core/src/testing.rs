//! An in-memory [`Provider`] for tests of the pipeline (behind the `testing` feature): it keeps
//! the resources it made like a cloud would (found by deterministic name, tagged with the
//! spec's labels), records every call in order, and can fail, fail after acting (the response
//! lost, as when the process dies between the cloud's answer and the state file), delay or
//! panic at the Nth call. A resource made by someone else can be seeded. Also the one sample
//! [`InfraSpec`] every provider test starts from.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::{
    Address, Cloud, EnvName, ErrorKind, InfraSpec, Planned, Profile, Provider, ProviderError,
    RecordSet, Resolved, ResourceKind, ResourceRef, Result, Size, TaggedResource,
};

/// The operator's address every sample spec's SSH rule names (TEST-NET-3, never contacted).
pub const OPERATOR_CIDR: &str = "203.0.113.7/32";
/// A throwaway ed25519 public key (its private half was deleted when made).
pub const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK/DHYONxZhsQB3L0cAuWbfaPKswFft9LeMg4jJ+Yzsq carto-test";

/// The sample environment every provider test starts from: `env` on `domain` in `region`, the
/// default profile, 60 GB, SSH from [`OPERATOR_CIDR`], [`PUBLIC_KEY`], nonce `nonce-ENV`,
/// created at a fixed time, no expiry. Tests change what they need with `..`.
pub fn infra_spec(env: &str, domain: &str, region: &str) -> InfraSpec {
    InfraSpec {
        env: EnvName::parse(env).expect("a valid environment name"),
        domain: domain.into(),
        region: region.into(),
        machine_type: None,
        profile: Profile::Default,
        disk_gb: 60,
        disk_type: None,
        dns_zone: None,
        network: None,
        firewall: crate::firewall_rules(OPERATOR_CIDR),
        ssh_public_key: PUBLIC_KEY.into(),
        user_data: format!("#cloud-config\nssh_authorized_keys:\n  - {PUBLIC_KEY}\n"),
        created: 1_795_710_422,
        expires: None,
        nonce: format!("nonce-{env}"),
    }
}

/// What the fake does at a chosen call.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Returns an error of this kind without acting.
    Fail(ErrorKind),
    /// Acts, then returns an error of this kind: the resource exists but the caller never
    /// learns its id.
    FailAfter(ErrorKind),
    /// Waits this long before acting.
    Delay(Duration),
    /// Panics without acting.
    Panic,
}

#[derive(Default)]
struct Cloudy {
    calls: Vec<String>,
    resources: Vec<TaggedResource>,
    records: Vec<RecordSet>,
    attached: Vec<(String, String)>,
    faults: Vec<(usize, Fault)>,
    next_id: u64,
    /// Deletes in progress now, and the most there ever were at once.
    deleting: usize,
    peak_deleting: usize,
    /// The environment of every delete in progress now, and the most environments there ever
    /// were at once.
    deleting_envs: Vec<String>,
    peak_envs: usize,
    /// How long every delete takes.
    delete_delay: Duration,
}

/// What the fake makes for every environment, in the pipeline's order, with the suffix of
/// each name (`carto-ENV-net`, …); the DNS record is named by the domain.
const MADE: [(ResourceKind, &str); 5] = [
    (ResourceKind::Network, "net"),
    (ResourceKind::SshKey, "key"),
    (ResourceKind::Firewall, "fw"),
    (ResourceKind::Address, "ip"),
    (ResourceKind::Vm, "vm"),
];

/// The name of `spec`'s resource of `kind` (one of [`MADE`]).
fn name(spec: &InfraSpec, kind: ResourceKind) -> String {
    let (_, suffix) = MADE
        .iter()
        .find(|(k, _)| *k == kind)
        .expect("a kind the fake makes");
    spec.env.resource(suffix)
}

/// What still holds `resource` so a cloud would refuse to delete it (AWS
/// `DependencyViolation`, GCP `resourceInUseByAnotherResource`, Azure `…InUse…`): the VM
/// holds its address and firewall; the network holds the VM, address and firewall made in
/// it. Only resources of the same environment hold each other.
fn holder(resources: &[TaggedResource], resource: &ResourceRef) -> Option<ResourceRef> {
    use ResourceKind::*;
    let held_by: &[ResourceKind] = match resource.kind {
        Address | Firewall => &[Vm],
        Network => &[Vm, Address, Firewall],
        _ => &[],
    };
    let env = resources
        .iter()
        .find(|t| t.resource.id == resource.id)
        .map(|t| t.env.as_str())?;
    resources
        .iter()
        .find(|t| t.env == env && held_by.contains(&t.resource.kind))
        .map(|t| t.resource.clone())
}

/// The in-memory cloud. Every verb of [`Provider`] counts as one call.
pub struct FakeProvider {
    cloud: Cloud,
    state: Mutex<Cloudy>,
}

impl FakeProvider {
    /// An empty cloud that calls itself `cloud`. Every environment gets one network, one
    /// firewall, one key, one address, one VM and one record.
    pub fn new(cloud: Cloud) -> FakeProvider {
        FakeProvider {
            cloud,
            state: Mutex::new(Cloudy::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cloudy> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `fault` once, at the `n`th call (1-based, counting every verb since the start
    /// or the last [`FakeProvider::clear_calls`]).
    pub fn fault_at(&self, n: usize, fault: Fault) -> &Self {
        self.lock().faults.push((n, fault));
        self
    }

    /// Every call so far, as `verb` or `verb name` (the resource the call was about).
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// The most deletes that were in progress at once.
    pub fn peak_deletes(&self) -> usize {
        self.lock().peak_deleting
    }

    /// The most environments that had a delete in progress at once.
    pub fn peak_environments_deleting(&self) -> usize {
        self.lock().peak_envs
    }

    /// Makes every delete take `delay` (a cloud's latency), so deletes that run at once
    /// overlap.
    pub fn set_delete_delay(&self, delay: Duration) {
        self.lock().delete_delay = delay;
    }

    /// Forgets the calls so far (the resources stay).
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Every resource that exists.
    pub fn existing(&self) -> Vec<ResourceRef> {
        let s = self.lock();
        s.resources.iter().map(|t| t.resource.clone()).collect()
    }

    /// Every (VM name, address) attachment made, in order.
    pub fn attached(&self) -> Vec<(String, String)> {
        self.lock().attached.clone()
    }

    /// Adds a resource someone else made (whatever its tags say).
    pub fn seed(&self, resource: TaggedResource) {
        self.lock().resources.push(resource);
    }

    /// Adds a record set at the spec's domain that someone else made.
    pub fn seed_record(&self, set: RecordSet) {
        self.lock().records.push(set);
    }

    /// Counts the call and applies its fault: `Ok(Some(kind))` when the verb must fail with
    /// `kind` once it has acted (see [`FakeProvider::after`]).
    async fn call(&self, verb: &str, about: &str) -> Result<Option<ErrorKind>> {
        let fault = {
            let mut s = self.lock();
            s.calls.push(if about.is_empty() {
                verb.to_string()
            } else {
                format!("{verb} {about}")
            });
            let n = s.calls.len();
            let at = s.faults.iter().position(|(at, _)| *at == n);
            at.map(|i| s.faults.remove(i).1)
        };
        match fault {
            None => Ok(None),
            Some(Fault::Fail(kind)) => Err(ProviderError::new(kind, verb, "injected fault")),
            Some(Fault::FailAfter(kind)) => Ok(Some(kind)),
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                Ok(None)
            }
            Some(Fault::Panic) => panic!("injected panic at {verb}"),
        }
    }

    fn after<T>(verb: &str, lost: Option<ErrorKind>, value: T) -> Result<T> {
        match lost {
            Some(kind) => Err(ProviderError::new(
                kind,
                verb,
                "injected fault after acting",
            )),
            None => Ok(value),
        }
    }

    /// The resource of `kind` named `name`, made (tagged with `spec`'s labels) when absent.
    fn ensure(&self, spec: &InfraSpec, kind: ResourceKind, name: String) -> ResourceRef {
        let mut s = self.lock();
        if let Some(t) = s
            .resources
            .iter()
            .find(|t| t.resource.kind == kind && t.resource.name == name)
        {
            return t.resource.clone();
        }
        s.next_id += 1;
        let id = format!("{}-{}", kind.as_str(), s.next_id);
        let resource = ResourceRef::new(kind, id, name, &spec.region);
        s.resources.push(TaggedResource {
            resource: resource.clone(),
            env: spec.env.to_string(),
            created: crate::created_from_tag(&spec.created.to_string()),
            expires: spec.expires,
            nonce: Some(spec.nonce.clone()),
        });
        resource
    }
}

#[async_trait]
impl Provider for FakeProvider {
    fn cloud(&self) -> Cloud {
        self.cloud
    }

    async fn preflight(&self, spec: &InfraSpec) -> Result<Resolved> {
        let lost = self.call("preflight", "").await?;
        let resolved = Resolved {
            region: spec.region.clone(),
            image: "image-1".into(),
            image_name: "ubuntu-22.04".into(),
            machine_type: spec.machine_type.clone().unwrap_or("fake-8x32".into()),
            size: Size {
                vcpus: 8,
                memory_mib: 32 * 1024,
            },
            disk_gb: spec.disk_gb,
            disk_type: "ssd".into(),
            dns_zone_id: "zone-1".into(),
            dns_zone_name: "example.com.".into(),
            ssh_user: "ubuntu".into(),
        };
        Self::after("preflight", lost, resolved)
    }

    /// Not a call: the fake's fixed list, in the order the pipeline creates.
    fn planned(&self, spec: &InfraSpec, resolved: &Resolved) -> Vec<Planned> {
        let mut planned: Vec<Planned> = MADE
            .into_iter()
            .map(|(kind, suffix)| match kind {
                ResourceKind::Vm => Planned::vm(spec.env.resource(suffix), resolved, ""),
                _ => Planned::new(kind, spec.env.resource(suffix), "in memory"),
            })
            .collect();
        planned.push(Planned::dns_record(spec, resolved));
        planned
    }

    async fn ensure_ssh_key(&self, spec: &InfraSpec, _: &Resolved) -> Result<Option<ResourceRef>> {
        let name = name(spec, ResourceKind::SshKey);
        let lost = self.call("ensure_ssh_key", &name).await?;
        let key = self.ensure(spec, ResourceKind::SshKey, name);
        Self::after("ensure_ssh_key", lost, Some(key))
    }

    async fn ensure_network(&self, spec: &InfraSpec, _: &Resolved) -> Result<Vec<ResourceRef>> {
        let name = name(spec, ResourceKind::Network);
        let lost = self.call("ensure_network", &name).await?;
        let net = self.ensure(spec, ResourceKind::Network, name);
        Self::after("ensure_network", lost, vec![net])
    }

    async fn ensure_firewall(&self, spec: &InfraSpec, _: &Resolved) -> Result<Vec<ResourceRef>> {
        let name = name(spec, ResourceKind::Firewall);
        let lost = self.call("ensure_firewall", &name).await?;
        let fw = self.ensure(spec, ResourceKind::Firewall, name);
        Self::after("ensure_firewall", lost, vec![fw])
    }

    async fn ensure_address(&self, spec: &InfraSpec, _: &Resolved) -> Result<Address> {
        let name = name(spec, ResourceKind::Address);
        let lost = self.call("ensure_address", &name).await?;
        let resource = self.ensure(spec, ResourceKind::Address, name);
        let address = Address {
            resource,
            ip: "192.0.2.10".into(),
        };
        Self::after("ensure_address", lost, address)
    }

    async fn ensure_vm(
        &self,
        spec: &InfraSpec,
        _: &Resolved,
        firewall: &[ResourceRef],
        address: &Address,
    ) -> Result<ResourceRef> {
        let name = name(spec, ResourceKind::Vm);
        let lost = self.call("ensure_vm", &name).await?;
        let missing = {
            let s = self.lock();
            firewall
                .iter()
                .chain([&address.resource])
                .find(|r| !s.resources.iter().any(|t| t.resource.id == r.id))
                .cloned()
        };
        if let Some(r) = missing {
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                "ensure_vm",
                format!("{r} does not exist"),
            ));
        }
        let vm = self.ensure(spec, ResourceKind::Vm, name);
        Self::after("ensure_vm", lost, vm)
    }

    async fn wait_vm_ready(&self, vm: &ResourceRef, _: &Address, _: Duration) -> Result<()> {
        let lost = self.call("wait_vm_ready", &vm.name).await?;
        Self::after("wait_vm_ready", lost, ())
    }

    async fn attach_address(&self, vm: &ResourceRef, address: &Address) -> Result<()> {
        let lost = self.call("attach_address", &vm.name).await?;
        let pair = (vm.name.clone(), address.ip.clone());
        let mut s = self.lock();
        if !s.attached.contains(&pair) {
            s.attached.push(pair);
        }
        drop(s);
        Self::after("attach_address", lost, ())
    }

    async fn find_dns_records(&self, _: &InfraSpec, _: &Resolved) -> Result<Vec<RecordSet>> {
        let lost = self.call("find_dns_records", "").await?;
        let records = self.lock().records.clone();
        Self::after("find_dns_records", lost, records)
    }

    async fn ensure_dns_record(
        &self,
        spec: &InfraSpec,
        _: &Resolved,
        address: &Address,
        replace: &[RecordSet],
        _: Duration,
    ) -> Result<ResourceRef> {
        let lost = self.call("ensure_dns_record", &spec.domain).await?;
        {
            let mut s = self.lock();
            let ours = |r: &RecordSet| r.is_address() && r.values == [address.ip.clone()];
            if s.records.iter().any(|r| !ours(r) && !replace.contains(r)) {
                return Err(ProviderError::new(
                    ErrorKind::Conflict,
                    "ensure_dns_record",
                    format!(
                        "{} holds a record set this run may not replace",
                        spec.domain
                    ),
                ));
            }
            s.records = vec![RecordSet::a(300, &address.ip)];
        }
        let mut record = self.ensure(spec, ResourceKind::DnsRecord, spec.domain.clone());
        record.ip = Some(address.ip.clone());
        Self::after(
            "ensure_dns_record",
            lost,
            crate::dns::with_replaced(record, replace),
        )
    }

    async fn delete(&self, resource: &ResourceRef, _: Duration) -> Result<()> {
        let (env, delay) = {
            let mut s = self.lock();
            s.deleting += 1;
            s.peak_deleting = s.peak_deleting.max(s.deleting);
            let env = s
                .resources
                .iter()
                .find(|t| t.resource.id == resource.id)
                .map(|t| t.env.clone())
                .unwrap_or_default();
            s.deleting_envs.push(env.clone());
            let mut envs = s.deleting_envs.clone();
            envs.sort();
            envs.dedup();
            s.peak_envs = s.peak_envs.max(envs.len());
            (env, s.delete_delay)
        };
        let lost = self.call("delete", &resource.name).await;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        {
            let mut s = self.lock();
            s.deleting -= 1;
            let at = s.deleting_envs.iter().position(|e| *e == env);
            at.map(|i| s.deleting_envs.remove(i));
        }
        let lost = lost?;
        {
            let mut s = self.lock();
            if let Some(holder) = holder(&s.resources, resource) {
                return Err(ProviderError::new(
                    ErrorKind::Conflict,
                    "delete",
                    format!("{resource} is in use by {holder}"),
                ));
            }
            let ip = resource.ip.as_ref();
            let points_here = s
                .records
                .iter()
                .any(|r| r.is_address() && r.values.first() == ip);
            match resource.kind {
                // A record someone repointed is theirs now: left alone.
                ResourceKind::DnsRecord if !points_here => {}
                ResourceKind::DnsRecord => {
                    s.records = crate::dns::replaced(resource)?;
                    s.resources.retain(|t| t.resource.id != resource.id);
                }
                _ => s.resources.retain(|t| t.resource.id != resource.id),
            }
        }
        Self::after("delete", lost, ())
    }

    async fn find_existing(&self, spec: &InfraSpec, _: &Resolved) -> Result<Vec<TaggedResource>> {
        let lost = self.call("find_existing", spec.env.as_str()).await?;
        let names = MADE.map(|(kind, _)| name(spec, kind));
        let found = self
            .lock()
            .resources
            .iter()
            .filter(|t| t.env == spec.env.as_str() || names.contains(&t.resource.name))
            .cloned()
            .collect();
        Self::after("find_existing", lost, found)
    }

    async fn list_tagged(&self, env: Option<&EnvName>) -> Result<Vec<TaggedResource>> {
        let lost = self
            .call("list_tagged", env.map_or("", |e| e.as_str()))
            .await?;
        let found = self
            .lock()
            .resources
            .iter()
            .filter(|t| env.is_none_or(|e| t.env == e.as_str()))
            .cloned()
            .collect();
        Self::after("list_tagged", lost, found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{self, Made, Observe};

    #[async_trait]
    impl Observe for FakeProvider {
        async fn inventory(&self) -> Vec<String> {
            let mut all: Vec<String> = self.existing().iter().map(|r| r.to_string()).collect();
            all.extend(self.lock().records.iter().map(|r| format!("{r:?}")));
            all
        }

        async fn a_record(&self, _: &str) -> Option<Vec<String>> {
            let s = self.lock();
            s.records
                .iter()
                .find(|r| r.rtype == "A")
                .map(|r| r.values.clone())
        }

        async fn cname(&self, _: &str) -> Option<Vec<String>> {
            let s = self.lock();
            s.records
                .iter()
                .find(|r| r.rtype == "CNAME")
                .map(|r| r.values.clone())
        }

        async fn seed_cname(&self, _: &str, target: &str) {
            self.seed_record(RecordSet {
                rtype: "CNAME".into(),
                ttl: 300,
                values: vec![target.into()],
                nonce: None,
            });
        }

        async fn check_made(&self, _: &InfraSpec, made: &Made) {
            assert_eq!(made.address.ip, "192.0.2.10");
        }
    }

    /// The fake the pipeline is tested against keeps the contract the real providers keep.
    #[tokio::test]
    async fn the_fake_keeps_the_provider_contract() {
        let spec = InfraSpec {
            expires: Some(1_795_739_222),
            ..infra_spec("life", "carto.example.com", "r1")
        };
        let fake = FakeProvider::new(Cloud::Aws);
        contract::provider_contract(&fake, &fake, &spec).await;
        let fake = FakeProvider::new(Cloud::Aws);
        contract::foreign_record_contract(&fake, &fake, &spec).await;
    }
}
