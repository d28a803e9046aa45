//! The booted test VM, end to end: cloud-init installs our user and pinned host key (SSH with
//! strict host key checking works), and the stand-in carto-selfhosted installs, pulls its 17
//! services' images from the harness registry and answers HTTPS on the VM's published ports,
//! with the metrics port closed by the emulated firewall (Docker from Debian's packages on the
//! plain images is what the e2e deployments onto them install). Needs root,
//! debootstrap and systemd-nspawn (`.ci/install`); run with
//! `cargo test -p carto-harness -- --include-ignored --nocapture` (timings go to stderr).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use carto_harness::selfhosted::{self, bare_repo};
use carto_harness::vm::{TestVm, Variant, VmOptions};

struct Keys {
    dir: PathBuf,
    client: PathBuf,
    client_pub: String,
    host_priv: String,
    host_pub: String,
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vm-test-{label}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
}

fn keys(label: &str) -> Keys {
    let dir = temp_dir(label);
    let client = dir.join("client");
    let host = dir.join("host");
    keygen(&client);
    keygen(&host);
    let read = |p: PathBuf| fs::read_to_string(p).unwrap().trim().to_string();
    Keys {
        client_pub: read(dir.join("client.pub")),
        host_priv: read(host.clone()),
        host_pub: read(dir.join("host.pub")),
        client,
        dir,
    }
}

/// A minimal cloud-config: user `ubuntu` (sudo without password, our key) and our host key.
fn user_data(keys: &Keys) -> String {
    let private: String = keys
        .host_priv
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    format!(
        "#cloud-config\n\
         users:\n\
         \x20 - name: ubuntu\n\
         \x20   shell: /bin/bash\n\
         \x20   sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n\
         \x20   groups: [docker]\n\
         \x20   ssh_authorized_keys:\n\
         \x20     - {}\n\
         ssh_deletekeys: true\n\
         ssh_genkeytypes: [ed25519]\n\
         ssh_keys:\n\
         \x20 ed25519_private: |\n{private}\
         \x20 ed25519_public: {}\n",
        keys.client_pub, keys.host_pub
    )
}

fn boot(label: &str, variant: Variant, keys: &Keys) -> TestVm {
    let address = TestVm::next_address().unwrap();
    let started = Instant::now();
    let mut vm = TestVm::boot(VmOptions {
        name: format!("{label}-{}", address.octets()[2]),
        address,
        user_data: user_data(keys),
        variant,
    })
    .unwrap();
    eprintln!(
        "[timing] {label}: copy + nspawn start {:?}",
        started.elapsed()
    );
    let status = vm.wait_cloud_init().unwrap();
    let code = status.status.code();
    assert!(
        matches!(code, Some(0) | Some(2)),
        "cloud-init status --wait: {code:?}\n{}\n{}",
        String::from_utf8_lossy(&status.stdout),
        vm.log_tail(40)
    );
    vm.wait_ssh_port(Duration::from_secs(60)).unwrap();
    eprintln!(
        "[timing] {label}: booted, cloud-init done, sshd up after {:?}",
        started.elapsed()
    );
    vm
}

fn ssh(vm: &TestVm, keys: &Keys, known_hosts: &Path, command: &str) -> Output {
    Command::new("ssh")
        .arg("-i")
        .arg(&keys.client)
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
        ])
        .args(["-o", "ConnectTimeout=10"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .arg(format!("ubuntu@{}", vm.address()))
        .arg(command)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a shell command inside the VM as `ubuntu` (login shell: HOME, docker group).
fn as_ubuntu(vm: &TestVm, script: &str) -> Output {
    vm.exec_root(&["runuser", "-l", "ubuntu", "-c", script])
        .unwrap()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
#[ignore = "needs root and the test VM; run with --include-ignored"]
fn cloud_init_installs_user_and_pinned_host_key() {
    let keys = keys("ssh");
    let vm = boot("ssh", Variant::Plain, &keys);
    let seed = "/var/lib/cloud/seed/nocloud/user-data";
    assert_eq!(vm.file_mode(seed).unwrap(), 0o600);
    assert_eq!(
        vm.read_file("/etc/ssh/ssh_host_ed25519_key.pub")
            .unwrap()
            .trim_ascii(),
        keys.host_pub.as_bytes(),
        "cloud-init must install our host key"
    );

    let known_hosts = keys.dir.join("known_hosts");
    fs::write(
        &known_hosts,
        format!("{} {}\n", vm.address(), keys.host_pub),
    )
    .unwrap();
    let out = ssh(&vm, &keys, &known_hosts, "sudo -n true && id -un");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ubuntu");

    // A different pinned key must be refused: the check is real.
    let other = keys_dir_other(&keys);
    fs::write(&known_hosts, format!("{} {}\n", vm.address(), other)).unwrap();
    let out = ssh(&vm, &keys, &known_hosts, "true");
    assert!(
        !out.status.success(),
        "wrong host key accepted: {}",
        text(&out)
    );

    // sshd listens on the VM's address only.
    let listen = vm.exec_root(&["ss", "-Hltn", "sport = :22"]).unwrap();
    let listen = String::from_utf8_lossy(&listen.stdout).to_string();
    assert!(listen.contains(&format!("{}:22", vm.address())), "{listen}");
    assert!(
        !listen.contains("0.0.0.0:22") && !listen.contains("*:22"),
        "{listen}"
    );

    // The VM runs in its own cgroup, not the shared root where parallel VMs would collide.
    let own = fs::read_to_string(format!("/proc/{}/cgroup", vm.init_pid())).unwrap();
    let systemd_line = own.lines().find(|l| l.contains(":name=systemd:")).unwrap();
    assert!(
        systemd_line.contains(&format!("{}/payload", vm.cgroup_path())),
        "{own}"
    );
    let cgroup = PathBuf::from(format!("/sys/fs/cgroup/systemd{}", vm.cgroup_path()));
    assert!(cgroup.is_dir());

    let (nspawn, init, root) = (vm.pid(), vm.init_pid(), vm.root().to_path_buf());
    let started = Instant::now();
    drop(vm);
    eprintln!("[timing] ssh: power-off + removal {:?}", started.elapsed());
    assert!(!pid_alive(nspawn), "nspawn {nspawn} still running");
    assert!(!pid_alive(init), "VM init {init} still running");
    assert!(!root.exists(), "{} not removed", root.display());
    assert!(!cgroup.exists(), "{} not removed", cgroup.display());
    fs::remove_dir_all(&keys.dir).unwrap();
}

fn keys_dir_other(keys: &Keys) -> String {
    let path = keys.dir.join("other");
    keygen(&path);
    fs::read_to_string(keys.dir.join("other.pub"))
        .unwrap()
        .trim()
        .to_string()
}

fn curl(vm: &TestVm, path: &str) -> (String, String) {
    curl_port(vm, 443, path)
}

/// `(status, body)` of `https://carto.test:PORT/PATH` (HTTP for any port but 443) from the
/// host, through the VM's address; status `000` when nothing answers.
fn curl_port(vm: &TestVm, port: u16, path: &str) -> (String, String) {
    let scheme = if port == 443 { "https" } else { "http" };
    let out = Command::new("curl")
        .args([
            "-k",
            "-s",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "--max-time",
            "5",
            "--resolve",
        ])
        .arg(format!("carto.test:{port}:{}", vm.address()))
        .arg(format!("{scheme}://carto.test:{port}{path}"))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = body.rsplit_once('\n').unwrap_or(("", "000"));
    (code.to_string(), body.to_string())
}

/// Polls `probe` until it yields a value; on timeout panics with what it waited for and the
/// compose state and logs (what CARTO support would ask for).
fn wait_for<T>(
    vm: &TestVm,
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() >= deadline {
            let report = as_ubuntu(
                vm,
                "cd carto-selfhosted && docker-compose ps -a 2>&1; docker-compose logs -t --tail=20 2>&1",
            );
            panic!(
                "timed out after {timeout:?} waiting for {what}\n{}",
                text(&report)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn container_state(vm: &TestVm, service: &str) -> String {
    let out = as_ubuntu(
        vm,
        &format!(
            "cd carto-selfhosted && docker inspect -f '{{{{.State.Status}}}} {{{{.State.ExitCode}}}} \
             {{{{.RestartCount}}}}' $(docker-compose ps -q {service})"
        ),
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const CUSTOMER_ENV: &str = "SELFHOSTED_DOMAIN=carto.test\n\
    SELFHOSTED_TENANT_ID=standin-tenant\n\
    CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2025.10.2\n\
    LOCAL_POSTGRES_SCALE=1\n\
    LOCAL_REDIS_SCALE=1\n\
    POSTGRES_PASSWORD=vm-test-pw\n";

#[test]
#[ignore = "needs root and the test VM; run with --include-ignored"]
fn standin_selfhosted_installs_and_answers_https() {
    let keys = keys("standin");
    let vm = boot("standin", Variant::Docker, &keys);
    let tags = ["2025.11.11", "2025.11.11-patch1", "2026.7.16"];
    let bare = bare_repo(&keys.dir.join("repo"), &tags).unwrap();
    let url = vm.install_repo(&bare).unwrap();
    let out = as_ubuntu(
        &vm,
        &format!("git clone -q --branch 2025.11.11-patch1 {url} carto-selfhosted"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        as_ubuntu(&vm, "cat carto-selfhosted/VERSION").stdout,
        b"2025.11.11-patch1\n"
    );

    let write = |name: &str, data: &str| {
        let target = format!("carto-selfhosted/{name}");
        let cmd = format!("umask 077 && cat > {target}");
        let out = vm.exec_root_stdin(&["runuser", "-l", "ubuntu", "-c", &cmd], data.as_bytes());
        assert!(out.unwrap().status.success());
    };
    write("customer.env", CUSTOMER_ENV);
    write(
        "key.json",
        r#"{"type": "service_account", "project_id": "standin-test"}"#,
    );

    let out = as_ubuntu(&vm, "cd carto-selfhosted && bash install.sh");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("[ERROR]"), "{}", text(&out));
    assert!(stdout.contains("[WARN]: the embedded"), "{}", text(&out));
    // As CARTO's install.sh: .env, every secret in it, is written with the caller's umask.
    let dot_env = "/home/ubuntu/carto-selfhosted/.env";
    assert_eq!(vm.file_mode(dot_env).unwrap() & 0o077, 0o044);

    let started = Instant::now();
    let out = as_ubuntu(&vm, "cd carto-selfhosted && docker-compose up -d 2>&1");
    assert!(out.status.success(), "{}", text(&out));
    let (code, body) = wait_for(
        &vm,
        "https://carto.test/acc/config.yaml",
        Duration::from_secs(60),
        || {
            let (code, body) = curl(&vm, "/acc/config.yaml");
            (code == "200").then_some((code, body))
        },
    );
    eprintln!(
        "[timing] docker-compose up -d (17 services pulled) until HTTPS 200 {:?}",
        started.elapsed()
    );
    assert_eq!(code, "200");
    assert!(
        body.contains("domain: carto.test") && body.contains("version: 2025.11.11-patch1"),
        "{body}"
    );
    assert_eq!(curl(&vm, "/").0, "200");

    // The API's deep check reaches the embedded Postgres and Redis (by its `redis` name).
    wait_for(
        &vm,
        "/workspace-api/health 200",
        Duration::from_secs(30),
        || (curl(&vm, "/workspace-api/health").0 == "200").then_some(()),
    );
    let state = wait_for(&vm, "migrations exited", Duration::from_secs(30), || {
        let s = container_state(&vm, "workspace-migrations");
        s.starts_with("exited").then_some(s)
    });
    assert_eq!(state, "exited 0 0");
    // All 17 up, each image pulled from the harness registry under the real registry name.
    selfhosted::assert_every_service_up_from_the_registry(&vm, "2025.11.11-patch1");
    let uid = as_ubuntu(
        &vm,
        "cd carto-selfhosted && docker-compose exec -T router-http python3 -c 'import os; print(os.getuid())'",
    );
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "1000",
        "{}",
        text(&uid)
    );

    // The published metrics port answers until the (emulated) cloud firewall closes it; it
    // still answers inside the VM.
    assert_eq!(curl_port(&vm, 5447, "/").0, "200");
    vm.firewall(&[22, 80, 443]).unwrap();
    assert_eq!(curl_port(&vm, 5447, "/").0, "000");
    assert_eq!(curl(&vm, "/").0, "200");
    let inside = vm
        .exec_root(&[
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "http://127.0.0.1:5447/",
        ])
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inside.stdout), "200");

    // The crash knob: after install.sh + up -d, workspace-api keeps restarting; the router's
    // route to it answers 502.
    write(
        "customer.env",
        &format!("{CUSTOMER_ENV}STANDIN_API_CRASH=1\n"),
    );
    let out = as_ubuntu(
        &vm,
        "cd carto-selfhosted && bash install.sh && docker-compose up -d 2>&1",
    );
    assert!(out.status.success(), "{}", text(&out));
    wait_for(
        &vm,
        "workspace-api restarting",
        Duration::from_secs(60),
        || {
            let state = container_state(&vm, "workspace-api");
            let restarts: u32 = state.rsplit(' ').next()?.parse().ok()?;
            (restarts >= 2).then_some(())
        },
    );
    // Every container was recreated (.env changed): the new router may take a moment.
    wait_for(
        &vm,
        "the router's 502 for the crashing API",
        Duration::from_secs(60),
        || (curl(&vm, "/workspace-api/health").0 == "502").then_some(()),
    );

    // Powering off with running services is quick (they stop on SIGTERM) and leaves nothing.
    let cgroup = PathBuf::from(format!("/sys/fs/cgroup/systemd{}", vm.cgroup_path()));
    let started = Instant::now();
    drop(vm);
    eprintln!(
        "[timing] standin: power-off + removal {:?}",
        started.elapsed()
    );
    assert!(!cgroup.exists(), "{} left behind", cgroup.display());
    fs::remove_dir_all(&keys.dir).unwrap();
}
