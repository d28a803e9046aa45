//! Helpers for driving the built `carto-provision` binary against moto: a fixture installation
//! package (with recognisable secrets), a moto server with a public hosted zone, raw EC2
//! query / Route53 REST calls to count and inspect what exists there (XML read by plain
//! string search), and [`TestCommand`], which runs the binary with a clean environment, test
//! credentials, a fast retry policy and a temporary state directory.
//!
//! Nothing here talks to anything but 127.0.0.1: moto listens there, and the binary is only
//! ever given moto's endpoint.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carto_harness::moto::Moto;

/// The customer.env secret: must never appear in output, state or logs.
pub const SECRET_PASSWORD: &str = "SEKRET-pg-admin-6d1f0c";
/// key.json's private key body: must never appear anywhere either.
pub const SECRET_PRIVATE_KEY: &str = "SEKRET-sa-private-key-93ab";
/// The zone every test domain lives in.
pub const ZONE: &str = "example.test";
/// The operator range every test passes.
pub const SSH_CIDR: &str = "127.0.0.1/32";
/// How long one run of the binary may take before the test kills it (by its PID).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// A customer.env as CARTO ships it (trimmed to what the checks read).
pub fn customer_env() -> String {
    format!(
        "# CARTO Self-Hosted customer package (test fixture)\n\
         SELFHOSTED_TENANT_ID=onp-test01\n\
         CARTO_SELFHOSTED_CUSTOMER_PACKAGE_VERSION=2025.10.1\n\
         \n\
         LOCAL_POSTGRES_SCALE=1\n\
         LOCAL_REDIS_SCALE=1\n\
         POSTGRES_ADMIN_PASSWORD={SECRET_PASSWORD}\n"
    )
}

/// A service account key.json of our own making, of the given `type`.
pub fn key_json(kind: &str) -> String {
    format!(
        r#"{{"type":"{kind}","project_id":"carto-test","client_email":"sa@carto-test.iam.example.test","private_key":"-----BEGIN PRIVATE KEY-----\n{SECRET_PRIVATE_KEY}\n-----END PRIVATE KEY-----\n"}}"#
    )
}

/// Writes a package folder `dir` (created): `customer_env` when given, and `key`.
pub fn write_package(dir: &Path, customer_env: Option<&str>, key: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create package dir");
    if let Some(text) = customer_env {
        std::fs::write(dir.join("customer.env"), text).expect("write customer.env");
    }
    std::fs::write(dir.join("key.json"), key).expect("write key.json");
    dir.to_path_buf()
}

/// Panics if `text` (named `what`) holds a fixture secret.
pub fn assert_no_secret(what: &str, text: &str) {
    for secret in [SECRET_PASSWORD, SECRET_PRIVATE_KEY] {
        assert!(!text.contains(secret), "{what} contains a secret:\n{text}");
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
}

impl Output {
    /// Panics unless the exit code is `code`, showing both streams.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code; {self:#?}");
        self
    }
}

/// The built binary with a clean environment: only PATH, a temporary HOME, moto's test
/// credentials and a 10 ms retry base; every run gets `--state-dir`.
pub struct TestCommand {
    cmd: Command,
}

impl TestCommand {
    /// `carto-provision --state-dir STATE_DIR`, HOME pointing inside `state_dir`'s parent.
    pub fn new(state_dir: &Path) -> TestCommand {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_carto-provision"));
        let home = state_dir.with_file_name("home");
        std::fs::create_dir_all(&home).expect("create test HOME");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("CARTO_PROVISION_RETRY_BASE_MS", "10")
            .arg("--state-dir")
            .arg(state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        TestCommand { cmd }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> TestCommand {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> TestCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> TestCommand {
        self.cmd.env(key, value);
        self
    }

    /// Runs to the end (killed by PID after [`RUN_TIMEOUT`]) and captures both streams.
    pub fn run(mut self) -> Output {
        let mut child = self.cmd.spawn().expect("spawn carto-provision");
        let mut out = child.stdout.take().expect("stdout piped");
        let mut err = child.stderr.take().expect("stderr piped");
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for carto-provision") {
                break status;
            }
            if start.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("carto-provision ran longer than {RUN_TIMEOUT:?}; killed");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            code: status.code().unwrap_or(-1),
            stdout: out_reader.join().expect("stdout reader"),
            stderr: err_reader.join().expect("stderr reader"),
        }
    }
}

/// The flags of a deployment (`aws …` or `plan aws …`) of `domain` with `package`, against
/// `endpoint`, SSH only from [`SSH_CIDR`].
pub fn deploy_args(domain: &str, package: &Path, endpoint: &str) -> Vec<String> {
    vec![
        "--domain".into(),
        domain.into(),
        "--package".into(),
        package.display().to_string(),
        "--ssh-cidr".into(),
        SSH_CIDR.into(),
        "--endpoint-url".into(),
        endpoint.into(),
    ]
}

/// Resources that exist in moto (terminated instances left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Instances not terminated.
    pub instances: usize,
    /// Security groups other than `default`.
    pub security_groups: usize,
    /// Elastic IPs.
    pub addresses: usize,
    /// Key pairs.
    pub key_pairs: usize,
    /// Record sets in the zone other than its NS and SOA.
    pub records: usize,
}

impl Counts {
    /// Whether nothing at all exists.
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// A moto server with one public hosted zone ([`ZONE`]).
pub struct Cloud {
    /// The server (stopped by PID when dropped).
    pub moto: Moto,
    /// The zone's bare id (`Z…`, random per server).
    pub zone_id: String,
}

/// Instance states that count as existing.
const LIVE_STATES: [&str; 5] = ["pending", "running", "shutting-down", "stopping", "stopped"];

impl Cloud {
    /// Starts moto handing out `vm_ip` as every public address, and creates [`ZONE`].
    pub fn start(vm_ip: Ipv4Addr) -> Cloud {
        let moto = Moto::start(vm_ip).expect("moto starts (run .ci/install if it is missing)");
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>{ZONE}</Name><CallerReference>cli-test</CallerReference></CreateHostedZoneRequest>"#
        );
        let mut cloud = Cloud {
            moto,
            zone_id: String::new(),
        };
        let xml = cloud.route53("POST", "/2013-04-01/hostedzone", &body);
        let id = values(&xml, "Id")
            .into_iter()
            .find(|id| id.starts_with("/hostedzone/"))
            .unwrap_or_else(|| panic!("CreateHostedZone answered without a zone id: {xml}"));
        cloud.zone_id = id.trim_start_matches("/hostedzone/").to_string();
        cloud
    }

    /// moto's endpoint, for `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        self.moto.endpoint()
    }

    /// One EC2 query API call (`Action=…&…`, Version added) in us-east-1; the response XML.
    pub fn ec2(&self, params: &str) -> String {
        let body = format!("{params}&Version=2016-11-15");
        self.call(
            "ec2",
            "POST",
            "/",
            "application/x-www-form-urlencoded",
            &body,
        )
    }

    /// One Route53 REST call; the response XML.
    pub fn route53(&self, method: &str, path: &str, body: &str) -> String {
        self.call("route53", method, path, "text/xml", body)
    }

    /// A raw HTTP call to moto. moto routes by the service named in the Authorization
    /// header's credential scope and does not check the signature.
    fn call(&self, service: &str, method: &str, path: &str, ctype: &str, body: &str) -> String {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.moto.port));
        let mut stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to moto");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("set read timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Content-Type: {ctype}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{body}",
            port = self.moto.port,
            len = body.len()
        )
        .expect("send to moto");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("read moto's answer");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw.as_str(), ""));
        let status = head.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            status.starts_with('2'),
            "{service} {method} {path} failed: {head}\n{body}\n{}",
            self.moto.log_text()
        );
        body.to_string()
    }

    /// What exists in moto now.
    pub fn counts(&self) -> Counts {
        let groups = self.ec2("Action=DescribeSecurityGroups");
        Counts {
            instances: self.instance_ids(&[]).len(),
            security_groups: values(&groups, "groupName")
                .iter()
                .filter(|n| *n != "default")
                .count(),
            addresses: values(&self.ec2("Action=DescribeAddresses"), "allocationId").len(),
            key_pairs: values(&self.ec2("Action=DescribeKeyPairs"), "keyPairId").len(),
            records: self
                .records()
                .iter()
                .filter(|(_, t, _)| t != "NS" && t != "SOA")
                .count(),
        }
    }

    /// The zone's record sets as (name, type, values joined by `,`).
    pub fn records(&self) -> Vec<(String, String, String)> {
        let xml = self.route53(
            "GET",
            &format!("/2013-04-01/hostedzone/{}/rrset", self.zone_id),
            "",
        );
        values(&xml, "ResourceRecordSet")
            .iter()
            .map(|set| {
                let first = |tag| values(set, tag).into_iter().next().unwrap_or_default();
                (first("Name"), first("Type"), values(set, "Value").join(","))
            })
            .collect()
    }

    /// Ids of live EC2 resources (instances, security groups, Elastic IPs, key pairs) tagged
    /// `managed-by=carto-provision` and `carto-env=env`.
    pub fn tagged_ids(&self, env: &str) -> BTreeSet<String> {
        let tags = [
            ("tag:managed-by", "carto-provision"),
            ("tag:carto-env", env),
        ];
        let q = filters(&tags);
        let mut ids: BTreeSet<String> = self.instance_ids(&tags).into_iter().collect();
        let groups = self.ec2(&format!("Action=DescribeSecurityGroups{q}"));
        ids.extend(values(&groups, "groupId"));
        let addresses = self.ec2(&format!("Action=DescribeAddresses{q}"));
        ids.extend(values(&addresses, "allocationId"));
        let keys = self.ec2(&format!("Action=DescribeKeyPairs{q}"));
        ids.extend(values(&keys, "keyPairId"));
        ids
    }

    /// The instance's user-data, decoded.
    pub fn user_data(&self, instance_id: &str) -> String {
        let xml = self.ec2(&format!(
            "Action=DescribeInstanceAttribute&InstanceId={instance_id}&Attribute=userData"
        ));
        let encoded = values(&xml, "userData")
            .first()
            .map(|u| values(u, "value").concat())
            .unwrap_or_default();
        String::from_utf8_lossy(&base64_decode(&encoded)).into_owned()
    }

    /// Ids of instances in a live state matching the tag `extra` filters.
    fn instance_ids(&self, extra: &[(&str, &str)]) -> BTreeSet<String> {
        let mut q = filters(extra);
        let n = extra.len() + 1;
        q.push_str(&format!("&Filter.{n}.Name=instance-state-name"));
        for (i, state) in LIVE_STATES.iter().enumerate() {
            q.push_str(&format!("&Filter.{n}.Value.{}={state}", i + 1));
        }
        let xml = self.ec2(&format!("Action=DescribeInstances{q}"));
        values(&xml, "instanceId").into_iter().collect()
    }
}

/// `&Filter.N.Name=…&Filter.N.Value.1=…` for each (name, value).
fn filters(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (name, value))| {
            format!(
                "&Filter.{n}.Name={name}&Filter.{n}.Value.1={value}",
                n = i + 1
            )
        })
        .collect()
}

/// The text inside every `<tag>…</tag>` (outermost first; nested same-name tags not handled,
/// which EC2 and Route53 answers do not use for the tags read here).
pub fn values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(after[..end].to_string());
        rest = &after[end + close.len()..];
    }
    out
}

/// Standard base64 (padding and whitespace ignored); enough for EC2's user-data answer.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Every file under `dir` (recursively) with its contents, lossily as text.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}
