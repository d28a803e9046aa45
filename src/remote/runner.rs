//! `RemoteStep` (check, apply, judge, post-check) and `run_steps`, the only code that runs them.
//!
//! For each step: run the check (exit 0 = already done, skip); otherwise apply the actions in
//! order, judging each command's output; then, when asked, run the check again as the
//! post-condition. Step lists themselves are built elsewhere by pure functions of a spec.

use crate::timeline::{self, SpanKind};

use super::{Cmd, LineSink, Output, RemoteError, Runner, Secret, Stream, TAIL_LINES};

/// A pure verdict over a command's output: `Err(reason)` fails the step.
pub type Judge = fn(&Output) -> Result<(), String>;

/// The default judge: exit 0.
pub fn exit_zero(out: &Output) -> Result<(), String> {
    match out.exit {
        0 => Ok(()),
        n => Err(format!("exit status {n}")),
    }
}

/// One thing a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Run a command; its output goes to the step's judge.
    Run(Cmd),
    /// Write a file (atomically, with exactly `mode`), then `chown` it when `owner` is set.
    Upload {
        /// Absolute path on the host.
        path: String,
        /// The bytes (never shown).
        contents: Secret<Vec<u8>>,
        /// Unix permission bits, e.g. `0o600`.
        mode: u32,
        /// `user[:group]` to `sudo chown` the file to.
        owner: Option<String>,
    },
}

impl Action {
    /// How the action is shown to people (secrets redacted, contents never).
    pub fn display(&self) -> String {
        match self {
            Action::Run(cmd) => cmd.display(),
            Action::Upload {
                path, mode, owner, ..
            } => match owner {
                Some(o) => format!("upload {path} (mode {mode:o}, owner {o})"),
                None => format!("upload {path} (mode {mode:o})"),
            },
        }
    }
}

/// A named, idempotent remote step.
#[derive(Debug, Clone)]
pub struct RemoteStep {
    /// Short name shown in progress and errors.
    pub name: String,
    /// Exit 0 = already done: the step is skipped.
    pub check: Option<Cmd>,
    /// What to do when the check fails (or there is none).
    pub apply: Vec<Action>,
    /// Verdict over each `Action::Run`'s output.
    pub judge: Judge,
    /// Re-run `check` after applying and fail if it still does not pass.
    pub post_check: bool,
}

impl RemoteStep {
    /// A step with no check, no actions and the exit-0 judge.
    pub fn new(name: impl Into<String>) -> Self {
        RemoteStep {
            name: name.into(),
            check: None,
            apply: Vec::new(),
            judge: exit_zero,
            post_check: false,
        }
    }

    /// Set the check; it is also re-run as the post-condition.
    pub fn check(mut self, cmd: Cmd) -> Self {
        self.check = Some(cmd);
        self.post_check = true;
        self
    }

    /// Add a command to run.
    pub fn run(mut self, cmd: Cmd) -> Self {
        self.apply.push(Action::Run(cmd));
        self
    }

    /// Add an upload.
    pub fn upload(mut self, path: impl Into<String>, contents: Secret<Vec<u8>>, mode: u32) -> Self {
        self.apply.push(Action::Upload {
            path: path.into(),
            contents,
            mode,
            owner: None,
        });
        self
    }

    /// Use `judge` for this step's commands.
    pub fn judge(mut self, judge: Judge) -> Self {
        self.judge = judge;
        self
    }

    /// Do not re-run the check after applying.
    pub fn without_post_check(mut self) -> Self {
        self.post_check = false;
        self
    }
}

/// What `run_steps` reports as it goes; it also receives the output lines.
pub trait StepEvents: LineSink {
    /// A step begins.
    fn started(&mut self, _step: &str) {}
    /// The check passed: nothing to do.
    fn skipped(&mut self, _step: &str) {}
    /// An action is about to run (already redacted).
    fn action(&mut self, _step: &str, _what: &str) {}
    /// The step was applied (and its post-check passed).
    fn done(&mut self, _step: &str) {}
}

/// Events that go nowhere except `tracing`.
pub struct NoEvents;

impl LineSink for NoEvents {
    fn line(&mut self, stream: Stream, line: &str) {
        tracing::debug!(?stream, "{line}");
    }
}

impl StepEvents for NoEvents {}

/// Run `steps` in order on `runner`; stop at the first failure.
pub async fn run_steps(
    runner: &mut dyn Runner,
    steps: &[RemoteStep],
    events: &mut dyn StepEvents,
) -> Result<(), RemoteError> {
    for step in steps {
        let span = timeline::begin(SpanKind::Remote, &step.name);
        let result = run_step(runner, step, events).await;
        span.end(result.is_ok());
        result.map_err(|e| e.in_step(&step.name))?;
    }
    Ok(())
}

async fn run_step(
    runner: &mut dyn Runner,
    step: &RemoteStep,
    events: &mut dyn StepEvents,
) -> Result<(), RemoteError> {
    let name = step.name.as_str();
    events.started(name);
    if let Some(check) = &step.check {
        let out = runner.exec(check, &mut *events).await?;
        if out.exit == 0 {
            tracing::info!(step = name, "already done");
            events.skipped(name);
            return Ok(());
        }
    }
    for action in &step.apply {
        events.action(name, &action.display());
        match action {
            Action::Run(cmd) => {
                let out = runner.exec(cmd, &mut *events).await?;
                judged(name, cmd, &out, step.judge)?;
            }
            Action::Upload {
                path,
                contents,
                mode,
                owner,
            } => {
                runner.upload(path, contents.expose(), *mode).await?;
                if let Some(owner) = owner {
                    let chown = Cmd::sudo("chown").arg(owner).arg(path);
                    let out = runner.exec(&chown, &mut *events).await?;
                    judged(name, &chown, &out, exit_zero)?;
                }
            }
        }
    }
    if step.post_check
        && let Some(check) = &step.check
    {
        let out = runner.exec(check, &mut *events).await?;
        if out.exit != 0 {
            return Err(RemoteError::NotSatisfied {
                step: name.to_string(),
                cmd: check.display(),
                exit: out.exit,
                tail: out.tail(TAIL_LINES),
            });
        }
    }
    events.done(name);
    Ok(())
}

fn judged(step: &str, cmd: &Cmd, out: &Output, judge: Judge) -> Result<(), RemoteError> {
    judge(out).map_err(|why| RemoteError::Failed {
        step: step.to_string(),
        cmd: cmd.display(),
        exit: out.exit,
        why,
        tail: out.tail(TAIL_LINES),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::testing::{Event, RecordingRunner};

    #[derive(Default)]
    struct Seen {
        log: Vec<String>,
    }

    impl LineSink for Seen {
        fn line(&mut self, _: Stream, line: &str) {
            self.log.push(format!("line {line}"));
        }
    }

    impl StepEvents for Seen {
        fn started(&mut self, step: &str) {
            self.log.push(format!("start {step}"));
        }
        fn skipped(&mut self, step: &str) {
            self.log.push(format!("skip {step}"));
        }
        fn done(&mut self, step: &str) {
            self.log.push(format!("done {step}"));
        }
    }

    fn step(name: &str) -> RemoteStep {
        RemoteStep::new(name)
            .check(Cmd::new("test").arg("-e").arg(format!("/{name}")))
            .run(Cmd::new("touch").arg(format!("/{name}")))
    }

    fn run(
        runner: &mut RecordingRunner,
        steps: &[RemoteStep],
    ) -> (Result<(), RemoteError>, Vec<String>) {
        let mut seen = Seen::default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let r = rt.block_on(run_steps(runner, steps, &mut seen));
        (r, seen.log)
    }

    #[test]
    fn skips_a_step_whose_check_passes_and_applies_the_others() {
        let mut r = RecordingRunner::new()
            .answer("test -e /a", vec![Output::new(0, "", "")])
            .answer(
                "test -e /b",
                vec![Output::new(1, "", ""), Output::new(0, "", "")],
            );
        let (res, log) = run(&mut r, &[step("a"), step("b")]);
        res.expect("both steps succeed");
        assert_eq!(
            r.commands(),
            ["test -e /a", "test -e /b", "touch /b", "test -e /b"],
            "a skipped; b checked, applied, checked again"
        );
        assert_eq!(log, ["start a", "skip a", "start b", "done b"]);
    }

    #[test]
    fn a_check_still_failing_after_apply_is_an_error() {
        let mut r =
            RecordingRunner::new().answer("test -e /a", vec![Output::new(1, "", "no such file")]);
        let (res, _) = run(&mut r, &[step("a"), step("next")]);
        let err = res.expect_err("post-check fails");
        assert!(
            matches!(&err, RemoteError::NotSatisfied { step, exit: 1, .. } if step == "a"),
            "{err}"
        );
        assert!(err.to_string().contains("no such file"), "{err}");
        assert!(
            !r.commands().iter().any(|c| c.contains("/next")),
            "stopped at the failure"
        );
    }

    #[test]
    fn the_judge_decides_and_the_error_names_step_command_exit_and_tail() {
        fn no_error_lines(out: &Output) -> Result<(), String> {
            match out.stdout.lines().find(|l| l.contains("[ERROR]")) {
                Some(l) => Err(l.to_string()),
                None => exit_zero(out),
            }
        }
        let many: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let mut r = RecordingRunner::new().answer(
            "install.sh",
            vec![Output::new(0, &format!("{many}[ERROR]: bad\n"), "")],
        );
        let s = RemoteStep::new("install")
            .run(Cmd::new("bash").arg("install.sh").secret("pw"))
            .judge(no_error_lines);
        let (res, log) = run(&mut r, &[s]);
        let err = res.expect_err("judge rejects");
        let RemoteError::Failed {
            step,
            cmd,
            exit,
            why,
            tail,
        } = &err
        else {
            panic!("wrong error {err}");
        };
        assert_eq!(
            (step.as_str(), cmd.as_str(), *exit),
            ("install", "bash install.sh [REDACTED]", 0)
        );
        assert_eq!(why, "[ERROR]: bad");
        assert_eq!(tail.len(), 20);
        assert_eq!(tail.last().map(String::as_str), Some("[ERROR]: bad"));
        assert!(
            log.contains(&"line [ERROR]: bad".to_string()),
            "output streamed to the events"
        );
        assert!(!err.to_string().contains("pw"));
    }

    #[test]
    fn uploads_then_chowns_and_transport_errors_name_the_step() {
        let mut s =
            RemoteStep::new("files").upload("/h/key.json", Secret::new(b"k".to_vec()), 0o600);
        if let Some(Action::Upload { owner, .. }) = s.apply.last_mut() {
            *owner = Some("carto".into());
        }
        let mut r = RecordingRunner::new();
        let (res, _) = run(&mut r, std::slice::from_ref(&s));
        res.expect("upload ok");
        assert!(
            matches!(&r.events[0], Event::Upload(u) if u.path == "/h/key.json" && u.mode == 0o600 && u.contents == b"k")
        );
        assert_eq!(r.commands(), ["sudo -n chown carto /h/key.json"]);

        let mut r = RecordingRunner::new().lose_connection_on("chown");
        let (res, _) = run(&mut r, &[s]);
        let err = res.expect_err("transport fails");
        assert!(
            err.to_string()
                .starts_with("step files: running `sudo -n chown"),
            "{err}"
        );
    }
}
