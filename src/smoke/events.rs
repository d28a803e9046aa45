//! Reading a child's output back: the phase durations from its `--json` lines, parsed as the
//! [`Event`]s that printed them, and the one line that says why it failed (the last
//! `carto-provision: …` line `main.rs` prints on stderr). Pure functions over text.

use crate::event::Event;

/// One finished step of a deployment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Phase {
    /// The step's name (`preflight`, `infra`, …, or `destroy`).
    pub phase: String,
    /// How long it took, in seconds.
    pub seconds: f64,
    /// Whether it succeeded.
    pub ok: bool,
}

/// The steps a child finished, in the order it reported them (a step reported twice keeps
/// its last report). Lines that are not JSON events are skipped.
pub fn phases(stdout: &str) -> Vec<Phase> {
    let mut out: Vec<Phase> = Vec::new();
    for event in Event::all(stdout) {
        let Event::StepFinished {
            step,
            ok,
            elapsed_s,
            ..
        } = event
        else {
            continue;
        };
        let phase = Phase {
            phase: step.to_string(),
            seconds: elapsed_s,
            ok,
        };
        match out.iter_mut().find(|p| p.phase == phase.phase) {
            Some(old) => *old = phase,
            None => out.push(phase),
        }
    }
    out
}

/// Why a child failed: its last `carto-provision: …` stderr line (prefix removed), else the
/// error of its last failed step, else its last stderr line.
pub fn failure(stdout: &str, stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(l) = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("carto-provision: "))
    {
        return Some(l.to_string());
    }
    let step_error = Event::all(stdout)
        .filter_map(|event| match event {
            Event::StepFinished {
                ok: false, error, ..
            } => error,
            _ => None,
        })
        .last();
    step_error.or_else(|| lines.last().map(|l| l.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOY_OUT: &str = r#"{"event":"step_started","step":"preflight"}
{"event":"step_finished","step":"preflight","ok":true,"elapsed_s":0.25,"error":null}
{"event":"note","step":"infra","message":"created vm i-1"}
{"event":"step_finished","step":"infra","ok":true,"elapsed_s":3.5,"error":null}
not json at all
{"event":"step_finished","step":"dns","ok":true,"elapsed_s":1.0,"error":null}
{"event":"step_finished","step":"bootstrap","ok":true,"elapsed_s":20.0,"error":null}
{"event":"step_finished","step":"install","ok":false,"elapsed_s":7.75,"error":"install failed while installing CARTO: install.sh printed [ERROR] MIN_VERSION"}
"#;

    #[test]
    fn phases_come_from_step_finished_events_in_order() {
        let p = phases(DEPLOY_OUT);
        let names: Vec<&str> = p.iter().map(|p| p.phase.as_str()).collect();
        assert_eq!(names, ["preflight", "infra", "dns", "bootstrap", "install"]);
        assert_eq!(p[1].seconds, 3.5);
        assert!(p[0].ok && !p[4].ok);
    }

    #[test]
    fn a_step_reported_again_keeps_its_last_report() {
        let out = "{\"event\":\"step_finished\",\"step\":\"infra\",\"ok\":false,\"elapsed_s\":1.0}\n\
                   {\"event\":\"step_finished\",\"step\":\"infra\",\"ok\":true,\"elapsed_s\":2.0}\n";
        assert_eq!(
            phases(out),
            [Phase {
                phase: "infra".into(),
                seconds: 2.0,
                ok: true
            }]
        );
    }

    #[test]
    fn failure_prefers_the_final_error_line() {
        let err = "some log\ncarto-provision: install failed while installing CARTO: [ERROR] x\n\n";
        assert_eq!(
            failure(DEPLOY_OUT, err).unwrap(),
            "install failed while installing CARTO: [ERROR] x"
        );
        assert!(
            failure(DEPLOY_OUT, "")
                .unwrap()
                .contains("install.sh printed [ERROR]")
        );
        assert_eq!(failure("", "killed\n").unwrap(), "killed");
        assert_eq!(failure("", ""), None);
    }
}
