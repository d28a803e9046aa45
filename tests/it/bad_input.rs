//! Bad input to `carto-provision gcp` and `azure`, against their fake servers (no VM): each
//! case exits 2 with one `carto-provision: ` line naming the input and no secret, nothing is
//! created and no file is left in the state folder. AWS's cases, with broken packages, are in
//! `cli.rs`.

use carto_harness::cloud::LocalCloud;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;
use carto_harness::package::assert_no_secret;

use crate::common::{cli, files_under};

/// (what, flags after the cloud's own (which they replace), words the one error line must
/// hold). `BARE` as the flags runs without the cloud's own flags and the variable that names
/// its project or subscription.
type Case = (&'static str, &'static str, &'static [&'static str]);
const BARE: &str = "-";
const ENV: &str = "bad-input";

#[rustfmt::skip]
const GCP: &[Case] = &[
    ("missing project", BARE, &["no GCP project", "--project"]),
    ("unknown project", "--project nobodys-proj", &["--project nobodys-proj"]),
    ("unknown zone", "--zone mars-north1-a", &["--zone mars-north1-a"]),
    ("below spec", "--machine-type e2-small", &["--machine-type e2-small", "profile needs at least"]),
    ("ARM type", "--machine-type t2a-standard-8", &["--machine-type t2a-standard-8", "x86_64"]),
    ("HDD disk", "--disk-type pd-standard", &["--disk-type pd-standard", "SSD"]),
    ("no managed zone", "--domain carto.example.org", &["--domain carto.example.org", "managed zone"]),
    ("unknown managed zone", "--dns-zone nope", &["--dns-zone nope"]),
    // The project's default network opens SSH (and RDP) to the world.
    ("world-open network", "--network default", &["--network default", "default-allow-ssh tcp:22"]),
    ("unknown network", "--network nope", &["--network nope", "no such network"]),
];

#[rustfmt::skip]
const AZURE: &[Case] = &[
    ("missing subscription", BARE, &["no Azure subscription: pass --subscription"]),
    ("unknown location", "--location marsnorth", &["--location marsnorth"]),
    ("size below spec", "--vm-size Standard_B2s", &["--vm-size Standard_B2s"]),
    ("ARM size", "--vm-size Standard_D4ps_v5", &["x86_64"]),
    ("disk below 64", "--disk-gb 63", &["--disk-gb 63"]),
    ("no DNS zone", "--domain carto.example.org", &["no Azure DNS zone"]),
];

/// Runs every case against `cloud`; `bare_drops` is the environment variable a `BARE` case
/// goes without, and `created` counts what the fake made.
fn refused<C: LocalCloud>(
    cloud: &C,
    cases: &[Case],
    bare_drops: &str,
    created: impl Fn() -> usize,
) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
    for (what, flags, names) in cases {
        let state_dir = tmp.path().join(format!("state-{}", what.replace(' ', "-")));
        let bare = *flags == BARE;
        let env = cloud.cli_env().into_iter();
        let mut cmd = cli(&state_dir)
            .envs(env.filter(|(k, _)| !(bare && k == bare_drops)))
            .args([cloud.cloud(), "--ssh-cidr", "127.0.0.1/32", "--name", ENV]);
        if !bare {
            // The cloud's own flags (`--project test-proj`), unless the case gives its own.
            for pair in cloud.deploy_args().chunks(2) {
                if !flags.contains(pair[0].as_str()) {
                    cmd = cmd.args(pair);
                }
            }
            cmd = cmd.args(flags.split_whitespace());
        }
        if !flags.contains("--domain") {
            cmd = cmd.args(["--domain", "carto.test"]);
        }
        let out = cmd.arg("--package").arg(&pkg).run();
        assert_eq!(out.code, 2, "{what}: exit code; {out:#?}");
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with("carto-provision: "),
            "{what}: {lines:?}"
        );
        for name in *names {
            assert!(
                lines[0].contains(name),
                "{what}: {name:?} not in {:?}",
                lines[0]
            );
        }
        assert!(out.stdout.is_empty(), "{what}: stdout {:?}", out.stdout);
        assert_no_secret(what, &out.stderr);
        assert_eq!(created(), 0, "{what}: something was created");
        assert!(cloud.tagged(ENV).unwrap().is_empty(), "{what}");
        assert!(cloud.a_records().unwrap().is_empty(), "{what}");
        let left = files_under(&state_dir);
        assert!(
            left.is_empty(),
            "{what}: files left in the state dir: {left:?}"
        );
    }
}

#[test]
fn gcp_bad_inputs_are_refused_before_anything_exists() {
    let cloud = GcpCloud::start_with("127.0.0.1".parse().unwrap()).expect("fake starts");
    refused(&cloud, GCP, "", || cloud.inserts().unwrap());
    // The refusals came from the fake (preflight read it), not from missing credentials.
    let state = cloud.state().unwrap();
    assert!(state.calls("compute.machineTypes.get") >= 1 && state.calls("oauth2.token") >= 1);
}

#[test]
fn azure_bad_inputs_are_refused_before_anything_exists() {
    let cloud = AzureCloud::start_with("127.0.0.1".parse().unwrap()).expect("fake starts");
    let seeded = cloud.resources().len();
    refused(&cloud, AZURE, "AZURE_SUBSCRIPTION_ID", || {
        cloud.resources().len() - seeded
    });
}
