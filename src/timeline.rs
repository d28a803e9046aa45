//! The run's timeline: each pipeline step, each cloud call (one `Provider` method, however
//! many HTTP requests it makes) and each remote step, with its start and end in milliseconds
//! since the command started. With `--json` every span ends as one [`Event::Span`] line, so a
//! benchmark can rebuild what waited for what (`bench/critical-path`); without it nothing is
//! printed. A process-wide switch rather than a parameter: the cloud calls are timed in the
//! provider wrapper (`providers.rs`) and the remote steps in the runner, neither of which sees
//! the command's event sink.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::event::Event;

static ORIGIN: OnceLock<Instant> = OnceLock::new();
static ON: AtomicBool = AtomicBool::new(false);

/// What a span timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// One provider call (`ensure_vm`, `find_dns_records`, …).
    Cloud,
    /// One remote step on the VM (its check, actions and judgement).
    Remote,
    /// A whole pipeline step (`infra`, `bootstrap`, `healthy`, …).
    Step,
}

/// Starts the clock; spans are printed from now on when `json`.
pub fn start(json: bool) {
    ORIGIN.get_or_init(Instant::now);
    ON.store(json, Ordering::Relaxed);
}

fn now() -> Duration {
    ORIGIN.get_or_init(Instant::now).elapsed()
}

/// Something being timed; [`Span::end`] prints it.
#[must_use = "a span is printed when it ends"]
pub struct Span {
    kind: SpanKind,
    name: String,
    started: Duration,
}

/// Begins timing `name`.
pub fn begin(kind: SpanKind, name: &str) -> Span {
    Span {
        kind,
        name: name.to_string(),
        started: now(),
    }
}

impl Span {
    /// Ends the span and prints it (with `--json`) as an [`Event::Span`].
    pub fn end(self, ok: bool) {
        if !ON.load(Ordering::Relaxed) {
            return;
        }
        let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        Event::Span {
            kind: self.kind,
            name: self.name,
            started_ms: ms(self.started),
            ended_ms: ms(now()),
            ok,
        }
        .emit();
    }
}

/// Runs `call`, timed as the cloud call `name`.
pub async fn cloud<T, E>(
    name: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let span = begin(SpanKind::Cloud, name);
    let result = call.await;
    span.end(result.is_ok());
    result
}
