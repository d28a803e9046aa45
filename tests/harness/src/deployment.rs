//! One deployment against a local emulated cloud (any [`LocalCloud`]; AWS by default): the
//! emulator with the zone `test.`, a package, the stand-in carto-selfhosted repository, a state
//! folder, and the `carto-provision` binary run in the background while the test VM boots from
//! the user-data it sent. Used by the
//! end-to-end tests and by `local-deploy` (the README's first command).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use crate::cli::Cli;
use crate::cloud::LocalCloud;
use crate::local_aws::AwsCloud;
use crate::vm::{TestVm, Variant};
use crate::{package, selfhosted};

/// The domain every e2e deployment uses, in zone `test.` (its own per emulator).
pub const DOMAIN: &str = "carto.test";

/// A deployment's fixtures.
pub struct Deployment<C: LocalCloud = AwsCloud> {
    /// The `carto-provision` binary.
    pub bin: PathBuf,
    /// Show the CLI's output on this terminal instead of capturing it.
    pub live: bool,
    /// The emulated cloud, handing out the test VM's address.
    pub cloud: C,
    /// Environment variables set after the cloud's (e.g. an endpoint through a proxy).
    pub overrides: Vec<(String, String)>,
    /// The environment name.
    pub env: String,
    /// Temporary folder: package, repository, state, captured output.
    pub dir: tempfile::TempDir,
    /// The installation package folder.
    pub package: PathBuf,
    /// The stand-in carto-selfhosted bare repository (copied into the VM once it boots).
    pub bare_repo: PathBuf,
    /// `--docker-source` of the deploy runs: set from the image by [`Deployment::deploy_with_vm`]
    /// (`distro-v1` until then: the Debian 12 images have no Compose v2).
    pub docker_source: Cell<&'static str>,
    /// `--selfhosted-version` of the next deploy runs (none: the product picks or keeps one).
    pub selfhosted_version: Cell<Option<&'static str>>,
}

impl Deployment {
    /// moto + zone + a package with `extra` customer.env lines + the stand-in repository.
    pub fn new(bin: &Path, env: &str, extra: &[&str]) -> Deployment {
        Deployment::on(AwsCloud::start().expect("moto starts"), bin, env, extra)
    }
}

impl<C: LocalCloud> Deployment<C> {
    /// A deployment on `cloud` with a package with `extra` customer.env lines and the stand-in
    /// repository.
    pub fn on(cloud: C, bin: &Path, env: &str, extra: &[&str]) -> Deployment<C> {
        let dir = tempfile::tempdir().expect("temp dir");
        let package = package::write(
            &dir.path().join("package"),
            selfhosted::PACKAGE_VERSION,
            extra,
        )
        .expect("package");
        let bare_repo = selfhosted::bare_repo(&dir.path().join("repo"), selfhosted::TEST_TAGS)
            .expect("bare repo");
        Deployment {
            bin: bin.to_path_buf(),
            live: false,
            cloud,
            overrides: Vec::new(),
            env: env.to_string(),
            dir,
            package,
            bare_repo,
            docker_source: Cell::new(Variant::Docker.docker_source()),
            selfhosted_version: Cell::new(None),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir().join(format!("{}.json", self.env))
    }

    /// The binary ([`Cli`]) with the emulated cloud's endpoint and the state folder, its
    /// output on this process's.
    pub fn cli(&self) -> Command {
        let mut cmd = Cli::new(&self.bin, &self.state_dir())
            .envs(self.cloud.cli_env())
            .env("CARTO_PROVISION_RETRY_BASE_MS", "50")
            .envs(self.overrides.iter().cloned())
            .into_command();
        cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        cmd
    }

    /// `carto-provision CLOUD …` for this deployment, started in the background. Its output
    /// goes to `deploy.out` / `deploy.err` in the deployment's folder, or to this terminal
    /// when `live`.
    pub fn spawn_deploy(&self) -> Child {
        let out = |name: &str| -> Stdio {
            if self.live {
                Stdio::inherit()
            } else {
                std::fs::File::create(self.dir.path().join(name))
                    .expect("log file")
                    .into()
            }
        };
        let mut cmd = self.cli();
        if !self.live {
            cmd.arg("--json");
        }
        cmd.arg(self.cloud.cloud())
            .args(self.cloud.deploy_args())
            .args([
                "--domain",
                DOMAIN,
                "--name",
                &self.env,
                "--ssh-cidr",
                "127.0.0.1/32",
            ])
            .arg("--package")
            .arg(&self.package)
            .args(["--docker-source", self.docker_source.get()])
            .args(["--selfhosted-repo", "file:///srv/carto-selfhosted.git"])
            .args(["--ssh-timeout", "300", "--healthy-timeout", "600"])
            .args(
                self.selfhosted_version
                    .get()
                    .map(|tag| ["--selfhosted-version", tag])
                    .into_iter()
                    .flatten(),
            )
            .stdout(out("deploy.out"))
            .stderr(out("deploy.err"))
            .spawn()
            .expect("carto-provision starts")
    }

    /// Runs a deployment to its end while the VM boots from the user-data it sent; `extra`
    /// is appended to that user-data. Returns the CLI's exit code, stdout, stderr and the VM.
    /// The image's `--docker-source` ([`Variant::docker_source`]) is kept for later runs.
    pub fn deploy_with_vm(&self, variant: Variant, extra: &str) -> (i32, String, String, TestVm) {
        self.docker_source.set(variant.docker_source());
        let (status, vm) = self.wait_with_vm(self.spawn_deploy(), variant, extra, "deploy.err");
        (
            status.code().unwrap_or(-1),
            self.read("deploy.out"),
            self.read("deploy.err"),
            vm,
        )
    }

    /// Waits for `child`, a command that creates this deployment's VM, while the test VM boots
    /// from the user-data it sent (plus `extra`) and gets the stand-in repository. Panics,
    /// after killing `child` and showing its `err_log` (a file in the deployment's folder),
    /// when the VM does not boot.
    pub fn wait_with_vm(
        &self,
        mut child: Child,
        variant: Variant,
        extra: &str,
        err_log: &str,
    ) -> (ExitStatus, TestVm) {
        let vm = match self.cloud.boot_from_user_data(&self.env, variant, extra) {
            Ok(vm) => vm,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "test VM did not boot: {e}\n{err_log}: {}",
                    self.read(err_log)
                );
            }
        };
        vm.install_repo(&self.bare_repo)
            .expect("repository copied into the VM");
        (child.wait().expect("the command ends"), vm)
    }

    /// The same deployment command again, to its end (the VM already runs).
    pub fn deploy_again(&self) -> (i32, String, String) {
        let status = self.spawn_deploy().wait().expect("carto-provision ends");
        (
            status.code().unwrap_or(-1),
            self.read("deploy.out"),
            self.read("deploy.err"),
        )
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// `carto-provision destroy ENV`, asserting it succeeds and leaves nothing behind.
    pub fn destroy_leaves_nothing(&self) {
        let out = self.run(&["destroy", &self.env]);
        assert!(
            out.status.success(),
            "destroy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            self.cloud.tagged(&self.env).expect("tagged"),
            Vec::<String>::new(),
            "resources left after destroy"
        );
        assert_eq!(
            self.cloud.a_records().expect("records"),
            vec![],
            "A record left after destroy"
        );
        assert!(!self.state_file().exists(), "state file left after destroy");
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cli()
            .args(args)
            .output()
            .expect("carto-provision runs")
    }

    /// The state file as JSON.
    pub fn state(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_file()).expect("state file"))
            .expect("state JSON")
    }
}
