//! `gc`: garbage collection of test environments. Lists every environment the clouds have
//! tagged `managed-by=carto-provision`, grouped by `carto-env`, with its age (from the
//! `carto-created` tag, else the cloud's own creation time); with `--yes`, destroys those
//! older than the limit. An environment whose age is unknown is never collected, and nothing
//! without the managed-by tag is ever seen (providers list by that tag only).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use carto_core::{Cloud, EnvName, ResourceRef, TaggedResource};
use chrono::{DateTime, Utc};

use crate::cli::{CloudArg, GcArgs};
use crate::commands::{access, cloud_of};
use crate::pipeline::{self, Events, Step};
use crate::spec::InputError;
use crate::state::StateStore;

/// One environment found by tag.
#[derive(Debug, serde::Serialize)]
pub struct Found {
    /// Its cloud.
    pub cloud: Cloud,
    /// Its name.
    pub env: String,
    /// When it was created (the oldest resource), if any resource says.
    pub created: Option<DateTime<Utc>>,
    /// Its resources.
    pub resources: Vec<ResourceRef>,
    /// `kept`, `expired` (listed only), `destroyed` or `failed: …`.
    pub action: String,
}

impl Found {
    /// Its age at `now`, if known.
    pub fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.created.and_then(|c| (now - c).to_std().ok())
    }
}

/// Parses `--older-than`: a whole number with a unit s, m, h or d (`24h`, `90m`, `7d`).
pub fn parse_age(text: &str) -> Result<Duration, InputError> {
    let bad = || {
        InputError(format!(
            "--older-than {text:?} is not an age: give a number with a unit, like 24h, 90m or 7d"
        ))
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(n * secs))
}

/// Groups tagged resources into environments (resources without an environment tag are left out).
pub fn group(cloud: Cloud, tagged: Vec<TaggedResource>) -> Vec<Found> {
    let mut by_env: BTreeMap<String, Found> = BTreeMap::new();
    for t in tagged.into_iter().filter(|t| !t.env.is_empty()) {
        let created = t
            .created
            .as_deref()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map(|c| c.with_timezone(&Utc));
        let found = by_env.entry(t.env.clone()).or_insert_with(|| Found {
            cloud,
            env: t.env.clone(),
            created: None,
            resources: Vec::new(),
            action: "kept".into(),
        });
        found.created = match (found.created, created) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        found.resources.push(t.resource);
    }
    by_env.into_values().collect()
}

/// Runs `gc`.
pub async fn run(
    args: &GcArgs,
    store: &StateStore,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let limit = parse_age(&args.older_than)?;
    let now = Utc::now();
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for cloud in dedup(&args.clouds) {
        match collect(cloud, args, store, events, limit, now).await {
            Ok(found) => all.extend(found),
            Err(e) => failures.push(format!("{}: {e:#}", cloud_of(cloud))),
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "gc", "older_than_secs": limit.as_secs(), "environments": all, "errors": failures})
        );
    } else {
        print!("{}", render(&all, now));
        for f in &failures {
            eprintln!("carto-provision: gc: {f}");
        }
    }
    let failed = all
        .iter()
        .filter(|f| f.action.starts_with("failed"))
        .count();
    if !failures.is_empty() || failed > 0 {
        anyhow::bail!(
            "gc did not finish: {} cloud(s) could not be listed, {failed} environment(s) could not be destroyed",
            failures.len()
        );
    }
    Ok(())
}

fn dedup(clouds: &[CloudArg]) -> Vec<CloudArg> {
    let mut out: Vec<CloudArg> = Vec::new();
    for c in clouds {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    out
}

/// Lists one cloud's environments and, with `--yes`, destroys the expired ones.
async fn collect(
    cloud: CloudArg,
    args: &GcArgs,
    store: &StateStore,
    events: &dyn Events,
    limit: Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Found>> {
    let provider = access(cloud, &args.access).connect().await?;
    let tagged = provider
        .list_tagged(None)
        .await
        .context("listing resources tagged managed-by=carto-provision")?;
    let mut found = group(cloud_of(cloud), tagged);
    for env in &mut found {
        if env.age(now).is_none_or(|age| age <= limit) {
            continue;
        }
        if !args.yes {
            env.action = "expired".into();
            continue;
        }
        env.action = match destroy(provider.as_ref(), store, env, events).await {
            Ok(()) => "destroyed".into(),
            Err(e) => format!("failed: {e:#}"),
        };
    }
    Ok(found)
}

/// Destroys one expired environment: through its state file when this machine has one for
/// the same cloud, else by tag.
async fn destroy(
    provider: &dyn carto_core::Provider,
    store: &StateStore,
    found: &Found,
    events: &dyn Events,
) -> anyhow::Result<()> {
    let env = EnvName::parse(&found.env).map_err(InputError)?;
    let _lock = store.lock(&env)?;
    let on_deleted = |r: &ResourceRef| events.note(Step::Destroy, &format!("deleted {r}"));
    match store.load(&env)? {
        Some(state) if state.cloud == found.cloud => {
            pipeline::destroy::run(store, state, provider, &on_deleted).await?;
        }
        _ => {
            pipeline::destroy::untracked(provider, &env, &found.resources, &on_deleted).await?;
        }
    }
    Ok(())
}

/// The human table.
pub fn render(found: &[Found], now: DateTime<Utc>) -> String {
    let mut out = format!(
        "{:<6} {:<28} {:>8} {:<21} {:>9}  {}\n",
        "CLOUD", "ENVIRONMENT", "AGE", "CREATED", "RESOURCES", "ACTION"
    );
    for f in found {
        let age = f.age(now).map_or("unknown".to_string(), human);
        let created = f.created.map_or("-".to_string(), |c| {
            c.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        });
        out.push_str(&format!(
            "{:<6} {:<28} {:>8} {:<21} {:>9}  {}\n",
            f.cloud.as_str(),
            f.env,
            age,
            created,
            f.resources.len(),
            f.action
        ));
    }
    if found.is_empty() {
        out.push_str("(no environment tagged managed-by=carto-provision)\n");
    }
    out
}

/// `3d4h`, `5h12m`, `42m`, `30s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carto_core::ResourceKind;

    #[test]
    fn ages_parse_with_units_or_fail_clearly() {
        assert_eq!(parse_age("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_age("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_age("7d").unwrap(), Duration::from_secs(604_800));
        for bad in ["24", "h", "1.5h", "-1h", "24hours", ""] {
            let e = parse_age(bad).unwrap_err().to_string();
            assert!(e.contains("--older-than"), "{bad}: {e}");
        }
    }

    #[test]
    fn resources_group_by_environment_with_the_oldest_time() {
        let t = |env: &str, id: &str, created: Option<&str>| TaggedResource {
            resource: ResourceRef::new(ResourceKind::Vm, id, id, "r"),
            env: env.into(),
            created: created.map(String::from),
        };
        let found = group(
            Cloud::Aws,
            vec![
                t("a", "1", Some("2026-11-27T10:00:00Z")),
                t("b", "2", None),
                t("a", "3", Some("2026-11-26T10:00:00Z")),
                t("", "4", Some("2020-01-01T00:00:00Z")),
            ],
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].env, "a");
        assert_eq!(found[0].resources.len(), 2);
        let now: DateTime<Utc> = "2026-11-27T10:00:00Z".parse().unwrap();
        assert_eq!(found[0].age(now), Some(Duration::from_secs(86_400)));
        assert_eq!(
            found[1].age(now),
            None,
            "no time: age unknown, never collected"
        );
        let table = render(&found, now);
        assert!(
            table.contains("1d0h") && table.contains("unknown"),
            "{table}"
        );
    }
}
