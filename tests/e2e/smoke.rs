//! `carto-provision smoke` end to end: every emulated cloud at once, each with its own test VM
//! booted from the user-data the CLI sent. A passing run reports every cloud passed with zero
//! leftovers; a run where one cloud's install.sh prints `[ERROR]` fails while the others pass;
//! a run stopped by SIGTERM still destroys everything. In every case nothing is left in any
//! cloud and no state file remains.

use std::path::Path;
use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::local_aws::AwsCloud;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::selfhosted::raise_min_version;
use carto_harness::smoke::{SmokeRun, terminate};
use carto_harness::vm::Variant;
use carto_provision::smoke::report::phase_names;

/// The emulated clouds the smoke runs across: one line per cloud whose provider exists.
fn clouds() -> Vec<Box<dyn LocalCloud>> {
    vec![
        Box::new(AwsCloud::start().expect("moto starts")),
        Box::new(AzureCloud::start().expect("the fake Azure starts")),
        Box::new(GcpCloud::start().expect("the fake GCP starts")),
    ]
}

fn smoke(run_id: &str) -> SmokeRun {
    SmokeRun::new(
        Path::new(env!("CARGO_BIN_EXE_carto-provision")),
        clouds(),
        run_id,
    )
    .expect("smoke fixtures")
}

fn assert_nothing_left(s: &SmokeRun) {
    assert_eq!(s.leftovers().expect("leftovers"), Vec::<String>::new());
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn smoke_passes_on_every_cloud_and_leaves_nothing() {
    let s = smoke("e2epass");
    let n = s.clouds.len();
    let out = s.run(Variant::Docker, &[]).expect("smoke runs");
    // The table, for whoever reads the test log.
    eprintln!("{}", out.stdout);
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    carto_harness::package::assert_no_secret("smoke output", &(out.stdout.clone() + &out.stderr));

    let r = &out.report;
    assert_eq!(r["run_id"], "e2epass");
    assert_eq!(r["passed"], true, "{r:#}");
    let clouds = r["clouds"].as_array().expect("clouds in the report");
    assert_eq!(clouds.len(), n);
    for (i, c) in clouds.iter().enumerate() {
        assert_eq!(c["cloud"], s.clouds[i].cloud());
        assert_eq!(c["env"], s.env(i));
        assert_eq!(c["domain"], format!("{}-e2epass.test", s.clouds[i].cloud()));
        assert_eq!(c["result"], "pass", "{c:#}");
        assert_eq!(c["exit_code"], 0);
        assert_eq!(c["leftovers"], 0);
        assert_eq!(c["destroyed"], true);
        let phases: Vec<&str> = c["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["phase"].as_str().unwrap())
            .collect();
        for phase in phase_names() {
            assert!(phases.contains(&phase), "{phase} missing from {phases:?}");
        }
    }
    let report_text = std::fs::read_to_string(s.report_path()).unwrap();
    carto_harness::package::assert_no_secret("smoke report", &report_text);

    let (root, cases, failures, _) = s.junit().expect("junit parses");
    assert_eq!((root.as_str(), cases, failures), ("testsuite", n, 0));
    for (i, c) in s.clouds.iter().enumerate() {
        let row = out
            .stdout
            .lines()
            .find(|l| l.starts_with(c.cloud()))
            .unwrap_or_else(|| panic!("no table row for {}: {}", c.cloud(), out.stdout));
        assert!(row.contains(" pass ") && row.ends_with(" 0"), "{row}");
        assert!(!out.stdout.contains(&format!("{} failed", s.env(i))));
    }
    assert_nothing_left(&s);
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn one_cloud_failing_fails_the_smoke_and_every_cloud_is_torn_down() {
    let s = smoke("e2efail");
    let n = s.clouds.len();
    let broken = n - 1;
    raise_min_version(&s.repos[broken], "2026.9.1").expect("repository retagged");
    let out = s.run(Variant::Docker, &[]).expect("smoke runs");
    assert_ne!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );

    let r = &out.report;
    assert_eq!(
        r["passed"], false,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    let clouds = r["clouds"].as_array().expect("clouds in the report");
    assert_eq!(clouds.len(), n);
    for (i, c) in clouds.iter().enumerate() {
        assert_eq!(c["leftovers"], 0, "{c:#}");
        assert_eq!(c["destroyed"], true, "{c:#}");
        if i == broken {
            assert_eq!(c["result"], "fail");
            assert_eq!(c["exit_code"], 4, "{c:#}");
            let error = c["error"].as_str().unwrap();
            assert!(
                error.contains("install.sh") && error.contains("[ERROR]"),
                "{error}"
            );
            let log = c["deploy_logs"]["stderr"].as_str().unwrap();
            assert!(
                std::fs::read_to_string(log).unwrap().contains("[ERROR]"),
                "{log}"
            );
        } else {
            assert_eq!(c["result"], "pass", "{c:#}");
        }
    }
    let broken_cloud = s.clouds[broken].cloud();
    assert!(
        out.stdout.contains(&format!("\n{broken_cloud} failed:\n")),
        "the table does not name the failure: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("smoke e2efail failed"),
        "{}",
        out.stderr
    );

    let (_, cases, failures, failed) = s.junit().expect("junit parses");
    assert_eq!((cases, failures), (n, 1));
    assert_eq!(failed, [broken_cloud]);
    assert_nothing_left(&s);
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn sigterm_stops_every_deployment_and_still_destroys_them() {
    let s = smoke("e2eterm");
    let mut child = s
        .command(&[])
        .stdout(std::fs::File::create(s.dir.path().join("smoke.out")).unwrap())
        .stderr(std::fs::File::create(s.dir.path().join("smoke.err")).unwrap())
        .spawn()
        .unwrap();
    // Every cloud has made its VM (and so its firewall, key and address); no VM ever answers.
    for (i, c) in s.clouds.iter().enumerate() {
        c.wait_user_data(&s.env(i), Duration::from_secs(300))
            .expect("the VM is created");
    }
    terminate(&child);
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(s.dir.path().join("smoke.err")).unwrap();
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("interrupted by a signal"), "{stderr}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.report_path()).unwrap()).unwrap();
    assert_eq!(r["interrupted"], true);
    for c in r["clouds"].as_array().unwrap() {
        assert_eq!(c["result"], "fail");
        assert!(
            c["error"].as_str().unwrap().contains("stopped by a signal"),
            "{c:#}"
        );
        assert_eq!(c["destroyed"], true, "{c:#}");
        assert_eq!(c["leftovers"], 0, "{c:#}");
    }
    assert_nothing_left(&s);
}
