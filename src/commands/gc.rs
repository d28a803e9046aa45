//! `gc`: garbage collection of test environments. Lists every environment the clouds have
//! tagged `managed-by=carto-provision`, grouped by `carto-env` and `carto-nonce` (two
//! environments of one name are listed apart and never collected), with its age (from the
//! `carto-created` tag, else the cloud's own creation time) and its expiry (the
//! `carto-expires` tag a `--ttl` deployment carries); with `--yes`, destroys those whose
//! expiry has passed. An environment without an expiry (production) is never collected unless
//! `--include` names it, and nothing without the managed-by tag is ever seen (providers list by
//! that tag only). One listing per cloud; the collected environments are destroyed
//! [`DESTROY_AT_ONCE`] at a time, each in its own dependency waves.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use carto_core::{Cloud, EnvName, ResourceRef, TaggedResource};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::cli::{CloudArg, GcArgs};
use crate::event::Event;
use crate::pipeline::{self, Events, Step};
use crate::spec::{InputError, access, parse_duration};
use crate::state::StateStore;

/// One environment found by tag.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Found {
    /// Its cloud.
    pub cloud: Cloud,
    /// Its name.
    pub env: String,
    /// Its `carto-nonce`: which of the environments of that name it is (`None` for resources
    /// made before the tag).
    pub nonce: Option<String>,
    /// When it was created (the oldest resource), if any resource says.
    pub created: Option<DateTime<Utc>>,
    /// When it expires: the latest expiry of its resources, and only when every one has one.
    pub expires: Option<DateTime<Utc>>,
    /// Its resources.
    pub resources: Vec<ResourceRef>,
    /// `kept`, `kept (no ttl)`, `kept (younger than …)`, `expired` / `included` (listed
    /// only), `destroyed` or `failed: …`.
    pub action: String,
}

impl Found {
    /// Its age at `now`, if known.
    pub fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.created.and_then(|c| (now - c).to_std().ok())
    }
}

/// What `gc` does with one environment.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Left alone, with the reason shown in the listing.
    Keep(String),
    /// Collected: its expiry has passed (`expired`) or `--include` named it (`included`).
    Collect(&'static str),
}

/// Whether `found` is garbage at `now`: only once its expiry has passed (or `--include` names
/// it), and, with `--older-than`, only when it is known to be at least that old.
pub fn verdict(
    found: &Found,
    now: DateTime<Utc>,
    older_than: Option<Duration>,
    included: bool,
) -> Verdict {
    if let Some(min) = older_than
        && found.age(now).is_none_or(|age| age < min)
    {
        return Verdict::Keep(format!("kept (younger than {})", human(min)));
    }
    if included {
        return Verdict::Collect("included");
    }
    match found.expires {
        None => Verdict::Keep("kept (no ttl)".into()),
        Some(t) if t > now => Verdict::Keep("kept".into()),
        Some(_) => Verdict::Collect("expired"),
    }
}

/// Groups tagged resources into environments, one per name and nonce (resources without an
/// environment tag are left out).
pub fn group(cloud: Cloud, tagged: Vec<TaggedResource>) -> Vec<Found> {
    let mut by_env: BTreeMap<(String, Option<String>), (Found, bool)> = BTreeMap::new();
    for t in tagged.into_iter().filter(|t| !t.env.is_empty()) {
        let created = t.created;
        let expires = t.expires.and_then(|e| DateTime::from_timestamp(e, 0));
        let key = (t.env.clone(), t.nonce.clone());
        let (found, all_expire) = by_env.entry(key).or_insert_with(|| {
            let found = Found {
                cloud,
                env: t.env.clone(),
                nonce: t.nonce.clone(),
                created: None,
                expires: None,
                resources: Vec::new(),
                action: "kept".into(),
            };
            (found, true)
        });
        found.created = match (found.created, created) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        *all_expire &= expires.is_some();
        found.expires = found.expires.max(expires);
        found.resources.push(t.resource);
    }
    by_env
        .into_values()
        .map(|(mut found, all_expire)| {
            if !all_expire {
                found.expires = None;
            }
            found
        })
        .collect()
}

/// Runs `gc`.
pub async fn run(
    args: &GcArgs,
    store: &StateStore,
    events: &dyn Events,
    json: bool,
) -> anyhow::Result<()> {
    let older_than = args
        .older_than
        .as_deref()
        .map(|t| parse_duration("--older-than", t))
        .transpose()?;
    for name in &args.include {
        EnvName::parse(name).map_err(|e| InputError(format!("--include: {e}")))?;
    }
    let now = Utc::now();
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for cloud in dedup(&args.clouds) {
        match collect(cloud, args, store, events, older_than, now).await {
            Ok(found) => all.extend(found),
            Err(e) => failures.push(format!("{}: {e:#}", Cloud::from(cloud))),
        }
    }
    let missing: Vec<&str> = args
        .include
        .iter()
        .filter(|name| !all.iter().any(|f| &f.env == *name))
        .map(String::as_str)
        .collect();
    if json {
        Event::Gc {
            older_than_secs: older_than.map(|d| d.as_secs()),
            environments: all.clone(),
            errors: failures.clone(),
            not_found: missing.iter().map(|s| s.to_string()).collect(),
        }
        .emit();
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
    if !missing.is_empty() {
        anyhow::bail!(
            "gc: --include {}: no environment of that name is tagged in the clouds searched",
            missing.join(",")
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

/// How many environments `gc --yes` destroys at once. Each one's destroy sends at most a
/// wave of deletes at a time (two or three on the clouds here), so this keeps at most some 75
/// calls in flight: under the clouds' API rate limits (and throttling is retried), while 50
/// expired environments go in two rounds, within three times one environment's destroy with
/// the listing (at 20, the third round made Azure's 3.4 times).
pub const DESTROY_AT_ONCE: usize = 25;

/// Lists one cloud's environments and, with `--yes`, destroys the collected ones.
async fn collect(
    cloud: CloudArg,
    args: &GcArgs,
    store: &StateStore,
    events: &dyn Events,
    older_than: Option<Duration>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Found>> {
    let provider = access(cloud, &args.access).connect().await?;
    sweep(provider.as_ref(), args, store, events, older_than, now).await
}

/// Lists `provider`'s environments (one listing) and, with `--yes`, destroys the collected
/// ones, [`DESTROY_AT_ONCE`] at a time, each by its own dependency waves; one environment's
/// failure is its `action` and does not stop the others.
pub async fn sweep(
    provider: &dyn carto_core::Provider,
    args: &GcArgs,
    store: &StateStore,
    events: &dyn Events,
    older_than: Option<Duration>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Found>> {
    let tagged = provider
        .list_tagged(None)
        .await
        .context("listing resources tagged managed-by=carto-provision")?;
    let mut found = group(provider.cloud(), tagged);
    let shared = shared_names(&found);
    let mut doomed = Vec::new();
    for (i, (env, shared)) in found.iter_mut().zip(shared).enumerate() {
        if let Some(reason) = shared {
            env.action = reason;
            continue;
        }
        let included = args.include.contains(&env.env);
        match verdict(env, now, older_than, included) {
            Verdict::Keep(reason) => env.action = reason,
            Verdict::Collect(why) if !args.yes => env.action = why.into(),
            Verdict::Collect(_) => doomed.push(i),
        }
    }
    let outcomes: Vec<(usize, String)> = stream::iter(doomed)
        .map(|i| {
            let env = &found[i];
            async move {
                let action = match destroy(provider, store, env, events).await {
                    Ok(()) => "destroyed".into(),
                    Err(e) => format!("failed: {e:#}"),
                };
                (i, action)
            }
        })
        .buffer_unordered(DESTROY_AT_ONCE)
        .collect()
        .await;
    for (i, action) in outcomes {
        found[i].action = action;
    }
    Ok(found)
}

/// For each of `found`, why it is kept when another environment of the same cloud has its
/// name (told apart by nonce only, which is meant is for a person to say), else `None`.
pub fn shared_names(found: &[Found]) -> Vec<Option<String>> {
    found
        .iter()
        .map(|f| {
            let sharing = found
                .iter()
                .filter(|o| o.env == f.env && o.cloud == f.cloud)
                .count();
            (sharing > 1).then(|| match &f.nonce {
                Some(n) => format!(
                    "kept ({sharing} environments share this name: destroy {} --cloud {} --nonce {n})",
                    f.env, f.cloud
                ),
                None => format!(
                    "kept ({sharing} environments share this name; these resources carry no carto-nonce)"
                ),
            })
        })
        .collect()
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
        Some(state)
            if state.cloud == found.cloud
                && found.nonce.as_ref().is_none_or(|n| *n == state.nonce) =>
        {
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
        "{:<6} {:<28} {:<16} {:>8} {:<21} {:<21} {:>9}  {}\n",
        "CLOUD", "ENVIRONMENT", "NONCE", "AGE", "CREATED", "EXPIRES", "RESOURCES", "ACTION"
    );
    let time = |t: Option<DateTime<Utc>>| {
        t.map_or("-".to_string(), |t| {
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
    };
    for f in found {
        let age = f.age(now).map_or("unknown".to_string(), human);
        out.push_str(&format!(
            "{:<6} {:<28} {:<16} {:>8} {:<21} {:<21} {:>9}  {}\n",
            f.cloud.as_str(),
            f.env,
            f.nonce.as_deref().unwrap_or("-"),
            age,
            time(f.created),
            time(f.expires),
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

    fn tagged(env: &str, id: &str, created: Option<&str>, expires: Option<i64>) -> TaggedResource {
        TaggedResource {
            resource: ResourceRef::new(ResourceKind::Vm, id, id, "r"),
            env: env.into(),
            created: created.and_then(carto_core::parse_time),
            expires,
            nonce: None,
        }
    }

    #[test]
    fn resources_group_by_environment_with_the_oldest_time() {
        let found = group(
            Cloud::Aws,
            vec![
                tagged("a", "1", Some("2026-11-27T10:00:00Z"), None),
                tagged("b", "2", None, None),
                tagged("a", "3", Some("2026-11-26T10:00:00Z"), None),
                tagged("", "4", Some("2020-01-01T00:00:00Z"), None),
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
            table.contains("1d0h") && table.contains("unknown") && table.contains("EXPIRES"),
            "{table}"
        );
    }

    #[test]
    fn two_environments_of_one_name_are_told_apart_and_never_collected() {
        let twin = |id: &str, nonce: &str| TaggedResource {
            nonce: Some(nonce.into()),
            ..tagged("e", id, None, Some(100))
        };
        let found = group(
            Cloud::Aws,
            vec![
                twin("1", "n1"),
                twin("2", "n2"),
                twin("3", "n1"),
                tagged("f", "4", None, None),
            ],
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].nonce.as_deref(), Some("n1"));
        assert_eq!(found[0].resources.len(), 2);
        let shared = shared_names(&found);
        assert!(
            shared[0]
                .as_deref()
                .is_some_and(|r| r.contains("--nonce n1")),
            "{shared:?}"
        );
        assert!(
            shared[1]
                .as_deref()
                .is_some_and(|r| r.contains("--nonce n2"))
        );
        assert_eq!(shared[2], None);
        assert!(render(&found, Utc::now()).contains("n2"));
    }

    #[test]
    fn an_environment_expires_only_when_every_resource_says_so_and_at_the_latest() {
        let found = group(
            Cloud::Gcp,
            vec![
                tagged("all", "1", None, Some(100)),
                tagged("all", "2", None, Some(200)),
                tagged("part", "3", None, Some(100)),
                tagged("part", "4", None, None),
            ],
        );
        assert_eq!(found[0].expires, DateTime::from_timestamp(200, 0));
        assert_eq!(found[1].expires, None, "a resource without expiry: no ttl");
    }

    #[test]
    fn only_expired_or_named_environments_are_collected() {
        let now: DateTime<Utc> = "2026-11-27T10:00:00Z".parse().unwrap();
        let env = |created_h_ago: i64, expires_h: Option<i64>| Found {
            cloud: Cloud::Aws,
            env: "e".into(),
            nonce: None,
            created: Some(now - chrono::Duration::hours(created_h_ago)),
            expires: expires_h.map(|h| now + chrono::Duration::hours(h)),
            resources: Vec::new(),
            action: String::new(),
        };
        let day = Some(Duration::from_secs(86_400));
        let keep = |why: &str| Verdict::Keep(why.to_string());
        // Production: old, no ttl.
        assert_eq!(
            verdict(&env(48, None), now, None, false),
            keep("kept (no ttl)")
        );
        assert_eq!(
            verdict(&env(48, None), now, day, false),
            keep("kept (no ttl)")
        );
        assert_eq!(
            verdict(&env(48, None), now, None, true),
            Verdict::Collect("included")
        );
        // A ttl not reached yet, then passed.
        assert_eq!(verdict(&env(48, Some(1)), now, None, false), keep("kept"));
        assert_eq!(
            verdict(&env(2, Some(-1)), now, None, false),
            Verdict::Collect("expired")
        );
        // --older-than filters even expired and named ones.
        assert_eq!(
            verdict(&env(2, Some(-1)), now, day, true),
            keep("kept (younger than 1d0h)")
        );
        assert_eq!(
            verdict(&env(30, Some(-1)), now, day, false),
            Verdict::Collect("expired")
        );
        let unknown_age = Found {
            created: None,
            ..env(0, Some(-1))
        };
        assert_eq!(
            verdict(&unknown_age, now, day, false),
            keep("kept (younger than 1d0h)"),
            "unknown age never passes --older-than"
        );
    }
}
