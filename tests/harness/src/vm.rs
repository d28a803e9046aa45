//! The booted test VM: a private copy of a cached Debian rootfs (built by
//! `tests/harness/vm/build-rootfs`) booted with `systemd-nspawn` in a network namespace of its
//! own (address 198.18.N.2, see `vm/network.rs`), with its outside (the harness registry and
//! an apt proxy, `vm/services.rs`) in a second namespace only it reaches. cloud-init configures
//! it from a NoCloud seed holding the test's user-data, as a cloud VM would be.
//!
//! This module starts, inspects and stops VMs; it never sends traffic anywhere but the VM's
//! namespaces (the apt proxy forwards the VM's package downloads to its image's own mirror),
//! and it stops what it started by PID (SIGTERM, then SIGKILL), never by name.
//! Needs root, `systemd-nspawn`, `debootstrap`, `nsenter`, `ip` and `docker-registry` (see
//! `.ci/install`).

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod address;
mod apt_proxy;
mod cgroup;
mod network;
mod registry;
mod rootfs;
mod services;
mod sweep;

use services::Services;

pub use network::BANDWIDTH_ENV;
pub use rootfs::ensure_rootfs;
use rootfs::{remove_tree, run_checked, seed_rootfs};

/// Which cached image the VM boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Debian with systemd, sshd, sudo, cloud-init, git, python3: no Docker (the product installs it).
    Plain,
    /// `Plain` plus Debian's `docker.io` and `docker-compose` 1.29 (Compose v1) baked in.
    Docker,
    /// Debian 13 (trixie) with what `Plain` has: no Docker.
    Plain13,
    /// `Plain13` plus Debian 13's `docker.io` and `docker-compose` (Compose v2) baked in.
    Docker13,
}

impl Variant {
    /// The `--docker-source` a deployment onto this image uses: the default (Compose v2) on
    /// Debian 13; `distro-v1` on Debian 12, whose docker-compose is 1.29 and which has no v2.
    pub fn docker_source(self) -> &'static str {
        match self {
            Variant::Plain | Variant::Docker => "distro-v1",
            Variant::Plain13 | Variant::Docker13 => "distro",
        }
    }

    /// The variant `name` names (`plain`, `docker`, `plain13`, `docker13`), for the benches'
    /// `--image`.
    pub fn from_name(name: &str) -> Option<Variant> {
        [
            Variant::Plain,
            Variant::Docker,
            Variant::Plain13,
            Variant::Docker13,
        ]
        .into_iter()
        .find(|v| v.as_str() == name)
    }

    fn as_str(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Docker => "docker",
            Variant::Plain13 => "plain13",
            Variant::Docker13 => "docker13",
        }
    }
}

/// What to boot.
#[derive(Debug, Clone)]
pub struct VmOptions {
    /// Machine and host name (letters, digits and `-`).
    pub name: String,
    /// The VM's address 198.18.N.2 (see [`TestVm::next_address`]); sshd listens on port 22 there.
    pub address: Ipv4Addr,
    /// cloud-config user-data, written to the NoCloud seed (mode 0600).
    pub user_data: String,
    /// Which image.
    pub variant: Variant,
}

/// A running test VM. Dropping it powers the VM off and deletes its private rootfs.
pub struct TestVm {
    name: String,
    address: Ipv4Addr,
    id: String,
    workdir: PathBuf,
    root: PathBuf,
    log: PathBuf,
    nspawn: Child,
    init_pid: u32,
    services: Services,
}

const PATH_IN_VM: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const STOP_GRACE: Duration = Duration::from_secs(10);

static VM_COUNTER: AtomicU32 = AtomicU32::new(0);

pub(crate) fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cache folder for rootfs images, private VM copies and address leases: `$CARTO_TEST_CACHE`,
/// else a system cache folder outside the checkout, so every clone and worktree on this machine
/// shares one image per recipe hash (the image folder's name carries that hash) and one set of
/// address leases.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("CARTO_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/carto-provision-tests"))
}

pub(crate) fn other_error(msg: String) -> io::Error {
    io::Error::other(msg)
}

impl TestVm {
    /// Copies the cached rootfs, sets up its namespaces, registry and apt proxy, seeds it
    /// (NoCloud user-data + meta-data, sshd drop-in, /etc/hosts, the registry's CA, the apt
    /// proxy) and boots it with systemd-nspawn. Returns once the VM's init process exists; use
    /// [`TestVm::wait_ssh_port`] to wait for sshd.
    pub fn boot(opts: VmOptions) -> io::Result<TestVm> {
        validate_name(&opts.name)?;
        let Some(slot) = network::slot_of(opts.address) else {
            return Err(other_error(format!(
                "test VM address {} is not one of TestVm::next_address (198.18.N.2)",
                opts.address
            )));
        };
        let image = ensure_rootfs(opts.variant)?;
        let vms = cache_dir().join("vms");
        for stale in sweep::sweep(&vms)? {
            eprintln!("removed stale test VM {stale} (its test process had died)");
        }
        let seq = VM_COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{}-{seq}", opts.name, std::process::id());
        let workdir = vms.join(&id);
        if workdir.exists() {
            remove_tree(&workdir)?;
        }
        fs::create_dir_all(&workdir)?;
        fs::write(
            workdir.join(sweep::OWNER_FILE),
            std::process::id().to_string(),
        )?;
        let root = workdir.join("root");
        run_checked(Command::new("cp").arg("-a").arg(&image).arg(&root))?;
        let (services, outside) = Services::start(slot, &workdir, &root)?;
        seed_rootfs(&root, &opts, &cgroup::relative_path(&id), &outside)?;
        let netns = network::VmNetwork::netns_path(&services.network().vm_netns());

        let log = workdir.join("console.log");
        let log_file = fs::File::create(&log)?;
        let procs = cgroup::prepare(&id)?;
        let procs: Vec<String> = procs.iter().map(|p| p.display().to_string()).collect();
        // The shell joins the VM's own cgroups, then becomes nspawn (same PID).
        let nspawn = Command::new("sh")
            .arg("-c")
            .arg(
                "for p in $CARTO_VM_CGROUP_PROCS; do echo $$ > \"$p\" || exit 1; done; \
                 unset CARTO_VM_CGROUP_PROCS; exec systemd-nspawn \"$@\"",
            )
            .arg("sh")
            .env("CARTO_VM_CGROUP_PROCS", procs.join(" "))
            .env("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "1")
            .arg("-D")
            .arg(&root)
            .args(["-b", "--register=no", "--keep-unit"])
            .arg(format!("--machine={}", opts.name))
            // Not --console=passive: nspawn then never reads the console pty, and once its
            // buffer is full the VM's systemd blocks writing status lines (it hangs at
            // shutdown). read-only drains the console into the log file.
            .args(["--console=read-only", "--capability=all"])
            .arg("--system-call-filter=@keyring bpf")
            .arg(format!("--network-namespace-path={}", netns.display()))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()?;
        fs::write(workdir.join(sweep::NSPAWN_FILE), nspawn.id().to_string())?;
        let mut vm = TestVm {
            name: opts.name,
            address: opts.address,
            id,
            workdir,
            root,
            log,
            nspawn,
            init_pid: 0,
            services,
        };
        vm.init_pid = vm.wait_init(Duration::from_secs(20))?;
        Ok(vm)
    }

    /// The VM's address (198.18.N.2), reachable from the host.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Every image the VM pulled from the harness registry so far, as `repository:tag`, once
    /// each, sorted.
    pub fn registry_pulls(&self) -> io::Result<Vec<String>> {
        let mut pulls = self.services.registry().pulls()?;
        pulls.sort();
        pulls.dedup();
        Ok(pulls)
    }

    /// Plays the cloud's firewall ([`network::VmNetwork::firewall_rules`]): on the VM's link
    /// to the host only TCP to `open` ports (and replies) passes. Uses the VM's own iptables
    /// (Debian's docker.io brings it).
    pub fn firewall(&self, open: &[u16]) -> io::Result<()> {
        for rule in self.services.network().firewall_rules(open) {
            let mut argv = vec!["iptables"];
            argv.extend(rule.split_whitespace());
            let out = self.exec_root(&argv)?;
            if !out.status.success() {
                return Err(other_error(format!(
                    "{argv:?} in VM {}: {}",
                    self.name,
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
        Ok(())
    }

    /// The machine name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// PID of the `systemd-nspawn` process.
    pub fn pid(&self) -> u32 {
        self.nspawn.id()
    }

    /// PID (in the host's namespace) of the VM's init (systemd).
    pub fn init_pid(&self) -> u32 {
        self.init_pid
    }

    /// The private rootfs directory on the host.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The VM's cgroup, relative to each hierarchy's root (nspawn runs in it in the systemd
    /// and unified hierarchies; Docker in the VM uses it as its cgroup parent).
    pub fn cgroup_path(&self) -> String {
        cgroup::relative_path(&self.id)
    }

    /// The console log (nspawn's stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the console log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read(&self.log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Runs `argv` inside the VM as root (all its namespaces, via nsenter), with a clean
    /// environment. No SSH involved.
    pub fn exec_root(&self, argv: &[&str]) -> io::Result<Output> {
        self.exec_root_cmd(argv).stdin(Stdio::null()).output()
    }

    /// Like [`TestVm::exec_root`], feeding `stdin` to the command.
    pub fn exec_root_stdin(&self, argv: &[&str], stdin: &[u8]) -> io::Result<Output> {
        use std::io::Write;
        let mut child = self
            .exec_root_cmd(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin)?;
        }
        child.wait_with_output()
    }

    fn exec_root_cmd(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--target={}", self.init_pid))
            .args(["--all", "--", "/usr/bin/env", "-i", PATH_IN_VM])
            .args(["HOME=/root", "LANG=C.UTF-8", "TERM=dumb"])
            .args(argv);
        cmd
    }

    /// Reads a file of the VM's root filesystem from the host (not tmpfs mounts like /run).
    pub fn read_file(&self, path: &str) -> io::Result<Vec<u8>> {
        fs::read(self.host_path(path)?)
    }

    /// Permission bits (e.g. 0o600) of a file in the VM's root filesystem.
    pub fn file_mode(&self, path: &str) -> io::Result<u32> {
        Ok(fs::metadata(self.host_path(path)?)?.permissions().mode() & 0o7777)
    }

    /// Owner uid of a file in the VM's root filesystem.
    pub fn file_uid(&self, path: &str) -> io::Result<u32> {
        Ok(fs::metadata(self.host_path(path)?)?.uid())
    }

    /// Maps a path inside the VM to the host path in the private rootfs, following symlinks
    /// inside the rootfs (an absolute link target is taken relative to the VM's root, so a link
    /// never leads out to the host's files).
    pub fn host_path(&self, path: &str) -> io::Result<PathBuf> {
        rootfs::resolve_in_root(&self.root, Path::new(path))
    }

    /// Waits until a TCP connection to the VM's port 22 succeeds, failing early (with the
    /// console log's tail) if the VM stops.
    pub fn wait_ssh_port(&mut self, timeout: Duration) -> io::Result<()> {
        self.wait_port(22, timeout)
    }

    /// Waits until something accepts TCP connections on the VM's address and `port`.
    pub fn wait_port(&mut self, port: u16, timeout: Duration) -> io::Result<()> {
        let addr = SocketAddr::from((self.address, port));
        let deadline = Instant::now() + timeout;
        loop {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                Ok(_) => return Ok(()),
                Err(err) => {
                    if let Some(status) = self.nspawn.try_wait()? {
                        return Err(other_error(format!(
                            "VM {} stopped ({status}) while waiting for {addr}; console:\n{}",
                            self.name,
                            self.log_tail(30)
                        )));
                    }
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "{addr} did not accept connections within {timeout:?} \
                                 (last error: {err}); console:\n{}",
                                self.log_tail(30)
                            ),
                        ));
                    }
                    sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Runs `cloud-init status --wait` inside the VM and returns its output (exit 0 = done,
    /// 2 = done with recoverable errors).
    pub fn wait_cloud_init(&self) -> io::Result<Output> {
        self.exec_root(&["cloud-init", "status", "--wait", "--long"])
    }

    /// Copies a bare git repository into the VM at /srv/<its dir name> and returns the URL the
    /// VM clones it from (`file:///srv/<name>`). Readable by every user in the VM.
    pub fn install_repo(&self, bare: &Path) -> io::Result<String> {
        let name = bare
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| other_error(format!("{} has no usable name", bare.display())))?;
        let srv = self.root.join("srv");
        fs::create_dir_all(&srv)?;
        let dest = srv.join(name);
        if dest.exists() {
            remove_tree(&dest)?;
        }
        run_checked(Command::new("cp").arg("-a").arg(bare).arg(&dest))?;
        run_checked(Command::new("chmod").args(["-R", "a+rX"]).arg(&dest))?;
        // The repository is root's; git refuses to clone another user's repository over
        // file:// ("dubious ownership") unless the system config marks it safe.
        let gitconfig = self.root.join("etc/gitconfig");
        let mut config = fs::read_to_string(&gitconfig).unwrap_or_default();
        let entry = format!("\tdirectory = /srv/{name}\n");
        if !config.contains(&entry) {
            config.push_str(&format!("[safe]\n{entry}"));
            fs::write(&gitconfig, config)?;
        }
        Ok(format!("file:///srv/{name}"))
    }

    /// Hands out a VM address 198.18.N.2 (N in 1..=254) unique to this process and call, with a
    /// lease file under the cache so parallel test processes never share one. Until a VM boots
    /// on it, the address is unreachable on this machine (see `vm/network.rs`).
    pub fn next_address() -> io::Result<Ipv4Addr> {
        network::ensure_unroutable_range()?;
        address::next_address(&cache_dir().join("addresses"))
    }

    fn wait_init(&mut self, timeout: Duration) -> io::Result<u32> {
        let deadline = Instant::now() + timeout;
        let nspawn_pid = self.nspawn.id();
        loop {
            if let Some(pid) = find_child(nspawn_pid)? {
                return Ok(pid);
            }
            if let Some(status) = self.nspawn.try_wait()? {
                return Err(other_error(format!(
                    "systemd-nspawn for {} exited ({status}) before booting; console:\n{}",
                    self.name,
                    self.log_tail(30)
                )));
            }
            if Instant::now() >= deadline {
                return Err(other_error(format!(
                    "no init process under systemd-nspawn pid {nspawn_pid} after {timeout:?}"
                )));
            }
            sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Ok(None) = self.nspawn.try_wait() {
            let _ = signal(self.nspawn.id(), "TERM");
            let deadline = Instant::now() + STOP_GRACE;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.nspawn.try_wait() {
                    break;
                }
                sleep(Duration::from_millis(100));
            }
            if let Ok(None) = self.nspawn.try_wait() {
                // Killing the VM's init ends its whole PID namespace; then nspawn itself.
                let _ = signal(self.init_pid, "KILL");
                let _ = self.nspawn.kill();
                let _ = self.nspawn.wait();
                let proc_dir = PathBuf::from(format!("/proc/{}", self.init_pid));
                let deadline = Instant::now() + Duration::from_secs(5);
                while proc_dir.exists() && Instant::now() < deadline {
                    sleep(Duration::from_millis(50));
                }
            }
        }
    }
}

impl Drop for TestVm {
    fn drop(&mut self) {
        self.stop();
        for left in cgroup::remove(&self.id) {
            eprintln!("test VM {}: cgroup not removed: {left}", self.name);
        }
        if std::env::var_os("CARTO_KEEP_VM").is_some() {
            eprintln!("CARTO_KEEP_VM set: keeping {}", self.workdir.display());
            let _ = fs::write(self.workdir.join(sweep::KEPT_FILE), "");
            return;
        }
        if let Err(err) = remove_tree(&self.workdir) {
            eprintln!(
                "test VM {}: not removing {}: {err}",
                self.name,
                self.workdir.display()
            );
        }
    }
}

pub(crate) fn validate_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(other_error(format!(
            "VM name {name:?} must be 1-40 letters, digits or '-'"
        )))
    }
}

fn signal(pid: u32, sig: &str) -> io::Result<()> {
    if pid == 0 {
        return Ok(());
    }
    run_checked(
        Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string()),
    )
}

/// The VM's init: the child of `parent` (nspawn is a child subreaper: the VM's init ends up as
/// its child) that runs in a PID namespace of its own. nspawn's short-lived helper child shares
/// ours, and taking it for the init would leave a PID that is soon gone.
fn find_child(parent: u32) -> io::Result<Option<u32>> {
    let ours = fs::read_link("/proc/self/ns/pid")?;
    let is_init =
        |pid: &u32| fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|ns| ns != ours);
    let task_children = format!("/proc/{parent}/task/{parent}/children");
    if let Ok(text) = fs::read_to_string(&task_children) {
        return Ok(text
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .find(is_init));
    }
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the ")" that closes the command name: state, ppid, ...
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) && is_init(&pid) {
            return Ok(Some(pid));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("vm-1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("bad name").is_err());
        assert!(validate_name("-x").is_err());
    }
}
