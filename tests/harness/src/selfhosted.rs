//! Our stand-in for the carto-selfhosted repository as a bare git repository: the files under
//! `tests/fixtures/carto-selfhosted/` committed once per requested tag, each commit's `VERSION`
//! holding its tag, so the product can `git clone` and `git checkout <tag>` it inside the test
//! VM (see [`crate::vm::TestVm::install_repo`]).
//!
//! It only builds the repository on the host with the `git` command; it never contacts a remote.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The tags of the repository the e2e deployments clone: a release, its patch (the newest
/// release, which the product picks by default) and a newer release candidate (never picked).
pub const TEST_TAGS: &[&str] = &["2025.11.11", "2025.11.11-patch1", "2026.8.11-rc.1"];

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
    git(&work, &["init", "--quiet", "--initial-branch=main"])?;
    for tag in tags {
        fs::write(work.join("VERSION"), format!("{tag}\n"))?;
        fs::write(work.join("MIN_VERSION"), format!("{}\n", min_version(tag)))?;
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

/// The oldest customer package a release accepts, as in CARTO's repository: `2026.4.1` from
/// `2026.4.24` on, `2025.9.1` before.
pub fn min_version(tag: &str) -> &'static str {
    let release = tag.split('-').next().unwrap_or(tag);
    let parts: Vec<u32> = release.split('.').filter_map(|p| p.parse().ok()).collect();
    if parts >= vec![2026, 4, 24] {
        "2026.4.1"
    } else {
        "2025.9.1"
    }
}

/// Makes every tag of `bare` require a package of at least `min`, so the stand-in install.sh
/// prints `[ERROR]` (and still exits 0, as CARTO's does) for our 2025.10.1 package whichever
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
