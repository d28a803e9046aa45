//! The fake's state (resources, operations, DNS zones, request log, faults, settings) and
//! `FakeState`, the handle tests use to seed, inspect and steer it.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// HTTP verb.
    pub http_method: String,
    /// Path without the query.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The discovery method id the path mapped to, if any.
    pub method_id: Option<String>,
    /// Status code answered.
    pub status: u16,
    /// The JSON body sent, if any (never for the token endpoint).
    pub body: Option<Value>,
    /// Whether it carried an access token the fake issued (calls without one are answered 401).
    pub authorized: bool,
}

/// What happens to a resource when its operation reaches DONE.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Set the resource's `status` field (e.g. PROVISIONING -> RUNNING).
    SetStatus {
        kind: &'static str,
        key: String,
        status: &'static str,
    },
    /// Remove the resource (and whatever it owns).
    Remove { kind: &'static str, key: String },
}

/// A Compute long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub value: Value,
    pub polls: u32,
    pub effect: Option<Effect>,
    /// Applied instead of `effect` when the operation fails.
    pub undo: Option<Effect>,
    pub failure: Option<Failure>,
}

/// How an operation is made to fail (DONE with `error` and `httpErrorStatusCode`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub http_status: u16,
    pub code: String,
    pub message: String,
}

/// A Cloud DNS change and how often it has been read.
#[derive(Debug, Clone)]
pub(crate) struct DnsChange {
    pub value: Value,
    pub polls: u32,
}

/// Knobs a test may turn at any time.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub address_ip: String,
    pub polls_to_done: u32,
    pub dns_polls_to_done: u32,
}

#[derive(Debug, Clone, Copy)]
struct Fault {
    status: u16,
    reason: &'static str,
    remaining: u32,
}

/// Everything the fake holds.
#[derive(Debug)]
pub(crate) struct State {
    pub settings: Settings,
    /// kind (`instances`, `disks`, `addresses`, `firewalls`, `networks`, `subnetworks`) ->
    /// resource path -> resource.
    pub resources: BTreeMap<&'static str, BTreeMap<String, Value>>,
    /// operation path (`projects/p/zones/z/operations/n`) -> operation.
    pub operations: BTreeMap<String, Op>,
    /// (project, requestId) -> (method id, operation path).
    pub request_ids: HashMap<(String, String), (String, String)>,
    /// Projects that `projects.get` knows (name -> numeric id).
    pub projects: BTreeMap<String, u64>,
    /// (project, zone name) -> managed zone.
    pub dns_zones: BTreeMap<(String, String), Value>,
    /// (project, zone name) -> record sets.
    pub rrsets: BTreeMap<(String, String), Vec<Value>>,
    /// (project, zone name, change id) -> change.
    pub changes: BTreeMap<(String, String, String), DnsChange>,
    pub log: Vec<LoggedRequest>,
    /// Access tokens the token endpoint handed out (see `auth`).
    pub tokens: HashSet<String>,
    /// Projects whose `default` network and rules exist (see `networks::seed_defaults`).
    pub seeded_projects: HashSet<String>,
    /// method id -> failure for the next operation that method starts.
    pub op_failures: HashMap<String, Failure>,
    faults: HashMap<String, Fault>,
    /// Share of all other calls answered 429 `rateLimitExceeded`, in percent.
    throttle_percent: u64,
    /// Generator state of that choice (seeded, so a run is repeatable).
    throttle_rng: u64,
    /// Calls answered 429 by the share.
    pub throttled: usize,
    latency: HashMap<String, Duration>,
    default_latency: Duration,
    next_id: u64,
    /// The most items one page of a Compute list holds (Compute's default and cap: 500).
    pub page_size: usize,
}

impl State {
    pub fn new(settings: Settings, default_latency: Duration) -> Self {
        Self {
            settings,
            resources: BTreeMap::new(),
            operations: BTreeMap::new(),
            request_ids: HashMap::new(),
            projects: BTreeMap::new(),
            dns_zones: BTreeMap::new(),
            rrsets: BTreeMap::new(),
            changes: BTreeMap::new(),
            log: Vec::new(),
            tokens: HashSet::new(),
            seeded_projects: HashSet::new(),
            op_failures: HashMap::new(),
            faults: HashMap::new(),
            throttle_percent: 0,
            throttle_rng: 1,
            throttled: 0,
            latency: HashMap::new(),
            default_latency,
            next_id: 0,
            page_size: 500,
        }
    }

    /// A fresh numeric id, shaped like Google's uint64 ids.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        4_000_000_000_000_000_000 + self.next_id
    }

    /// The injected failure for this call, if one is armed (and counts it down), else 429
    /// for the share of calls [`FakeState::throttle_percent`] chose.
    pub fn take_fault(&mut self, method_id: &str) -> Option<(u16, &'static str)> {
        if let Some(fault) = self.faults.get_mut(method_id)
            && fault.remaining > 0
        {
            fault.remaining -= 1;
            return Some((fault.status, fault.reason));
        }
        if self.throttle_percent == 0 {
            return None;
        }
        let x = &mut self.throttle_rng;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        (*x % 100 < self.throttle_percent).then(|| {
            self.throttled += 1;
            (429, "rateLimitExceeded")
        })
    }

    pub fn latency(&self, method_id: Option<&str>) -> Duration {
        method_id
            .and_then(|id| self.latency.get(id).copied())
            .unwrap_or(self.default_latency)
    }

    pub fn kind(&mut self, kind: &'static str) -> &mut BTreeMap<String, Value> {
        self.resources.entry(kind).or_default()
    }
}

/// A cloneable handle on the fake's state, for seeding and assertions.
#[derive(Debug, Clone)]
pub struct FakeState(pub(crate) Arc<Mutex<State>>);

impl FakeState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every request served so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// How many requests mapped to `method_id` (e.g. `compute.instances.insert`).
    pub fn calls(&self, method_id: &str) -> usize {
        let state = self.lock();
        let hits = state
            .log
            .iter()
            .filter(|r| r.method_id.as_deref() == Some(method_id));
        hits.count()
    }

    /// The resources of one kind: `instances`, `disks`, `addresses` or `firewalls`.
    pub fn resources(&self, kind: &str) -> Vec<Value> {
        let state = self.lock();
        let found = state.resources.iter().find(|(k, _)| **k == kind);
        found
            .map(|(_, m)| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Put a resource of `kind` (`firewalls`, `networks`…) at `key`
    /// (`projects/P/global/firewalls/NAME`) as it is, replacing one there (as if someone had
    /// made it outside the test).
    pub fn put_resource(&self, kind: &'static str, key: &str, value: Value) {
        self.lock().kind(kind).insert(key.to_string(), value);
    }

    /// Changes the resource of `kind` named `name` in place (as if someone had edited it
    /// outside the test); false when there is none.
    pub fn edit_resource(
        &self,
        kind: &'static str,
        name: &str,
        edit: impl FnOnce(&mut Value),
    ) -> bool {
        let mut state = self.lock();
        let suffix = format!("/{name}");
        let found = state
            .kind(kind)
            .iter_mut()
            .find(|(k, _)| k.ends_with(&suffix));
        found.map(|(_, v)| edit(v)).is_some()
    }

    /// Makes Compute lists answer at most `size` items a page (with a `nextPageToken` for
    /// the rest), as Compute does past 500 or `maxResults`.
    pub fn set_page_size(&self, size: usize) {
        self.lock().page_size = size.max(1);
    }

    /// Seed a project, so that `compute.projects.get` finds it (other calls take any project).
    pub fn add_project(&self, project: &str) {
        let mut state = self.lock();
        let id = state.next_id();
        state.projects.insert(project.to_string(), id);
    }

    /// Seed a public managed zone (`dns_name` ends with a dot, e.g. `example.com.`).
    pub fn add_managed_zone(&self, project: &str, name: &str, dns_name: &str) -> Value {
        crate::dns::seed_zone(&mut self.lock(), project, name, dns_name)
    }

    /// Put a record set into a managed zone, replacing one of the same name and type (as if
    /// someone else had changed the zone).
    pub fn put_record_set(
        &self,
        project: &str,
        zone: &str,
        name: &str,
        kind: &str,
        rrdatas: &[&str],
    ) {
        let key = (project.to_string(), zone.to_string());
        let mut state = self.lock();
        let records = state.rrsets.entry(key).or_default();
        records.retain(|r| !(r["name"] == name && r["type"] == kind));
        records.push(serde_json::json!({
            "kind": "dns#resourceRecordSet", "name": name, "type": kind, "ttl": 300, "rrdatas": rrdatas,
        }));
    }

    /// The record sets of a managed zone (empty if the zone is unknown).
    pub fn record_sets(&self, project: &str, zone: &str) -> Vec<Value> {
        let key = (project.to_string(), zone.to_string());
        self.lock().rrsets.get(&key).cloned().unwrap_or_default()
    }

    /// Answer the next `count` calls of `method_id` with `status` (429 or 503),
    /// reason `rateLimitExceeded`, before touching any state.
    pub fn inject_fault(&self, method_id: &str, status: u16, count: u32) {
        self.inject(method_id, status, "rateLimitExceeded", count);
    }

    /// Answer the next `count` calls of `method_id` with 400 `resourceNotReady`, as Compute
    /// answers an insert into a network that another operation is still changing (a firewall
    /// rule while its subnetwork is being made), before touching any state.
    pub fn inject_not_ready(&self, method_id: &str, count: u32) {
        self.inject(method_id, 400, "resourceNotReady", count);
    }

    fn inject(&self, method_id: &str, status: u16, reason: &'static str, count: u32) {
        let fault = Fault {
            status,
            reason,
            remaining: count,
        };
        self.lock().faults.insert(method_id.to_string(), fault);
    }

    /// Answer `percent` % of all calls (chosen by a generator seeded with `seed`) with 429
    /// `rateLimitExceeded`; 0 turns it off.
    pub fn throttle_percent(&self, percent: u64, seed: u64) {
        let mut state = self.lock();
        state.throttle_percent = percent;
        state.throttle_rng = seed | 1;
    }

    /// How many calls the share answered 429.
    pub fn throttled(&self) -> usize {
        self.lock().throttled
    }

    /// Make the next operation started by `method_id` (e.g. `compute.instances.insert`) end
    /// DONE with `error.errors[0].code = code` and `httpErrorStatusCode = http_status`; what it
    /// was creating disappears, what it was deleting stays.
    pub fn fail_next_operation(
        &self,
        method_id: &str,
        http_status: u16,
        code: &str,
        message: &str,
    ) {
        let failure = Failure {
            http_status,
            code: code.to_string(),
            message: message.to_string(),
        };
        self.lock()
            .op_failures
            .insert(method_id.to_string(), failure);
    }

    /// Delay every call of `method_id` (or, with `None`, every call without its own delay).
    pub fn set_latency(&self, method_id: Option<&str>, delay: Duration) {
        let mut state = self.lock();
        match method_id {
            Some(id) => {
                state.latency.insert(id.to_string(), delay);
            }
            None => state.default_latency = delay,
        }
    }

    /// The address that `addresses.insert` hands out from now on (the test VM's 127.0.0.N).
    pub fn set_address_ip(&self, ip: &str) {
        self.lock().settings.address_ip = ip.to_string();
    }

    /// How many polls (get/wait) an operation takes to reach DONE, and a DNS change `done`.
    pub fn set_polls_to_done(&self, operations: u32, dns_changes: u32) {
        let mut state = self.lock();
        state.settings.polls_to_done = operations;
        state.settings.dns_polls_to_done = dns_changes;
    }
}

/// Current UTC time as RFC 3339 with milliseconds, as Google prints it.
pub(crate) fn now_rfc3339() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let settings = Settings {
            address_ip: "127.0.0.9".into(),
            polls_to_done: 2,
            dns_polls_to_done: 1,
        };
        State::new(settings, Duration::ZERO)
    }

    #[test]
    fn faults_count_down_per_method() {
        let handle = FakeState(Arc::new(Mutex::new(state())));
        handle.inject_fault("compute.instances.insert", 429, 2);
        let mut s = handle.lock();
        assert_eq!(s.take_fault("compute.firewalls.insert"), None);
        assert_eq!(
            s.take_fault("compute.instances.insert"),
            Some((429, "rateLimitExceeded"))
        );
        assert_eq!(
            s.take_fault("compute.instances.insert"),
            Some((429, "rateLimitExceeded"))
        );
        assert_eq!(s.take_fault("compute.instances.insert"), None);
    }

    #[test]
    fn a_share_of_calls_is_throttled_and_counted() {
        let handle = FakeState(Arc::new(Mutex::new(state())));
        assert_eq!(handle.lock().take_fault("compute.instances.get"), None);
        handle.throttle_percent(30, 7);
        let hits = (0..1000)
            .filter(|_| {
                handle.lock().take_fault("compute.instances.get")
                    == Some((429, "rateLimitExceeded"))
            })
            .count();
        assert!((250..350).contains(&hits), "{hits} of 1000");
        assert_eq!(handle.throttled(), hits);
        handle.throttle_percent(0, 7);
        assert_eq!(handle.lock().take_fault("compute.instances.get"), None);
    }

    #[test]
    fn latency_falls_back_to_the_default() {
        let handle = FakeState(Arc::new(Mutex::new(state())));
        handle.set_latency(None, Duration::from_millis(5));
        handle.set_latency(Some("a.b.c"), Duration::from_millis(50));
        let s = handle.lock();
        assert_eq!(s.latency(Some("a.b.c")), Duration::from_millis(50));
        assert_eq!(s.latency(Some("x")), Duration::from_millis(5));
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 24, "{t}");
        assert!(
            t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }
}
