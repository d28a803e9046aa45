//! Helpers of the end-to-end tests: the deployment driver lives in the harness
//! (`carto_harness::deployment`); here are the assertions the tests share.

use std::path::Path;

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
