//! Lifecycle of the binary against moto, without a VM: Ctrl-C while waiting (exit 130, the
//! resume and destroy commands printed; a stop during a write is the pipeline's test), destroy without state or `--cloud`, `gc`, and resources of others. Resume after a
//! failure at every cloud call is the pipeline's test (`tests/pipeline`); a kill of the binary
//! on every cloud is `lifecycle_clouds.rs`; the boundaries after the VM answers are killed in
//! the e2e chain (`tests/e2e/lifecycle.rs`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use carto_harness::vm::TestVm;

use crate::common::{Cloud, Output, cli, deploy_args, wait_or_kill};

const DOMAIN: &str = "carto.example.test";

/// moto handing out an address nothing listens on, the package and a state folder.
struct Fixture {
    cloud: Cloud,
    _tmp: tempfile::TempDir,
    pkg: PathBuf,
    state_dir: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let cloud = Cloud::start(TestVm::next_address().expect("a free test address"));
        let tmp = tempfile::tempdir().expect("tempdir");
        let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[])
            .expect("package");
        let state_dir = tmp.path().join("state");
        Fixture {
            cloud,
            _tmp: tmp,
            pkg,
            state_dir,
        }
    }

    /// `aws --name ENV …` for `domain`, dying at `die_at` when given.
    fn deploy(&self, env: &str, domain: &str, die_at: Option<&str>) -> Output {
        let mut cmd = cli(&self.state_dir)
            .arg("aws")
            .args(deploy_args(domain, &self.pkg, &self.cloud.endpoint()))
            .args(["--name", env, "--ssh-timeout", "60"]);
        if let Some(point) = die_at {
            cmd = cmd.env("CARTO_PROVISION_DIE_AT", point);
        }
        cmd.run()
    }

    fn state_file(&self, env: &str) -> PathBuf {
        self.state_dir.join(format!("{env}.json"))
    }

    /// `destroy ENV --cloud aws` (through moto's endpoint).
    fn destroy_by_tag(&self, env: &str) -> Output {
        cli(&self.state_dir)
            .args(["destroy", env, "--cloud", "aws", "--region", "us-east-1"])
            .env("CARTO_PROVISION_AWS_ENDPOINT_URL", self.cloud.endpoint())
            .run()
    }
}

/// Killed by SIGKILL: the harness reports no exit code.
fn assert_killed(out: &Output, point: &str) {
    assert_eq!(out.code, -1, "the run was not killed at {point}: {out:#?}");
}

/// `aws --name ENV …` through `endpoint`, in the background (for signals).
fn spawn(f: &Fixture, env: &str, endpoint: &str) -> Child {
    cli(&f.state_dir)
        .arg("aws")
        .args(deploy_args(DOMAIN, &f.pkg, endpoint))
        .args(["--name", env, "--ssh-timeout", "120"])
        .spawn()
}

/// Waits until `ready` holds for the state file's JSON (by polling it).
fn wait_state(path: &Path, what: &str, ready: impl Fn(&serde_json::Value) -> bool) {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
            && ready(&json)
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "state never showed {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGINT to `child` and waits (at most `limit`) for it to end; returns code and stderr.
fn interrupt(mut child: Child, limit: Duration) -> (i32, String) {
    // SAFETY: kill(2) with a child's PID and a constant signal.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = wait_or_kill(&mut child, limit);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    (status.code().unwrap_or(-1), err)
}

/// Ctrl-C while the run waits for SSH: it stops at once with 130, says how to resume and how
/// to destroy, and `destroy` then removes everything.
#[test]
fn ctrl_c_while_waiting_stops_with_130_and_the_commands() {
    let f = Fixture::new();
    let child = spawn(&f, "sigint-wait", &f.cloud.endpoint());
    // Infra done (and dns, beside bootstrap): the run now waits for SSH, which never answers.
    wait_state(&f.state_file("sigint-wait"), "the infra step done", |s| {
        s["step"] == "infra" || s["step"] == "dns"
    });
    let (code, err) = interrupt(child, Duration::from_secs(15));
    assert_eq!(code, 130, "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("run the same command again to resume")
            && last.contains(" aws --domain carto.example.test --package ")
            && last.contains("carto-provision destroy sigint-wait --state-dir ")
            && last.contains("interrupted"),
        "{last}"
    );
    let out = cli(&f.state_dir).args(["destroy", "sigint-wait"]).run();
    out.expect_code(0);
    assert!(f.cloud.counts().is_empty(), "{:?}", f.cloud.counts());
}

/// Without a state file, `destroy` needs `--cloud`, and says so.
#[test]
fn destroy_without_state_needs_the_cloud() {
    let f = Fixture::new();
    let out = cli(&f.state_dir).args(["destroy", "nothing-here"]).run();
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("no state file for environment nothing-here")
            && out.stderr.contains("--cloud aws|gcp|azure"),
        "{out:#?}"
    );
}

/// Four environments: `gc-prod` 48 h old without a ttl (production), `gc-late` with a ttl of
/// 8 h, `gc-due` with a ttl of 1 s, and `gc-due-old` with a ttl of 1 s and 48 h old (its
/// `carto-created` tag); plus a security group tagged with an environment but not managed by
/// us. `gc` lists them and deletes nothing; `gc --older-than 24h --yes` takes only the old
/// expired one; `gc --yes` the other expired one and never production; `--include` names
/// production explicitly.
#[test]
fn gc_collects_only_expired_or_named_environments() {
    let f = Fixture::new();
    let now = chrono::Utc::now().timestamp();
    for (env, ttl, hours_old) in [
        ("gc-prod", None, 48),
        ("gc-late", Some("8h"), 0),
        ("gc-due", Some("1s"), 0),
        ("gc-due-old", Some("1s"), 48),
    ] {
        let domain = format!("{env}.example.test");
        let mut cmd = cli(&f.state_dir)
            .arg("aws")
            .args(deploy_args(&domain, &f.pkg, &f.cloud.endpoint()))
            .args(["--name", env, "--ssh-timeout", "60"])
            .env("CARTO_PROVISION_DIE_AT", "recorded:vm");
        if let Some(ttl) = ttl {
            cmd = cmd.args(["--ttl", ttl]);
        }
        assert_killed(&cmd.run(), "recorded:vm");
        let ids: Vec<String> = f.cloud.managed(env).into_iter().map(|(_, id)| id).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let expiring = f
            .cloud
            .must("tags", f.cloud.aws.managed_with_key(env, "carto-expires"));
        assert_eq!(
            expiring.len(),
            if ttl.is_some() { ids.len() } else { 0 },
            "{env}: carto-expires on every resource exactly when --ttl was given"
        );
        if hours_old > 0 {
            let created = (now - hours_old * 3600).to_string();
            f.cloud.must(
                "retag",
                f.cloud.aws.set_tag(&ids, "carto-created", &created),
            );
        }
    }
    let foreign = f.cloud.must(
        "foreign group",
        f.cloud
            .aws
            .create_security_group("not-ours", &[("carto-env", "gc-due")]),
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let gc = |args: &[&str]| {
        cli(&f.state_dir)
            .args(["gc", "--clouds", "aws"])
            .args(args.iter().copied())
            .env("CARTO_PROVISION_AWS_ENDPOINT_URL", f.cloud.endpoint())
            .run()
    };
    let action = |out: &Output, env: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(env))
            .unwrap_or_else(|| panic!("{env} not listed: {}", out.stdout))
            .to_string()
    };
    let count = |env: &str| f.cloud.managed(env).len();
    let all = ["gc-prod", "gc-late", "gc-due", "gc-due-old"];

    let listed = gc(&[]);
    listed.expect_code(0);
    assert!(
        action(&listed, "gc-prod").ends_with("kept (no ttl)"),
        "{}",
        listed.stdout
    );
    assert!(
        action(&listed, "gc-prod").contains("2d0h"),
        "{}",
        listed.stdout
    );
    assert!(
        action(&listed, "gc-late").ends_with(" kept"),
        "{}",
        listed.stdout
    );
    assert!(
        action(&listed, "gc-due").ends_with("expired"),
        "{}",
        listed.stdout
    );
    assert!(
        action(&listed, "gc-due-old").ends_with("expired"),
        "{}",
        listed.stdout
    );
    for env in all {
        assert_eq!(count(env), 5, "{env} touched by a listing gc");
    }

    gc(&["--older-than", "24h", "--yes"]).expect_code(0);
    assert_eq!(count("gc-due-old"), 0, "gc-due-old left");
    assert_eq!(count("gc-due"), 5, "gc-due is younger than --older-than");
    assert!(!f.state_file("gc-due-old").exists());

    let swept = gc(&["--yes"]);
    swept.expect_code(0);
    assert_eq!(count("gc-due"), 0, "gc-due left");
    assert_eq!(count("gc-prod"), 5, "production (no ttl) was touched");
    assert_eq!(
        count("gc-late"),
        5,
        "an environment before its expiry was touched"
    );
    assert!(f.state_file("gc-prod").exists() && f.state_file("gc-late").exists());

    gc(&["--yes", "--include", "gc-prod"]).expect_code(0);
    assert_eq!(count("gc-prod"), 0, "--include gc-prod left it");
    assert_eq!(count("gc-late"), 5, "gc-late touched");
    let missing = gc(&["--include", "gc-gone"]);
    missing.expect_code(1);
    assert!(missing.stderr.contains("--include gc-gone"), "{missing:#?}");
    let groups = f
        .cloud
        .must("groups", f.cloud.aws.ec2("Action=DescribeSecurityGroups"));
    assert!(groups.contains(&foreign), "the unmanaged group was deleted");
}

/// Someone else's A record at the domain (the hazard, issue 10): the deployment stops in
/// preflight with exit 2, naming the record and its value, and creates nothing; with
/// `--take-over-dns` it replaces the record, the state file keeps the old value, and `destroy`
/// puts it back.
#[test]
fn a_record_someone_else_holds_is_taken_only_when_asked_and_comes_back() {
    let f = Fixture::new();
    let (domain, theirs) = ("shop.example.test", "192.0.2.44");
    f.cloud.must(
        "their record",
        f.cloud
            .aws
            .create_record(&f.cloud.zone_id, "shop.example.test.", "A", theirs),
    );
    let shop_records = || {
        let all = f
            .cloud
            .must("records", f.cloud.aws.a_records(&f.cloud.zone_id));
        all.into_iter()
            .filter(|(name, _)| name == "shop.example.test.")
            .map(|(_, ip)| ip)
            .collect::<Vec<_>>()
    };
    let deploy = |extra: &[&str]| {
        cli(&f.state_dir)
            .arg("aws")
            .args(deploy_args(domain, &f.pkg, &f.cloud.endpoint()))
            .args(["--name", "shop", "--ssh-timeout", "60"])
            .args(extra.iter().copied())
            .env("CARTO_PROVISION_DIE_AT", "recorded:dns-record")
            .run()
    };

    let refused = deploy(&[]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains(&format!("A {theirs}"))
            && refused.stderr.contains("--take-over-dns"),
        "{refused:#?}"
    );
    assert!(
        f.cloud.managed("shop").is_empty(),
        "created before refusing"
    );
    assert!(!f.state_file("shop").exists());
    assert_eq!(shop_records(), [theirs]);

    assert_killed(&deploy(&["--take-over-dns"]), "recorded:dns-record");
    let ours = shop_records();
    assert!(ours.len() == 1 && ours[0] != theirs, "{ours:?}");
    let state = std::fs::read_to_string(f.state_file("shop")).expect("state");
    assert!(
        state.contains(theirs),
        "the replaced value is not in the state: {state}"
    );

    cli(&f.state_dir)
        .args(["destroy", "shop"])
        .env("CARTO_PROVISION_AWS_ENDPOINT_URL", f.cloud.endpoint())
        .run()
        .expect_code(0);
    assert_eq!(shop_records(), [theirs], "their record was not put back");
    assert!(f.cloud.managed("shop").is_empty());
}

/// Ownership: a security group of the environment's name made by hand stops the deployment
/// (exit 2, naming it, nothing created); a second machine deploying the same name (its own
/// nonce) is refused too; and `destroy --cloud` without a state file refuses when two
/// environments share the name (listing both nonces) until `--nonce` picks one, which
/// deletes only that one's resources.
#[test]
fn a_name_someone_else_holds_is_never_adopted_and_twins_need_a_nonce() {
    let f = Fixture::new();
    let theirs = f.cloud.must(
        "their group",
        f.cloud
            .aws
            .create_security_group("carto-hand-sg", &[("team", "payments")]),
    );
    let refused = f.deploy("hand", DOMAIN, None);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("carto-hand-sg")
            && refused.stderr.contains(&theirs)
            && refused.stderr.contains("not made by carto-provision"),
        "{refused:#?}"
    );
    assert!(
        f.cloud.managed("hand").is_empty(),
        "created before refusing"
    );
    assert!(!f.state_file("hand").exists());

    // Killed once the VM is recorded: the key, the group and the address (made at once) all
    // exist, whichever finished first.
    assert_killed(
        &f.deploy("twin", DOMAIN, Some("recorded:vm")),
        "recorded:vm",
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.state_file("twin")).expect("state"))
            .expect("json");
    let ours = state["nonce"].as_str().expect("nonce").to_string();
    let other_machine = f.state_dir.with_file_name("other-machine");
    let second = cli(&other_machine)
        .arg("aws")
        .args(deploy_args(DOMAIN, &f.pkg, &f.cloud.endpoint()))
        .args(["--name", "twin", "--ssh-timeout", "60"])
        .run();
    second.expect_code(2);
    assert!(
        second.stderr.contains(&format!("carto-nonce {ours}")),
        "{second:#?}"
    );

    let address = f
        .cloud
        .managed("twin")
        .into_iter()
        .find(|(kind, _)| *kind == "address")
        .expect("the address")
        .1;
    f.cloud.must(
        "retag",
        f.cloud
            .aws
            .set_tag(&[&address], "carto-nonce", "0000000000000042"),
    );
    std::fs::remove_file(f.state_file("twin")).expect("state file");
    let before = f.cloud.managed("twin");
    assert!(before.len() >= 2, "{before:?}");
    let ambiguous = f.destroy_by_tag("twin");
    ambiguous.expect_code(2);
    assert!(
        ambiguous.stderr.contains(&ours)
            && ambiguous.stderr.contains("0000000000000042")
            && ambiguous.stderr.contains("--nonce"),
        "{ambiguous:#?}"
    );
    assert_eq!(f.cloud.managed("twin"), before, "deleted while refusing");

    let picked = cli(&f.state_dir)
        .args(["destroy", "twin", "--cloud", "aws", "--region", "us-east-1"])
        .args(["--nonce", &ours])
        .env("CARTO_PROVISION_AWS_ENDPOINT_URL", f.cloud.endpoint())
        .run();
    picked.expect_code(0);
    assert_eq!(
        f.cloud.managed("twin"),
        [("address", address)],
        "only the other environment's address stays"
    );
    f.destroy_by_tag("twin").expect_code(0);
    assert!(f.cloud.managed("twin").is_empty());
}
