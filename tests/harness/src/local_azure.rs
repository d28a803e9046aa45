//! The local emulated Azure as a deployment sees it: our contract-checked fake Resource Manager
//! (`carto-fake-azure`) served from its own tokio runtime on 127.0.0.1, handing out the test
//! VM's address as every public IP, with one subscription and the DNS zone `test` (Azure names
//! zones without the final dot) in resource group [`DNS_GROUP`]. The CLI gets the fake as its
//! Resource Manager endpoint and as its token authority (client-secret credentials), so no
//! credential ever leaves loopback. Read-backs look into the fake's memory directly.

use std::io;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use base64::Engine;
use carto_fake_azure::{FakeConfig, FakeServer};
use serde_json::{Value, json};

use crate::cloud::{LocalCloud, ZONE, ports_of, sorted};
use crate::vm::TestVm;

/// The subscription the fake knows.
pub const SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000ca470";
/// The resource group holding the DNS zone.
pub const DNS_GROUP: &str = "carto-dns";
/// Location the deployments use (the CLI's default).
pub const LOCATION: &str = "eastus";

/// The fake Resource Manager and the runtime serving it.
pub struct AzureCloud {
    /// The fake (dropped before the runtime).
    pub fake: Option<FakeServer>,
    runtime: Option<tokio::runtime::Runtime>,
    /// The address every public IP gets: the test VM's.
    pub vm_ip: Ipv4Addr,
}

impl Drop for AzureCloud {
    fn drop(&mut self) {
        drop(self.fake.take());
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl AzureCloud {
    /// Starts the fake handing out a fresh test VM address, with the zone `test`.
    pub fn start() -> io::Result<AzureCloud> {
        AzureCloud::start_with(TestVm::next_address()?)
    }

    /// Starts the fake handing out `vm_ip`.
    pub fn start_with(vm_ip: Ipv4Addr) -> io::Result<AzureCloud> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let config = FakeConfig {
            public_ip: vm_ip,
            subscriptions: vec![SUBSCRIPTION.to_string()],
            lro_polls: 2,
            ..FakeConfig::default()
        };
        let fake = runtime
            .block_on(FakeServer::start(config))
            .map_err(io::Error::other)?;
        let cloud = AzureCloud {
            fake: Some(fake),
            runtime: Some(runtime),
            vm_ip,
        };
        let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{DNS_GROUP}");
        cloud.seed(
            &format!("{group}?api-version=2024-03-01"),
            json!({"location": LOCATION}),
        )?;
        let zone = ZONE.trim_end_matches('.');
        cloud.seed(
            &format!("{group}/providers/Microsoft.Network/dnsZones/{zone}?api-version=2018-05-01"),
            json!({"location": "global"}),
        )?;
        Ok(cloud)
    }

    /// The fake server.
    pub fn fake(&self) -> &FakeServer {
        self.fake.as_ref().expect("fake runs while the cloud lives")
    }

    /// Puts `body` at `path` (with its `api-version`) straight into the fake, as a client
    /// would but without the injected latency.
    pub fn seed(&self, path: &str, body: Value) -> io::Result<()> {
        let (status, answer) = self.fake().call("PUT", path, Some(&body));
        if status >= 300 {
            return Err(io::Error::other(format!(
                "seeding {path}: {status} {answer}"
            )));
        }
        Ok(())
    }

    /// Every stored resource (resource groups included), as stored.
    pub fn resources(&self) -> Vec<Value> {
        let state = self.fake().state();
        state
            .resource_ids()
            .iter()
            .filter_map(|id| state.resource(id))
            .collect()
    }

    /// The stored resource `id`, if it exists.
    pub fn resource(&self, id: &str) -> Option<Value> {
        self.fake().state().resource(id)
    }

    /// The id of a resource of `env`'s resource group: `TYPE/NAME` below `providers/`.
    pub fn env_id(&self, env: &str, rtype: &str, what: &str) -> String {
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/carto-{env}-rg/providers/{rtype}/carto-{env}-{what}"
        )
    }
}

impl LocalCloud for AzureCloud {
    fn cloud(&self) -> &'static str {
        "azure"
    }

    fn vm_ip(&self) -> Ipv4Addr {
        self.vm_ip
    }

    fn cli_env(&self) -> Vec<(String, String)> {
        let url = self.fake().url().to_string();
        [
            ("CARTO_PROVISION_AZURE_ENDPOINT_URL", url.clone()),
            ("AZURE_AUTHORITY_HOST", url),
            ("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION.to_string()),
            ("AZURE_TENANT_ID", "carto-test-tenant".to_string()),
            ("AZURE_CLIENT_ID", "carto-test-client".to_string()),
            ("AZURE_CLIENT_SECRET", "carto-test-only-secret".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn deploy_args(&self) -> Vec<String> {
        Vec::new()
    }

    fn wait_user_data(&self, env: &str, timeout: Duration) -> io::Result<String> {
        let id = self.env_id(env, "Microsoft.Compute/virtualMachines", "vm");
        let start = Instant::now();
        loop {
            if let Some(vm) = self.resource(&id) {
                let data = vm["properties"]["osProfile"]["customData"]
                    .as_str()
                    .ok_or_else(|| io::Error::other(format!("VM {id} has no customData")))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(io::Error::other)?;
                return String::from_utf8(bytes).map_err(io::Error::other);
            }
            if start.elapsed() > timeout {
                return Err(io::Error::other(format!(
                    "no VM of environment {env} after {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn tagged(&self, env: &str) -> io::Result<Vec<String>> {
        Ok(self
            .resources()
            .iter()
            .filter(|r| {
                r["tags"]["carto-env"] == env || r["properties"]["metadata"]["carto-env"] == env
            })
            .map(|r| {
                format!(
                    "{} {}",
                    r["type"].as_str().unwrap_or("?"),
                    r["id"].as_str().unwrap_or("?")
                )
            })
            .collect())
    }

    fn open_ports(&self, env: &str) -> io::Result<Vec<u16>> {
        let all = self.resources();
        let is = |r: &Value, t: &str| {
            r["type"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(t))
        };
        let id = |r: &Value| r["id"].as_str().unwrap_or_default().to_ascii_lowercase();
        // The fake stores an NSG's rules as its child resources (ARM shows them inline).
        let nsgs: Vec<String> = all
            .iter()
            .filter(|r| r["tags"]["carto-env"] == env)
            .filter(|r| is(r, "Microsoft.Network/networkSecurityGroups"))
            .map(|r| format!("{}/securityrules/", id(r)))
            .collect();
        let mut ports = Vec::new();
        for rule in all.iter().filter(|r| {
            is(r, "Microsoft.Network/networkSecurityGroups/securityRules")
                && nsgs.iter().any(|nsg| id(r).starts_with(nsg))
        }) {
            let p = &rule["properties"];
            let tcp = matches!(p["protocol"].as_str(), Some("Tcp" | "*"));
            if p["direction"] != "Inbound" || p["access"] != "Allow" || !tcp {
                continue;
            }
            let mut specs: Vec<&str> = p["destinationPortRanges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .collect();
            specs.extend(p["destinationPortRange"].as_str());
            for spec in specs {
                ports.extend(ports_of(spec));
            }
        }
        Ok(sorted(ports))
    }

    fn a_records(&self) -> io::Result<Vec<(String, String)>> {
        let zone = ZONE.trim_end_matches('.').to_ascii_lowercase();
        let mut out = Vec::new();
        for r in self.resources() {
            let is_a = r["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Network/dnszones/A"));
            let id = r["id"].as_str().unwrap_or_default().to_ascii_lowercase();
            if !is_a || !id.contains(&format!("/dnszones/{zone}/")) {
                continue;
            }
            let name = match r["name"].as_str().unwrap_or("@") {
                "@" => ZONE.to_string(),
                n => format!("{n}.{ZONE}"),
            };
            for a in r["properties"]["ARecords"].as_array().into_iter().flatten() {
                if let Some(ip) = a["ipv4Address"].as_str() {
                    out.push((name.clone(), ip.to_string()));
                }
            }
        }
        Ok(out)
    }
}
