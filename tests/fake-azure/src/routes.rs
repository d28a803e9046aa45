//! Request → contract operation: the route table built from the `paths` of every contract
//! file, restricted to the operations this fake serves, matched by HTTP method and path
//! template (literal segments case-insensitive, as ARM is). Also the checks that depend only
//! on the operation: `api-version` equal to the file's `info.version`, and path and query
//! parameters against their declared `type`/`enum`.

use std::collections::HashMap;

use serde_json::Value;

use crate::contracts::{Contracts, SchemaAt};
use crate::errors::ArmError;
use crate::validate::{self, Mode};

/// Operations served, by `operationId`.
pub const SERVED: &[&str] = &[
    "ResourceGroups_CreateOrUpdate",
    "ResourceGroups_Get",
    "ResourceGroups_Delete",
    "ResourceGroups_List",
    "Resources_ListByResourceGroup",
    "Resources_List",
    "VirtualNetworks_CreateOrUpdate",
    "VirtualNetworks_Get",
    "VirtualNetworks_Delete",
    "Subnets_CreateOrUpdate",
    "Subnets_Get",
    "Subnets_Delete",
    "NetworkSecurityGroups_CreateOrUpdate",
    "NetworkSecurityGroups_Get",
    "NetworkSecurityGroups_Delete",
    "SecurityRules_CreateOrUpdate",
    "SecurityRules_Get",
    "SecurityRules_Delete",
    "PublicIPAddresses_CreateOrUpdate",
    "PublicIPAddresses_Get",
    "PublicIPAddresses_Delete",
    "NetworkInterfaces_CreateOrUpdate",
    "NetworkInterfaces_Get",
    "NetworkInterfaces_Delete",
    "VirtualMachines_CreateOrUpdate",
    "VirtualMachines_Get",
    "VirtualMachines_Delete",
    "Zones_List",
    "Zones_CreateOrUpdate",
    "Zones_Get",
    "Zones_Delete",
    "RecordSets_CreateOrUpdate",
    "RecordSets_Get",
    "RecordSets_Delete",
    "RecordSets_ListByType",
];

#[derive(Debug)]
enum Seg {
    Lit(String),
    Param(String),
}

/// One served operation of one contract file.
#[derive(Debug)]
pub struct Route {
    /// `operationId` in the contract.
    pub op_id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Contract file (relative path) the operation lives in.
    pub file: String,
    /// `info.version` of that file: the only api-version accepted.
    pub api_version: String,
    /// The operation object.
    pub operation: Value,
    template: String,
    segs: Vec<Seg>,
}

/// A request matched to its route, with its path parameters.
#[derive(Debug)]
pub struct Matched<'r> {
    /// The operation.
    pub route: &'r Route,
    /// Path parameters by template name, percent-decoded.
    pub params: HashMap<String, String>,
}

/// All served routes.
#[derive(Debug, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

fn split(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// Decodes `%XX` escapes of one path segment.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Routes {
    /// Routes for every served operation found in the contracts.
    pub fn build(c: &Contracts) -> Self {
        let mut routes = Vec::new();
        for (file, doc) in c.docs() {
            let version = doc["info"]["version"].as_str().unwrap_or_default();
            let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
                continue;
            };
            for (template, ops) in paths {
                let Some(ops) = ops.as_object() else { continue };
                for (method, op) in ops {
                    let op_id = op["operationId"].as_str().unwrap_or_default();
                    if !SERVED.contains(&op_id) {
                        continue;
                    }
                    let segs = split(template)
                        .into_iter()
                        .map(
                            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                Some(p) => Seg::Param(p.to_string()),
                                None => Seg::Lit(s.to_ascii_lowercase()),
                            },
                        )
                        .collect();
                    routes.push(Route {
                        op_id: op_id.to_string(),
                        method: method.to_ascii_uppercase(),
                        file: file.to_string(),
                        api_version: version.to_string(),
                        operation: op.clone(),
                        template: template.clone(),
                        segs,
                    });
                }
            }
        }
        Self { routes }
    }

    /// Number of routes (one per served operation found).
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no route was built.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Served operations whose parameters do not all resolve (checked at start).
    pub fn unresolved(&self, c: &Contracts) -> Vec<String> {
        let broken = self.routes.iter().filter_map(|r| r.parameters(c).err());
        broken.map(|e| e.message).collect()
    }

    /// The route for `method` + `path`; the one with most literal segments wins.
    pub fn find(&self, method: &str, path: &str) -> Result<Matched<'_>, ArmError> {
        let parts = split(path);
        let mut best: Option<(usize, Matched<'_>)> = None;
        for r in self.routes.iter().filter(|r| r.method == method) {
            if r.segs.len() != parts.len() {
                continue;
            }
            let mut params = HashMap::new();
            let mut lits = 0;
            let ok = r.segs.iter().zip(&parts).all(|(seg, part)| match seg {
                Seg::Lit(l) => {
                    lits += 1;
                    l.eq_ignore_ascii_case(part)
                }
                Seg::Param(p) => {
                    params.insert(p.clone(), percent_decode(part));
                    true
                }
            });
            if ok && best.as_ref().is_none_or(|(n, _)| lits > *n) {
                best = Some((lits, Matched { route: r, params }));
            }
        }
        best.map(|(_, m)| m).ok_or_else(|| {
            ArmError::new(
                404,
                "InvalidResourceType",
                format!("The request '{method} {path}' matches no resource type or operation served here."),
            )
        })
    }
}

impl Route {
    /// The operation's parameters, `$ref`s resolved (each with the file it lives in). A
    /// parameter whose `$ref` does not resolve is an error, never silently left unchecked.
    pub fn parameters<'c>(&self, c: &'c Contracts) -> Result<Vec<SchemaAt<'c>>, ArmError> {
        let Some((file, op)) = self.op(c) else {
            return Err(contract_gap(&self.op_id, &self.file));
        };
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => c
                    .resolve(file, r)
                    .ok_or_else(|| contract_gap(&self.op_id, &format!("{file} {r}"))),
                None => Ok(SchemaAt {
                    file,
                    schema: p,
                    name: "",
                }),
            })
            .collect()
    }

    /// The operation object as stored in the contracts, with its file.
    fn op<'c>(&self, c: &'c Contracts) -> Option<(&'c str, &'c Value)> {
        let doc = c.resolve(&self.file, "")?;
        let op = doc.schema["paths"]
            .get(&self.template)?
            .get(self.method.to_ascii_lowercase())?;
        Some((doc.file, op))
    }

    /// Whether the contract marks the operation long-running.
    pub fn long_running(&self) -> bool {
        self.operation["x-ms-long-running-operation"] == true
    }

    /// Checks api-version, then path and query parameters.
    pub fn check_params(
        &self,
        c: &Contracts,
        path_params: &HashMap<String, String>,
        query: &HashMap<String, String>,
    ) -> Result<(), ArmError> {
        match query.get("api-version") {
            None => {
                return Err(ArmError::new(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ));
            }
            Some(v) if *v != self.api_version => {
                return Err(ArmError::new(
                    400,
                    "InvalidApiVersionParameter",
                    format!(
                        "The api-version '{v}' is invalid. The supported versions are '{}'.",
                        self.api_version
                    ),
                ));
            }
            Some(_) => {}
        }
        let params = self.parameters(c)?;
        only_declared(query, &self.op_id, |k| {
            params
                .iter()
                .any(|p| p.schema["in"] == "query" && p.schema["name"] == k)
        })?;
        for p in params {
            let name = p.schema["name"].as_str().unwrap_or_default();
            let value = match p.schema["in"].as_str() {
                Some("path") => path_params.get(name),
                Some("query") => query.get(name),
                _ => continue,
            };
            let Some(raw) = value else {
                if p.schema["required"] == true {
                    return Err(ArmError::new(
                        400,
                        "MissingRequiredParameter",
                        format!("The request is missing the required parameter '{name}'."),
                    ));
                }
                continue;
            };
            let typed = match p.schema["type"].as_str() {
                Some("integer" | "number" | "boolean") => {
                    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone()))
                }
                _ => Value::String(raw.clone()),
            };
            validate::check(c, p, &typed, Mode::Request).map_err(|v| {
                ArmError::new(
                    400,
                    "InvalidParameter",
                    format!(
                        "The value '{raw}' of parameter '{name}' is not valid: {}.",
                        hint(&v.kind)
                    ),
                )
            })?;
        }
        Ok(())
    }

    /// The body parameter's schema, if the operation takes a body.
    pub fn body_schema<'c>(&self, c: &'c Contracts) -> Option<(SchemaAt<'c>, bool)> {
        let params = self.parameters(c).ok()?;
        params.into_iter().find_map(|p| {
            (p.schema["in"] == "body").then(|| {
                let schema = SchemaAt {
                    schema: &p.schema["schema"],
                    name: "",
                    ..p
                };
                (schema, p.schema["required"] == true)
            })
        })
    }

    /// The schema of the response with `status`, if the contract declares one.
    pub fn response_schema<'c>(&self, c: &'c Contracts, status: u16) -> Option<SchemaAt<'c>> {
        let (file, op) = self.op(c)?;
        let schema = op["responses"][status.to_string()].get("schema")?;
        Some(SchemaAt {
            file,
            schema,
            name: "",
        })
    }

    /// Whether the contract lists `status` among the responses.
    pub fn declares(&self, status: u16) -> bool {
        self.operation["responses"]
            .get(status.to_string())
            .is_some()
    }
}

/// Refuses a query parameter other than `api-version` that `declared` does not accept:
/// 400 `InvalidQueryParameter` naming it and the operation.
pub fn only_declared(
    query: &HashMap<String, String>,
    op_id: &str,
    declared: impl Fn(&str) -> bool,
) -> Result<(), ArmError> {
    match query.keys().find(|k| *k != "api-version" && !declared(k)) {
        None => Ok(()),
        Some(k) => Err(ArmError::new(
            400,
            "InvalidQueryParameter",
            format!("The query parameter '{k}' is not supported by operation '{op_id}'."),
        )),
    }
}

/// A piece of an operation's contract that does not resolve: the fake cannot check the call.
fn contract_gap(op_id: &str, missing: &str) -> ArmError {
    ArmError::new(
        500,
        "InternalServerError",
        format!(
            "The contract of {op_id} does not resolve ({missing}); the fake refuses to serve it unchecked."
        ),
    )
}

fn hint(kind: &validate::Kind) -> String {
    match kind {
        validate::Kind::Enum(_, allowed) => format!("allowed values are {}", allowed.join(", ")),
        validate::Kind::Type(want, _) => format!("expected a value of type {want}"),
        _ => "it breaks the contract".to_string(),
    }
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
