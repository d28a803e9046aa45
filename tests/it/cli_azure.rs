//! Bad input to `carto-provision azure`, against the fake Resource Manager (no VM): each case
//! exits 2 with one `carto-provision: ` line naming the input, and nothing is created (the fake
//! holds only its seeded DNS group and zone) and no state file is written.

use carto_harness::cloud::LocalCloud;
use carto_harness::local_azure::AzureCloud;

use crate::common::TestCommand;

/// (what, extra flags, drop the subscription, text the error must contain)
const CASES: &[(&str, &str, bool, &str)] = &[
    (
        "missing subscription",
        "",
        true,
        "no Azure subscription: pass --subscription",
    ),
    (
        "unknown location",
        "--location marsnorth",
        false,
        "--location marsnorth",
    ),
    (
        "size below spec",
        "--vm-size Standard_B2s",
        false,
        "--vm-size Standard_B2s",
    ),
    ("ARM size", "--vm-size Standard_D4ps_v5", false, "x86_64"),
    ("disk below 64", "--disk-gb 63", false, "--disk-gb 63"),
    (
        "no DNS zone",
        "--domain carto.example.org",
        false,
        "no Azure DNS zone",
    ),
];

#[test]
fn bad_inputs_are_refused_before_anything_exists() {
    let cloud = AzureCloud::start_with("127.0.0.1".parse().unwrap()).expect("fake starts");
    let seeded = cloud.resources().len();
    let tmp = tempfile::tempdir().unwrap();
    let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
    for (what, flags, no_sub, needle) in CASES {
        let state_dir = tmp.path().join(format!("state-{}", what.replace(' ', "-")));
        let mut cmd = TestCommand::new(&state_dir);
        for (k, v) in cloud.cli_env() {
            if !(*no_sub && k == "AZURE_SUBSCRIPTION_ID") {
                cmd = cmd.env(&k, &v);
            }
        }
        let mut args: Vec<String> = ["azure", "--ssh-cidr", "127.0.0.1/32", "--name", "bad-azure"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !flags.contains("--domain") {
            args.extend(["--domain".to_string(), "carto.test".to_string()]);
        }
        args.push("--package".into());
        args.push(pkg.display().to_string());
        args.extend(flags.split_whitespace().map(str::to_string));
        let out = cmd.args(&args).run();
        assert_eq!(out.code, 2, "{what}: exit code; {out:#?}");
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(
            lines.len() == 1
                && lines[0].starts_with("carto-provision: ")
                && lines[0].contains(needle),
            "{what}: {lines:?}"
        );
        assert_eq!(
            cloud.resources().len(),
            seeded,
            "{what}: something was created"
        );
        assert!(cloud.tagged("bad-azure").unwrap().is_empty(), "{what}");
        assert!(
            !state_dir.join("bad-azure.json").exists(),
            "{what}: state file written"
        );
    }
}
