//! The install step scripts run for real with a local `sh` and `git` (no SSH, no network):
//! clone + checkout of a tag from a repository in a temp dir, idempotent check, tag change,
//! and refusal when docker-compose.yml has local edits.

use super::*;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// Run a step's command locally; returns its output like the remote runner would.
fn sh(cmd: &Cmd) -> Output {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd.to_shell())
        .output()
        .expect("sh runs");
    Output {
        exit: out.status.code().map(|c| c as u32).unwrap_or(255),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn spec_for(repo: &Path, checkout: &Path, tag: &str) -> RemoteSpec {
    RemoteSpec {
        ssh_user: "u".into(),
        domain: "carto.example.com".into(),
        docker_source: DockerSource::Distro,
        docker_apt_url: String::new(),
        selfhosted_repo: repo.to_string_lossy().into(),
        selfhosted_version: tag.into(),
        selfhosted_source: None,
        files: vec![],
        checkout_dir: checkout.to_string_lossy().into(),
        verify_cert: false,
    }
}

fn check_and_apply(spec: &RemoteSpec) -> (Cmd, Cmd) {
    let step = prepare_steps(spec).remove(0);
    let apply = match &step.apply[0] {
        crate::remote::Action::Run(c) => c.clone(),
        other => panic!("unexpected {other:?}"),
    };
    (step.check.expect("checkout has a check"), apply)
}

#[test]
fn checkout_clones_switches_tags_and_refuses_local_compose_edits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("origin");
    std::fs::create_dir(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("docker-compose.yml"), "version: '2.4'\n").expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    git(&repo, &["tag", "2025.11.11"]);
    std::fs::write(repo.join("VERSION"), "2025.11.11-patch1\n").expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "two"]);
    git(&repo, &["tag", "2025.11.11-patch1"]);
    let checkout = tmp.path().join("home/carto-selfhosted");
    std::fs::create_dir_all(checkout.parent().expect("parent")).expect("mkdir");

    let (check, apply) = check_and_apply(&spec_for(&repo, &checkout, "2025.11.11"));
    assert_ne!(sh(&check).exit, 0, "nothing checked out yet");
    assert_eq!(checkout_judge(&sh(&apply)), Ok(()));
    assert_eq!(sh(&check).exit, 0, "at the tag now");
    assert!(!checkout.join("VERSION").exists());

    // Another tag on an existing checkout: fetch + checkout.
    let (check2, apply2) = check_and_apply(&spec_for(&repo, &checkout, "2025.11.11-patch1"));
    assert_ne!(sh(&check2).exit, 0);
    assert_eq!(checkout_judge(&sh(&apply2)), Ok(()));
    assert_eq!(sh(&check2).exit, 0);
    assert!(checkout.join("VERSION").exists());

    // Untracked package files do not disturb the check; compose edits do, and are refused.
    std::fs::write(checkout.join("customer.env"), "X=1\n").expect("write");
    assert_eq!(sh(&check2).exit, 0);
    std::fs::write(
        checkout.join("docker-compose.yml"),
        "version: '2.4'\n# mine\n",
    )
    .expect("write");
    assert_ne!(sh(&check2).exit, 0, "an edited compose file is not 'done'");
    let out = sh(&apply);
    let why = checkout_judge(&out).expect_err("refused");
    assert!(why.contains("local edits"), "{why}");
    assert!(
        out.stderr.contains("docker-compose.yml has local edits"),
        "{}",
        out.stderr
    );
    let kept = std::fs::read_to_string(checkout.join("docker-compose.yml")).expect("read");
    assert!(kept.contains("# mine"), "the edit was not overwritten");
}

#[test]
fn a_local_source_unpacks_and_then_counts_as_done() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    std::fs::write(src.join("install.sh"), "echo hi\n").expect("write");
    let tar = tar_source(&src).expect("tar");
    let checkout = tmp.path().join("carto-selfhosted");
    let spec = spec_for(&src, &checkout, "x");
    let step = source_step(&spec, &tar);
    let check = step.check.clone().expect("check");
    assert_ne!(sh(&check).exit, 0);
    // What the runner would do: upload, then the unpack command.
    let crate::remote::Action::Upload { path, contents, .. } = &step.apply[0] else {
        panic!("upload first")
    };
    std::fs::write(path, contents.expose()).expect("upload stand-in");
    let crate::remote::Action::Run(unpack) = &step.apply[1] else {
        panic!("then unpack")
    };
    assert_eq!(sh(unpack).exit, 0);
    assert_eq!(sh(&check).exit, 0);
    assert!(checkout.join("install.sh").exists());
    assert!(!Path::new(path).exists(), "the tarball is removed");
}
