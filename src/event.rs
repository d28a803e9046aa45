//! Everything `--json` prints: one [`Event`] per line on stdout, whatever the command. The
//! progress printer, `deploy`, `plan`, `destroy`, `status`, `list`, `gc` and `smoke` emit
//! through [`Event::emit`]; `smoke` reads its children's lines back through [`Event::parse`],
//! so the shape is written and read by one type. The README's "JSON output" section shows one
//! line of each kind, and a test parses those lines back.

use serde::{Deserialize, Serialize};

use crate::commands::gc::Found;
use crate::pipeline::plan::Plan;
use crate::pipeline::{Outcome, Step};
use crate::smoke::report::Report;
use crate::state::EnvState;

/// One line of `--json` output. The `event` field names the kind.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A step began.
    StepStarted {
        /// Which.
        step: Step,
    },
    /// A step ended.
    StepFinished {
        /// Which.
        step: Step,
        /// Whether it succeeded.
        ok: bool,
        /// How long it took, in seconds.
        elapsed_s: f64,
        /// The one-line cause when it failed.
        #[serde(default)]
        error: Option<String>,
    },
    /// A cloud call or a remote step ended (see `timeline.rs`); times in ms since the command
    /// started.
    Span {
        /// Which kind of work.
        kind: crate::timeline::SpanKind,
        /// The provider method or the remote step's name.
        name: String,
        /// When it began.
        started_ms: f64,
        /// When it ended.
        ended_ms: f64,
        /// Whether it succeeded.
        ok: bool,
    },
    /// Something worth a line during a step (a resource created, found, deleted).
    Note {
        /// During which step.
        step: Step,
        /// What happened.
        message: String,
    },
    /// A deployment finished: CARTO answers.
    Deployed {
        /// Where.
        outcome: Outcome,
    },
    /// A deployment stopped before its end with resources in the cloud.
    Stopped {
        /// The environment.
        env: String,
        /// The command that resumes it.
        resume: String,
        /// The command that removes it.
        destroy: String,
    },
    /// `destroy` finished.
    Destroyed {
        /// The environment.
        env: String,
        /// Whether a state file said what to delete (else the cloud's tags did).
        state: bool,
        /// What was found by tag (only without a state file).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found: Option<Vec<carto_core::ResourceRef>>,
        /// What was deleted, in order.
        deleted: Vec<carto_core::ResourceRef>,
    },
    /// What `plan` would create and run.
    Plan(Box<Plan>),
    /// `status NAME`.
    Status {
        /// The state file.
        state: Box<EnvState>,
        /// What the cloud has tagged with the environment.
        live: Vec<carto_core::TaggedResource>,
        /// The HTTPS check.
        https: Https,
    },
    /// `list`: the environments of the state folder.
    List {
        /// Their state files.
        environments: Vec<EnvState>,
    },
    /// `gc`: every environment found by tag and what was done with it.
    Gc {
        /// `--older-than`, in seconds.
        older_than_secs: Option<u64>,
        /// The environments, one per (name, nonce).
        environments: Vec<Found>,
        /// Clouds that could not be listed, one line each.
        errors: Vec<String>,
        /// `--include` names no cloud had.
        not_found: Vec<String>,
    },
    /// `smoke`: the whole run.
    Smoke(Box<Report>),
}

/// An HTTPS check's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Https {
    /// Whether it answered.
    pub ok: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Event {
    /// Prints the event as one line on stdout.
    pub fn emit(&self) {
        match serde_json::to_string(self) {
            Ok(line) => println!("{line}"),
            Err(e) => println!(
                "{{\"event\":\"note\",\"step\":\"preflight\",\"message\":\"unprintable event: {e}\"}}"
            ),
        }
    }

    /// The event a line holds, if it holds one.
    pub fn parse(line: &str) -> Option<Event> {
        serde_json::from_str(line.trim()).ok()
    }

    /// Every event in `text`, skipping lines that hold none.
    pub fn all(text: &str) -> impl Iterator<Item = Event> + '_ {
        text.lines().filter_map(Event::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's examples, one line per event kind.
    fn readme_lines() -> Vec<String> {
        let readme = include_str!("../README.md");
        let section = readme
            .split("## JSON output")
            .nth(1)
            .expect("README has a JSON output section");
        let block = section.split("```").nth(1).expect("with a code block");
        block
            .lines()
            .skip(1)
            .filter(|l| l.starts_with('{'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_kind_in_the_readme_parses_and_prints_back_the_same() {
        let mut kinds = Vec::new();
        for line in readme_lines() {
            let event = Event::parse(&line).unwrap_or_else(|| panic!("not an event: {line}"));
            let again: serde_json::Value = serde_json::to_value(&event).unwrap();
            let written: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(
                again, written,
                "the README's line differs from what is printed"
            );
            kinds.push(written["event"].as_str().unwrap().to_string());
        }
        let expected = [
            "step_started",
            "step_finished",
            "span",
            "note",
            "deployed",
            "stopped",
            "destroyed",
            "plan",
            "status",
            "list",
            "gc",
            "smoke",
        ];
        assert_eq!(kinds, expected, "one README line per kind, in this order");
    }

    #[test]
    fn lines_that_are_not_events_are_skipped() {
        let text =
            "not json\n{\"event\":\"step_started\",\"step\":\"infra\"}\n{\"event\":\"nope\"}\n";
        let events: Vec<Event> = Event::all(text).collect();
        assert!(matches!(
            events[..],
            [Event::StepStarted { step: Step::Infra }]
        ));
    }
}
