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

/// Minimum Docker Engine CARTO's install.sh accepts.
pub const MIN_DOCKER: Version3 = Version3::new(20, 10, 0);
/// Minimum docker-compose CARTO's install.sh accepts.
pub const MIN_COMPOSE: Version3 = Version3::new(1, 29, 0);
/// The first Compose v2 release: what the default Docker sources install (Compose v1 crashes
/// with `KeyError: 'ContainerConfig'` when it recreates a container on newer engines).
pub const MIN_COMPOSE_V2: Version3 = Version3::new(2, 0, 0);

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
    /// The container id (a re-created container gets a new one).
    pub id: String,
    /// `State.StartedAt` (changes on every restart).
    pub started_at: String,
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
    id: String,
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
    #[serde(default)]
    started_at: String,
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
                id: c.id,
                started_at: c.state.started_at,
                status: c.state.status,
                exit_code: c.state.exit_code,
                restarts: c.restart_count,
            }
        })
        .collect())
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
                id: "router-id".into(),
                started_at: String::new(),
                status: "running".into(),
                exit_code: 0,
                restarts: 2
            }
        );
        assert_eq!(s[1].service, MIGRATIONS);
        assert!(parse_inspect("not json").is_err());
        assert!(parse_inspect("[]").expect("empty array").is_empty());
    }
}
