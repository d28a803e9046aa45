//! `teardown-bench CARTO_PROVISION teardown|scale [--clouds aws,gcp,azure] [--latency-ms N]`: how close
//! `destroy` comes to the deletes that must wait for each other, and how `gc` and `destroy
//! --cloud` grow with the number of environments in one account. Not a test, not run in CI
//! (`bench/teardown` and `bench/scale` run it); no VM and no root: the environments' resources
//! are put straight into the emulator's state, shaped as the provider makes them, and every
//! API call then waits `--latency-ms` (the fake's own knob).
//!
//! **teardown** — one environment (GCP: VM, A record, address, firewall, network, three
//! waves: the VM and record; the address and the firewall the VM held; the network. AWS: VM,
//! key, A record, Elastic IP, security group, two waves. Azure: a resource group holding VM,
//! NIC, public IP, security group and virtual network, and the A record, one wave: the group
//! takes its members). The lower bound is measured, not
//! computed from the graph alone, because what one delete costs (its operation or state
//! polls) differs by kind and cloud: `T0` is `destroy --cloud` of an environment that has
//! nothing (process start, sign-in, the listing: work every destroy does), `Trule` of one
//! with a single firewall rule, `Tvm` of one with a single VM (the slowest delete of the
//! first wave, which every later wave waits for). The chain is `T0 + (Tvm - T0) + (waves - 1)
//! x (Trule - T0)`: what a destroy that overlaps everything the cloud lets overlap takes.
//! Prints `wall / chain` (target <= 1.1). Each time is the median of 3 runs on fresh
//! emulators.
//!
//! **scale** — 200 environments (50 expired) in one project: the `gc` listing time, `gc
//! --yes` of the 50 against one environment's destroy when it is alone (target <= 3), and
//! `destroy --cloud` of one among 200 against among 1 (target <= 1.5).

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carto_harness::cli::Cli;
use carto_harness::cloud::LocalCloud;
use carto_harness::cloud::ZONE as ZONE_DOMAIN;
use carto_harness::local_aws::{AwsCloud, LocalAws, tag_values};
use carto_harness::local_azure::{AzureCloud, DNS_GROUP, SUBSCRIPTION};
use carto_harness::local_gcp::{GcpCloud, PROJECT, ZONE_NAME};
use carto_harness::proxy::{FaultProxy, Faults};
use serde_json::json;

const TEARDOWN_GOAL: f64 = 1.1;
const GC_GOAL: f64 = 3.0;
const AMONG_GOAL: f64 = 1.5;
/// The waves of an environment as seeded: on GCP the VM and DNS record; the address and
/// firewall; the network. On AWS the VM, key and record; the address and security group (no
/// network: the default VPC's). On Azure the resource group and the record.
fn waves(cloud: &str) -> u32 {
    match cloud {
        "aws" => 2,
        "azure" => 1,
        _ => 3,
    }
}
const REGION: &str = "us-central1";
/// Items a list page holds in the emulators here, so the 200 environments' listing spans
/// pages (the clouds' own defaults are larger: Compute 500).
const PAGE: usize = 50;
const ZONE: &str = "us-central1-a";

/// What one environment is seeded with.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// VM, address (naming its domain), the domain's A record, firewall, network.
    Full,
    /// One firewall rule.
    OneRule,
    /// One VM.
    OneVm,
}

/// One emulated cloud with environments put into its state.
trait Seeded {
    fn local(&self) -> &dyn LocalCloud;
    /// Puts environment `env` (expired when `expired`) into the cloud's state.
    fn seed(&self, env: &str, shape: Shape, expired: bool) -> io::Result<()>;
    /// Every API call the cloud answered so far.
    fn calls(&self) -> io::Result<usize>;
    /// How many resources of this tool's exist (the fake's own defaults left out).
    fn resources(&self) -> io::Result<usize>;
    /// The CLI's environment to reach this cloud.
    fn cli_env(&self) -> Vec<(String, String)> {
        self.local().cli_env()
    }
}

/// moto behind the harness's fault proxy, which delays every call.
struct Aws {
    cloud: AwsCloud,
    proxy: FaultProxy,
    image: String,
}

impl Aws {
    fn start(latency: Duration) -> io::Result<Aws> {
        let aws = LocalAws::start_with("127.0.0.79".parse().map_err(io::Error::other)?)?;
        let zone_id = aws.create_zone(ZONE_DOMAIN)?;
        let cloud = AwsCloud { aws, zone_id };
        let faults = Faults {
            latency,
            ..Faults::default()
        };
        let proxy = FaultProxy::start_with(cloud.aws.moto.port, faults);
        let images = cloud.aws.ec2("Action=DescribeImages&Owner.1=amazon")?;
        let image = tag_values(&images, "imageId")
            .into_iter()
            .next()
            .ok_or_else(|| io::Error::other("moto lists no image"))?;
        Ok(Aws {
            cloud,
            proxy,
            image,
        })
    }
}

impl Seeded for Aws {
    fn local(&self) -> &dyn LocalCloud {
        &self.cloud
    }

    fn cli_env(&self) -> Vec<(String, String)> {
        let mut env = self.cloud.cli_env();
        for (k, v) in &mut env {
            if k == "CARTO_PROVISION_AWS_ENDPOINT_URL" {
                *v = self.proxy.endpoint();
            }
        }
        env
    }

    fn seed(&self, env: &str, shape: Shape, expired: bool) -> io::Result<()> {
        let aws = &self.cloud.aws;
        let domain = format!("{env}.{}", ZONE_DOMAIN.trim_end_matches('.'));
        let mut tags = vec![
            ("managed-by", "carto-provision".to_string()),
            ("carto-env", env.to_string()),
            ("carto-created", "1795710422".to_string()),
            ("carto-nonce", format!("nonce-{env}")),
        ];
        if expired {
            tags.push(("carto-expires", "1700000000".to_string()));
        }
        let spec = |kind: &str, name: &str, extra: &[(&str, String)]| {
            let mut q = format!("&TagSpecification.1.ResourceType={kind}");
            let named = [("Name", name.to_string())];
            let all = tags.iter().chain(extra).chain(&named);
            for (i, (k, v)) in all.enumerate() {
                q.push_str(&format!(
                    "&TagSpecification.1.Tag.{n}.Key={k}&TagSpecification.1.Tag.{n}.Value={v}",
                    n = i + 1
                ));
            }
            q
        };
        let name = |suffix: &str| format!("carto-{env}-{suffix}");
        if shape != Shape::OneVm {
            aws.ec2(&format!(
                "Action=CreateSecurityGroup&GroupName={}&GroupDescription=carto{}",
                name("fw"),
                spec("security-group", &name("fw"), &[])
            ))?;
        }
        if shape == Shape::OneRule {
            return Ok(());
        }
        aws.ec2(&format!(
            "Action=RunInstances&ImageId={}&MinCount=1&MaxCount=1&InstanceType=t3.micro{}",
            self.image,
            spec("instance", &name("vm"), &[])
        ))?;
        if shape == Shape::OneVm {
            return Ok(());
        }
        aws.ec2(&format!(
            "Action=CreateKeyPair&KeyName={}{}",
            name("key"),
            spec("key-pair", &name("key"), &[])
        ))?;
        aws.ec2(&format!(
            "Action=AllocateAddress&Domain=vpc{}",
            spec(
                "elastic-ip",
                &name("ip"),
                &[("carto-domain", domain.clone())]
            )
        ))?;
        let ip = aws.vm_ip.to_string();
        aws.create_record(&self.cloud.zone_id, &format!("{domain}."), "A", &ip)
    }

    fn calls(&self) -> io::Result<usize> {
        Ok(self.proxy.total_calls())
    }

    fn resources(&self) -> io::Result<usize> {
        let aws = &self.cloud.aws;
        let managed = "&Filter.1.Name=tag:managed-by&Filter.1.Value.1=carto-provision";
        let live = "&Filter.2.Name=instance-state-name&Filter.2.Value.1=pending&Filter.2.Value.2=running&Filter.2.Value.3=stopping&Filter.2.Value.4=stopped";
        let count =
            |q: &str, tag: &str| -> io::Result<usize> { Ok(tag_values(&aws.ec2(q)?, tag).len()) };
        let records = aws
            .a_records(&self.cloud.zone_id)?
            .into_iter()
            .filter(|(name, _)| name.starts_with("env") || name.starts_with("alone"))
            .count();
        let each = [
            count(
                &format!("Action=DescribeInstances&MaxResults=1000{managed}{live}"),
                "instanceId",
            )?,
            count(
                &format!("Action=DescribeSecurityGroups{managed}"),
                "groupId",
            )?,
            count(
                &format!("Action=DescribeAddresses{managed}"),
                "allocationId",
            )?,
            count(&format!("Action=DescribeKeyPairs{managed}"), "keyPairId")?,
            records,
        ];
        if std::env::var_os("BENCH_DEBUG").is_some() {
            eprintln!("aws: instances, groups, addresses, keys, A records: {each:?}");
        }
        Ok(each.iter().sum())
    }
}

/// The tags (GCP: labels) the tool gives environment `env`'s resources, with an expiry in
/// the past when `expired`.
fn tags(env: &str, expired: bool) -> serde_json::Value {
    let mut tags = json!({
        "managed-by": "carto-provision",
        "carto-env": env,
        "carto-created": "1795710422",
        "carto-nonce": format!("nonce-{env}"),
    });
    if expired {
        tags["carto-expires"] = json!("1700000000");
    }
    tags
}

struct Gcp(GcpCloud);

impl Seeded for Gcp {
    fn local(&self) -> &dyn LocalCloud {
        &self.0
    }

    fn seed(&self, env: &str, shape: Shape, expired: bool) -> io::Result<()> {
        let state = self.0.state()?;
        let labels = tags(env, expired);
        let description = labels
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" ");
        let base = format!("https://compute.googleapis.com/compute/v1/projects/{PROJECT}");
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
        let seq = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = || {
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .to_string()
        };
        let name = |suffix: &str| format!("carto-{env}-{suffix}");
        let network = format!("{base}/global/networks/{}", name("net"));
        let rule = json!({
            "name": name("fw"), "id": id(), "description": description, "network": network,
            "direction": "INGRESS", "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}],
            "selfLink": format!("{base}/global/firewalls/{}", name("fw")),
        });
        let fw_key = format!("projects/{PROJECT}/global/firewalls/{}", name("fw"));
        if shape != Shape::OneVm {
            state.put_resource("firewalls", &fw_key, rule);
        }
        if shape == Shape::OneRule {
            return Ok(());
        }
        if shape == Shape::Full {
            let net = json!({
                "name": name("net"), "id": id(), "description": description,
                "selfLink": network, "autoCreateSubnetworks": false,
            });
            let net_key = format!("projects/{PROJECT}/global/networks/{}", name("net"));
            state.put_resource("networks", &net_key, net);
            // The address names its domain; the zone holds the A record pointing at it.
            let domain = format!("{env}.{}", ZONE_DOMAIN.trim_end_matches('.'));
            let ip = format!("127.0.{}.{}", seq / 250 % 250, seq % 250 + 1);
            state.put_record_set(PROJECT, ZONE_NAME, &format!("{domain}."), "A", &[&ip]);
            let address = json!({
                "name": name("ip"), "id": id(), "labels": labels, "address": ip,
                "description": format!("{description} carto-domain={domain}"),
                "region": format!("{base}/regions/{REGION}"), "status": "IN_USE",
                "selfLink": format!("{base}/regions/{REGION}/addresses/{}", name("ip")),
            });
            let ip_key = format!(
                "projects/{PROJECT}/regions/{REGION}/addresses/{}",
                name("ip")
            );
            state.put_resource("addresses", &ip_key, address);
        }
        let vm = json!({
            "name": name("vm"), "id": id(), "labels": labels, "status": "RUNNING",
            "zone": format!("{base}/zones/{ZONE}"),
            "selfLink": format!("{base}/zones/{ZONE}/instances/{}", name("vm")),
        });
        let vm_key = format!("projects/{PROJECT}/zones/{ZONE}/instances/{}", name("vm"));
        state.put_resource("instances", &vm_key, vm);
        Ok(())
    }

    fn calls(&self) -> io::Result<usize> {
        Ok(self.0.state()?.requests().len())
    }

    fn resources(&self) -> io::Result<usize> {
        let state = self.0.state()?;
        let kinds = ["instances", "addresses", "firewalls", "networks"];
        let records = state.record_sets(PROJECT, ZONE_NAME);
        let a_records = records.iter().filter(|r| r["type"] == "A").count();
        let ours =
            |r: &serde_json::Value| r["name"].as_str().is_some_and(|n| n.starts_with("carto-"));
        Ok(kinds
            .iter()
            .map(|k| state.resources(k).iter().filter(|r| ours(r)).count())
            .sum::<usize>()
            + a_records)
    }
}

/// The fake Resource Manager; every environment a resource group of its own.
struct Azure(AzureCloud);

impl Seeded for Azure {
    fn local(&self) -> &dyn LocalCloud {
        &self.0
    }

    fn seed(&self, env: &str, shape: Shape, expired: bool) -> io::Result<()> {
        let c = &self.0;
        let tags = tags(env, expired);
        let loc = carto_harness::local_azure::LOCATION;
        let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/carto-{env}-rg");
        let id = |rtype: &str, what: &str| c.env_id(env, rtype, what);
        let (net, vm_api) = ("2024-05-01", "2024-07-01");
        c.seed(
            &format!("{group}?api-version=2024-03-01"),
            json!({"location": loc, "tags": tags}),
        )?;
        let nsg = id("Microsoft.Network/networkSecurityGroups", "nsg");
        if shape != Shape::OneVm {
            c.seed(
                &format!("{nsg}?api-version={net}"),
                json!({"location": loc, "tags": tags, "properties": {}}),
            )?;
        }
        if shape == Shape::OneRule {
            return Ok(());
        }
        let vnet = id("Microsoft.Network/virtualNetworks", "vnet");
        c.seed(
            &format!("{vnet}?api-version={net}"),
            json!({"location": loc, "tags": tags, "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}),
        )?;
        let mut ip_config = json!({"subnet": {"id": format!("{vnet}/subnets/default")},
            "privateIPAllocationMethod": "Dynamic"});
        let mut nic_props = json!({});
        if shape == Shape::Full {
            let domain = format!("{env}.{}", ZONE_DOMAIN.trim_end_matches('.'));
            let pip = id("Microsoft.Network/publicIPAddresses", "ip");
            let mut pip_tags = tags.clone();
            pip_tags["carto-domain"] = json!(domain);
            c.seed(
                &format!("{pip}?api-version={net}"),
                json!({"location": loc, "tags": pip_tags, "sku": {"name": "Standard"},
                    "properties": {"publicIPAllocationMethod": "Static",
                        "publicIPAddressVersion": "IPv4"}}),
            )?;
            ip_config["publicIPAddress"] = json!({ "id": pip });
            nic_props["networkSecurityGroup"] = json!({ "id": nsg });
            let zone = ZONE_DOMAIN.trim_end_matches('.');
            c.seed(
                &format!(
                    "/subscriptions/{SUBSCRIPTION}/resourceGroups/{DNS_GROUP}/providers/Microsoft.Network/dnsZones/{zone}/A/{env}?api-version=2018-05-01"
                ),
                json!({"properties": {"TTL": 60, "ARecords": [{"ipv4Address": c.vm_ip.to_string()}],
                    "metadata": {"managed-by": "carto-provision", "carto-env": env,
                        "carto-nonce": format!("nonce-{env}")}}}),
            )?;
        }
        nic_props["ipConfigurations"] = json!([{"name": "ipconfig1", "properties": ip_config}]);
        let nic = id("Microsoft.Network/networkInterfaces", "nic");
        c.seed(
            &format!("{nic}?api-version={net}"),
            json!({"location": loc, "tags": tags, "properties": nic_props}),
        )?;
        c.seed(
            &format!(
                "{}?api-version={vm_api}",
                id("Microsoft.Compute/virtualMachines", "vm")
            ),
            json!({"location": loc, "tags": tags, "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "storageProfile": {
                    "imageReference": {"publisher": "Canonical",
                        "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
                        "version": "latest"},
                    "osDisk": {"createOption": "FromImage", "diskSizeGB": 100,
                        "deleteOption": "Delete",
                        "managedDisk": {"storageAccountType": "Premium_LRS"}}},
                "osProfile": {"computerName": "carto", "adminUsername": "carto",
                    "linuxConfiguration": {"disablePasswordAuthentication": true,
                        "ssh": {"publicKeys": [{"path": "/home/carto/.ssh/authorized_keys",
                            "keyData": "ssh-ed25519 AAAAC3 bench"}]}}},
                "networkProfile": {"networkInterfaces": [
                    {"id": nic, "properties": {"primary": true}}]}}}),
        )
    }

    fn calls(&self) -> io::Result<usize> {
        Ok(self.0.fake().state().requests().len())
    }

    fn resources(&self) -> io::Result<usize> {
        // Every group and resource of the environments' groups, and the A records.
        let group = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/carto-").to_lowercase();
        let records = self
            .0
            .a_records()?
            .into_iter()
            .filter(|(name, _)| name.starts_with("env") || name.starts_with("alone"))
            .count();
        let ids = self.0.fake().state().resource_ids();
        let ours = ids.iter().filter(|id| {
            id.to_lowercase().starts_with(&group) && !id.to_lowercase().contains("/carto-dns")
        });
        Ok(ours.count() + records)
    }
}

fn start(name: &str, latency: Duration) -> io::Result<Box<dyn Seeded>> {
    match name {
        "aws" => Ok(Box::new(Aws::start(latency)?)),
        "gcp" => {
            let cloud = GcpCloud::start_with("127.0.0.78".parse().map_err(io::Error::other)?)?;
            cloud.state()?.set_latency(None, latency);
            cloud.state()?.set_page_size(PAGE);
            Ok(Box::new(Gcp(cloud)))
        }
        "azure" => {
            let cloud = AzureCloud::start_with("127.0.0.77".parse().map_err(io::Error::other)?)?;
            cloud.fake().state().set_latency(latency);
            cloud.fake().state().set_page_size(PAGE);
            Ok(Box::new(Azure(cloud)))
        }
        other => Err(io::Error::other(format!(
            "--clouds {other}: expected aws, gcp or azure"
        ))),
    }
}

/// Runs the CLI with `args` against `cloud`; returns its wall time in seconds.
fn timed(bin: &Path, state: &Path, cloud: &dyn Seeded, args: &[&str]) -> io::Result<f64> {
    let local = cloud.local();
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(local.deploy_args());
    let started = Instant::now();
    let out = Cli::new(bin, state).envs(cloud.cli_env()).args(&all).run();
    let wall = started.elapsed().as_secs_f64();
    if out.code != 0 {
        return Err(io::Error::other(format!(
            "carto-provision {all:?} failed ({}):\n{}\n{}",
            out.code, out.stdout, out.stderr
        )));
    }
    Ok(wall)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median of three `destroy --cloud` of an environment of `shape` (`None`: nothing),
/// each on a fresh emulator.
fn destroy_alone(
    bin: &Path,
    cloud: &str,
    shape: Option<Shape>,
    latency: Duration,
) -> io::Result<f64> {
    let mut walls = Vec::new();
    for run in 0..3 {
        let c = start(cloud, latency)?;
        let env = format!("alone{run}");
        let base = c.resources()?;
        if let Some(shape) = shape {
            c.seed(&env, shape, false)?;
        }
        let dir = tempfile::tempdir()?;
        let args = ["destroy", env.as_str(), "--cloud", cloud];
        walls.push(timed(bin, &dir.path().join("state"), c.as_ref(), &args)?);
        if c.resources()? != base {
            return Err(io::Error::other(format!(
                "{cloud}: destroy {env} left resources"
            )));
        }
    }
    Ok(median(walls))
}

fn verdict(ratio: f64, goal: f64) -> &'static str {
    if ratio <= goal { "MET" } else { "NOT MET" }
}

fn teardown(bin: &Path, clouds: &[String], latency: Duration) -> io::Result<bool> {
    println!(
        "teardown: destroy --cloud of one environment, {} ms per API call",
        latency.as_millis()
    );
    println!(
        "{:<6} {:>8} {:>8} {:>8} {:>6} {:>8} {:>8}  verdict (target <= {TEARDOWN_GOAL})",
        "cloud", "T0 s", "rule s", "VM s", "waves", "chain s", "wall s"
    );
    let mut all = true;
    for cloud in clouds {
        let t0 = destroy_alone(bin, cloud, None, latency)?;
        let rule = destroy_alone(bin, cloud, Some(Shape::OneRule), latency)?;
        let vm = destroy_alone(bin, cloud, Some(Shape::OneVm), latency)?;
        let wall = destroy_alone(bin, cloud, Some(Shape::Full), latency)?;
        let one = (rule - t0).max(0.0);
        let vm = (vm - t0).max(one);
        let waves = waves(cloud);
        let chain = t0 + vm + f64::from(waves - 1) * one;
        let ratio = wall / chain;
        all &= ratio <= TEARDOWN_GOAL;
        println!(
            "{cloud:<6} {t0:>8.2} {one:>8.2} {vm:>8.2} {waves:>6} {chain:>8.2} {wall:>8.2}  {ratio:.2} {}",
            verdict(ratio, TEARDOWN_GOAL)
        );
    }
    Ok(all)
}

fn scale(
    bin: &Path,
    clouds: &[String],
    latency: Duration,
    count: usize,
    expired: usize,
) -> io::Result<bool> {
    println!(
        "scale: {count} environments ({expired} expired) in one account, {} ms per API call",
        latency.as_millis()
    );
    println!(
        "{:<6} {:>8} {:>6} {:>9} {:>9} {:>6} {:>9} {:>9} {:>6}",
        "cloud", "list s", "calls", "gc50 s", "alone s", "gc/1", "1of200 s", "1of1 s", "ratio"
    );
    let mut all = true;
    for cloud in clouds {
        let c = start(cloud, latency)?;
        let base = c.resources()?;
        for e in 0..count {
            c.seed(&format!("env{e}"), Shape::Full, e < expired)?;
        }
        let each = (c.resources()? - base) / count;
        let dir = tempfile::tempdir()?;
        let state = dir.path().join("state");
        let before = c.calls()?;
        let list = timed(bin, &state, c.as_ref(), &["gc", "--clouds", cloud])?;
        let calls = c.calls()? - before;
        let keep = format!("env{}", count - 1);
        let among = timed(
            bin,
            &state,
            c.as_ref(),
            &["destroy", &keep, "--cloud", cloud],
        )?;
        let gc = timed(bin, &state, c.as_ref(), &["gc", "--clouds", cloud, "--yes"])?;
        let left = c.resources()?;
        if left != base + (count - expired - 1) * each {
            return Err(io::Error::other(format!(
                "{cloud}: {left} resources left after destroying 1 and gc of {expired} of {count} environments"
            )));
        }
        let alone = destroy_alone(bin, cloud, Some(Shape::Full), latency)?;
        let (gc_ratio, among_ratio) = (gc / alone, among / alone);
        all &= gc_ratio <= GC_GOAL && among_ratio <= AMONG_GOAL;
        println!(
            "{cloud:<6} {list:>8.2} {calls:>6} {gc:>9.2} {alone:>9.2} {gc_ratio:>6.2} {among:>9.2} {alone:>9.2} {among_ratio:>6.2}"
        );
        println!(
            "{cloud}: gc --yes of {expired} / one destroy {gc_ratio:.2} (target <= {GC_GOAL}) {}; destroy of one among {count} / among 1 {among_ratio:.2} (target <= {AMONG_GOAL}) {}",
            verdict(gc_ratio, GC_GOAL),
            verdict(among_ratio, AMONG_GOAL)
        );
    }
    Ok(all)
}

fn main() -> io::Result<()> {
    let usage = "usage: teardown-bench CARTO_PROVISION teardown|scale [--clouds aws,gcp,azure] [--latency-ms N] [--environments N]";
    let mut args = std::env::args().skip(1);
    let bin = PathBuf::from(args.next().ok_or_else(|| io::Error::other(usage))?);
    let mode = args.next().ok_or_else(|| io::Error::other(usage))?;
    let mut clouds = vec!["aws".to_string(), "gcp".to_string(), "azure".to_string()];
    let mut latency = Duration::from_millis(100);
    let mut count = 200;
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| io::Error::other(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--clouds" => clouds = value.split(',').map(String::from).collect(),
            "--latency-ms" => {
                latency = Duration::from_millis(value.parse().map_err(io::Error::other)?)
            }
            "--environments" => count = value.parse().map_err(io::Error::other)?,
            _ => return Err(io::Error::other(format!("unknown flag {flag}; {usage}"))),
        }
    }
    let met = match mode.as_str() {
        "teardown" => teardown(&bin, &clouds, latency)?,
        "scale" => scale(&bin, &clouds, latency, count, count / 4)?,
        _ => return Err(io::Error::other(usage)),
    };
    println!(
        "verdict: {}",
        if met {
            "every target met"
        } else {
            "a target is not met"
        }
    );
    Ok(())
}
