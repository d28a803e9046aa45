//! The VM's root filesystem on the host: building the cached image (through
//! `tests/harness/vm/build-rootfs`), seeding a private copy (NoCloud user-data and meta-data,
//! sshd drop-in, /etc/hosts with the registry's name, Docker's trust of the registry's CA, the
//! apt proxy), mapping VM paths to host paths without ever
//! following a link out of the copy, and deleting a copy only when nothing is mounted in it.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use super::registry::HOST as REGISTRY_HOST;
use super::services::Outside;
use super::{Variant, VmOptions, cache_dir, harness_dir, other_error};

/// Builds the variant's rootfs if it is not cached yet (flock-protected, once for all
/// parallel tests) and returns its directory.
pub fn ensure_rootfs(variant: Variant) -> io::Result<PathBuf> {
    let script = harness_dir().join("vm").join("build-rootfs");
    let output = Command::new(&script)
        .arg(variant.as_str())
        .arg(cache_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(other_error(format!(
            "{} {} failed with {}",
            script.display(),
            variant.as_str(),
            output.status
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = stdout.lines().last().unwrap_or("").trim();
    if dir.is_empty() || !Path::new(dir).is_dir() {
        return Err(other_error(format!(
            "build-rootfs printed no rootfs directory (got {dir:?})"
        )));
    }
    Ok(PathBuf::from(dir))
}

/// Writes the per-VM files into the private copy `root`; Docker's daemon.json (from the image)
/// gets `cgroup-parent` so the VM's containers live under the VM's own cgroup.
pub(crate) fn seed_rootfs(
    root: &Path,
    opts: &VmOptions,
    cgroup_parent: &str,
    outside: &Outside,
) -> io::Result<()> {
    let seed = root.join("var/lib/cloud/seed/nocloud");
    fs::create_dir_all(&seed)?;
    write_mode(&seed.join("user-data"), opts.user_data.as_bytes(), 0o600)?;
    let instance = format!("{}-{}", opts.name, instance_suffix());
    let meta = format!("instance-id: {instance}\nlocal-hostname: {}\n", opts.name);
    write_mode(&seed.join("meta-data"), meta.as_bytes(), 0o600)?;

    let sshd = root.join("etc/ssh/sshd_config.d");
    fs::create_dir_all(&sshd)?;
    let dropin = format!(
        "# test VM: listen on the VM's own loopback address only\n\
         ListenAddress {}\nPort 22\n",
        opts.address
    );
    write_mode(&sshd.join("10-carto-test.conf"), dropin.as_bytes(), 0o644)?;
    // sshd must start after cloud-init wrote the pinned host key: Debian's ssh.service is not
    // ordered after cloud-init (Ubuntu's is), and without a host key sshd exits, hits its start
    // limit and never comes back.
    let unit = root.join("etc/systemd/system/ssh.service.d");
    fs::create_dir_all(&unit)?;
    let order = "[Unit]\nAfter=cloud-init.service\nWants=cloud-init.service\n";
    write_mode(
        &unit.join("10-after-cloud-init.conf"),
        order.as_bytes(),
        0o644,
    )?;

    let hosts = format!(
        "127.0.0.1 localhost\n{} {}\n{}::1 localhost ip6-localhost ip6-loopback\n",
        opts.address, opts.name, outside.hosts
    );
    write_mode(&root.join("etc/hosts"), hosts.as_bytes(), 0o644)?;
    write_mode(
        &root.join("etc/hostname"),
        format!("{}\n", opts.name).as_bytes(),
        0o644,
    )?;
    let certs = root.join("etc/docker/certs.d").join(REGISTRY_HOST);
    fs::create_dir_all(&certs)?;
    write_mode(&certs.join("ca.crt"), &outside.registry_ca, 0o644)?;
    let proxy = format!(
        "// test VM: the VM's only way to its package mirror\n\
         Acquire::http::Proxy \"{0}\";\nAcquire::https::Proxy \"{0}\";\n",
        outside.apt_proxy
    );
    write_mode(
        &root.join("etc/apt/apt.conf.d/90carto-test-proxy"),
        proxy.as_bytes(),
        0o644,
    )?;
    docker_cgroup_parent(root, cgroup_parent)
}

fn docker_cgroup_parent(root: &Path, cgroup_parent: &str) -> io::Result<()> {
    let path = root.join("etc/docker/daemon.json");
    let mut config: serde_json::Map<String, serde_json::Value> = match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| other_error(format!("{}: {e}", path.display())))?,
        Err(err) if err.kind() == io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(err) => return Err(err),
    };
    config.insert("cgroup-parent".into(), cgroup_parent.into());
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| other_error(format!("daemon.json: {e}")))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    write_mode(&path, format!("{text}\n").as_bytes(), 0o644)
}

fn instance_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", std::process::id(), nanos)
}

fn write_mode(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    fs::write(path, data)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

pub(crate) fn run_checked(cmd: &mut Command) -> io::Result<()> {
    let output = cmd.stdin(Stdio::null()).output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(other_error(format!(
            "{cmd:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Removes a private VM tree, refusing if anything is still mounted below it (a leftover
/// mount could lead the removal into the host's files).
pub(crate) fn remove_tree(dir: &Path) -> io::Result<()> {
    let dir_str = dir.to_string_lossy().into_owned();
    let mut mountinfo = String::new();
    fs::File::open("/proc/self/mountinfo")?.read_to_string(&mut mountinfo)?;
    let mounted = mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .any(|mp| mp == dir_str || mp.starts_with(&format!("{dir_str}/")));
    if mounted {
        return Err(other_error(format!("{dir_str} still has mounts below it")));
    }
    fs::remove_dir_all(dir)
}

pub(crate) fn resolve_in_root(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let mut resolved = PathBuf::new();
    let mut pending: Vec<PathBuf> = path
        .components()
        .rev()
        .map(|c| c.as_os_str().into())
        .collect();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match Path::new(&part).components().next() {
            Some(Component::RootDir) | Some(Component::CurDir) | None => continue,
            Some(Component::ParentDir) => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let candidate = root.join(&resolved).join(&part);
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(other_error(format!("too many links in {}", path.display())));
                }
                let target = fs::read_link(&candidate)?;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                pending.extend(target.components().rev().map(|c| c.as_os_str().into()));
            }
            _ => resolved.push(&part),
        }
    }
    Ok(root.join(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let tmp = std::env::temp_dir().join(format!("vm-resolve-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(tmp.join("etc/real")).unwrap();
        fs::write(tmp.join("etc/real/file"), b"inside").unwrap();
        std::os::unix::fs::symlink("/etc/real", tmp.join("etc/abs")).unwrap();
        std::os::unix::fs::symlink("../etc/real/file", tmp.join("etc/rel")).unwrap();
        let abs = resolve_in_root(&tmp, Path::new("/etc/abs/file")).unwrap();
        assert_eq!(abs, tmp.join("etc/real/file"));
        let rel = resolve_in_root(&tmp, Path::new("/etc/rel")).unwrap();
        assert_eq!(rel, tmp.join("etc/real/file"));
        let up = resolve_in_root(&tmp, Path::new("/../../etc/real/file")).unwrap();
        assert_eq!(up, tmp.join("etc/real/file"));
        fs::remove_dir_all(&tmp).unwrap();
    }
}
