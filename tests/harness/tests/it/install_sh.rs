//! The stand-in carto-selfhosted's install.sh, run on the host in a sandbox: a checkout of the
//! fixture, fake `docker` / `docker-compose` programs printing chosen versions, and a PATH of
//! only the tools the script needs. Proves the contract the product relies on: which failures
//! exit 1, which print `[ERROR]` yet exit 0, and what `.env` and `certs/` end up holding.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

const TOOLS: &[&str] = &[
    "bash", "sed", "grep", "sort", "head", "tail", "cut", "cat", "mkdir", "cp", "dirname",
];

const GOOD_ENV: &str = "SELFHOSTED_DOMAIN=carto.test\n\
    CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2025.10.2\n\
    LOCAL_POSTGRES_SCALE=1\n\
    LOCAL_REDIS_SCALE=1\n\
    POSTGRES_PASSWORD=s3cret-test-pw\n\
    LOG_LEVEL=debug\n";

struct Sandbox {
    dir: PathBuf,
    repo: PathBuf,
    bin: PathBuf,
}

impl Sandbox {
    fn new(label: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("install-sh-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let bare = carto_harness::selfhosted::bare_repo(&dir, &["2025.11.11"]).unwrap();
        let repo = dir.join("checkout");
        let status = Command::new("git")
            .args(["-c", "advice.detachedHead=false", "clone", "--quiet"])
            .args(["--branch", "2025.11.11"])
            .arg(&bare)
            .arg(&repo)
            .status()
            .unwrap();
        assert!(status.success());
        let bin = dir.join("bin");
        fs::create_dir_all(&bin).unwrap();
        for tool in TOOLS {
            let found = find_on_path(tool).unwrap_or_else(|| panic!("{tool} not on PATH"));
            std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
        }
        let sandbox = Sandbox { dir, repo, bin };
        sandbox.fake("docker", "Docker version 20.10.24+dfsg1, build 297e128");
        sandbox.fake(
            "docker-compose",
            "docker-compose version 1.29.2, build unknown",
        );
        sandbox.write(
            "key.json",
            r#"{"type": "service_account", "project_id": "standin-test"}"#,
        );
        sandbox.write("customer.env", GOOD_ENV);
        sandbox
    }

    /// A fake program answering `--version` with `line`; any other call (`docker info`) fails.
    fn fake(&self, name: &str, line: &str) {
        let path = self.bin.join(name);
        let script = format!(
            "#!/bin/bash\nif [ \"$1\" = --version ]; then echo '{line}'; exit 0; fi\nexit 1\n"
        );
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn remove_bin(&self, name: &str) {
        fs::remove_file(self.bin.join(name)).unwrap();
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.repo.join(name), text).unwrap();
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.repo.join(name)).unwrap()
    }

    /// Runs install.sh; returns (exit code, stdout + stderr).
    fn install(&self, args: &[&str]) -> (i32, String) {
        // A login shell's usual umask, which CARTO's install.sh writes .env with.
        let out = Command::new(self.bin.join("bash"))
            .args(["-c", "umask 022 && exec bash install.sh \"$@\"", "bash"])
            .args(args)
            .current_dir(&self.repo)
            .env_clear()
            .env("PATH", &self.bin)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

fn errors(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| l.starts_with("[ERROR]"))
        .collect()
}

#[test]
fn good_package_installs_and_env_tpl_wins() {
    let sb = Sandbox::new("good");
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(errors(&out).is_empty(), "{out}");
    let env = sb.read(".env");
    assert!(
        env.contains("POSTGRES_ADMIN_PASSWORD=s3cret-test-pw\n"),
        "{env}"
    );
    assert!(!env.contains("\nPOSTGRES_PASSWORD="), "{env}");
    assert!(
        sb.read("customer.env")
            .contains("POSTGRES_ADMIN_PASSWORD=s3cret-test-pw")
    );
    assert!(
        env.contains("CARTO_SELFHOSTED_VERSION=2025.11.11\n"),
        "{env}"
    );
    let log_levels: Vec<&str> = env
        .lines()
        .filter(|l| l.starts_with("LOG_LEVEL="))
        .collect();
    assert_eq!(
        log_levels.last(),
        Some(&"LOG_LEVEL=info"),
        "env.tpl must come last"
    );
    let mode = fs::metadata(sb.repo.join(".env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644, "the caller's umask, as CARTO's install.sh");
    assert_eq!(sb.read("certs/key.json"), sb.read("key.json"));
    assert!(
        out.contains("[WARN]: the embedded Postgres and Redis are for evaluation only"),
        "{out}"
    );
}

#[test]
fn compose_v2_passes_and_old_tools_fail() {
    let sb = Sandbox::new("versions");
    sb.fake("docker-compose", "Docker Compose version v2.20.2");
    assert_eq!(sb.install(&[]).0, 0);

    sb.fake(
        "docker-compose",
        "docker-compose version 1.28.6, build 5db8d86f",
    );
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        errors(&out)[0].contains("docker-compose 1.28.6 is too old"),
        "{out}"
    );

    sb.fake(
        "docker-compose",
        "docker-compose version 1.29.2, build unknown",
    );
    sb.fake("docker", "Docker version 19.03.13, build 4484c46d9d");
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        errors(&out)[0].contains("docker 19.03.13 is too old"),
        "{out}"
    );

    assert_eq!(
        sb.install(&["--ignore-checks"]).0,
        0,
        "--ignore-checks skips them"
    );
}

#[test]
fn missing_tools_and_files_exit_1() {
    let sb = Sandbox::new("missing");
    sb.remove_bin("docker-compose");
    let (code, out) = sb.install(&[]);
    assert_eq!(
        code, 1,
        "the `docker compose` plugin alone is not enough: {out}"
    );
    assert!(
        errors(&out)[0].contains("docker-compose is not installed"),
        "{out}"
    );
    sb.fake(
        "docker-compose",
        "docker-compose version 1.29.2, build unknown",
    );

    sb.remove_bin("docker");
    assert_eq!(sb.install(&[]).0, 1);
    sb.fake("docker", "Docker version 20.10.24+dfsg1, build 297e128");

    fs::remove_file(sb.repo.join("key.json")).unwrap();
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 1);
    assert!(errors(&out)[0].contains("key.json not found"), "{out}");
}

#[test]
fn post_checks_that_lie_exit_0_with_error() {
    let sb = Sandbox::new("lying");
    sb.write("customer.env", &GOOD_ENV.replace("2025.10.2", "2025.8.30"));
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        errors(&out)[0].contains("older than the minimum 2025.9.1"),
        "{out}"
    );

    sb.write("customer.env", &GOOD_ENV.replace("s3cret-test-pw", ""));
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        errors(&out)[0].contains("POSTGRES_ADMIN_PASSWORD is empty"),
        "{out}"
    );
    assert!(!out.contains("s3cret"), "no secret printed");
}

#[test]
fn post_checks_that_exit_1() {
    let sb = Sandbox::new("fatal");
    let cases = [
        (
            "LOCAL_POSTGRES_SCALE=1\n",
            "LOCAL_POSTGRES_SCALE is not set",
        ),
        (
            "POSTGRES_PASSWORD=s3cret-test-pw\n",
            "POSTGRES_ADMIN_PASSWORD is not set",
        ),
    ];
    for (line, message) in cases {
        sb.write("customer.env", &GOOD_ENV.replace(line, ""));
        let (code, out) = sb.install(&[]);
        assert_eq!(code, 1, "without {line}: {out}");
        assert!(errors(&out).iter().any(|e| e.contains(message)), "{out}");
    }
    // A missing package version fails through the error trap: exit 1 and no [ERROR] line.
    let line = "CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2025.10.2\n";
    sb.write("customer.env", &GOOD_ENV.replace(line, ""));
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 1, "without the package version: {out}");
    assert!(errors(&out).is_empty(), "{out}");
    assert!(out.contains("command failed at line"), "{out}");
    sb.write(
        "customer.env",
        &GOOD_ENV.replace("LOCAL_REDIS_SCALE=1\n", "LOCAL_REDIS_SCALE=1\n  \n"),
    );
    let (code, out) = sb.install(&[]);
    assert_eq!(code, 1, "whitespace-only line: {out}");
    assert!(
        errors(&out)[0].contains("line 5 contains only whitespace"),
        "{out}"
    );
}
