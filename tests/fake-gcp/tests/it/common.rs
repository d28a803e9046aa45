//! Shared test client: a started fake plus a tiny JSON-over-HTTP helper (reqwest, loopback only),
//! and `check`, which runs a table of requests and the answers they must get.

#![allow(dead_code)] // each test binary uses a different subset

use carto_fake_gcp::{Config, FakeServer};
use serde_json::{Value, json};

pub const PROJECT: &str = "test-proj";
pub const ZONE: &str = "us-central1-a";
pub const REGION: &str = "us-central1";

pub struct Fake {
    pub server: FakeServer,
    http: reqwest::Client,
    /// An access token the fake issued, sent with every call of `send`.
    pub token: String,
}

impl Fake {
    pub async fn start(config: Config) -> Fake {
        let server = FakeServer::start(config).await.expect("fake starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let token = server.state().issue_token();
        Fake {
            server,
            http,
            token,
        }
    }

    pub async fn default() -> Fake {
        Fake::start(Config::default()).await
    }

    /// `/compute/v1/projects/PROJECT/{rest}`
    pub fn compute(rest: &str) -> String {
        format!("/compute/v1/projects/{PROJECT}/{rest}")
    }

    /// `/dns/v1/projects/PROJECT/{rest}`
    pub fn dns(rest: &str) -> String {
        format!("/dns/v1/projects/{PROJECT}/{rest}")
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let auth = format!("Bearer {}", self.token);
        let body = body.map(Value::to_string);
        self.send_as(method, path, body.as_deref(), Some(&auth))
            .await
    }

    /// Send a raw body with the given `Authorization` header (or none).
    pub async fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        authorization: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.server.url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, url);
        if let Some(auth) = authorization {
            req = req.header("authorization", auth);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("fake answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None).await
    }

    /// Poll an operation (by its selfLink's path) with `get` until DONE; returns the polls used.
    pub async fn wait_done(&self, op: &Value) -> (u32, Value) {
        let link = op["selfLink"].as_str().expect("operation selfLink");
        let path = link.trim_start_matches(&self.server.url()).to_string();
        for polls in 1..=20 {
            let (status, op) = self.get(&path).await;
            assert_eq!(status, 200, "{op}");
            if op["status"] == "DONE" {
                return (polls, op);
            }
        }
        panic!("operation {link} never reached DONE");
    }
}

/// The reason of a Google error body.
pub fn reason(body: &Value) -> &str {
    body["error"]["errors"][0]["reason"].as_str().unwrap_or("")
}

/// The message of a Google error body.
pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

pub fn labels() -> Value {
    json!({"managed-by": "carto-provision", "carto-env": "env-1"})
}

pub fn address_body(name: &str) -> Value {
    json!({"name": name, "addressType": "EXTERNAL", "networkTier": "PREMIUM", "labels": labels()})
}

pub fn instance_body(name: &str, nat_ip: Option<&str>, auto_delete: bool) -> Value {
    let mut access =
        json!({"type": "ONE_TO_ONE_NAT", "name": "External NAT", "networkTier": "PREMIUM"});
    if let Some(ip) = nat_ip {
        access["natIP"] = json!(ip);
    }
    json!({
        "name": name,
        "machineType": format!("zones/{ZONE}/machineTypes/e2-standard-8"),
        "labels": labels(),
        "tags": {"items": ["env-1"]},
        "metadata": {"items": [{"key": "ssh-keys", "value": "ubuntu:ssh-ed25519 AAAAC3 test"}]},
        "disks": [{"boot": true, "autoDelete": auto_delete, "initializeParams": {
            "sourceImage": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts",
            "diskSizeGb": "60", "diskType": format!("zones/{ZONE}/diskTypes/pd-ssd")}}],
        "networkInterfaces": [{"network": "global/networks/default", "accessConfigs": [access]}],
    })
}

/// A request as a table row holds it: method, path (with any query) and body (`None`: no body).
pub type Request = (&'static str, String, Option<Value>);

pub fn get(path: impl Into<String>) -> Request {
    ("GET", path.into(), None)
}

pub fn post(path: impl Into<String>, body: Value) -> Request {
    ("POST", path.into(), Some(body))
}

pub fn delete(path: impl Into<String>) -> Request {
    ("DELETE", path.into(), None)
}

pub fn send(method: &'static str, path: impl Into<String>, body: Option<Value>) -> Request {
    (method, path.into(), body)
}

/// `base` with the value at the JSON pointer `at` set (its last key may be new).
pub fn with(base: &Value, at: &str, value: impl Into<Value>) -> Value {
    let mut body = base.clone();
    let (parent, key) = at.rsplit_once('/').expect("a JSON pointer");
    body.pointer_mut(parent).expect("the pointer's parent")[key] = value.into();
    body
}

/// What an answer's error message must say: anything, exactly this, this first, each of these.
#[derive(Debug)]
pub enum Says {
    Any,
    Is(&'static str),
    Starts(&'static str),
    Has(&'static [&'static str]),
}

/// One row of a table of requests: what it checks (named in a failure), the request, and the
/// answer it must get: status, error reason ("" for a success) and what the error message says.
/// An error answer must also carry its code and Google's status word for it.
pub type Case = (&'static str, Request, u16, &'static str, Says);

/// Sends every case's request in order and checks its answer (waiting for an operation it
/// starts, so the next case sees its effect); fails naming every case without its answer.
pub async fn check(fake: &Fake, cases: Vec<Case>) {
    let mut failed = Vec::new();
    for (what, (method, path, body), status, why, says) in cases {
        let (got, answer) = fake.send(method, &path, body.as_ref()).await;
        if got == 200 && answer["kind"] == "compute#operation" {
            fake.wait_done(&answer).await;
        }
        let (error, text) = (&answer["error"], message(&answer));
        let word = status_word(status).is_none_or(|w| error["status"] == w);
        let ok = got == status
            && reason(&answer) == why
            && match says {
                Says::Any => true,
                Says::Is(whole) => text == whole,
                Says::Starts(prefix) => text.starts_with(prefix),
                Says::Has(words) => words.iter().all(|w| text.contains(w)),
            }
            && (status < 400 || (error["code"] == status && word));
        if !ok {
            failed.push(format!(
                "{what}: {method} {path} wants {status} {why:?} {says:?}, got {got} {answer}"
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The status word Google's error bodies carry beside these codes.
fn status_word(code: u16) -> Option<&'static str> {
    Some(match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        _ => return None,
    })
}
