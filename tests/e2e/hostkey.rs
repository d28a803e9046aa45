//! The host key rotation end to end on AWS (issue 10 part 5): a run killed after the new key
//! was staged and recorded but before it went live resumes and finishes; afterwards the key the
//! tool pins is the one sshd serves, was made on the VM and is not the user-data key, the local
//! copy of the user-data key is gone, the state file holds no private key, a re-run connects
//! pinned to the new key, and a state file pinning the user-data key again is refused.

use carto_harness::vm::Variant;

use crate::common::{deployment, vm_sh};

/// The value of `key: "…"` (JSON-quoted by src/cloud_init.rs) in the user-data.
fn user_data_value(user_data: &str, key: &str) -> String {
    let line = user_data
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in the user-data"));
    serde_json::from_str(line.trim()).expect("JSON-quoted value")
}

/// `ssh-ed25519 BASE64` of an OpenSSH public key line (the comment dropped).
fn key_part(line: &str) -> String {
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn second_connection_uses_a_host_key_that_never_left_the_vm() {
    let mut d = deployment("e2e-hostkey", &[]);
    d.overrides = vec![("CARTO_PROVISION_DIE_AT".into(), "hostkey:recorded".into())];
    // A second `runcmd` replaces the user-data's (YAML keeps the last key), as if the install
    // during boot had not happened: the bootstrap's Docker step installs it over SSH instead.
    let no_boot_install = "runcmd:\n  - [\"true\"]\n";
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Plain, no_boot_install);
    assert_eq!(code, -1, "not killed between staging and restart: {err}");
    assert!(
        out.contains("install Docker and docker-compose: done"),
        "the bootstrap did not install Docker itself: {out}"
    );
    assert_eq!(vm_sh(&vm, "systemctl is-active docker").trim(), "active");
    let staged = d.state()["host_key_public"].as_str().map(key_part);
    assert!(staged.is_some(), "the staged key was not recorded");
    assert_eq!(d.state()["host_key_rotated"], false);
    d.overrides.clear();
    let (code, out, err) = d.deploy_again();
    assert_eq!(
        code,
        0,
        "resume failed\nstdout: {out}\nstderr: {err}\nVM: {}",
        vm.log_tail(30)
    );

    let user_data = d
        .cloud
        .aws
        .wait_user_data(&d.env, std::time::Duration::from_secs(5))
        .unwrap();
    let sent_public = key_part(&user_data_value(&user_data, "ed25519_public"));
    let sent_private = user_data_value(&user_data, "ed25519_private");
    let live = key_part(&vm_sh(
        &vm,
        "ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key",
    ));
    let on_vm_private = vm_sh(&vm, "cat /etc/ssh/ssh_host_ed25519_key");
    assert_ne!(live, sent_public, "sshd still serves the user-data key");
    assert_ne!(on_vm_private.trim(), sent_private.trim());
    assert_eq!(
        key_part(&vm_sh(&vm, "cat /etc/ssh/ssh_host_ed25519_key.pub")),
        live
    );
    assert_eq!(
        vm_sh(&vm, "ls /etc/ssh | grep -c carto-new || true").trim(),
        "0",
        "the staged key was left behind"
    );

    let state = d.state();
    assert_eq!(
        state["host_key_public"].as_str().map(key_part),
        Some(live.clone())
    );
    assert_eq!(staged, Some(live.clone()), "the resume staged another key");
    assert_eq!(state["host_key_rotated"], true);
    assert_eq!(state["user_data_forgotten"], true);
    let state_text = std::fs::read_to_string(d.state_file()).unwrap();
    assert!(!state_text.contains("PRIVATE KEY"), "{state_text}");
    assert!(!state_text.contains(sent_private.lines().nth(1).unwrap()));
    let hostkey = d.state_dir().join(format!("{}.hostkey", d.env));
    assert!(!hostkey.exists(), "{} left", hostkey.display());
    assert!(!hostkey.with_extension("hostkey.pub").exists());

    // A re-run connects pinned to the rotated key (only it is accepted now) and leaves no
    // user-data key file behind, though its preflight wrote one for a VM it might create.
    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "re-run failed\nstdout: {out}\nstderr: {err}");
    assert!(!hostkey.exists(), "the re-run left {}", hostkey.display());
    assert_eq!(
        d.state()["host_key_public"].as_str().map(key_part),
        Some(live.clone())
    );

    // Pinning the user-data key again is refused: the old key is not accepted by the tool,
    // and sshd no longer holds it.
    let mut pinned_old = d.state();
    pinned_old["host_key_public"] = serde_json::Value::from(sent_public);
    std::fs::write(d.state_file(), pinned_old.to_string()).unwrap();
    let (code, out, err) = d.deploy_again();
    assert_ne!(code, 0, "connected with the user-data key pinned: {out}");
    assert!(
        format!("{out}{err}").contains("not the one this environment pinned"),
        "stdout: {out}\nstderr: {err}"
    );
    std::fs::write(d.state_file(), state_text).unwrap();
    d.destroy_leaves_nothing();
    drop(vm);
}
