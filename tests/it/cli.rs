//! The `carto-provision` binary end to end against moto (no VM): bad inputs refused before
//! anything is created, `plan` (text compared with a golden file, and `--json`), and a deploy
//! that stops at bootstrap (nothing listens on the address moto hands out) followed by
//! resume, `status`, `list` and `destroy`. `--help` and the env-var form of a flag too.
//!
//! Golden files live in `tests/it/golden/`; run with `CARTO_UPDATE_GOLDEN=1` to rewrite them
//! after an intended change, then review the diff.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use carto_harness::package::{self, assert_no_secret};

use crate::common::{Cloud, SSH_CIDR, cli, deploy_args, files_under, golden};

/// The address moto hands out in tests that never reach a VM: loopback, nothing listens.
const NOWHERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 250);
const DOMAIN: &str = "carto.example.test";
const ENV: &str = "carto-example-test";

/// One bad input: (what, --domain, fixture package, extra flags, env var, words the one
/// error line must hold, refused by the provider's preflight rather than the local checks).
/// `LONG` stands for a 256-character domain; `-` as a flag drops `--ssh-cidr 127.0.0.1/32`.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
    &'static [&'static str],
    bool,
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    ("scheme", "https://carto.example.test", "good", "", None, &["--domain", "https://carto.example.test", "without scheme"], false),
    ("path", "carto.example.test/carto", "good", "", None, &["--domain", "carto.example.test/carto"], false),
    ("wildcard", "*.example.test", "good", "", None, &["--domain", "*.example.test", "wildcard"], false),
    ("too long", "LONG", "good", "", None, &["--domain", "253"], false),
    ("no zone", "carto.nozone.test", "good", "", None, &["--domain carto.nozone.test", "hosted zone"], true),
    ("no customer.env", DOMAIN, "no-env", "", None, &["customer.env not found"], false),
    ("CRLF", DOMAIN, "crlf", "", None, &["customer.env line 1", "CRLF"], false),
    ("whitespace line", DOMAIN, "blank", "", None, &["customer.env line 4", "whitespace"], false),
    ("no LOCAL_REDIS_SCALE", DOMAIN, "no-redis", "", None, &["LOCAL_REDIS_SCALE"], false),
    ("package too old", DOMAIN, "old", "", None, &["2025.8.1", "2025.9.1"], false),
    ("authorized_user key", DOMAIN, "user-key", "", None, &["key.json", "\"service_account\""], false),
    ("small type", DOMAIN, "good", "--instance-type t3.medium", None, &["--instance-type t3.medium", "vCPU"], true),
    ("arm type", DOMAIN, "good", "--instance-type m7g.2xlarge", None, &["--instance-type m7g.2xlarge", "x86_64"], true),
    ("small disk", DOMAIN, "good", "--disk-gb 59", None, &["--disk-gb 59", "60"], false),
    ("unknown region", DOMAIN, "good", "--region xx-nowhere-1", None, &["--region xx-nowhere-1"], true),
    ("world SSH", DOMAIN, "good", "- --ssh-cidr 0.0.0.0/0", None, &["--ssh-cidr 0.0.0.0/0", "whole Internet"], false),
    ("world SSH even allowed wide", DOMAIN, "good", "- --ssh-cidr ::/0 --allow-wide-ssh", None, &["--ssh-cidr ::/0", "whole Internet"], false),
    ("repo with shell", DOMAIN, "good", "--selfhosted-repo https://h/$(id).git", None, &["--selfhosted-repo", "'$'"], false),
    ("apt URL not https", DOMAIN, "good", "--docker-source docker --docker-apt-url http://h/ubuntu", None, &["--docker-apt-url", "https://"], false),
    ("wide SSH", DOMAIN, "good", "- --ssh-cidr 198.51.0.0/16", None, &["--ssh-cidr 198.51.0.0/16", "--allow-wide-ssh"], false),
    ("wide IPv6 SSH", DOMAIN, "good", "- --ssh-cidr 2001:db8::/48", None, &["--ssh-cidr 2001:db8::/48", "/56"], false),
    ("disk from env", DOMAIN, "good", "", Some(("CARTO_PROVISION_DISK_GB", "59")), &["--disk-gb 59"], false),
];

/// The customer package version of the good fixture.
const VERSION: &str = "2025.10.1";

/// Writes the good fixture package into `dir` and returns `dir`.
fn good_package(dir: &Path) -> PathBuf {
    package::write(dir, VERSION, &[]).expect("write the fixture package")
}

/// Writes the fixture package folders under `root`: the good one and one per broken variant,
/// each the good package with one file rewritten (or, for `no-env`, removed).
fn write_packages(root: &Path) {
    for name in ["good", "no-env", "crlf", "blank", "no-redis", "user-key"] {
        good_package(&root.join(name));
    }
    package::write(&root.join("old"), "2025.8.1", &[]).expect("write the old package");
    std::fs::remove_file(root.join("no-env/customer.env")).expect("remove customer.env");
    rewrite(&root.join("crlf/customer.env"), |env| {
        env.replace('\n', "\r\n")
    });
    rewrite(&root.join("blank/customer.env"), |env| {
        // Line 4 holds only whitespace.
        let mut lines: Vec<&str> = env.lines().collect();
        lines.insert(3, "  \t");
        lines.join("\n") + "\n"
    });
    rewrite(&root.join("no-redis/customer.env"), |env| {
        env.lines()
            .filter(|l| !l.starts_with("LOCAL_REDIS_SCALE="))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    rewrite(&root.join("user-key/key.json"), |key| {
        let mut json: serde_json::Value = serde_json::from_str(key).expect("key.json is JSON");
        json["type"] = "authorized_user".into();
        json.to_string()
    });
}

/// Replaces the text of the file at `path` with `edit` of it.
fn rewrite(path: &Path, edit: impl FnOnce(&str) -> String) {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    std::fs::write(path, edit(&text)).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// moto with the zone, a temporary folder holding the good package, and the state folder
/// inside it (not created).
fn deploy_fixture() -> (Cloud, tempfile::TempDir, PathBuf, PathBuf) {
    let cloud = Cloud::start(NOWHERE);
    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = good_package(&tmp.path().join("pkg"));
    let state_dir = tmp.path().join("state");
    (cloud, tmp, pkg, state_dir)
}

/// The `aws …` arguments of a case.
fn case_args(root: &Path, endpoint: &str, case: &Case) -> Vec<String> {
    let (_, domain, pkg, flags, ..) = *case;
    let long = format!("{}.example.test", vec!["a".repeat(60); 4].join("."));
    let domain = if domain == "LONG" {
        long.as_str()
    } else {
        domain
    };
    let mut args = deploy_args(domain, &root.join(pkg), endpoint);
    for flag in flags.split_whitespace() {
        if flag == "-" {
            let at = args.iter().position(|a| a == "--ssh-cidr").unwrap_or(0);
            args.drain(at..at + 2);
        } else {
            args.push(flag.to_string());
        }
    }
    args
}

/// Every bad input: exit 2, one `carto-provision: ` line naming the input, no secret, no
/// state file, and nothing at all in moto afterwards.
#[test]
fn bad_inputs_are_refused_before_anything_exists() {
    let cloud = Cloud::start(NOWHERE);
    let tmp = tempfile::tempdir().expect("tempdir");
    write_packages(tmp.path());
    assert!(CASES.len() >= 14);
    for case in CASES {
        let (what, .., env, names, in_preflight) = *case;
        let state_dir = tmp.path().join(format!("state-{}", what.replace(' ', "-")));
        let mut cmd =
            cli(&state_dir)
                .arg("aws")
                .args(case_args(tmp.path(), &cloud.endpoint(), case));
        if let Some((key, value)) = env {
            cmd = cmd.env(key, value);
        }
        let out = cmd.run();
        assert_eq!(out.code, 2, "{what}: exit code; {out:#?}");
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("carto-provision: "))
            .collect();
        assert_eq!(errors.len(), 1, "{what}: one error line; {out:#?}");
        for name in names {
            assert!(
                errors[0].contains(name),
                "{what}: {name:?} not named in {:?}",
                errors[0]
            );
        }
        assert_eq!(out.stderr.lines().count(), 1, "{what}: {out:#?}");
        if in_preflight {
            assert!(!errors[0].contains("destroy"), "{what}: {:?}", errors[0]);
        }
        assert!(out.stdout.is_empty(), "{what}: stdout {:?}", out.stdout);
        assert_no_secret(what, &format!("{}{}", out.stdout, out.stderr));
        let left = files_under(&state_dir);
        assert!(
            left.is_empty(),
            "{what}: files left in the state dir: {left:?}"
        );
        let counts = cloud.counts();
        assert!(
            counts.is_empty(),
            "{what}: resources left in moto: {counts:?}"
        );
    }
}

/// The plan text with moto's random zone id replaced.
fn normalise(text: &str, zone_id: &str) -> String {
    text.replace(zone_id, "<ZONE_ID>")
}

/// `plan aws`: sizes, disk, firewall, DNS and remote steps shown; nothing created anywhere.
#[test]
fn plan_shows_everything_and_changes_nothing() {
    let (cloud, _tmp, pkg, state_dir) = deploy_fixture();
    let args = deploy_args(DOMAIN, &pkg, &cloud.endpoint());
    let out = cli(&state_dir).args(["plan", "aws"]).args(&args).run();
    out.expect_code(0);
    assert_no_secret("plan", &format!("{}{}", out.stdout, out.stderr));
    let text = &out.stdout;
    // The rules, spelled out here too: a rewritten golden file must not widen them unseen.
    let fw = text
        .lines()
        .find(|l| l.trim_start().starts_with("+ firewall"))
        .unwrap_or_else(|| panic!("no firewall line in:\n{text}"));
    let rules: Vec<&str> = fw
        .split_once("inbound ")
        .map(|(_, r)| r)
        .unwrap_or("")
        .split("; ")
        .collect();
    assert_eq!(
        rules,
        [
            format!("22/tcp from {SSH_CIDR}").as_str(),
            "443/tcp from 0.0.0.0/0, ::/0",
            "80/tcp from 0.0.0.0/0, ::/0",
            "nothing else"
        ],
        "{fw}"
    );
    // The rest, line by line: the golden file (sizes, disk, DNS zone, every remote step).
    golden("plan-aws.txt", &normalise(text, &cloud.zone_id));

    let out = cli(&state_dir)
        .args(["--json", "plan", "aws"])
        .args(&args)
        .run();
    out.expect_code(0);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("plan --json is not JSON ({e}):\n{}", out.stdout));
    let r = &plan["resolved"];
    assert_eq!(r["machine_type"], "m6i.2xlarge", "{plan:#}");
    assert_eq!(r["disk_gb"], 100, "{plan:#}");
    assert_eq!(r["disk_type"], "gp3", "{plan:#}");
    assert_eq!(r["dns_zone_id"], cloud.zone_id.as_str(), "{plan:#}");
    assert_eq!(plan["env"], ENV);
    assert_eq!(
        plan["resources"].as_array().map(Vec::len),
        Some(5),
        "{plan:#}"
    );
    assert_no_secret("plan --json", &out.stdout);

    assert!(
        cloud.counts().is_empty(),
        "plan created {:?}",
        cloud.counts()
    );
    assert!(
        files_under(&state_dir).is_empty(),
        "plan wrote {:?}",
        files_under(&state_dir)
    );
}

/// `--help` lists every subcommand; needs no cloud.
#[test]
fn help_lists_the_subcommands() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = cli(&tmp.path().join("state")).arg("--help").run();
    out.expect_code(0);
    for sub in ["aws", "plan", "destroy", "status", "list"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{sub} "))),
            "--help does not list {sub}:\n{}",
            out.stdout
        );
    }
}

/// The state file of `ENV` in `state_dir`, parsed.
fn state(state_dir: &Path) -> serde_json::Value {
    let path = state_dir.join(format!("{ENV}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("state file {}: {e}", path.display()));
    serde_json::from_str(&text).expect("state file is JSON")
}

/// (kind, id) of every resource the state records.
fn recorded(state: &serde_json::Value) -> Vec<(String, String)> {
    state["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                    (s("kind"), s("id"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The word moto's EC2 uses for a kind of resource the state records.
fn cloud_kind(kind: &str) -> &str {
    match kind {
        "ssh-key" => "key-pair",
        "firewall" => "security-group",
        "vm" => "instance",
        other => other,
    }
}

/// A deploy with no VM behind the address fails at bootstrap (exit 4) with every resource
/// recorded and tagged; the same command again creates nothing new; `status` and `list`
/// show it; `destroy` leaves nothing in moto and no state file.
#[test]
fn deploy_stops_at_bootstrap_then_resume_status_list_destroy() {
    let (cloud, _tmp, pkg, state_dir) = deploy_fixture();
    let deploy = || {
        cli(&state_dir)
            .arg("aws")
            .args(deploy_args(DOMAIN, &pkg, &cloud.endpoint()))
            .args(["--ssh-timeout", "3"])
            .run()
    };

    let out = deploy();
    out.expect_code(4);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("carto-provision: "), "{out:#?}");
    assert!(
        last.contains("SSH") && last.contains(&NOWHERE.to_string()),
        "{last}"
    );
    assert!(
        last.contains("run the same command again to resume")
            && last.contains(&format!("carto-provision destroy {ENV}")),
        "{last}"
    );
    assert_no_secret("deploy output", &format!("{}{}", out.stdout, out.stderr));

    let state_path = state_dir.join(format!("{ENV}.json"));
    let mode = std::fs::metadata(&state_path)
        .expect("state file exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "state file mode {mode:o}");
    for (path, text) in files_under(&state_dir) {
        assert_no_secret(&path.display().to_string(), &text);
    }
    let first = state(&state_dir);
    let resources = recorded(&first);
    let kinds: Vec<&str> = resources.iter().map(|(k, _)| k.as_str()).collect();
    for kind in ["ssh-key", "firewall", "address", "vm", "dns-record"] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            1,
            "{kind} in {kinds:?}"
        );
    }
    let managed = cloud.managed(ENV);
    let (volumes, live): (Vec<_>, Vec<_>) = managed.iter().partition(|(k, _)| *k == "volume");
    assert_eq!(
        volumes.len(),
        1,
        "one root volume with both tags: {managed:?}"
    );
    let mut expected: Vec<(&str, &str)> = resources
        .iter()
        .filter(|(k, _)| k != "dns-record")
        .map(|(kind, id)| (cloud_kind(kind), id.as_str()))
        .collect();
    expected.sort();
    let live: Vec<(&str, &str)> = live.iter().map(|(k, id)| (*k, id.as_str())).collect();
    assert_eq!(
        live, expected,
        "live with both tags in moto vs recorded in the state"
    );
    let other = cloud.managed("carto-other-test");
    assert!(
        other.is_empty(),
        "the tag filter matched another env: {other:?}"
    );
    let vm_id = &resources
        .iter()
        .find(|(k, _)| k == "vm")
        .expect("vm recorded")
        .1;
    let user_data = cloud.must("reading user-data", cloud.aws.user_data(vm_id));
    assert!(user_data.starts_with("#cloud-config"), "{user_data}");
    assert_no_secret("user-data", &user_data);
    let a_records = cloud.must("reading records", cloud.aws.a_records(&cloud.zone_id));
    assert_eq!(
        a_records,
        [(format!("{DOMAIN}."), NOWHERE.to_string())],
        "A record"
    );
    assert_eq!(first["public_ip"], NOWHERE.to_string());
    let counts = cloud.counts();
    assert_eq!(
        (
            counts.instances,
            counts.security_groups,
            counts.addresses,
            counts.key_pairs,
            counts.records
        ),
        (1, 1, 1, 1, 1),
        "{counts:?}"
    );

    let again = deploy();
    again.expect_code(4);
    assert_eq!(
        cloud.counts(),
        counts,
        "the second run created or removed resources"
    );
    assert_eq!(
        recorded(&state(&state_dir)),
        resources,
        "the second run changed the ids"
    );

    let status = cli(&state_dir).args(["status", ENV]).run();
    status.expect_code(0);
    for (kind, id) in &resources {
        let row = status
            .stdout
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_else(|| panic!("status does not list {kind} {id}:\n{}", status.stdout));
        assert!(row.trim_start().starts_with(kind.as_str()), "{row}");
        assert!(!row.contains("not found in the cloud"), "{row}");
    }
    assert!(
        status.stdout.contains(&NOWHERE.to_string()),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("does not answer"),
        "{}",
        status.stdout
    );
    let cols: BTreeSet<usize> = resources
        .iter()
        .filter_map(|(_, id)| status.stdout.lines().find_map(|l| l.find(id.as_str())))
        .collect();
    assert_eq!(cols.len(), 1, "id column not aligned:\n{}", status.stdout);

    let list = cli(&state_dir).arg("list").run();
    list.expect_code(0);
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with(ENV))
        .unwrap_or_else(|| panic!("list does not show {ENV}:\n{}", list.stdout));
    assert!(
        row.contains("aws") && row.contains(DOMAIN) && row.contains(&NOWHERE.to_string()),
        "{row}"
    );

    let destroy = cli(&state_dir).args(["destroy", ENV]).run();
    destroy.expect_code(0);
    let left = cloud.managed(ENV);
    assert!(left.is_empty(), "left tagged: {left:?}");
    assert!(
        cloud.counts().is_empty(),
        "left in moto: {:?}",
        cloud.counts()
    );
    assert!(!state_path.exists(), "state file still there after destroy");
    let list = cli(&state_dir).arg("list").run();
    list.expect_code(0);
    assert!(!list.stdout.contains(ENV), "{}", list.stdout);
    let gone = cli(&state_dir).args(["status", ENV]).run();
    gone.expect_code(2);
    assert!(
        gone.stderr.contains(&format!("no environment named {ENV}")),
        "{gone:#?}"
    );
}
