//! The local emulated Google Cloud as a deployment sees it: our contract-checked fake Compute
//! Engine + Cloud DNS (`carto-fake-gcp`) served from its own tokio runtime on 127.0.0.1,
//! handing out the test VM's address as the static address and natIP, with project
//! [`PROJECT`] and the managed zone [`ZONE_NAME`] for `test.`. The CLI signs in through the
//! real Application Default Credentials flow: `GOOGLE_APPLICATION_CREDENTIALS` names an
//! `authorized_user` file whose `token_uri` is the fake's own token endpoint, so no credential
//! ever leaves loopback. Read-backs look into the fake's memory directly.

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use carto_fake_gcp::{Config, FakeServer, FakeState, TOKEN_PATH};
use serde_json::{Value, json};

use crate::cloud::{LocalCloud, ZONE, ports_of, sorted};
use crate::vm::TestVm;

/// The project the fake knows.
pub const PROJECT: &str = "test-proj";
/// The managed zone serving [`ZONE`].
pub const ZONE_NAME: &str = "test-zone";

/// The fake and the runtime serving it, plus the test credentials file.
pub struct GcpCloud {
    /// The fake (dropped before the runtime).
    pub fake: Option<FakeServer>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Holds the `authorized_user` credentials file.
    dir: tempfile::TempDir,
    /// The address the static address and natIP get: the test VM's.
    pub vm_ip: Ipv4Addr,
    url: String,
}

impl Drop for GcpCloud {
    fn drop(&mut self) {
        drop(self.fake.take());
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl GcpCloud {
    /// Starts the fake handing out a fresh test VM address, with project and zone seeded.
    pub fn start() -> io::Result<GcpCloud> {
        GcpCloud::start_with(TestVm::next_address()?)
    }

    /// Starts the fake handing out `vm_ip`.
    pub fn start_with(vm_ip: Ipv4Addr) -> io::Result<GcpCloud> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let config = Config {
            address_ip: vm_ip.to_string(),
            ..Config::default()
        };
        let fake = runtime
            .block_on(FakeServer::start(config))
            .map_err(io::Error::other)?;
        let state = fake.state();
        state.add_project(PROJECT);
        state.add_managed_zone(PROJECT, ZONE_NAME, ZONE);
        let url = fake.url();
        let dir = tempfile::tempdir()?;
        let credentials = json!({
            "type": "authorized_user",
            "client_id": "carto-test-client",
            "client_secret": "carto-test-client-secret",
            "refresh_token": "carto-test-refresh-token",
            "token_uri": format!("{url}{TOKEN_PATH}"),
        });
        std::fs::write(dir.path().join("adc.json"), credentials.to_string())?;
        Ok(GcpCloud {
            fake: Some(fake),
            runtime: Some(runtime),
            dir,
            vm_ip,
            url,
        })
    }

    /// The fake's state, for assertions.
    pub fn state(&self) -> io::Result<FakeState> {
        self.fake
            .as_ref()
            .map(FakeServer::state)
            .ok_or_else(|| io::Error::other("the fake GCP server was stopped"))
    }

    /// The `authorized_user` credentials file the CLI gets.
    pub fn credentials_file(&self) -> PathBuf {
        self.dir.path().join("adc.json")
    }

    /// Resources of `kind` (`instances`, `disks`, `addresses`, `firewalls`) of environment
    /// `env`: labelled `carto-env=env`, or for firewall rules (which have no labels) naming
    /// it in their description.
    pub fn resources_of(&self, kind: &str, env: &str) -> io::Result<Vec<Value>> {
        let wanted = format!("carto-env={env}");
        Ok(self
            .state()?
            .resources(kind)
            .into_iter()
            .filter(|r| {
                r["labels"]["carto-env"] == env
                    || r["description"]
                        .as_str()
                        .is_some_and(|d| d.split_whitespace().any(|w| w == wanted))
            })
            .collect())
    }

    /// How many insert calls (Compute inserts and DNS changes) the fake has answered with 200.
    pub fn inserts(&self) -> io::Result<usize> {
        Ok(self
            .state()?
            .requests()
            .iter()
            .filter(|r| r.status == 200)
            .filter(|r| {
                r.method_id
                    .as_deref()
                    .is_some_and(|m| m.ends_with(".insert") || m == "dns.changes.create")
            })
            .count())
    }
}

impl LocalCloud for GcpCloud {
    fn cloud(&self) -> &'static str {
        "gcp"
    }

    fn vm_ip(&self) -> Ipv4Addr {
        self.vm_ip
    }

    fn cli_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "GOOGLE_APPLICATION_CREDENTIALS".to_string(),
                self.credentials_file().display().to_string(),
            ),
            (
                "CARTO_PROVISION_GCP_ENDPOINT_URL".to_string(),
                self.url.clone(),
            ),
        ]
    }

    fn deploy_args(&self) -> Vec<String> {
        vec!["--project".to_string(), PROJECT.to_string()]
    }

    fn wait_user_data(&self, env: &str, timeout: Duration) -> io::Result<String> {
        let start = Instant::now();
        loop {
            let instances = self.resources_of("instances", env)?;
            let user_data = instances.iter().find_map(|i| {
                i["metadata"]["items"]
                    .as_array()?
                    .iter()
                    .find(|item| item["key"] == "user-data")?["value"]
                    .as_str()
                    .map(String::from)
            });
            if let Some(user_data) = user_data {
                return Ok(user_data);
            }
            if start.elapsed() > timeout {
                return Err(io::Error::other(format!(
                    "no instance of environment {env} with user-data after {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn tagged(&self, env: &str) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        for (kind, word) in [
            ("instances", "instance"),
            ("disks", "disk"),
            ("addresses", "address"),
            ("firewalls", "firewall"),
            ("networks", "network"),
            ("subnetworks", "subnetwork"),
        ] {
            for r in self.resources_of(kind, env)? {
                found.push(format!("{word} {}", r["name"].as_str().unwrap_or_default()));
            }
        }
        Ok(found)
    }

    fn open_ports(&self, env: &str) -> io::Result<Vec<u16>> {
        let mut ports = Vec::new();
        for rule in self.resources_of("firewalls", env)? {
            if rule["direction"] == "EGRESS" || rule["disabled"] == true {
                continue;
            }
            for allowed in rule["allowed"].as_array().into_iter().flatten() {
                if !matches!(allowed["IPProtocol"].as_str(), Some("tcp" | "all")) {
                    continue;
                }
                match allowed["ports"].as_array() {
                    Some(specs) => {
                        for spec in specs {
                            ports.extend(ports_of(spec.as_str().unwrap_or_default()));
                        }
                    }
                    None => ports.extend(ports_of("*")),
                }
            }
        }
        Ok(sorted(ports))
    }

    fn a_records(&self) -> io::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for set in self.state()?.record_sets(PROJECT, ZONE_NAME) {
            if set["type"] != "A" {
                continue;
            }
            let name = set["name"].as_str().unwrap_or_default().to_string();
            for data in set["rrdatas"].as_array().into_iter().flatten() {
                out.push((name.clone(), data.as_str().unwrap_or_default().to_string()));
            }
        }
        Ok(out)
    }
}
