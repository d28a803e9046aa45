//! Helpers of the end-to-end tests: the deployment driver lives in the harness
//! (`carto_harness::deployment`); here are the assertions the tests share.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use carto_harness::cloud::LocalCloud;
use carto_harness::vm::TestVm;

pub use carto_harness::deployment::{DOMAIN, Deployment};
pub use carto_harness::package::assert_no_secret;
pub use carto_harness::selfhosted::assert_every_service_up_from_the_registry;

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

/// The compose file publishes the metrics port 5447 on every address of the VM; the cloud's
/// inbound rules must keep it closed. With those rules enforced on the VM (the harness plays
/// the cloud's firewall), 443 answers from outside, 5447 does not, and 5447 still answers
/// inside the VM.
pub fn assert_metrics_port_closed_by_the_firewall<C: LocalCloud>(
    d: &Deployment<C>,
    vm: &TestVm,
    env: &str,
) {
    let ip = d.cloud.vm_ip();
    let reachable = |port: u16| {
        TcpStream::connect_timeout(&SocketAddr::from((ip, port)), Duration::from_secs(3)).is_ok()
    };
    assert!(reachable(5447), "5447 is not published: nothing to close");
    let open = d.cloud.open_ports(env).unwrap();
    assert!(open.contains(&443) && !open.contains(&5447), "{open:?}");
    vm.firewall(&open).unwrap();
    assert!(reachable(443), "443 closed by the rules {open:?}");
    assert!(!reachable(5447), "5447 open from outside the VM");
    let inside = vm_sh(
        vm,
        "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5447/",
    );
    assert_eq!(inside, "200");
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
