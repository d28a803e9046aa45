//! The default carto-selfhosted release: the newest tag of the repository that is a release
//! (`YYYY.M.D` or `YYYY.M.D-patchN`, never `-rc.N`), asked on the VM with
//! `git ls-remote --tags`, because the VM is what clones the repository (and the only place
//! that may reach it). Owns the query (as data) and reading its answer; running it and
//! recording the tag belongs to `on_vm`.

use crate::package::Version;
use crate::remote::{Cmd, Output, RemoteError};

/// The state file key that holds the environment's release (a re-run reuses it).
pub const STATE_KEY: &str = "selfhosted_version";

/// `git ls-remote --tags --refs REPO`: one `<sha>\trefs/tags/<name>` line per tag.
pub fn ls_remote_tags(repo: &str) -> Cmd {
    Cmd::new("git")
        .args(["ls-remote", "--tags", "--refs"])
        .arg(repo)
}

/// The newest release among `ls-remote`'s lines, by version order (a `-patchN` follows its
/// release); release candidates and names that are not CARTO versions are skipped.
pub fn newest_release(ls_remote: &str) -> Option<Version> {
    ls_remote
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter_map(|r| r.strip_prefix("refs/tags/"))
        .map(|name| name.trim_end_matches("^{}"))
        .filter_map(|name| Version::parse(name).ok())
        .filter(|v| !v.is_release_candidate())
        .max()
}

/// Reads the answer of [`ls_remote_tags`]: the newest release, or an error naming the
/// repository and the way out.
pub fn judge(repo: &str, out: &Output) -> Result<Version, RemoteError> {
    let cmd = ls_remote_tags(repo);
    if out.exit != 0 {
        return Err(RemoteError::Failed {
            step: "find the newest carto-selfhosted release".into(),
            cmd: cmd.display(),
            exit: out.exit,
            why: format!(
                "the VM could not list the tags of {repo}; check that the VM reaches it, or pass --selfhosted-version"
            ),
            tail: out.tail(10),
        });
    }
    newest_release(&out.stdout).ok_or_else(|| RemoteError::Failed {
        step: "find the newest carto-selfhosted release".into(),
        cmd: cmd.display(),
        exit: 0,
        why: format!(
            "{repo} has no release tag (YYYY.M.D, release candidates excluded); pass --selfhosted-version"
        ),
        tail: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(tags: &[&str]) -> String {
        tags.iter()
            .enumerate()
            .map(|(i, t)| format!("{i:040x}\trefs/tags/{t}\n"))
            .collect()
    }

    #[test]
    fn the_query_is_plain_argv() {
        assert_eq!(
            ls_remote_tags("https://git.invalid/carto-selfhosted.git").to_shell(),
            "git ls-remote --tags --refs https://git.invalid/carto-selfhosted.git"
        );
    }

    #[test]
    fn newest_release_sorts_as_versions_and_skips_release_candidates() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (
                &["2025.11.11", "2026.7.16", "2026.8.11-rc.1"],
                Some("2026.7.16"),
            ),
            // Not text order: 2026.10.1 is newer than 2026.9.30.
            (&["2026.9.30", "2026.10.1", "2026.2.1"], Some("2026.10.1")),
            (
                &["2025.11.11", "2025.11.11-patch1"],
                Some("2025.11.11-patch1"),
            ),
            (
                &[
                    "2025.11.11-patch1",
                    "2025.11.11-patch10",
                    "2025.11.11-patch2",
                ],
                Some("2025.11.11-patch10"),
            ),
            (&["2026.8.11-rc.1", "2026.8.11-rc.2"], None),
            (
                &["v2027.1.1", "latest", "2026.3.10", "2026.3.10^{}"],
                Some("2026.3.10"),
            ),
            (&[], None),
        ];
        for (tags, want) in cases {
            let got = newest_release(&lines(tags)).map(|v| v.to_string());
            assert_eq!(got.as_deref(), *want, "{tags:?}");
        }
    }

    #[test]
    fn judge_names_the_repository_and_the_flag() {
        let repo = "file:///srv/carto-selfhosted.git";
        let ok = Output::new(0, &lines(&["2025.11.11", "2026.4.24-rc.1"]), "");
        assert_eq!(judge(repo, &ok).unwrap().to_string(), "2025.11.11");
        let none = Output::new(0, &lines(&["2026.4.24-rc.1"]), "");
        let msg = judge(repo, &none).unwrap_err().to_string();
        assert!(
            msg.contains(repo) && msg.contains("--selfhosted-version"),
            "{msg}"
        );
        let failed = Output::new(128, "", "fatal: could not read from remote repository");
        let msg = judge(repo, &failed).unwrap_err().to_string();
        assert!(
            msg.contains("could not list the tags") && msg.contains("exit 128"),
            "{msg}"
        );
    }
}
