//! The health verdict: a pure function over the polls taken since the wait began (each poll is
//! the `docker inspect` state of every container of the project, with the poll's time).
//!
//! Ready: every service is running (migrations: exited 0), restarted at most once since the
//! wait began, and either kept the same container id, `StartedAt` and restart count across at
//! least [`Rules::stable_polls`] consecutive polls spanning at least [`Rules::stable_for`], or
//! has run without a break for [`Rules::stable_for`] by Docker's own record: its `StartedAt`
//! read against the VM's clock. A restart moves `StartedAt`, so that record is the same
//! evidence as polls spanning the time, and a re-run of a deployment that has been up for a
//! while needs one poll instead of a minute of them.
//! Failed: a container restarted [`Rules::max_restarts`] times or more since the wait began,
//! however far apart (Docker's restart back-off grows to a minute, longer than a poll
//! interval, so "same restart count as last poll" proves nothing), or a service exited non-zero.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::compose::{MIGRATIONS, ServiceState};

/// One look at the project.
#[derive(Debug, Clone)]
pub struct Poll {
    /// Time since the wait began.
    pub at: Duration,
    /// The VM's clock at this poll, when known (Docker's `StartedAt` is read against it).
    pub clock: Option<DateTime<Utc>>,
    /// Every container, from `docker inspect`.
    pub states: Vec<ServiceState>,
}

/// The thresholds of the verdict.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Consecutive identical polls needed (3).
    pub stable_polls: usize,
    /// Time those polls must span (60 s in production; tests may shorten it explicitly).
    pub stable_for: Duration,
    /// Restarts of one container since the wait began that fail it (3).
    pub max_restarts: u64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            stable_polls: 3,
            stable_for: Duration::from_secs(60),
            max_restarts: 3,
        }
    }
}

/// Restarts tolerated since the wait began for a service to count as ready.
const TOLERATED_RESTARTS: u64 = 1;

/// The verdict after the latest poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Every service up and stable; migrations (if any) exited 0.
    Ready,
    /// Not yet: why.
    Waiting(String),
    /// These services are failing, and why.
    Failed {
        /// The failing services.
        services: Vec<String>,
        /// What was seen.
        why: String,
    },
}

/// Judge `polls` (oldest first) under `rules`.
pub fn judge(polls: &[Poll], rules: &Rules) -> Health {
    let Some(last) = polls.last().filter(|p| !p.states.is_empty()) else {
        return Health::Waiting("no containers yet".into());
    };
    let restarts = restarts_since_start(polls);
    let mut failing: Vec<(String, String)> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    for s in &last.states {
        let n = restarts.get(s.id.as_str()).copied().unwrap_or(0);
        if n >= rules.max_restarts {
            failing.push((
                s.service.clone(),
                format!(
                    "restarts repeatedly ({n} restarts since the wait began, restart count {}, now {})",
                    s.restarts, s.status
                ),
            ));
            continue;
        }
        match (s.service.as_str(), s.status.as_str()) {
            (MIGRATIONS, "exited") if s.exit_code == 0 => {}
            (MIGRATIONS, "exited") => waiting.push(format!(
                "{} exited {} (Docker retries it)",
                s.service, s.exit_code
            )),
            (MIGRATIONS, st) => waiting.push(format!("{} still {st}", s.service)),
            (_, "running") => {}
            (_, "exited" | "dead") if s.exit_code != 0 => failing.push((
                s.service.clone(),
                format!("{} with code {}", s.status, s.exit_code),
            )),
            (_, st) => waiting.push(format!("{} {st}", s.service)),
        }
        if n > TOLERATED_RESTARTS {
            waiting.push(format!(
                "{} restarted {n} times since the wait began",
                s.service
            ));
        }
    }
    if !failing.is_empty() {
        let why = failing
            .iter()
            .map(|(s, w)| format!("{s}: {w}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut services: Vec<String> = failing.into_iter().map(|(s, _)| s).collect();
        services.dedup();
        return Health::Failed { services, why };
    }
    if !waiting.is_empty() {
        return Health::Waiting(waiting.join("; "));
    }
    let (count, span) = stable_suffix(polls);
    if (count >= rules.stable_polls && span >= rules.stable_for)
        || up_without_a_break(last, rules.stable_for)
    {
        return Health::Ready;
    }
    Health::Waiting(format!(
        "all {} containers up, unchanged for {:.0?} over {count} polls (need {:.0?} and {} polls)",
        last.states.len(),
        span,
        rules.stable_for,
        rules.stable_polls
    ))
}

/// Whether every running container of `poll` (there is one at least) started `stable_for`
/// or longer before the poll, by the VM's clock.
fn up_without_a_break(poll: &Poll, stable_for: Duration) -> bool {
    least_up(poll).is_some_and(|t| t >= stable_for)
}

/// How long until every running container of `poll` will have run `rules.stable_for` by the
/// VM's clock, if none restarts: the wait need not poll before then. `None` when unknown.
pub fn until_stable(poll: &Poll, rules: &Rules) -> Option<Duration> {
    least_up(poll).map(|t| rules.stable_for.saturating_sub(t))
}

/// The shortest time any running container of `poll` has run without a break, by Docker's
/// `StartedAt` against the VM's clock; `None` when there is no running container, no clock, or
/// a start time that is missing or after the clock.
fn least_up(poll: &Poll) -> Option<Duration> {
    let now = poll.clock?;
    let up_for = |s: &ServiceState| {
        if never_started(&s.started_at) {
            return None;
        }
        let started = DateTime::parse_from_rfc3339(&s.started_at).ok()?;
        (now - started.with_timezone(&Utc)).to_std().ok()
    };
    let mut least: Option<Duration> = None;
    for s in poll.states.iter().filter(|s| s.status == "running") {
        let up = up_for(s)?;
        least = Some(least.map_or(up, |l| l.min(up)));
    }
    least
}

/// What must not change for a container to count as stable.
fn fingerprint(s: &ServiceState) -> (&str, &str, &str, u64, &str) {
    (&s.container, &s.id, &s.started_at, s.restarts, &s.status)
}

/// How many trailing polls show exactly the last poll's containers, unchanged, and the time
/// they span.
fn stable_suffix(polls: &[Poll]) -> (usize, Duration) {
    let Some(last) = polls.last() else {
        return (0, Duration::ZERO);
    };
    let mut want: Vec<_> = last.states.iter().map(fingerprint).collect();
    want.sort();
    let mut first = last.at;
    let mut count = 0;
    for p in polls.iter().rev() {
        let mut got: Vec<_> = p.states.iter().map(fingerprint).collect();
        got.sort();
        if got != want {
            break;
        }
        count += 1;
        first = p.at;
    }
    (count, last.at.saturating_sub(first))
}

/// Per container id: restarts seen since its first poll. Docker's restart count growth, plus
/// `StartedAt` changes it did not count (a restart caught between the two updates).
fn restarts_since_start(polls: &[Poll]) -> HashMap<&str, u64> {
    struct Seen<'a> {
        first_count: u64,
        last_count: u64,
        last_started: &'a str,
        uncounted: u64,
    }
    let mut seen: HashMap<&str, Seen> = HashMap::new();
    for s in polls.iter().flat_map(|p| &p.states) {
        let e = seen.entry(s.id.as_str()).or_insert(Seen {
            first_count: s.restarts,
            last_count: s.restarts,
            last_started: &s.started_at,
            uncounted: 0,
        });
        if s.started_at != e.last_started
            && s.restarts == e.last_count
            && !never_started(e.last_started)
        {
            e.uncounted += 1;
        }
        if s.restarts > e.last_count && e.uncounted > 0 {
            // Docker caught up with a restart we had counted from StartedAt.
            e.uncounted -= 1;
        }
        e.last_count = e.last_count.max(s.restarts);
        e.last_started = &s.started_at;
    }
    seen.into_iter()
        .map(|(id, e)| (id, e.last_count - e.first_count + e.uncounted))
        .collect()
}

/// Docker's `StartedAt` of a container that never ran.
fn never_started(started_at: &str) -> bool {
    started_at.is_empty() || started_at.starts_with("0001-01-01")
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
