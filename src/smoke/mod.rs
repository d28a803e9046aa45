//! `carto-provision smoke`: one environment per cloud, deployed at once, verified, always
//! destroyed, and a report.
//!
//! Each cloud's deployment and destroy is a child process of this same binary (`lifecycle`,
//! `child`), so a cloud's failure, crash or hang cannot touch another's, and each child's
//! output is kept in `<state dir>/smoke-<run id>/` for whoever reads the failure. This module
//! wires the parts: `plan` (names and argument lists, validated first), `signals` (Ctrl-C),
//! `lifecycle` (one cloud), `leftovers` (what the cloud still has), `report` and `table`
//! (the output). It never talks to a cloud except to count what is left.

pub mod child;
pub mod events;
mod leftovers;
mod lifecycle;
mod plan;
pub mod report;
mod signals;
mod table;

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use crate::cli::SmokeArgs;
use crate::state::StateStore;
use lifecycle::Context;
use report::Report;

/// The smoke run did not pass: a cloud failed, something was left, or it was interrupted.
#[derive(Debug, thiserror::Error)]
#[error("smoke {run_id} failed: {summary}")]
pub struct SmokeFailed {
    /// The run's id.
    pub run_id: String,
    /// Which clouds failed and why, in one line.
    pub summary: String,
}

/// Runs `smoke`.
pub async fn run(args: SmokeArgs, store: &StateStore, json: bool) -> anyhow::Result<()> {
    let run_id = args.run_id.clone().unwrap_or_else(plan::random_run_id);
    let targets = plan::targets(&args, &run_id, store.dir())?;
    let bin = std::env::current_exe().context("finding this program to run the deployments")?;
    let logs = store.dir().join(format!("smoke-{run_id}"));
    create_private_dir(&logs)?;
    eprintln!("smoke {run_id}: logs in {}", logs.display());

    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let (stop, listener) = signals::listen();
    let cx = Context {
        bin,
        store: store.clone(),
        logs,
        keep: args.keep,
        stop: stop.clone(),
    };
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|t| tokio::spawn(lifecycle::run(t, cx.clone())))
        .collect();
    let mut clouds = Vec::with_capacity(tasks.len());
    for task in tasks {
        clouds.push(task.await.context("a cloud's smoke task panicked")?);
    }
    let interrupted = *stop.borrow();
    listener.abort();

    let mut report = Report {
        run_id: run_id.clone(),
        started_at,
        wall_s: start.elapsed().as_secs_f64(),
        interrupted,
        kept: args.keep,
        passed: false,
        clouds,
    };
    report.passed = report.failures() == 0 && !interrupted;
    write(args.report.as_deref(), &report.to_json(), "--report")?;
    write(args.junit.as_deref(), &report.to_junit(), "--junit")?;
    if json {
        crate::event::Event::Smoke(Box::new(report.clone())).emit();
    } else {
        print!("{}", table::render(&report));
    }
    if report.passed {
        return Ok(());
    }
    let mut causes: Vec<String> = report
        .clouds
        .iter()
        .filter(|c| c.result == report::Verdict::Fail)
        .map(|c| {
            let first = c.error.as_deref().and_then(|e| e.lines().next());
            format!("{} ({})", c.cloud, first.unwrap_or("failed"))
        })
        .collect();
    if interrupted {
        causes.push("interrupted by a signal".into());
    }
    Err(SmokeFailed {
        run_id,
        summary: causes.join("; "),
    }
    .into())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating the smoke log folder {}", dir.display()))
}

fn write(path: Option<&Path>, text: &str, flag: &str) -> anyhow::Result<()> {
    if let Some(path) = path {
        std::fs::write(path, text)
            .with_context(|| format!("{flag}: writing {}", path.display()))?;
    }
    Ok(())
}
