//! A release's life on one VM, with CARTO's shapes: plain `2025.11.11`, whose
//! `cdn-invalidator-sub` crash-loops, fails and names that service; the same environment then
//! moves to the newest release, which renamed `redis` to `valkey`, on Compose v2: the old
//! `redis` container is gone, the embedded Postgres keeps its volume, every service runs, and
//! destroy leaves nothing.

use carto_harness::selfhosted::{NEWEST_RELEASE, assert_every_service_up, pulled_images};
use carto_harness::vm::Variant;

use crate::common::{checkout, deployment, vm_sh};

/// Exit code of a remote step's failure (`src/exit.rs`).
const EXIT_REMOTE: i32 = 4;

const CRASHING: &str = "2025.11.11";

#[test]
#[ignore = "e2e: needs root and the test VM; run with --include-ignored"]
fn a_crash_looping_release_is_named_and_an_upgrade_crosses_the_valkey_rename() {
    let d = deployment("e2e-upgrade", &[]);
    d.selfhosted_version.set(Some(CRASHING));
    let (code, out, err, vm) = d.deploy_with_vm(Variant::Docker13, "");
    let log = |out: &str, err: &str| format!("stdout: {out}\nstderr: {err}");
    assert_eq!(code, EXIT_REMOTE, "{}", log(&out, &err));
    assert!(
        err.contains("cdn-invalidator-sub") && err.contains("restarts repeatedly"),
        "the crash-looping service is not named: {err}"
    );
    assert_eq!(d.state()["extra"]["selfhosted_version"], CRASHING);
    let running = vm_sh(
        &vm,
        "docker ps --format '{{.Label \"com.docker.compose.service\"}}' | sort",
    );
    assert!(running.lines().any(|s| s == "redis"), "{running}");
    let volume = || {
        vm_sh(
            &vm,
            "docker volume inspect --format '{{.Name}} {{.CreatedAt}}' \
             carto-selfhosted_workspace-pgdata",
        )
    };
    let pgdata = volume();

    d.selfhosted_version.set(Some(NEWEST_RELEASE));
    let (code, out, err) = d.deploy_again();
    assert_eq!(code, 0, "the upgrade failed\n{}", log(&out, &err));
    assert_every_service_up(&vm, NEWEST_RELEASE);
    assert_eq!(volume(), pgdata, "the embedded Postgres lost its volume");
    let dot_env = String::from_utf8(vm.read_file(&checkout(".env")).unwrap()).unwrap();
    assert!(
        dot_env.contains(&format!("CARTO_SELFHOSTED_VERSION={NEWEST_RELEASE}\n")),
        "{dot_env}"
    );
    assert_eq!(d.state()["extra"]["selfhosted_version"], NEWEST_RELEASE);
    let mut pulled = pulled_images(CRASHING);
    pulled.extend(pulled_images(NEWEST_RELEASE));
    pulled.sort();
    pulled.dedup();
    assert_eq!(vm.registry_pulls().unwrap(), pulled);

    d.destroy_leaves_nothing();
}
