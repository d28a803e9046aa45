//! Bad input to `carto-provision gcp`, against the fake Compute Engine + Cloud DNS (no VM):
//! each case exits 2 with one `carto-provision: ` line naming the input, nothing is inserted
//! (the fake logs no insert, holds no resource) and no file is left in the state folder.

use carto_harness::cloud::LocalCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::package::assert_no_secret;

use crate::common::{TestCommand, files_under};

/// (what, --domain, flags (the project included), words the one error line must hold)
#[rustfmt::skip]
const CASES: &[(&str, &str, &str, &[&str])] = &[
    ("missing project", "carto.test", "", &["no GCP project", "--project"]),
    ("unknown project", "carto.test", "--project nobodys-proj", &["--project nobodys-proj"]),
    ("unknown zone", "carto.test", "--project test-proj --zone mars-north1-a", &["--zone mars-north1-a"]),
    ("below spec", "carto.test", "--project test-proj --machine-type e2-small", &["--machine-type e2-small", "profile needs at least"]),
    ("ARM type", "carto.test", "--project test-proj --machine-type t2a-standard-8", &["--machine-type t2a-standard-8", "x86_64"]),
    ("HDD disk", "carto.test", "--project test-proj --disk-type pd-standard", &["--disk-type pd-standard", "SSD"]),
    ("no managed zone", "carto.example.org", "--project test-proj", &["--domain carto.example.org", "managed zone"]),
    ("unknown managed zone", "carto.test", "--project test-proj --dns-zone nope", &["--dns-zone nope"]),
    // The project's default network opens SSH (and RDP) to the world.
    ("world-open network", "carto.test", "--project test-proj --network default", &["--network default", "default-allow-ssh tcp:22"]),
    ("unknown network", "carto.test", "--project test-proj --network nope", &["--network nope", "no such network"]),
];

#[test]
fn bad_inputs_are_refused_before_anything_exists() {
    let cloud = GcpCloud::start_with("127.0.0.1".parse().unwrap()).expect("fake starts");
    let tmp = tempfile::tempdir().unwrap();
    let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
    for (what, domain, flags, names) in CASES {
        let state_dir = tmp.path().join(format!("state-{}", what.replace(' ', "-")));
        let mut cmd = TestCommand::new(&state_dir);
        for (k, v) in cloud.cli_env() {
            cmd = cmd.env(&k, &v);
        }
        let mut args: Vec<String> = [
            "gcp",
            "--domain",
            domain,
            "--ssh-cidr",
            "127.0.0.1/32",
            "--name",
            "bad-gcp",
            "--package",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(pkg.display().to_string());
        args.extend(flags.split_whitespace().map(str::to_string));
        let out = cmd.args(&args).run();
        assert_eq!(out.code, 2, "{what}: exit code; {out:#?}");
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{what}: {lines:?}");
        assert!(
            lines[0].starts_with("carto-provision: "),
            "{what}: {lines:?}"
        );
        for name in *names {
            assert!(
                lines[0].contains(name),
                "{what}: {name:?} not named in {:?}",
                lines[0]
            );
        }
        assert!(out.stdout.is_empty(), "{what}: stdout {:?}", out.stdout);
        assert_no_secret(what, &format!("{}{}", out.stdout, out.stderr));
        assert!(!out.stderr.contains("carto-test-client-secret"), "{what}");
        assert_eq!(
            cloud.inserts().unwrap(),
            0,
            "{what}: something was inserted"
        );
        assert!(cloud.tagged("bad-gcp").unwrap().is_empty(), "{what}");
        assert!(cloud.a_records().unwrap().is_empty(), "{what}");
        let left = files_under(&state_dir);
        assert!(
            left.is_empty(),
            "{what}: files left in the state dir: {left:?}"
        );
    }
    // The refusals came from the fake (preflight read it), not from missing credentials.
    assert!(cloud.state().unwrap().calls("compute.machineTypes.get") >= 1);
    assert!(cloud.state().unwrap().calls("oauth2.token") >= 1);
}

/// `plan gcp` resolves against the fake (machine type, SSD disk, image family, managed zone)
/// and inserts nothing.
#[test]
fn plan_resolves_and_changes_nothing() {
    let cloud = GcpCloud::start_with("127.0.0.1".parse().unwrap()).expect("fake starts");
    let tmp = tempfile::tempdir().unwrap();
    let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
    let state_dir = tmp.path().join("state");
    let mut cmd = TestCommand::new(&state_dir);
    for (k, v) in cloud.cli_env() {
        cmd = cmd.env(&k, &v);
    }
    let out = cmd
        .args(["--json", "plan", "gcp", "--project", "test-proj"])
        .args(["--domain", "carto.test", "--ssh-cidr", "127.0.0.1/32"])
        .arg("--package")
        .arg(&pkg)
        .run();
    out.expect_code(0);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("plan --json is not JSON ({e}):\n{}", out.stdout));
    let r = &plan["resolved"];
    assert_eq!(r["region"], "us-central1-a", "{plan:#}");
    assert_eq!(r["machine_type"], "n2-standard-8", "{plan:#}");
    assert_eq!(r["size"]["vcpus"], 8, "{plan:#}");
    assert_eq!(r["disk_type"], "pd-ssd", "{plan:#}");
    assert_eq!(r["dns_zone_id"], "test-zone", "{plan:#}");
    assert_eq!(r["dns_zone_name"], "test.", "{plan:#}");
    assert_eq!(r["ssh_user"], "ubuntu", "{plan:#}");
    assert!(
        r["image"]
            .as_str()
            .unwrap_or_default()
            .starts_with("projects/ubuntu-os-cloud/global/images/ubuntu-2204-"),
        "{plan:#}"
    );
    assert_no_secret("plan --json", &out.stdout);
    assert_eq!(cloud.inserts().unwrap(), 0, "plan inserted something");
    assert!(files_under(&state_dir).is_empty());
}

/// Without `--project`, the project comes from Application Default Credentials (the ADC
/// file's `quota_project_id`).
#[test]
fn the_project_comes_from_adc_when_not_given() {
    let cloud = GcpCloud::start_with("127.0.0.1".parse().unwrap()).expect("fake starts");
    let tmp = tempfile::tempdir().unwrap();
    let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
    let mut adc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cloud.credentials_file()).unwrap()).unwrap();
    adc["quota_project_id"] = "test-proj".into();
    let adc_file = tmp.path().join("adc.json");
    std::fs::write(&adc_file, adc.to_string()).unwrap();
    let mut cmd = TestCommand::new(&tmp.path().join("state"));
    for (k, v) in cloud.cli_env() {
        cmd = cmd.env(&k, &v);
    }
    let out = cmd
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            &adc_file.display().to_string(),
        )
        .args(["--json", "plan", "gcp", "--domain", "carto.test"])
        .args(["--ssh-cidr", "127.0.0.1/32", "--package"])
        .arg(&pkg)
        .run();
    out.expect_code(0);
    let state = cloud.state().unwrap();
    let project_calls: Vec<String> = state
        .requests()
        .iter()
        .filter(|r| r.method_id.as_deref() == Some("compute.projects.get"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(project_calls, ["/compute/v1/projects/test-proj"]);
}

/// `--network` is a GCP flag: AWS and Azure refuse it (exit 2, the flag named) before reading
/// anything.
#[test]
fn network_is_refused_on_other_clouds() {
    let tmp = tempfile::tempdir().unwrap();
    for cloud in ["aws", "azure"] {
        let out = TestCommand::new(&tmp.path().join("state"))
            .args([cloud, "--domain", "carto.test", "--network", "default"])
            .args(["--package", "/nonexistent"])
            .run();
        assert_eq!(out.code, 2, "{cloud}: {out:#?}");
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(first.contains("'--network'"), "{cloud}: {first:?}");
        assert!(out.stdout.is_empty(), "{cloud}: {out:#?}");
    }
    assert!(files_under(&tmp.path().join("state")).is_empty());
}
