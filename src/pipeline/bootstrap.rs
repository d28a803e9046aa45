//! The bootstrap step list: cloud-init finished, Docker Engine + docker-compose, docker group;
//! and the same Docker step as the script cloud-init runs during boot ([`boot_script`]).
//!
//! Docker comes from one of three sources (`DockerSource`): the distribution's docker.io with
//! Compose v2 (the default), the distribution's Compose v1 (`distro-v1`, kept for old images;
//! it crashes when it recreates containers), or Docker's apt repository at a URL the caller
//! supplies (no package host is named here). Every source ends with a hyphenated
//! `docker-compose` on PATH, because install.sh checks for it.
//!
//! A pure function of the `RemoteSpec`: `plan` prints it, tests assert it, `remote::run_steps`
//! runs it. Scripts are constants with values passed as positional arguments.
//! Group membership: `usermod -aG docker` does not reach the SSH session already open, so every
//! later command that talks to the Docker daemon runs as `sg docker -c …` (see `install`);
//! no reconnect is needed.

use crate::remote::{Action, Cmd, Output, RemoteSpec, RemoteStep};

pub use crate::remote::DockerSource;

/// Waits for cloud-init; exit 2 (degraded, cloud-init >= 23.4) is reported and accepted; on
/// failure the tail of cloud-init's log is printed to stderr for the error message.
const CLOUD_INIT_WAIT: &str = r#"cloud-init status --wait >/dev/null
rc=$?
if [ "$rc" -eq 2 ]; then echo "cloud-init finished degraded (exit 2); continuing"; fi
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
  echo "cloud-init failed (exit $rc); last lines of /var/log/cloud-init-output.log:" >&2
  sudo -n tail -n 20 /var/log/cloud-init-output.log >&2
fi
exit "$rc""#;

/// Exit 0 when `docker --version` >= $1 and `docker-compose --version` >= $2 and the daemon
/// is enabled to run. Versions compared with `sort -V`.
const DOCKER_CHECK: &str = r#"ver() { "$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n1; }
ge() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
d=$(ver docker --version); c=$(ver docker-compose --version)
echo "docker ${d:-missing} (needs $1), docker-compose ${c:-missing} (needs $2)"
ge "$d" "$1" && ge "$c" "$2" && systemctl is-active --quiet docker"#;

/// Adds Docker's apt key and source list for this Ubuntu release; $1 = the repository URL.
const DOCKER_APT_SOURCE: &str = r#"set -eu
sudo -n install -m 0755 -d /etc/apt/keyrings
curl -fsSL "$1/gpg" | sudo -n gpg --dearmor --yes -o /etc/apt/keyrings/docker.gpg
sudo -n chmod a+r /etc/apt/keyrings/docker.gpg
. /etc/os-release
echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.gpg] $1 $VERSION_CODENAME stable" |
  sudo -n tee /etc/apt/sources.list.d/docker.list >/dev/null"#;

/// install.sh needs a hyphenated `docker-compose`: a shim over the compose plugin.
const COMPOSE_SHIM: &str = r#"set -eu
if ! command -v docker-compose >/dev/null; then
  printf '#!/bin/sh\nexec docker compose "$@"\n' | sudo -n tee /usr/local/bin/docker-compose >/dev/null
  sudo -n chmod 0755 /usr/local/bin/docker-compose
fi"#;

/// The distribution's Docker with Compose v2: `docker-compose-v2` where the distribution has
/// that package (Ubuntu 22.04), else its `docker-compose` (Compose v2 from Debian 13 on).
const DISTRO_COMPOSE_V2: &str = r#"set -eu
if apt-cache show docker-compose-v2 >/dev/null 2>&1; then compose=docker-compose-v2; else compose=docker-compose; fi
echo "installing docker.io and $compose"
sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q docker.io "$compose""#;

/// What `--docker-source distro-v1` prints: the reason it is not the default.
pub const COMPOSE_V1_WARNING: &str = "--docker-source distro-v1 installs Compose v1 (docker-compose 1.29), which fails with KeyError: 'ContainerConfig' whenever it recreates a container on newer Docker engines: a re-run after a customer.env change or an upgrade can stop half-way. Prefer the default, --docker-source distro (Compose v2)";

/// `id -nG USER` lists `docker`.
const IN_DOCKER_GROUP: &str = r#"id -nG "$1" | grep -qw docker"#;

/// The docker packages of the Compose v1 source.
const DISTRO_V1_PACKAGES: [&str; 2] = ["docker.io", "docker-compose"];
const DOCKER_PACKAGES: [&str; 4] = [
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-compose-plugin",
];

/// cloud-init's verdict: 0 done, 2 degraded but done, anything else failed.
pub fn cloud_init_judge(out: &Output) -> Result<(), String> {
    match out.exit {
        0 | 2 => Ok(()),
        n => Err(format!(
            "cloud-init did not finish cleanly (exit {n}); see its log lines below"
        )),
    }
}

/// `sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 ARGS…`
/// (waits for cloud-init's or unattended-upgrades' dpkg lock instead of failing).
pub fn apt_get(args: &[&str]) -> Cmd {
    Cmd::sudo("env")
        .arg("DEBIAN_FRONTEND=noninteractive")
        .arg("apt-get")
        .arg("-o")
        .arg("DPkg::Lock::Timeout=600")
        .args(args.iter().copied())
}

/// The bootstrap steps, in order.
pub fn steps(spec: &RemoteSpec) -> Vec<RemoteStep> {
    vec![
        cloud_init(),
        docker(spec.docker_source, &spec.docker_apt_url),
        docker_group(spec),
    ]
}

/// The Docker step as the script cloud-init runs during boot (user-data `runcmd`, as root), so
/// Docker installs while the tool connects, checks out carto-selfhosted and uploads the package;
/// the bootstrap's own Docker step then finds it and only confirms. The script never fails
/// cloud-init: when the install fails during boot, the bootstrap step runs it again over SSH,
/// where its error reaches the user.
pub fn boot_script(source: DockerSource, apt_url: &str) -> String {
    let step = docker(source, apt_url);
    let check = step.check.as_ref().map(Cmd::to_shell).unwrap_or_default();
    let apply: Vec<String> = step
        .apply
        .iter()
        .filter_map(|a| match a {
            Action::Run(cmd) => Some(cmd.to_shell()),
            Action::Upload { .. } => None,
        })
        .collect();
    format!(
        "{check} && exit 0\n{} ||\n  echo 'carto-provision: installing Docker during boot failed; the bootstrap step tries again over SSH' >&2\nexit 0\n",
        apply.join(" &&\n")
    )
}

fn cloud_init() -> RemoteStep {
    RemoteStep::new("wait for cloud-init")
        .run(Cmd::script(CLOUD_INIT_WAIT))
        .judge(cloud_init_judge)
}

fn docker(source: DockerSource, apt_url: &str) -> RemoteStep {
    let min_docker = crate::compose::MIN_DOCKER.to_string();
    let min_compose = match source {
        DockerSource::DistroV1 => crate::compose::MIN_COMPOSE,
        DockerSource::Distro | DockerSource::Docker => crate::compose::MIN_COMPOSE_V2,
    }
    .to_string();
    let step = RemoteStep::new("install Docker and docker-compose")
        .check(Cmd::script(DOCKER_CHECK).arg(min_docker).arg(min_compose));
    let step = match source {
        DockerSource::Distro => step
            .run(apt_get(&["update", "-q"]))
            .run(Cmd::script(DISTRO_COMPOSE_V2))
            .run(Cmd::script(COMPOSE_SHIM)),
        DockerSource::DistroV1 => step
            .run(apt_get(&["update", "-q"]))
            .run(apt_get(&["install", "-y", "-q"]).args(DISTRO_V1_PACKAGES)),
        DockerSource::Docker => step
            .run(apt_get(&["update", "-q"]))
            .run(apt_get(&[
                "install",
                "-y",
                "-q",
                "ca-certificates",
                "curl",
                "gnupg",
            ]))
            .run(Cmd::script(DOCKER_APT_SOURCE).arg(apt_url.trim_end_matches('/')))
            .run(apt_get(&["update", "-q"]))
            .run(apt_get(&["install", "-y", "-q"]).args(DOCKER_PACKAGES))
            .run(Cmd::script(COMPOSE_SHIM)),
    };
    step.run(Cmd::sudo("systemctl").args(["enable", "--now", "docker"]))
}

fn docker_group(spec: &RemoteSpec) -> RemoteStep {
    RemoteStep::new("add the user to the docker group")
        .check(Cmd::script(IN_DOCKER_GROUP).arg(&spec.ssh_user))
        .run(
            Cmd::sudo("usermod")
                .args(["-aG", "docker"])
                .arg(&spec.ssh_user),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(source: DockerSource) -> RemoteSpec {
        RemoteSpec {
            ssh_user: "ubuntu".into(),
            domain: "carto.example.com".into(),
            docker_source: source,
            docker_apt_url: "https://docker-apt.invalid/linux/ubuntu/".into(),
            selfhosted_repo: "https://git.invalid/carto-selfhosted.git".into(),
            selfhosted_version: "2025.11.11-patch1".into(),
            selfhosted_source: None,
            files: vec![],
            checkout_dir: RemoteSpec::default_checkout_dir("ubuntu"),
            verify_cert: false,
        }
    }

    fn runs(step: &RemoteStep) -> Vec<String> {
        step.apply
            .iter()
            .map(|a| match a {
                Action::Run(c) => c.to_shell(),
                Action::Upload { path, .. } => format!("upload {path}"),
            })
            .collect()
    }

    #[test]
    fn the_steps_and_their_checks() {
        let s = steps(&spec(DockerSource::Distro));
        let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "wait for cloud-init",
                "install Docker and docker-compose",
                "add the user to the docker group"
            ]
        );
        assert!(s[0].check.is_none(), "cloud-init is always waited for");
        let check = s[1].check.as_ref().map(Cmd::to_shell).unwrap_or_default();
        assert!(check.ends_with(" _ 20.10.0 2.0.0"), "{check}");
        let v1 = steps(&spec(DockerSource::DistroV1));
        let check = v1[1].check.as_ref().map(Cmd::to_shell).unwrap_or_default();
        assert!(check.ends_with(" _ 20.10.0 1.29.0"), "{check}");
        assert!(s[1].post_check && s[2].post_check);
        assert_eq!(
            s[2].check.as_ref().map(Cmd::to_shell).unwrap_or_default(),
            format!("bash -c {} _ ubuntu", quoted(IN_DOCKER_GROUP))
        );
        assert_eq!(runs(&s[2]), ["sudo -n usermod -aG docker ubuntu"]);
    }

    fn quoted(s: &str) -> String {
        format!("'{}'", s.replace('\'', r"'\''"))
    }

    #[test]
    fn distro_v1_docker_uses_apt_with_the_lock_timeout() {
        let s = steps(&spec(DockerSource::DistroV1));
        let apt = "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600";
        assert_eq!(
            runs(&s[1]),
            [
                format!("{apt} update -q"),
                format!("{apt} install -y -q docker.io docker-compose"),
                "sudo -n systemctl enable --now docker".to_string(),
            ]
        );
    }

    #[test]
    fn distro_docker_installs_compose_v2_and_the_hyphenated_shim() {
        let s = steps(&spec(DockerSource::Distro));
        let r = runs(&s[1]);
        assert_eq!(r.len(), 4, "{r:#?}");
        assert!(r[0].ends_with("apt-get -o DPkg::Lock::Timeout=600 update -q"));
        assert!(r[1].contains("docker-compose-v2") && r[1].contains("docker.io"));
        assert!(r[2].contains("exec docker compose"), "{}", r[2]);
        assert_eq!(r[3], "sudo -n systemctl enable --now docker");
        assert!(
            !r.iter().any(|c| c.contains("http")),
            "no package host: {r:#?}"
        );
    }

    /// Writes an executable `dir/name` running `body` (a stand-in on PATH).
    fn fake_command(dir: &std::path::Path, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[test]
    fn the_compose_v2_choice_prefers_docker_compose_v2_when_apt_knows_it() {
        // DISTRO_COMPOSE_V2 against a fake apt-cache and a sudo that prints what it would run.
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = |name: &str, body: &str| fake_command(dir.path(), name, body);
        fake("sudo", r#"echo "RAN $*""#);
        let run = || {
            let path = format!("{}:/usr/bin:/bin", dir.path().display());
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(DISTRO_COMPOSE_V2)
                .env("PATH", path)
                .output()
                .expect("runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        fake("apt-cache", r#"[ "$2" = docker-compose-v2 ]"#);
        assert!(run().contains("install -y -q docker.io docker-compose-v2"));
        fake("apt-cache", "exit 100");
        assert!(
            run()
                .trim_end()
                .ends_with("install -y -q docker.io docker-compose")
        );
    }

    #[test]
    fn docker_repository_install_adds_the_source_the_packages_and_the_shim() {
        let s = steps(&spec(DockerSource::Docker));
        let r = runs(&s[1]);
        assert_eq!(r.len(), 7, "{r:#?}");
        assert!(
            r[2].ends_with(" _ https://docker-apt.invalid/linux/ubuntu"),
            "URL passed as an argument: {}",
            r[2]
        );
        assert!(r[4].ends_with(
            "install -y -q docker-ce docker-ce-cli containerd.io docker-compose-plugin"
        ));
        assert!(r[5].contains("exec docker compose"), "{}", r[5]);
        assert_eq!(r[6], "sudo -n systemctl enable --now docker");
    }

    #[test]
    fn cloud_init_exit_codes() {
        assert!(cloud_init_judge(&Output::new(0, "", "")).is_ok());
        assert!(cloud_init_judge(&Output::new(2, "degraded", "")).is_ok());
        assert!(cloud_init_judge(&Output::new(1, "", "boom")).is_err());
    }

    #[test]
    fn the_docker_check_script_compares_versions_for_real() {
        // Run the check's version logic against fake docker/docker-compose/systemctl on PATH.
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = |name: &str, body: &str| fake_command(dir.path(), name, body);
        fake("systemctl", "exit 0");
        let check_with = |source: DockerSource, docker: &str, compose: &str| {
            fake("docker", &format!("echo '{docker}'"));
            fake("docker-compose", &format!("echo '{compose}'"));
            let c = steps(&spec(source))[1].check.clone().expect("check");
            let path = format!("{}:/usr/bin:/bin", dir.path().display());
            std::process::Command::new("sh")
                .arg("-c")
                .arg(c.to_shell())
                .env("PATH", path)
                .output()
                .expect("runs")
                .status
                .success()
        };
        let check =
            |docker: &str, compose: &str| check_with(DockerSource::DistroV1, docker, compose);
        assert!(!check_with(
            DockerSource::Distro,
            "Docker version 20.10.24+dfsg1, build 297e128",
            "docker-compose version 1.29.2, build unknown"
        ));
        assert!(check_with(
            DockerSource::Distro,
            "Docker version 26.1.5+dfsg1, build a72d7cd",
            "Docker Compose version 2.26.1-4"
        ));
        assert!(check(
            "Docker version 20.10.24+dfsg1, build 297e128",
            "docker-compose version 1.29.2, build unknown"
        ));
        assert!(check(
            "Docker version 27.0.3, build 7d4bcd8",
            "Docker Compose version v2.27.0"
        ));
        assert!(!check(
            "Docker version 19.03.15, build 99e3ed8",
            "docker-compose version 1.29.2, build unknown"
        ));
        assert!(!check(
            "Docker version 20.10.24, build 297e128",
            "docker-compose version 1.25.0, build unknown"
        ));
        assert!(!check("Docker version 20.10.24, build 297e128", ""));
    }

    /// Runs `boot_script(Distro)` with the fakes in `dir` first on PATH; stdout, stderr, exit.
    fn run_boot_script(dir: &std::path::Path) -> (String, String, i32) {
        let script = boot_script(DockerSource::Distro, "");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
            .output()
            .expect("runs");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    #[test]
    fn the_boot_script_is_the_docker_step_and_never_fails_cloud_init() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fake = |name: &str, body: &str| fake_command(dir.path(), name, body);
        // Docker present: the check passes and nothing is installed.
        fake("systemctl", "exit 0");
        fake(
            "docker",
            "echo 'Docker version 26.1.5+dfsg1, build a72d7cd'",
        );
        fake("docker-compose", "echo 'Docker Compose version 2.26.1-4'");
        fake("sudo", r#"echo "RAN $*""#);
        fake("apt-cache", "exit 0");
        let (out, _, code) = run_boot_script(dir.path());
        assert_eq!(code, 0);
        assert!(!out.contains("RAN"), "installed although present: {out}");

        // Docker missing: every command of the bootstrap's Docker step runs, in its order.
        fake("docker", "exit 127");
        std::fs::remove_file(dir.path().join("docker-compose")).expect("rm");
        let (out, err, code) = run_boot_script(dir.path());
        assert_eq!((code, err.as_str()), (0, ""));
        // (The shim's `sudo tee` writes its output to /dev/null.)
        let ran: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("RAN -n "))
            .collect();
        let apt = "env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600";
        assert_eq!(
            ran,
            [
                format!("{apt} update -q"),
                format!("{apt} install -y -q docker.io docker-compose-v2"),
                "chmod 0755 /usr/local/bin/docker-compose".into(),
                "systemctl enable --now docker".into(),
            ],
            "{out}"
        );

        // A failing command stops the rest, says so, and still ends cloud-init's runcmd with 0.
        fake(
            "sudo",
            r#"echo "RAN $*"; case "$*" in *update*) exit 100;; esac"#,
        );
        let (out, err, code) = run_boot_script(dir.path());
        assert_eq!(code, 0);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("RAN")).count(),
            1,
            "{out}"
        );
        assert!(
            err.contains("the bootstrap step tries again over SSH"),
            "{err}"
        );
    }

    #[test]
    fn the_boot_script_carries_every_sources_commands() {
        for source in [
            DockerSource::Distro,
            DockerSource::DistroV1,
            DockerSource::Docker,
        ] {
            let url = "https://docker-apt.invalid/linux/ubuntu/";
            let script = boot_script(source, url);
            let step = steps(&spec(source)).swap_remove(1);
            let check = step.check.as_ref().map(Cmd::to_shell).unwrap_or_default();
            assert!(
                script.starts_with(&format!("{check} && exit 0\n")),
                "{script}"
            );
            for cmd in runs(&step) {
                assert!(
                    script.contains(&cmd),
                    "{source:?}: {cmd} missing from {script}"
                );
            }
        }
    }
}
