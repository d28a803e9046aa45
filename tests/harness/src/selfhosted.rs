//! Our stand-in for the carto-selfhosted repository as a bare git repository: the files under
//! `tests/fixtures/carto-selfhosted/` committed once per requested tag, each commit's `VERSION`
//! holding its tag, so the product can `git clone` and `git checkout <tag>` it inside the test
//! VM (see [`crate::vm::TestVm::install_repo`]). The fixture has the newest shape; older tags
//! get the shape CARTO's had then ([`shape_for`]): `redis` before it became `valkey` in
//! 2026.4.24, and plain `2025.11.11`'s crash-looping `cdn-invalidator-sub`.
//!
//! It only builds the repository on the host with the `git` command; it never contacts a remote.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::vm::TestVm;

/// The tags of the repository the e2e deployments clone, as CARTO's were shaped: a release
/// whose `cdn-invalidator-sub` crash-loops, its patch, a newer release that renamed `redis`
/// to `valkey` ([`NEWEST_RELEASE`], which the product picks by default) and a newer release
/// candidate (never picked).
pub const TEST_TAGS: &[&str] = &[
    "2025.11.11",
    "2025.11.11-patch1",
    NEWEST_RELEASE,
    "2026.8.11-rc.1",
];

/// The newest release of [`TEST_TAGS`]: what a deployment without `--selfhosted-version` runs.
pub const NEWEST_RELEASE: &str = "2026.7.16";

/// The customer package version of the e2e deployments: accepted by every release of
/// [`TEST_TAGS`] (each tag's [`min_version`] is at most this).
pub const PACKAGE_VERSION: &str = "2026.4.1";

/// The fixture directory (our own files, keeping CARTO's contract).
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/carto-selfhosted")
}

/// Makes `dest/carto-selfhosted.git`, a bare repository with one commit per tag (in the given
/// order, so the last tag is the newest commit on `main`), and returns its path. Each tag's
/// `VERSION` is the tag and its `MIN_VERSION` the one CARTO ships with it ([`min_version`]).
/// Any existing repository at that path is replaced.
pub fn bare_repo(dest: &Path, tags: &[&str]) -> io::Result<PathBuf> {
    if tags.is_empty() {
        return Err(io::Error::other("bare_repo needs at least one tag"));
    }
    fs::create_dir_all(dest)?;
    let work = dest.join("carto-selfhosted.work");
    let bare = dest.join("carto-selfhosted.git");
    for dir in [&work, &bare] {
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
    }
    copy_tree(&fixture_dir(), &work)?;
    let compose = fs::read_to_string(work.join(COMPOSE))?;
    let env_tpl = fs::read_to_string(work.join(ENV_TPL))?;
    git(&work, &["init", "--quiet", "--initial-branch=main"])?;
    for tag in tags {
        fs::write(work.join("VERSION"), format!("{tag}\n"))?;
        fs::write(work.join("MIN_VERSION"), format!("{}\n", min_version(tag)))?;
        let (compose, env_tpl) = shape_for(tag, &compose, &env_tpl)?;
        fs::write(work.join(COMPOSE), compose)?;
        fs::write(work.join(ENV_TPL), env_tpl)?;
        git(&work, &["add", "--all"])?;
        git(
            &work,
            &[
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                &format!("Release {tag}"),
            ],
        )?;
        git(&work, &["tag", tag])?;
    }
    let parent = dest.to_string_lossy().into_owned();
    git(
        Path::new(&parent),
        &[
            "clone",
            "--quiet",
            "--bare",
            "carto-selfhosted.work",
            "carto-selfhosted.git",
        ],
    )?;
    fs::remove_dir_all(&work)?;
    Ok(bare)
}

const COMPOSE: &str = "docker-compose.yml";
const ENV_TPL: &str = "env.tpl";

/// The fixture's `valkey` service (2026.4.24 on) and the `redis` one it replaced.
const VALKEY_SERVICE: &str = "  valkey:
    image: ${VALKEY_DOCKER_IMAGE}
    env_file: .env
    scale: ${LOCAL_REDIS_SCALE}
    networks:
      default:
        aliases:
          - redis
";
const REDIS_SERVICE: &str = "  redis:
    image: ${REDIS_DOCKER_IMAGE}
    env_file: .env
    scale: ${LOCAL_REDIS_SCALE}
";
/// `cdn-invalidator-sub` as the fixture has it, and plain 2025.11.11's, whose command names a
/// program path that does not exist (python3 exits 2; `restart: unless-stopped` loops).
const CDN_SERVICE: &str = "  cdn-invalidator-sub:
    image: ${CDN_INVALIDATOR_SUB_DOCKER_IMAGE}
";
const CDN_SERVICE_BROKEN: &str = "  cdn-invalidator-sub:
    image: ${CDN_INVALIDATOR_SUB_DOCKER_IMAGE}
    command: [\"python3\", \"-u\", \"/app/cdn-invalidator-sub.py\"]
";

/// The fixture's compose file and env.tpl as release `tag` had them (see the module doc).
pub fn shape_for(tag: &str, compose: &str, env_tpl: &str) -> io::Result<(String, String)> {
    let replace = |text: &str, from: &str, to: &str| {
        if text.contains(from) {
            Ok(text.replacen(from, to, 1))
        } else {
            Err(io::Error::other(format!(
                "the stand-in fixture no longer has {from:?}: update selfhosted::shape_for"
            )))
        }
    };
    let (mut compose, mut env_tpl) = (compose.to_string(), env_tpl.to_string());
    if cache_service(tag) == "redis" {
        compose = replace(&compose, VALKEY_SERVICE, REDIS_SERVICE)?;
        env_tpl = replace(
            &env_tpl,
            "VALKEY_DOCKER_IMAGE=${DOCKER_REGISTRY_BASE_PATH}/valkey:",
            "REDIS_DOCKER_IMAGE=${DOCKER_REGISTRY_BASE_PATH}/redis:",
        )?;
    }
    if tag == "2025.11.11" {
        compose = replace(&compose, CDN_SERVICE, CDN_SERVICE_BROKEN)?;
    }
    Ok((compose, env_tpl))
}

/// The 17 services of the stand-in at `tag`, sorted: `redis` before 2026.4.24, `valkey` on.
pub fn services(tag: &str) -> Vec<&'static str> {
    let cache = cache_service(tag);
    let mut all = vec![
        "accounts-www",
        "cdn-invalidator-sub",
        "http-cache",
        "import-api",
        "import-worker",
        "lds-api",
        "maps-api",
        "notifier",
        cache,
        "router-http",
        "router-metrics",
        "sql-worker",
        "workspace-api",
        "workspace-migrations",
        "workspace-postgres",
        "workspace-subscriber",
        "workspace-www",
    ];
    all.sort();
    all
}

/// The images a deployment of `tag` pulls from the harness registry, as `repository:tag`,
/// sorted: one per image (services sharing one pull it once) and the embedded Postgres.
pub fn pulled_images(tag: &str) -> Vec<String> {
    let cache = cache_service(tag);
    let mut all: Vec<String> = [
        "accounts-www",
        "cdn-invalidator-sub",
        "http-cache",
        "import-api",
        "lds-api",
        "maps-api",
        "notifier",
        cache,
        "router/router-http",
        "router/router-metrics",
        "workspace-api",
        "workspace-migrations",
        "workspace-www",
    ]
    .iter()
    .map(|image| format!("carto-onprem-artifacts/{image}:{tag}"))
    .chain(["carto-onprem-artifacts/postgres:13.2-alpine".to_string()])
    .collect();
    all.sort();
    all
}

/// The cache service (and its image) at `tag`: `redis`, renamed `valkey` in 2026.4.24.
fn cache_service(tag: &str) -> &'static str {
    if release_of(tag) < vec![2026, 4, 24] {
        "redis"
    } else {
        "valkey"
    }
}

/// Panics unless every service of the stand-in at `tag` runs in `vm` (workspace-migrations
/// exited 0), none has restarted, no other container exists, and every image came from the
/// harness registry at that tag, each once.
pub fn assert_every_service_up_from_the_registry(vm: &TestVm, tag: &str) {
    assert_every_service_up(vm, tag);
    assert_eq!(vm.registry_pulls().unwrap(), pulled_images(tag));
}

/// Panics unless every service of the stand-in at `tag` runs in `vm` (workspace-migrations
/// exited 0), none has restarted, and no other container exists (none of another release).
pub fn assert_every_service_up(vm: &TestVm, tag: &str) {
    let format = "{{index .Config.Labels \"com.docker.compose.service\"}} {{.State.Status}} \
                  {{.State.ExitCode}} {{.RestartCount}}";
    let out = vm
        .exec_root(&[
            "sh",
            "-c",
            &format!("docker inspect --format '{format}' $(docker ps -aq)"),
        ])
        .expect("docker inspect in the VM");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut states: Vec<&str> = text.lines().collect();
    states.sort();
    let expected: Vec<String> = services(tag)
        .into_iter()
        .map(|s| match s {
            "workspace-migrations" => format!("{s} exited 0 0"),
            _ => format!("{s} running 0 0"),
        })
        .collect();
    assert_eq!(states, expected, "{}", String::from_utf8_lossy(&out.stderr));
}

/// The release part of a tag as numbers (`2025.11.11-patch1` → `[2025, 11, 11]`).
fn release_of(tag: &str) -> Vec<u32> {
    let release = tag.split('-').next().unwrap_or(tag);
    release.split('.').filter_map(|p| p.parse().ok()).collect()
}

/// The oldest customer package a release accepts, as in CARTO's repository: `2026.4.1` from
/// `2026.4.24` on, `2025.9.1` before.
pub fn min_version(tag: &str) -> &'static str {
    if release_of(tag) >= vec![2026, 4, 24] {
        "2026.4.1"
    } else {
        "2025.9.1"
    }
}

/// Makes every tag of `bare` require a package of at least `min`, so the stand-in install.sh
/// prints `[ERROR]` (and still exits 0, as CARTO's does) for a [`PACKAGE_VERSION`] package whichever
/// release the product picks.
pub fn raise_min_version(bare: &Path, min: &str) -> io::Result<()> {
    let work = bare.with_extension("retag");
    let parent = bare.parent().unwrap_or(Path::new("/"));
    let (bare_s, work_s) = (bare.display().to_string(), work.display().to_string());
    git(parent, &["clone", "--quiet", &bare_s, &work_s])?;
    let tags = git_output(&work, &["tag", "--list"])?;
    for tag in tags.lines().map(str::trim).filter(|t| !t.is_empty()) {
        git(
            &work,
            &[
                "-c",
                "advice.detachedHead=false",
                "checkout",
                "--quiet",
                tag,
            ],
        )?;
        fs::write(work.join("MIN_VERSION"), format!("{min}\n"))?;
        git(&work, &["commit", "--quiet", "-am", "stricter MIN_VERSION"])?;
        git(&work, &["tag", "-f", tag])?;
    }
    git(&work, &["push", "--quiet", "--force", "origin", "--tags"])?;
    fs::remove_dir_all(&work)
}

/// Copies the fixture, keeping the executable bit, and skipping what the fixture's own
/// .gitignore ignores (a developer's local .env, certs/, customer.env, key.json).
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if is_ignored(&name_str) {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn is_ignored(name: &str) -> bool {
    name == ".env" || name == "certs" || name == "key.json" || name.starts_with("customer.env")
}

fn git(dir: &Path, args: &[&str]) -> io::Result<()> {
    git_output(dir, args).map(drop)
}

fn git_output(dir: &Path, args: &[&str]) -> io::Result<String> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=carto-provision tests"])
        .args(["-c", "user.email=tests@carto-provision.invalid"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2025-11-11T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-11-11T00:00:00Z")
        .stdin(Stdio::null())
        .output()?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(io::Error::other(format!(
            "git {} in {} failed ({}): {}",
            args.join(" "),
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_out(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn min_version_follows_carto() {
        assert_eq!(min_version("2025.11.11"), "2025.9.1");
        assert_eq!(min_version("2025.11.11-patch1"), "2025.9.1");
        assert_eq!(min_version("2026.4.23"), "2025.9.1");
        assert_eq!(min_version("2026.4.24"), "2026.4.1");
        assert_eq!(min_version("2026.4.24-rc.1"), "2026.4.1");
        assert_eq!(min_version("2026.7.16"), "2026.4.1");
    }

    #[test]
    fn the_e2e_package_is_new_enough_for_every_test_tag() {
        for tag in TEST_TAGS {
            assert!(
                release_of(min_version(tag)) <= release_of(PACKAGE_VERSION),
                "{tag} needs {} > {PACKAGE_VERSION}",
                min_version(tag)
            );
        }
        let releases: Vec<&&str> = TEST_TAGS.iter().filter(|t| !t.contains("-rc.")).collect();
        assert_eq!(releases.last(), Some(&&NEWEST_RELEASE));
    }

    #[test]
    fn older_tags_have_redis_and_2025_11_11_its_broken_command() {
        let dir = fixture_dir();
        let compose = fs::read_to_string(dir.join(COMPOSE)).unwrap();
        let env_tpl = fs::read_to_string(dir.join(ENV_TPL)).unwrap();
        let (newest, newest_env) = shape_for("2026.7.16", &compose, &env_tpl).unwrap();
        assert_eq!(
            (newest.as_str(), newest_env.as_str()),
            (compose.as_str(), env_tpl.as_str())
        );
        let (patch, patch_env) = shape_for("2025.11.11-patch1", &compose, &env_tpl).unwrap();
        assert!(
            patch.contains(REDIS_SERVICE) && !patch.contains("valkey"),
            "{patch}"
        );
        assert!(patch_env.contains("REDIS_DOCKER_IMAGE=") && !patch_env.contains("VALKEY"));
        assert!(!patch.contains("/app/cdn-invalidator-sub.py"));
        let (plain, _) = shape_for("2025.11.11", &compose, &env_tpl).unwrap();
        assert!(plain.contains(CDN_SERVICE_BROKEN), "{plain}");
    }

    #[test]
    fn each_tag_carries_its_version() {
        let tmp = std::env::temp_dir().join(format!("selfhosted-bare-{}", std::process::id()));
        let bare = bare_repo(&tmp, &["2025.11.11", "2026.7.16"]).unwrap();
        let tags = git_out(&bare, &["tag", "--list"]);
        assert_eq!(
            tags.lines().collect::<Vec<_>>(),
            ["2025.11.11", "2026.7.16"]
        );
        for (tag, expected_min) in [("2025.11.11", "2025.9.1"), ("2026.7.16", "2026.4.1")] {
            let version = git_out(&bare, &["show", &format!("{tag}:VERSION")]);
            assert_eq!(version.trim(), tag);
            let min = git_out(&bare, &["show", &format!("{tag}:MIN_VERSION")]);
            assert_eq!(min.trim(), expected_min);
        }
        let files = git_out(&bare, &["ls-tree", "-r", "--name-only", "2025.11.11"]);
        for needed in ["install.sh", "docker-compose.yml", "env.tpl", ".gitignore"] {
            assert!(
                files.lines().any(|f| f == needed),
                "{needed} missing: {files}"
            );
        }
        assert!(
            !files
                .lines()
                .any(|f| f == ".env" || f.starts_with("certs/"))
        );
        fs::remove_dir_all(&tmp).unwrap();
    }
}
