//! The contracts: Google's discovery documents for Compute v1 and Cloud DNS v1, loaded once per
//! directory, flattened into a method table, and used to map (HTTP method, path) to a method.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Which discovery document a method comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// compute.v1.json
    Compute,
    /// dns.v1.json
    Dns,
}

/// A path template segment.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Var(String),
}

/// One discovery method.
#[derive(Debug)]
pub struct Method {
    /// Method id, e.g. `compute.instances.insert`.
    pub id: String,
    /// HTTP verb, upper case.
    pub http_method: String,
    /// The document it belongs to.
    pub api: Api,
    /// Declared parameters (path and query).
    pub params: Map<String, Value>,
    /// Request body schema name, if the method takes one.
    pub request: Option<String>,
    /// Response schema name, if the method returns one.
    pub response: Option<String>,
    segments: Vec<Seg>,
}

/// Errors loading a contract.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The file could not be read.
    #[error("reading contract {path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("parsing contract {path}: {source}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: serde_json::Error,
    },
    /// `pattern`s the regex engine cannot compile: refused rather than left unchecked.
    #[error("contract {path} holds patterns the fake cannot compile: {patterns:?}")]
    Pattern {
        /// File path.
        path: PathBuf,
        /// The patterns.
        patterns: Vec<String>,
    },
}

/// Both documents: schemas, global parameters and methods.
#[derive(Debug)]
pub struct Contracts {
    compute_schemas: Map<String, Value>,
    dns_schemas: Map<String, Value>,
    compute_globals: Map<String, Value>,
    dns_globals: Map<String, Value>,
    methods: Vec<Method>,
}

/// A request mapped to its method, with the path variables it bound.
pub struct Matched<'a> {
    /// The discovery method.
    pub method: &'a Method,
    /// Path variable values, percent-decoded.
    pub path_params: HashMap<String, String>,
}

impl Contracts {
    /// Load (or reuse, per directory) `compute.v1.json` and `dns.v1.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Arc<Contracts>, ContractError> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Contracts>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(found) = cache.lock().ok().and_then(|c| c.get(dir).cloned()) {
            return Ok(found);
        }
        let compute = read_json(&dir.join("compute.v1.json"))?;
        let dns = read_json(&dir.join("dns.v1.json"))?;
        check_patterns(&dir.join("compute.v1.json"), &compute)?;
        check_patterns(&dir.join("dns.v1.json"), &dns)?;
        let mut methods = Vec::new();
        collect_methods(&compute, Api::Compute, &mut methods);
        collect_methods(&dns, Api::Dns, &mut methods);
        let obj = |doc: &Value, key: &str| doc.get(key).and_then(Value::as_object).cloned();
        let loaded = Arc::new(Contracts {
            compute_schemas: obj(&compute, "schemas").unwrap_or_default(),
            dns_schemas: obj(&dns, "schemas").unwrap_or_default(),
            compute_globals: obj(&compute, "parameters").unwrap_or_default(),
            dns_globals: obj(&dns, "parameters").unwrap_or_default(),
            methods,
        });
        if let Ok(mut c) = cache.lock() {
            c.insert(dir.to_path_buf(), loaded.clone());
        }
        Ok(loaded)
    }

    /// The schemas of one document.
    pub fn schemas(&self, api: Api) -> &Map<String, Value> {
        match api {
            Api::Compute => &self.compute_schemas,
            Api::Dns => &self.dns_schemas,
        }
    }

    /// The document-wide query parameters (`alt`, `fields`, `prettyPrint`, ...).
    pub fn global_params(&self, api: Api) -> &Map<String, Value> {
        match api {
            Api::Compute => &self.compute_globals,
            Api::Dns => &self.dns_globals,
        }
    }

    /// A method by id (used by tests and fault injection checks).
    pub fn method(&self, id: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.id == id)
    }

    /// Map a request to its method; the template with the most literal segments wins.
    /// `Err(true)` when the path exists under another HTTP method, `Err(false)` when not at all.
    pub fn route(&self, http_method: &str, path: &str) -> Result<Matched<'_>, bool> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(usize, Matched<'_>)> = None;
        let mut path_known = false;
        for m in &self.methods {
            let Some(bound) = bind(&m.segments, &parts) else {
                continue;
            };
            path_known = true;
            if m.http_method != http_method {
                continue;
            }
            let literals = m
                .segments
                .iter()
                .filter(|s| matches!(s, Seg::Lit(_)))
                .count();
            if best.as_ref().is_none_or(|(n, _)| literals > *n) {
                let matched = Matched {
                    method: m,
                    path_params: bound,
                };
                best = Some((literals, matched));
            }
        }
        best.map(|(_, m)| m).ok_or(path_known)
    }
}

fn bind(segments: &[Seg], parts: &[&str]) -> Option<HashMap<String, String>> {
    if segments.len() != parts.len() {
        return None;
    }
    let mut out = HashMap::new();
    for (seg, part) in segments.iter().zip(parts) {
        match seg {
            Seg::Lit(lit) if lit == part => {}
            Seg::Lit(_) => return None,
            Seg::Var(_) if part.is_empty() => return None,
            Seg::Var(name) => {
                out.insert(name.clone(), percent_decode(part));
            }
        }
    }
    Some(out)
}

fn read_json(path: &Path) -> Result<Value, ContractError> {
    let text = std::fs::read_to_string(path).map_err(|source| ContractError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ContractError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Refuse a document with a `pattern` that does not compile.
fn check_patterns(path: &Path, doc: &Value) -> Result<(), ContractError> {
    let mut bad = Vec::new();
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if let Some(p) = m.get("pattern").and_then(Value::as_str)
                    && crate::schema::compile(p).is_err()
                {
                    bad.push(p.to_string());
                }
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    Err(ContractError::Pattern {
        path: path.to_path_buf(),
        patterns: bad,
    })
}

fn collect_methods(doc: &Value, api: Api, out: &mut Vec<Method>) {
    let service_path = doc.get("servicePath").and_then(Value::as_str).unwrap_or("");
    let mut stack: Vec<&Value> = doc.get("resources").into_iter().collect();
    while let Some(resources) = stack.pop() {
        let Some(resources) = resources.as_object() else {
            continue;
        };
        for resource in resources.values() {
            stack.extend(resource.get("resources"));
            let methods = resource.get("methods").and_then(Value::as_object);
            for m in methods.into_iter().flat_map(|m| m.values()) {
                let text = |k: &str| m.get(k).and_then(Value::as_str).map(String::from);
                let schema_ref = |k: &str| m.pointer(&format!("/{k}/$ref")).and_then(Value::as_str);
                let (Some(id), Some(verb), Some(path)) =
                    (text("id"), text("httpMethod"), text("path"))
                else {
                    continue;
                };
                out.push(Method {
                    id,
                    http_method: verb,
                    api,
                    params: m
                        .get("parameters")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    request: schema_ref("request").map(String::from),
                    response: schema_ref("response").map(String::from),
                    segments: parse_template(&format!("{service_path}{path}")),
                });
            }
        }
    }
}

fn parse_template(path: &str) -> Vec<Seg> {
    path.trim_start_matches('/')
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Seg::Var(name.trim_start_matches('+').to_string()),
                None => Seg::Lit(s.to_string()),
            },
        )
        .collect()
}

/// Decode `%XX` escapes (and `+` as space when `plus` is set is left to the caller).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_bind_variables_and_prefer_literals() {
        let segs = parse_template("compute/v1/projects/{project}/global/images/{image}");
        let parts = [
            "compute", "v1", "projects", "p", "global", "images", "a%20b",
        ];
        let bound = bind(&segs, &parts).unwrap_or_default();
        assert_eq!(bound.get("image").map(String::as_str), Some("a b"));
        assert!(bind(&segs, &parts[..6]).is_none());
    }

    #[test]
    fn uncompilable_patterns_refuse_the_document() {
        let doc = serde_json::json!({"parameters": {"a": {"pattern": "[a-z"}, "b": {"pattern": "[a-z]"}}});
        let err = check_patterns(Path::new("x.json"), &doc).unwrap_err();
        assert!(matches!(err, ContractError::Pattern { patterns, .. } if patterns == ["[a-z"]));
        let shipped = crate::default_contracts_dir();
        if let Err(e) = Contracts::load(&shipped) {
            panic!("the shipped patterns compile: {e}");
        }
    }

    #[test]
    fn percent_decoding_leaves_broken_escapes_alone() {
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }
}
