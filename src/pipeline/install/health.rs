//! `wait_healthy`: poll the compose project until every service is up and stable, or say
//! which services fail, with their last log lines, and save `ps -a` + `logs -t` locally.
//!
//! The verdict itself is `verdict::judge`; this file only runs the commands for it. Every log
//! tail shown or saved is masked with the package's secrets (`crate::mask`).

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use super::verdict::{self, Health, Poll, Rules};
use super::{InstallError, RemoteSpec, in_checkout};
use crate::compose::{self, ServiceState};
use crate::mask::Secrets;
use crate::remote::{Cmd, NullSink, RemoteError, Runner};

/// How often and how long to poll, and where to save diagnostics.
#[derive(Debug, Clone)]
pub struct HealthOptions {
    /// Between polls at most (5 s: one `docker inspect` over the open session); sooner when
    /// the containers' own start times say the stability window ends before then.
    pub interval: Duration,
    /// Give up after (20 min).
    pub timeout: Duration,
    /// Local folder for `compose-ps.txt` and `compose-logs.txt` when it fails.
    pub log_dir: Option<PathBuf>,
    /// The verdict's thresholds (60 s of stability; only tests shorten it).
    pub rules: Rules,
}

impl Default for HealthOptions {
    fn default() -> Self {
        HealthOptions {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(20 * 60),
            log_dir: None,
            rules: Rules::default(),
        }
    }
}

/// Log lines shown per failing service.
const LOG_LINES: usize = 100;

/// Poll until ready; on failure or timeout, collect and save diagnostics.
pub async fn wait_healthy(
    runner: &mut dyn Runner,
    spec: &RemoteSpec,
    opts: &HealthOptions,
) -> Result<(), InstallError> {
    let version = run_ok(runner, &Cmd::new("docker-compose").arg("--version")).await?;
    let compose_version = compose::parse_compose_version(&version)?;
    let ps: Vec<&str> = compose::ps_all_ids_args(compose_version);
    let secrets = package_secrets(spec);
    let clock = vm_clock(runner).await?;
    let start = Instant::now();
    let mut polls: Vec<Poll> = Vec::new();
    let mut last = String::from("no poll yet");
    loop {
        let at = start.elapsed();
        let states = poll(runner, spec, &ps).await?;
        let clock = clock.and_then(|c| Some(c + chrono::Duration::from_std(at).ok()?));
        polls.push(Poll { at, clock, states });
        let current = &polls[polls.len() - 1].states;
        match verdict::judge(&polls, &opts.rules) {
            Health::Ready => {
                tracing::info!("all {} containers up", current.len());
                return Ok(());
            }
            Health::Failed { services, why } => {
                let logs = service_logs(runner, spec, &services, &secrets).await;
                let saved = save(runner, spec, opts, &secrets).await;
                return Err(InstallError::Unhealthy {
                    services,
                    why,
                    logs,
                    saved,
                });
            }
            Health::Waiting(why) => {
                if why != last {
                    tracing::info!("waiting for CARTO services: {why}");
                }
                last = why;
            }
        }
        if start.elapsed() + opts.interval > opts.timeout {
            let stuck = not_ready(current);
            let logs = service_logs(runner, spec, &stuck, &secrets).await;
            let saved = save(runner, spec, opts, &secrets).await;
            return Err(InstallError::Timeout {
                waited: start.elapsed(),
                last,
                logs,
                saved,
            });
        }
        // The next poll comes at the interval, or as soon as every container will have run
        // the stability window by Docker's record, whichever is sooner.
        // (Once the window is over, something else is awaited: back to the interval.)
        let window_ends = verdict::until_stable(&polls[polls.len() - 1], &opts.rules)
            .filter(|t| !t.is_zero())
            .map(|t| t + Duration::from_millis(200));
        tokio::time::sleep(window_ends.map_or(opts.interval, |t| t.min(opts.interval))).await;
    }
}

/// The secrets of the uploaded customer.env and key.json, to mask in every log shown or saved.
fn package_secrets(spec: &RemoteSpec) -> Secrets {
    let file = |name: &str| {
        spec.files
            .iter()
            .find(|f| f.path() == name)
            .map(|f| f.contents.expose().as_slice())
            .unwrap_or_default()
    };
    Secrets::from_package(
        &String::from_utf8_lossy(file("customer.env")),
        file("key.json"),
    )
}

/// The VM's clock now (Docker's `StartedAt` is read against it, so the local clock's skew does
/// not matter); `None` when `date` printed something else.
async fn vm_clock(
    runner: &mut dyn Runner,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, InstallError> {
    let out = run_ok(
        runner,
        &Cmd::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%S.%NZ"]),
    )
    .await?;
    Ok(chrono::DateTime::parse_from_rfc3339(out.trim())
        .ok()
        .map(|t| t.to_utc()))
}

/// Container states now: `ps -q` ids, then `docker inspect` (empty while nothing is created).
async fn poll(
    runner: &mut dyn Runner,
    spec: &RemoteSpec,
    ps: &[&str],
) -> Result<Vec<ServiceState>, InstallError> {
    let ids = run_ok(
        runner,
        &in_checkout(spec, Cmd::new("docker-compose").args(ps.iter().copied())),
    )
    .await?;
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let json = run_ok(
        runner,
        &in_checkout(spec, Cmd::new("docker").arg("inspect").args(ids)),
    )
    .await?;
    Ok(compose::parse_inspect(&json)?)
}

/// Services not running (or migrations not yet exited 0), for the timeout report.
fn not_ready(current: &[ServiceState]) -> Vec<String> {
    let mut v: Vec<String> = current
        .iter()
        .filter(|s| match s.service.as_str() {
            compose::MIGRATIONS => !(s.status == "exited" && s.exit_code == 0),
            _ => s.status != "running",
        })
        .map(|s| s.service.clone())
        .collect();
    v.dedup();
    v
}

/// Run a read-only command; a non-zero exit is an error carrying its output tail.
async fn run_ok(runner: &mut dyn Runner, cmd: &Cmd) -> Result<String, InstallError> {
    let out = runner.exec(cmd, &mut NullSink).await?;
    if out.exit != 0 {
        return Err(RemoteError::Failed {
            step: "wait for the services".into(),
            cmd: cmd.display(),
            exit: out.exit,
            why: format!("exit status {}", out.exit),
            tail: out.tail(crate::remote::TAIL_LINES),
        }
        .into());
    }
    Ok(out.stdout)
}

async fn service_logs(
    runner: &mut dyn Runner,
    spec: &RemoteSpec,
    services: &[String],
    secrets: &Secrets,
) -> Vec<(String, Vec<String>)> {
    let mut logs = Vec::new();
    for s in services {
        let tail = LOG_LINES.to_string();
        let cmd = in_checkout(
            spec,
            Cmd::new("docker-compose")
                .args(["logs", "--no-color", "--tail", &tail])
                .arg(s),
        );
        let lines = match runner.exec(&cmd, &mut NullSink).await {
            Ok(out) => out
                .tail(LOG_LINES)
                .iter()
                .map(|l| secrets.mask(l))
                .collect(),
            Err(e) => vec![secrets.mask(&format!("(logs unavailable: {e})"))],
        };
        logs.push((s.clone(), lines));
    }
    logs
}

/// Save `docker-compose ps -a` and `docker-compose logs -t` (what CARTO support asks for).
async fn save(
    runner: &mut dyn Runner,
    spec: &RemoteSpec,
    opts: &HealthOptions,
    secrets: &Secrets,
) -> Option<PathBuf> {
    let dir = opts.log_dir.as_ref()?;
    let files = [
        ("compose-ps.txt", vec!["ps", "-a"]),
        ("compose-logs.txt", vec!["logs", "-t", "--no-color"]),
    ];
    for (name, args) in files {
        let cmd = in_checkout(spec, Cmd::new("docker-compose").args(args));
        let text = match runner.exec(&cmd, &mut NullSink).await {
            Ok(out) => secrets.mask(&format!("{}{}", out.stdout, out.stderr)),
            Err(e) => format!("could not run `{}`: {e}\n", cmd.display()),
        };
        if let Err(e) = write_private(&dir.join(name), &text) {
            tracing::warn!("cannot save {name} in {}: {e}", dir.display());
            return None;
        }
    }
    Some(dir.clone())
}

/// Container logs may hold secrets: the files are 0600.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        crate::state::ensure_dir(parent).map_err(std::io::Error::other)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

pub(super) fn show_logs(logs: &[(String, Vec<String>)]) -> String {
    let mut s = String::new();
    for (service, lines) in logs {
        s.push_str(&format!("\n  last {} log lines of {service}:", lines.len()));
        for l in lines {
            s.push_str("\n  | ");
            s.push_str(l);
        }
    }
    s
}

pub(super) fn show_saved(saved: &Option<PathBuf>) -> String {
    match saved {
        Some(d) => format!(
            "\n  saved docker-compose ps -a and logs -t in {}",
            d.display()
        ),
        None => String::new(),
    }
}
