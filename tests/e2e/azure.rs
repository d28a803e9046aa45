//! `carto-provision azure` end to end: the fake Resource Manager hands out the test VM's
//! address, the VM boots from the customData the CLI sent, the deployment ends verified; the
//! fake's state shows the disk, NSG, deleteOption, tags and the record; a second run creates
//! nothing; destroy leaves no resource group or record of the environment.

use std::path::Path;

use carto_harness::cloud::LocalCloud;
use carto_harness::deployment::Deployment;
use carto_harness::local_azure::AzureCloud;
use carto_harness::vm::Variant;

use crate::common::{DOMAIN, assert_no_secret, vm_sh};

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn deploys_verifies_resumes_and_destroys() {
    let bin = Path::new(env!("CARGO_BIN_EXE_carto-provision"));
    let d = Deployment::on(
        AzureCloud::start().expect("fake ARM starts"),
        bin,
        "e2e-azure",
        &[],
    );
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Plain13, "");
    assert_eq!(
        code,
        0,
        "deploy failed\nstdout: {out}\nstderr: {err}\nVM log: {}",
        vm.log_tail(30)
    );
    assert!(out.contains(r#""event":"deployed""#), "{out}");
    assert_no_secret("CLI output", &(out.clone() + &err));
    // The host key was rotated on Azure too (its customData cannot be removed: nothing to
    // forget, so the default no-op still counts as done).
    assert_eq!(d.state()["host_key_rotated"], true);
    assert_eq!(d.state()["user_data_forgotten"], true);
    let live = vm_sh(&vm, "ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key");
    let pinned = d.state()["host_key_public"].as_str().unwrap().to_string();
    assert_eq!(
        live.split_whitespace().nth(1),
        pinned.split_whitespace().nth(1),
        "the pinned key is not the one sshd serves"
    );

    let c = &d.cloud;
    let env = &d.env;
    let vm_res = c
        .resource(&c.env_id(env, "Microsoft.Compute/virtualMachines", "vm"))
        .expect("VM");
    let p = &vm_res["properties"];
    let disk = &p["storageProfile"]["osDisk"];
    assert_eq!(disk["managedDisk"]["storageAccountType"], "Premium_LRS");
    assert!(disk["diskSizeGB"].as_u64().unwrap() >= 64, "{disk}");
    assert_eq!(disk["deleteOption"], "Delete");
    assert_eq!(
        p["networkProfile"]["networkInterfaces"][0]["properties"]["deleteOption"],
        "Delete"
    );
    assert_eq!(p["osProfile"]["adminUsername"], "ubuntu");
    assert_eq!(
        p["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"],
        true
    );
    let nic = c.fake().call(
        "GET",
        &format!(
            "{}?api-version=2024-05-01",
            c.env_id(env, "Microsoft.Network/networkInterfaces", "nic")
        ),
        None,
    );
    assert_eq!(
        nic.1["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"]["properties"]["deleteOption"],
        "Delete",
        "{}",
        nic.1
    );
    let nsg = c.fake().call(
        "GET",
        &format!(
            "{}?api-version=2024-05-01",
            c.env_id(env, "Microsoft.Network/networkSecurityGroups", "nsg")
        ),
        None,
    );
    let mut rules: Vec<(u64, String, String, String)> = nsg.1["properties"]["securityRules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            let q = &r["properties"];
            assert_eq!(
                (
                    q["access"].as_str(),
                    q["direction"].as_str(),
                    q["protocol"].as_str()
                ),
                (Some("Allow"), Some("Inbound"), Some("Tcp"))
            );
            (
                q["priority"].as_u64().unwrap(),
                q["destinationPortRange"].as_str().unwrap().to_string(),
                q["sourceAddressPrefix"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            (100, "22".into(), "127.0.0.1/32".into(), "ssh".into()),
            (110, "443".into(), "Internet".into(), "https".into()),
            (120, "80".into(), "Internet".into(), "http".into()),
        ]
    );
    let tagged = c.tagged(env).unwrap();
    for t in [
        "Microsoft.Resources/resourceGroups",
        "Microsoft.Network/virtualNetworks ",
        "Microsoft.Network/networkSecurityGroups ",
        "Microsoft.Network/publicIPAddresses ",
        "Microsoft.Network/networkInterfaces ",
        "Microsoft.Compute/virtualMachines ",
    ] {
        assert!(
            tagged.iter().any(|x| x.starts_with(t)),
            "{t} not tagged in {tagged:?}"
        );
    }
    for r in c
        .resources()
        .iter()
        .filter(|r| r["tags"]["carto-env"] == env.as_str())
    {
        assert_eq!(r["tags"]["managed-by"], "carto-provision", "{r}");
    }
    assert_eq!(
        c.a_records().unwrap(),
        vec![(format!("{DOMAIN}."), c.vm_ip.to_string())]
    );

    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "second run failed\nstdout: {out}\nstderr: {err}");
    let mut again = c.tagged(env).unwrap();
    let mut before = tagged.clone();
    again.sort();
    before.sort();
    assert_eq!(again, before, "the second run changed the resources");

    d.destroy_leaves_nothing();
    assert!(
        c.resource(&format!(
            "/subscriptions/{}/resourceGroups/carto-{env}-rg",
            carto_harness::local_azure::SUBSCRIPTION
        ))
        .is_none()
    );
    drop(vm);
}
