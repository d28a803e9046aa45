//! `plan` on GCP and Azure, against their fake servers: the text is its golden file (what each
//! cloud's provider would create, in order, with names and settings), and nothing is created.
//! AWS's plan is checked line by line in `cli.rs`.

use carto_harness::cloud::LocalCloud;
use carto_harness::local_azure::AzureCloud;
use carto_harness::local_gcp::GcpCloud;

use crate::common::{cli, files_under, golden};

const ENV: &str = "plan-env";

fn plan_is_the_golden_file<C: LocalCloud>(cloud: C) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = carto_harness::package::write(&tmp.path().join("pkg"), "2025.10.1", &[]).unwrap();
    let state_dir = tmp.path().join("state");
    let out = cli(&state_dir)
        .envs(cloud.cli_env())
        .args(["plan", cloud.cloud(), "--name", ENV])
        .args(cloud.deploy_args())
        .args(["--domain", "carto.test", "--ssh-cidr", "127.0.0.1/32"])
        .arg("--package")
        .arg(&pkg)
        .run();
    out.expect_code(0);
    golden(&format!("plan-{}.txt", cloud.cloud()), &out.stdout);
    assert_eq!(cloud.tagged(ENV).unwrap(), Vec::<String>::new());
    assert!(files_under(&state_dir).is_empty(), "plan wrote state");
}

#[test]
fn plan_gcp_lists_network_subnet_one_rule_per_port_address_vm_and_record() {
    plan_is_the_golden_file(GcpCloud::start_with("127.0.0.1".parse().unwrap()).unwrap());
}

#[test]
fn plan_azure_lists_group_vnet_nsg_address_nic_vm_and_record() {
    plan_is_the_golden_file(AzureCloud::start_with("127.0.0.1".parse().unwrap()).unwrap());
}
