//! Helpers of the end-to-end tests: the deployment driver lives in the harness
//! (`carto_harness::deployment`); here are the assertions the tests share.

use std::path::Path;

use carto_harness::cloud::LocalCloud;
use carto_harness::vm::TestVm;

pub use carto_harness::deployment::{DOMAIN, Deployment};
pub use carto_harness::package::assert_no_secret;

/// A deployment driven by this build's `carto-provision`.
pub fn deployment(env: &str, extra: &[&str]) -> Deployment {
    Deployment::new(Path::new(env!("CARGO_BIN_EXE_carto-provision")), env, extra)
}

/// Runs `argv` inside the VM as root and returns its stdout; panics with stderr on failure.
pub fn vm_sh(vm: &TestVm, script: &str) -> String {
    let out = vm.exec_root(&["sh", "-c", script]).expect("exec in VM");
    assert!(
        out.status.success(),
        "`{script}` failed in the VM: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The checkout on the VM.
pub fn checkout(path: &str) -> String {
    Path::new("/home/ubuntu/carto-selfhosted")
        .join(path)
        .display()
        .to_string()
}

/// Adds a value to `d`'s customer.env and runs the deployment again: the run uploads it,
/// install.sh rewrites `.env`, `up -d` recreates every container (where Compose v1 on Docker
/// 25+ dies with 'ContainerConfig') and the run ends verified.
pub fn changed_customer_env_recreates_every_container<C: LocalCloud>(
    d: &Deployment<C>,
    vm: &TestVm,
) {
    let containers = || vm_sh(vm, "docker ps -q --no-trunc | sort");
    let before = containers();
    let customer_env = d.package.join("customer.env");
    let mut text = std::fs::read_to_string(&customer_env).unwrap();
    text.push_str("CARTO_STANDIN_NOTE=changed\n");
    std::fs::write(&customer_env, text).unwrap();
    let (code, out, err) = d.deploy_again();
    assert_eq!(
        code, 0,
        "run after the change failed\nstdout: {out}\nstderr: {err}"
    );
    let dot_env = String::from_utf8(vm.read_file(&checkout(".env")).unwrap()).unwrap();
    assert!(
        dot_env.contains("CARTO_STANDIN_NOTE=changed\n"),
        "{dot_env}"
    );
    let after = containers();
    assert_eq!(after.lines().count(), before.lines().count(), "{after}");
    assert!(
        before.lines().all(|id| !after.contains(id)),
        "containers not recreated:\nbefore {before}\nafter {after}"
    );
}
