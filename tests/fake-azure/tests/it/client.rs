//! Test client: a reqwest client with a bearer token from the fake's token endpoint, ARM paths
//! for one subscription, request bodies of every resource kind, and an operation poller.

use carto_fake_azure::{FakeConfig, FakeServer};
use serde_json::{Value, json};

pub const SUB: &str = "00000000-0000-0000-0000-00000000c0de";
pub const RES: &str = "2024-03-01";
pub const NET: &str = "2024-05-01";
pub const VM: &str = "2024-07-01";
pub const DNS: &str = "2018-05-01";
pub const LOC: &str = "westeurope";

/// An answer: status, headers, JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    /// Asserts ARM refused the request body (400 `InvalidRequestContent`).
    pub fn assert_invalid_content(&self) {
        assert_eq!(
            (self.status, self.code()),
            (400, "InvalidRequestContent"),
            "{:?}",
            self.body
        );
    }
}

/// One request of a table of cases and the answer it must get. Build with [`case`].
#[derive(Default)]
pub struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    api: String,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    status: u16,
    code: Option<&'static str>,
    words: &'static [&'static str],
}

/// Case `what`: `method path?api-version=api` with `body` (`api` may carry more parameters
/// after `&`; empty: no query at all); give its answer with [`Case::answers`].
pub fn case(
    what: &'static str,
    method: &'static str,
    path: impl Into<String>,
    api: &str,
    body: impl Into<Option<Value>>,
) -> Case {
    Case {
        what,
        method,
        path: path.into(),
        api: api.to_string(),
        body: body.into(),
        ..Case::default()
    }
}

impl Case {
    /// Sets the body member at JSON pointer `at` (an object member, added if absent).
    pub fn set(mut self, at: &str, value: impl Into<Value>) -> Self {
        let (parent, key) = at.rsplit_once('/').expect("a JSON pointer");
        let target = self.body.as_mut().and_then(|b| b.pointer_mut(parent));
        target.unwrap_or_else(|| panic!("{}: no {parent}", self.what))[key] = value.into();
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    /// The answer's status and ARM error code (`None`: unchecked).
    pub fn answers(mut self, status: u16, code: impl Into<Option<&'static str>>) -> Self {
        (self.status, self.code) = (status, code.into());
        self
    }

    /// Words the error message must contain.
    pub fn says(mut self, words: &'static [&'static str]) -> Self {
        self.words = words;
        self
    }
}

pub struct Arm {
    pub fake: FakeServer,
    pub http: reqwest::Client,
    pub token: String,
}

impl Arm {
    pub async fn start() -> Self {
        Self::start_with(FakeConfig::default()).await
    }

    /// Starts the fake and gets a token through its token endpoint.
    pub async fn start_with(config: FakeConfig) -> Self {
        let fake = FakeServer::start(config).await.expect("fake starts");
        let http = reqwest::Client::new();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "not-a-real-secret"),
            ("scope", "https://management.azure.com/.default"),
        ];
        let url = format!("{}/tenant-1/oauth2/v2.0/token", fake.url());
        let resp = http.post(url).form(&form).send().await.expect("token call");
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.expect("token json");
        let token = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        Self { fake, http, token }
    }

    /// Sends `method path?api-version=api` with an optional JSON body.
    pub async fn call(&self, method: &str, path: &str, api: &str, body: Option<Value>) -> Answer {
        let url = format!("{}{path}?api-version={api}", self.fake.url());
        self.send(method, &url, body, &[]).await
    }

    pub async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("json body")
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Polls an operation URL until it reports done; returns how many polls said "not yet".
    pub async fn wait(&self, url: &str) -> u32 {
        for waited in 0..50 {
            let a = self.send("GET", url, None, &[]).await;
            let done = match a.status {
                200 if a.body.is_null() => true,
                200 => a.body["status"] == "Succeeded",
                202 => false,
                s => panic!("poll answered {s}: {:?}", a.body),
            };
            if done {
                return waited;
            }
        }
        panic!("operation {url} never finished");
    }

    /// Sends the cases in order, checks each answer (failures name the case), returns them.
    pub async fn check(&self, cases: Vec<Case>) -> Vec<Answer> {
        let mut answers = Vec::new();
        for c in cases {
            let url = format!("{}{}?api-version={}", self.fake.url(), c.path, c.api);
            let url = url.trim_end_matches("?api-version="); // no query for an empty `api`
            let headers: Vec<_> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let a = self.send(c.method, url, c.body, &headers).await;
            let (what, message) = (c.what, a.message());
            assert_eq!(a.status, c.status, "{what}: {:?}", a.body);
            if let Some(code) = c.code {
                assert_eq!(a.code(), code, "{what}: {:?}", a.body);
            }
            for word in c.words {
                assert!(message.contains(word), "{what}: no {word:?} in {message:?}");
            }
            answers.push(a);
        }
        answers
    }

    /// PUT, then wait for its operation if it is long-running.
    pub async fn put_done(&self, path: &str, api: &str, body: Value) -> Answer {
        let a = self.call("PUT", path, api, Some(body)).await;
        assert!(
            a.status == 200 || a.status == 201,
            "PUT {path}: {} {:?}",
            a.status,
            a.body
        );
        if let Some(op) = a.header("azure-asyncoperation") {
            self.wait(&op).await;
        }
        a
    }

    /// VNet (subnet `default`), public IP `p`, NSG `n` and NIC `nic` in `group`; the NIC's id.
    pub async fn network_for_vm(&self, group: &str) -> String {
        let vnet = net(group, "virtualNetworks", "v");
        let pip = net(group, "publicIPAddresses", "p");
        let nsg = net(group, "networkSecurityGroups", "n");
        self.put_done(&vnet, NET, vnet_body()).await;
        self.put_done(&pip, NET, pip_body()).await;
        self.put_done(&nsg, NET, nsg_body()).await;
        let nic = net(group, "networkInterfaces", "nic");
        let subnet = format!("{vnet}/subnets/default");
        self.put_done(&nic, NET, nic_body(&subnet, &pip, &nsg))
            .await;
        nic
    }

    /// DELETE, then wait for its operation if it is long-running.
    pub async fn delete_done(&self, path: &str, api: &str) -> Answer {
        let a = self.call("DELETE", path, api, None).await;
        if a.status == 202 {
            let loc = a.header("location").expect("Location on 202");
            self.wait(&loc).await;
        }
        a
    }
}

pub fn rg(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

pub fn net(group: &str, kind: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Network/{kind}/{name}")
}

pub fn vm(group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"
    )
}

pub fn group_body() -> Value {
    json!({"location": LOC, "tags": {"carto-env": "t1"}})
}

pub fn vnet_body() -> Value {
    json!({"location": LOC, "tags": {"carto-env": "t1"}, "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}})
}

pub fn rule_props(port: &str, priority: u32) -> Value {
    json!({"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": port,
        "sourceAddressPrefix": "10.1.2.3/32", "destinationAddressPrefix": "*",
        "access": "Allow", "priority": priority, "direction": "Inbound"})
}

pub fn nsg_body() -> Value {
    json!({"location": LOC, "tags": {"carto-env": "t1"}, "properties": {
        "securityRules": [{"name": "ssh", "properties": rule_props("22", 100)}]}})
}

pub fn pip_body() -> Value {
    json!({"location": LOC, "tags": {"carto-env": "t1"}, "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}})
}

pub fn nic_body(subnet: &str, pip: &str, nsg: &str) -> Value {
    json!({"location": LOC, "tags": {"carto-env": "t1"}, "properties": {
        "networkSecurityGroup": {"id": nsg},
        "ipConfigurations": [{"name": "ipconfig1", "properties": {
            "subnet": {"id": subnet}, "publicIPAddress": {"id": pip},
            "privateIPAllocationMethod": "Dynamic"}}]}})
}

pub fn vm_body(nic: &str) -> Value {
    json!({"location": LOC, "tags": {"carto-env": "t1"}, "properties": {
        "hardwareProfile": {"vmSize": "Standard_B2s"},
        "storageProfile": {
            "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2", "version": "latest"},
            "osDisk": {"createOption": "FromImage", "diskSizeGB": 100, "deleteOption": "Delete",
                "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerName": "carto", "adminUsername": "carto",
            "customData": "I2Nsb3VkLWNvbmZpZwo=",
            "linuxConfiguration": {"disablePasswordAuthentication": true, "ssh": {"publicKeys": [
                {"path": "/home/carto/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAAC3 test"}]}}},
        "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"primary": true}}]}}})
}

pub fn record_body(ip: &str) -> Value {
    json!({"properties": {"TTL": 300, "metadata": {"carto-env": "t1"}, "ARecords": [{"ipv4Address": ip}]}})
}
