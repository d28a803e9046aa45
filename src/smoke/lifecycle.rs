//! One cloud's part of a smoke run, start to end: the deployment as a child process, then
//! (unless `--keep`) its destroy as a child, whatever the deployment did, then the leftover
//! count. The state file is read before the destroy, to know how to reach the cloud
//! afterwards; without one (the deployment stopped before recording anything) the target's
//! own provider config is used. Turns all of it into a [`CloudResult`]; never fails itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use super::child::{self, Logs};
use super::events::{self, Phase};
use super::leftovers;
use super::plan::Target;
use super::report::{CloudResult, Verdict};
use crate::providers::ProviderConfig;
use crate::state::StateStore;

/// What every cloud's run shares.
#[derive(Clone, Debug)]
pub struct Context {
    /// The `carto-provision` binary (this one).
    pub bin: PathBuf,
    /// The state store the children use.
    pub store: StateStore,
    /// The run's log folder.
    pub logs: PathBuf,
    /// `--keep`.
    pub keep: bool,
    /// Turns true when the run is to stop.
    pub stop: watch::Receiver<bool>,
}

/// Runs `target`'s deployment, destroy and leftover count.
pub async fn run(target: Target, cx: Context) -> CloudResult {
    let cloud = target.cloud;
    let deploy_logs = Logs::new(&cx.logs, &format!("{cloud}-deploy"));
    let mut errors: Vec<String> = Vec::new();
    let mut exit_code = None;
    let mut phases = Vec::new();
    let mut total = Duration::ZERO;
    if *cx.stop.borrow() {
        errors.push("deploy: not started, the run was interrupted".into());
    } else {
        eprintln!(
            "smoke: {cloud}: deploying {} ({})",
            target.env, target.domain
        );
        match child::run(
            &cx.bin,
            &target.deploy_args,
            &deploy_logs,
            Some(cx.stop.clone()),
        )
        .await
        {
            Ok(ended) => {
                total += ended.wall;
                exit_code = ended.code;
                let (out, err) = deploy_logs.read();
                phases = events::phases(&out);
                if !ended.ok() {
                    let why = events::failure(&out, &err)
                        .unwrap_or_else(|| format!("exit status {:?}", ended.code));
                    let stopped = if ended.stopped {
                        " (stopped by a signal)"
                    } else {
                        ""
                    };
                    errors.push(format!("deploy{stopped}: {why}"));
                }
                eprintln!(
                    "smoke: {cloud}: deployment {} after {:.1}s",
                    if ended.ok() { "passed" } else { "FAILED" },
                    ended.wall.as_secs_f64()
                );
            }
            Err(e) => errors.push(format!("deploy: could not start {}: {e}", cx.bin.display())),
        }
    }

    let state = cx.store.load(&target.env);
    let config = match &state {
        Ok(Some(s)) => ProviderConfig::from_state(s).unwrap_or_else(|_| target.provider.clone()),
        _ => target.provider.clone(),
    };
    let mut destroy_logs = None;
    let mut destroyed = false;
    if cx.keep {
        eprintln!("smoke: {cloud}: keeping {} (--keep)", target.env);
    } else {
        match state {
            Ok(Some(_)) => {
                let logs = Logs::new(&cx.logs, &format!("{cloud}-destroy"));
                let (ok, wall, error) = destroy(&cx.bin, &target, &logs).await;
                total += wall;
                phases.push(Phase {
                    phase: "destroy".into(),
                    seconds: wall.as_secs_f64(),
                    ok,
                });
                destroyed = ok;
                errors.extend(error);
                destroy_logs = Some(logs);
            }
            // No state file: nothing was recorded, so there is nothing to destroy by state;
            // the tag search below still looks.
            Ok(None) => destroyed = true,
            Err(e) => errors.push(format!(
                "destroy: not run, the state file is unreadable: {e}"
            )),
        }
    }

    let after = cx.store.load(&target.env).ok().flatten();
    let (leftovers, leftover_resources) = if cx.keep {
        (None, Vec::new())
    } else {
        match leftovers::find(&config, &target.env, after.as_ref()).await {
            Ok(found) => (Some(found.len()), found),
            Err(e) => {
                errors.push(format!("leftovers: not counted: {e}"));
                (None, Vec::new())
            }
        }
    };
    if leftovers.is_some_and(|n| n > 0) {
        errors.push(format!(
            "leftovers: {} resource(s) of {} still exist: {}",
            leftover_resources.len(),
            target.env,
            leftover_resources.join(", ")
        ));
    }
    let result = if errors.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    eprintln!(
        "smoke: {cloud}: {}",
        if result == Verdict::Pass {
            "pass"
        } else {
            "FAIL"
        }
    );
    CloudResult {
        cloud,
        env: target.env.to_string(),
        domain: target.domain,
        result,
        exit_code,
        error: (!errors.is_empty()).then(|| errors.join("\n")),
        phases,
        total_s: total.as_secs_f64(),
        leftovers,
        leftover_resources,
        destroyed,
        deploy_logs,
        destroy_logs,
    }
}

/// Runs the destroy child; returns whether it ended well, its wall time and its error line.
async fn destroy(bin: &Path, target: &Target, logs: &Logs) -> (bool, Duration, Option<String>) {
    eprintln!("smoke: {}: destroying {}", target.cloud, target.env);
    match child::run(bin, &target.destroy_args, logs, None).await {
        Ok(ended) if ended.ok() => (true, ended.wall, None),
        Ok(ended) => {
            let (out, err) = logs.read();
            let why = events::failure(&out, &err)
                .unwrap_or_else(|| format!("exit status {:?}", ended.code));
            (false, ended.wall, Some(format!("destroy: {why}")))
        }
        Err(e) => (
            false,
            Duration::ZERO,
            Some(format!("destroy: could not start {}: {e}", bin.display())),
        ),
    }
}
