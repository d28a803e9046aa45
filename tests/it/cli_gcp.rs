//! What only GCP's flags do: the project read from Application Default Credentials, and
//! `--network`, which the other clouds refuse.

use carto_harness::cloud::LocalCloud;
use carto_harness::local_gcp::GcpCloud;

use crate::common::{cli, files_under};

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
    let out = cli(&tmp.path().join("state"))
        .envs(cloud.cli_env())
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            adc_file.display().to_string(),
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
        let out = cli(&tmp.path().join("state"))
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
