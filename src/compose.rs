//! Parsing what Docker and docker-compose print, and judging whether CARTO's services are up.
//!
//! Pure functions only: version strings (`docker --version`, `docker-compose --version` v1 and
//! v2), container states from `docker inspect` JSON, and the health verdict over successive
//! polls. Running the commands is `pipeline::install`'s job.

use std::collections::HashMap;

use serde::Deserialize;

/// The compose label naming a container's service.
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// The one-shot service that must end exited with code 0.
pub const MIGRATIONS: &str = "workspace-migrations";
/// Consecutive polls with a growing restart count after which a service counts as failing.
pub const RESTART_STRIKES: u32 = 3;

/// Minimum Docker Engine CARTO's install.sh accepts.
pub const MIN_DOCKER: Version3 = Version3::new(20, 10, 0);
/// Minimum docker-compose CARTO's install.sh accepts.
pub const MIN_COMPOSE: Version3 = Version3::new(1, 29, 0);

/// Output that could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// No version number in a `--version` line.
    #[error("no version number in {0:?}")]
    NoVersion(String),
    /// `docker inspect` printed something that is not its JSON.
    #[error("cannot read `docker inspect` output: {0}")]
    Inspect(String),
}

/// A `major.minor.patch` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version3 {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch (0 when absent).
    pub patch: u32,
}

impl Version3 {
    /// A version.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version3 {
            major,
            minor,
            patch,
        }
    }

    /// At least `min`.
    pub fn meets(&self, min: Version3) -> bool {
        *self >= min
    }
}

impl std::fmt::Display for Version3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The first `[v]N.N[.N]` word after the word `version` (suffixes like `+dfsg1` ignored).
fn version_after_keyword(line: &str) -> Result<Version3, ComposeError> {
    let no = || ComposeError::NoVersion(line.trim().to_string());
    let mut words = line.split_whitespace();
    words
        .by_ref()
        .find(|w| w.eq_ignore_ascii_case("version"))
        .ok_or_else(no)?;
    let word = words.next().ok_or_else(no)?;
    let word = word.strip_prefix('v').unwrap_or(word);
    let numeric: String = word
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = numeric
        .split('.')
        .filter(|p| !p.is_empty())
        .map(str::parse::<u32>);
    let major = parts.next().and_then(Result::ok).ok_or_else(no)?;
    let minor = parts.next().and_then(Result::ok).ok_or_else(no)?;
    let patch = parts.next().and_then(Result::ok).unwrap_or(0);
    Ok(Version3::new(major, minor, patch))
}

/// `Docker version 20.10.24+dfsg1, build 297e128` -> 20.10.24.
pub fn parse_docker_version(line: &str) -> Result<Version3, ComposeError> {
    version_after_keyword(line)
}

/// `docker-compose version 1.29.2, build unknown`, `Docker Compose version v2.27.0` -> version.
pub fn parse_compose_version(line: &str) -> Result<Version3, ComposeError> {
    version_after_keyword(line)
}

/// `docker-compose ps` arguments listing every container id, stopped ones included
/// (v1 `ps -q` already includes them; v2 needs `-a`).
pub fn ps_all_ids_args(compose: Version3) -> Vec<&'static str> {
    if compose.major >= 2 {
        vec!["ps", "-q", "-a"]
    } else {
        vec!["ps", "-q"]
    }
}

/// One container of the project, as `docker inspect` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    /// The compose service (label `com.docker.compose.service`).
    pub service: String,
    /// The container name (without the leading `/`).
    pub container: String,
    /// `running`, `exited`, `restarting`, `created`, `dead`, `paused`…
    pub status: String,
    /// The last exit code.
    pub exit_code: i64,
    /// How often Docker restarted it.
    pub restarts: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inspected {
    #[serde(default)]
    name: String,
    #[serde(default)]
    restart_count: u64,
    state: InspectedState,
    #[serde(default)]
    config: InspectedConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InspectedState {
    status: String,
    #[serde(default)]
    exit_code: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct InspectedConfig {
    #[serde(default)]
    labels: Option<HashMap<String, String>>,
}

/// Container states from `docker inspect ID…` (a JSON array).
pub fn parse_inspect(json: &str) -> Result<Vec<ServiceState>, ComposeError> {
    let items: Vec<Inspected> =
        serde_json::from_str(json).map_err(|e| ComposeError::Inspect(e.to_string()))?;
    Ok(items
        .into_iter()
        .map(|c| {
            let container = c.name.trim_start_matches('/').to_string();
            let service = c
                .config
                .labels
                .and_then(|mut l| l.remove(SERVICE_LABEL))
                .unwrap_or_else(|| container.clone());
            ServiceState {
                service,
                container,
                status: c.state.status,
                exit_code: c.state.exit_code,
                restarts: c.restart_count,
            }
        })
        .collect())
}

/// The verdict of one poll.
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

/// Per-container count of consecutive polls in which its restart count grew.
pub type Strikes = HashMap<String, u32>;

/// Judge the current poll against the previous one. `strikes` carries restart growth across
/// polls: a container whose restart count grows `RESTART_STRIKES` polls in a row is failing.
pub fn judge_health(
    previous: Option<&[ServiceState]>,
    current: &[ServiceState],
    strikes: &mut Strikes,
) -> Health {
    if current.is_empty() {
        return Health::Waiting("no containers yet".into());
    }
    let before: HashMap<&str, u64> = previous
        .unwrap_or_default()
        .iter()
        .map(|s| (s.container.as_str(), s.restarts))
        .collect();
    let mut failing: Vec<(String, String)> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    for s in current {
        let grew = before
            .get(s.container.as_str())
            .is_some_and(|b| s.restarts > *b);
        let n = strikes.entry(s.container.clone()).or_insert(0);
        *n = if grew { *n + 1 } else { 0 };
        if *n >= RESTART_STRIKES {
            failing.push((
                s.service.clone(),
                format!("restarting repeatedly (restart count {})", s.restarts),
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
            (_, "running") if grew => {
                waiting.push(format!("{} restarted (count {})", s.service, s.restarts))
            }
            (_, "running") if !before.contains_key(s.container.as_str()) => {
                waiting.push(format!("{} running, checking it stays up", s.service))
            }
            (_, "running") => {}
            (_, "exited" | "dead") if s.exit_code != 0 => failing.push((
                s.service.clone(),
                format!("{} with code {}", s.status, s.exit_code),
            )),
            (_, st) => waiting.push(format!("{} {st}", s.service)),
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
    Health::Ready
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_compose_versions_parse() {
        let d =
            parse_docker_version("Docker version 20.10.24+dfsg1, build 297e128").expect("parses");
        assert_eq!(d, Version3::new(20, 10, 24));
        assert!(d.meets(MIN_DOCKER));
        assert!(
            !parse_docker_version("Docker version 19.03.15, build 99e3ed8")
                .expect("parses")
                .meets(MIN_DOCKER)
        );
        let cases = [
            (
                "docker-compose version 1.29.2, build unknown",
                Version3::new(1, 29, 2),
            ),
            ("Docker Compose version v2.27.0", Version3::new(2, 27, 0)),
            ("Docker Compose version 2.27.0", Version3::new(2, 27, 0)),
            (
                "docker-compose version 1.25.0, build unknown",
                Version3::new(1, 25, 0),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_compose_version(line).expect(line), want, "{line}");
        }
        assert!(!Version3::new(1, 25, 0).meets(MIN_COMPOSE));
        assert!(Version3::new(2, 0, 0).meets(MIN_COMPOSE));
        for bad in [
            "",
            "docker: command not found",
            "Docker version , build x",
            "version vx.y",
        ] {
            assert!(parse_docker_version(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn ps_lists_stopped_containers_in_both_generations() {
        assert_eq!(ps_all_ids_args(Version3::new(1, 29, 2)), ["ps", "-q"]);
        assert_eq!(ps_all_ids_args(Version3::new(2, 27, 0)), ["ps", "-q", "-a"]);
    }

    /// Shaped like real `docker inspect` output (fields trimmed).
    fn inspect(items: &[(&str, &str, i64, u64)]) -> String {
        let v: Vec<serde_json::Value> = items
            .iter()
            .map(|(svc, status, code, restarts)| {
                serde_json::json!({
                    "Id": format!("{svc}-id"),
                    "Name": format!("/carto_{svc}_1"),
                    "RestartCount": restarts,
                    "State": {"Status": status, "Running": *status == "running", "ExitCode": code},
                    "Config": {"Labels": {SERVICE_LABEL: svc, "com.docker.compose.project": "carto"}}
                })
            })
            .collect();
        serde_json::Value::Array(v).to_string()
    }

    fn poll(items: &[(&str, &str, i64, u64)]) -> Vec<ServiceState> {
        parse_inspect(&inspect(items)).expect("parses")
    }

    #[test]
    fn inspect_json_gives_service_status_exit_code_and_restarts() {
        let s = poll(&[("router", "running", 0, 2), (MIGRATIONS, "exited", 0, 0)]);
        assert_eq!(
            s[0],
            ServiceState {
                service: "router".into(),
                container: "carto_router_1".into(),
                status: "running".into(),
                exit_code: 0,
                restarts: 2
            }
        );
        assert_eq!(s[1].service, MIGRATIONS);
        assert!(parse_inspect("not json").is_err());
        assert!(parse_inspect("[]").expect("empty array").is_empty());
    }

    #[test]
    fn ready_needs_a_stable_second_look_and_migrations_exited_zero() {
        let mut k = Strikes::new();
        let p1 = poll(&[
            ("router", "running", 0, 0),
            ("api", "running", 0, 0),
            (MIGRATIONS, "running", 0, 0),
        ]);
        assert!(
            matches!(judge_health(None, &p1, &mut k), Health::Waiting(w) if w.contains(MIGRATIONS))
        );
        let p2 = poll(&[
            ("router", "running", 0, 0),
            ("api", "running", 0, 0),
            (MIGRATIONS, "exited", 0, 0),
        ]);
        assert_eq!(judge_health(Some(&p1), &p2, &mut k), Health::Ready);
        // A first look alone is never enough.
        assert!(matches!(
            judge_health(None, &p2, &mut Strikes::new()),
            Health::Waiting(_)
        ));
    }

    #[test]
    fn a_stand_in_without_migrations_can_be_ready() {
        let p = poll(&[("router", "running", 0, 0)]);
        assert_eq!(
            judge_health(Some(&p), &p, &mut Strikes::new()),
            Health::Ready
        );
        assert!(matches!(
            judge_health(Some(&p), &[], &mut Strikes::new()),
            Health::Waiting(_)
        ));
    }

    #[test]
    fn a_service_restarting_poll_after_poll_fails_and_a_single_restart_does_not() {
        let mut k = Strikes::new();
        let mut prev = poll(&[
            ("router", "running", 0, 0),
            ("cdn-invalidator-sub", "running", 0, 0),
        ]);
        for n in 1..=RESTART_STRIKES as u64 {
            let cur = poll(&[
                ("router", "running", 0, 0),
                ("cdn-invalidator-sub", "restarting", 1, n),
            ]);
            let h = judge_health(Some(&prev), &cur, &mut k);
            if n < RESTART_STRIKES as u64 {
                assert!(matches!(h, Health::Waiting(_)), "poll {n}: {h:?}");
            } else {
                let Health::Failed { services, why } = h else {
                    panic!("poll {n}: {h:?}")
                };
                assert_eq!(services, ["cdn-invalidator-sub"]);
                assert!(why.contains("restarting repeatedly"), "{why}");
            }
            prev = cur;
        }
        // One restart, then stable: recovers to Ready.
        let mut k = Strikes::new();
        let a = poll(&[("api", "running", 0, 0)]);
        let b = poll(&[("api", "running", 0, 1)]);
        assert!(matches!(
            judge_health(Some(&a), &b, &mut k),
            Health::Waiting(_)
        ));
        assert_eq!(judge_health(Some(&b), &b, &mut k), Health::Ready);
    }

    #[test]
    fn exited_non_zero_fails_except_migrations_which_docker_retries() {
        let p = poll(&[("router", "running", 0, 0), ("api", "exited", 137, 0)]);
        let h = judge_health(Some(&p), &p, &mut Strikes::new());
        assert!(
            matches!(&h, Health::Failed { services, why } if services == &["api"] && why.contains("137")),
            "{h:?}"
        );
        let p = poll(&[("router", "running", 0, 0), (MIGRATIONS, "exited", 1, 0)]);
        assert!(matches!(
            judge_health(Some(&p), &p, &mut Strikes::new()),
            Health::Waiting(_)
        ));
    }
}
