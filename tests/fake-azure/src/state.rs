//! The fake's memory: resources by lower-cased ARM id, pending long-running operations,
//! injected throttles, issued tokens and the request log, behind one mutex; and
//! `FakeState`, the cloneable handle tests use to look inside and to steer the fake.
//! Resource semantics (what a PUT or DELETE does) live in `resources.rs`, not here.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

/// One request as the fake saw it (token requests are logged without their body).
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Contract operation it mapped to, if any.
    pub op_id: Option<String>,
    /// JSON body, when one was sent and parsed.
    pub body: Option<Value>,
    /// Status answered.
    pub status: u16,
}

/// What completing an operation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The resource (lower-cased id) reaches `provisioningState: Succeeded`.
    Provisioned(String),
    /// The resource and everything below it is removed.
    Delete(String),
}

/// A pending long-running operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Polls still to answer `InProgress`.
    pub polls_left: u32,
    /// Applied once, on the first poll that reports `Succeeded`.
    pub effect: Effect,
    /// Whether the outcome was applied.
    pub done: bool,
    /// Injected failure (code, message): the operation ends `Failed` instead.
    pub failure: Option<(String, String)>,
}

/// Everything the fake remembers.
#[derive(Debug)]
pub struct Store {
    /// Stored resources (full representation minus embedded children), by lower-cased id.
    pub resources: BTreeMap<String, Value>,
    /// Operations by id.
    pub ops: HashMap<String, Operation>,
    /// Unfinished operation of a resource (lower-cased id → operation id).
    pub pending: HashMap<String, String>,
    /// Injected failures of the next operations started by an operationId.
    pub failures: HashMap<String, VecDeque<(String, String)>>,
    /// Remaining injected 429s by operationId (`*` for every operation).
    pub throttles: HashMap<String, u32>,
    /// Share of all other calls answered 429, in percent, and its seeded generator.
    pub throttle_percent: (u64, u64),
    /// Calls answered 429 by that share.
    pub throttled: usize,
    /// Delay before every request is answered (a cloud's round trip, for benchmarks).
    pub latency: Duration,
    /// Bearer tokens accepted.
    pub tokens: HashSet<String>,
    /// Request log, oldest first.
    pub log: Vec<LoggedRequest>,
    /// Polls before an operation succeeds.
    pub lro_polls: u32,
    /// Address given to public IPs.
    pub public_ip: Ipv4Addr,
    /// Counter for generated ids.
    pub serial: u64,
    /// Items per page of a list; more follow through `nextLink` (ARM's lists hold 1000).
    pub page_size: usize,
}

impl Store {
    /// A fresh id-ish string (`prefix-<n>` plus a per-process salt, hex).
    pub fn next_id(&mut self) -> String {
        self.serial += 1;
        format!(
            "{:08x}-0000-4000-8000-{:012x}",
            std::process::id(),
            self.serial
        )
    }

    /// Consumes one injected throttle for `op_id`, if any is armed.
    pub fn take_throttle(&mut self, op_id: &str) -> bool {
        for key in [op_id, "*"] {
            if let Some(n) = self.throttles.get_mut(key).filter(|n| **n > 0) {
                *n -= 1;
                return true;
            }
        }
        let (percent, x) = &mut self.throttle_percent;
        if *percent == 0 {
            return false;
        }
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        let hit = *x % 100 < *percent;
        self.throttled += usize::from(hit);
        hit
    }
}

/// Cloneable handle on the fake's state, for assertions and steering from tests.
#[derive(Debug, Clone)]
pub struct FakeState {
    pub(crate) inner: Arc<Mutex<Store>>,
}

impl FakeState {
    pub(crate) fn new(lro_polls: u32, public_ip: Ipv4Addr) -> Self {
        let store = Store {
            resources: BTreeMap::new(),
            ops: HashMap::new(),
            pending: HashMap::new(),
            throttles: HashMap::new(),
            throttle_percent: (0, 1),
            throttled: 0,
            latency: Duration::ZERO,
            failures: HashMap::new(),
            tokens: HashSet::new(),
            log: Vec::new(),
            lro_polls,
            public_ip,
            serial: 0,
            page_size: 1000,
        };
        Self {
            inner: Arc::new(Mutex::new(store)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ids (as created) of every stored resource, resource groups included, sorted.
    pub fn resource_ids(&self) -> Vec<String> {
        let s = self.lock();
        s.resources
            .values()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect()
    }

    /// The stored representation of a resource (id compared case-insensitively).
    pub fn resource(&self, id: &str) -> Option<Value> {
        self.lock().resources.get(&id.to_ascii_lowercase()).cloned()
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// How many requests mapped to `op_id`.
    pub fn count(&self, op_id: &str) -> usize {
        let s = self.lock();
        s.log
            .iter()
            .filter(|r| r.op_id.as_deref() == Some(op_id))
            .count()
    }

    /// Answers the next `n` calls of `op_id` (or `*` for any) with 429 + `Retry-After`.
    pub fn throttle(&self, op_id: &str, n: u32) {
        self.lock().throttles.insert(op_id.to_string(), n);
    }

    /// Answers `percent` % of all calls (chosen by a generator seeded with `seed`) with 429 +
    /// `Retry-After`; 0 turns it off.
    pub fn throttle_percent(&self, percent: u64, seed: u64) {
        self.lock().throttle_percent = (percent, seed | 1);
    }

    /// Delays the answer to every later request by `delay` (zero turns it off).
    pub fn set_latency(&self, delay: Duration) {
        self.lock().latency = delay;
    }

    /// Sets how many items a page of a list holds (at least one), so that lists span pages.
    pub fn set_page_size(&self, items: usize) {
        self.lock().page_size = items.max(1);
    }

    /// The delay before each answer.
    pub fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// How many calls the share answered 429.
    pub fn throttled(&self) -> usize {
        self.lock().throttled
    }

    /// Makes the next long-running operation started by `op_id` end `Failed` with this error
    /// (its resource stays, `provisioningState: Failed`). Calls queue up.
    pub fn fail_next(&self, op_id: &str, code: &str, message: &str) {
        let mut s = self.lock();
        let queue = s.failures.entry(op_id.to_string()).or_default();
        queue.push_back((code.to_string(), message.to_string()));
    }

    /// Sets how many polls each later long-running operation answers `InProgress`.
    pub fn set_lro_polls(&self, polls: u32) {
        self.lock().lro_polls = polls;
    }

    /// Sets the address later public IPs get.
    pub fn set_public_ip(&self, ip: Ipv4Addr) {
        self.lock().public_ip = ip;
    }

    /// Mints a bearer token the fake accepts (as the token endpoint would).
    pub fn issue_token(&self) -> String {
        let mut s = self.lock();
        let token = format!("fake-arm-token-{}", s.next_id());
        s.tokens.insert(token.clone());
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_of_calls_is_throttled_and_counted() {
        let state = FakeState::new(0, Ipv4Addr::new(127, 0, 0, 9));
        assert!(!state.lock().take_throttle("VirtualMachines_Get"));
        state.throttle_percent(30, 7);
        let hits = (0..1000)
            .filter(|_| state.lock().take_throttle("VirtualMachines_Get"))
            .count();
        assert!((250..350).contains(&hits), "{hits} of 1000");
        assert_eq!(state.throttled(), hits);
        state.throttle_percent(0, 7);
        assert!(!state.lock().take_throttle("VirtualMachines_Get"));
    }
}
