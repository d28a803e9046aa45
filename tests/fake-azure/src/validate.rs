//! Generic OpenAPI 2.0 schema walker: checks a JSON value against a schema from the contracts
//! (`$ref` across files, `allOf`, `type`, `properties`, `required`, `items`, `enum`,
//! `additionalProperties`, `readOnly`). It knows nothing about Azure resources; the same walk
//! checks request bodies (readOnly rejected) and the fake's own responses (readOnly allowed).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::contracts::{Contracts, SchemaAt};

/// Which side of the wire a value is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Sent by the client: `readOnly` properties are refused.
    Request,
    /// Sent by the server: `readOnly` properties are expected.
    Response,
}

/// What is wrong with a value, and where (`properties.subnets[0].name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Dotted path of the offending value ("" for the root).
    pub path: String,
    /// The kind of problem.
    pub kind: Kind,
}

/// Kinds of contract violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A member the schema does not declare (type name of the object).
    Unknown(String),
    /// Wrong JSON type (expected schema type, found JSON type).
    Type(String, String),
    /// Value outside the enum (value, allowed values).
    Enum(String, Vec<String>),
    /// A required member is missing (its name).
    Required(String),
    /// A readOnly member was sent as input.
    ReadOnly,
    /// A length, range or pattern constraint is broken (the constraint, as text).
    Constraint(String),
    /// The value's schema is a `$ref` the contracts do not resolve (the reference): it cannot
    /// be checked, so it is refused rather than let through.
    Unresolved(String),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.path;
        match &self.kind {
            Kind::Unknown(t) => {
                let member = p.rsplit('.').next().unwrap_or(p);
                write!(
                    f,
                    "The request content was invalid and could not be deserialized: \
                     'Could not find member '{member}' on object of type '{t}'. Path '{p}'.'."
                )
            }
            Kind::Type(want, got) => write!(
                f,
                "The request content was invalid and could not be deserialized: \
                 'Error converting value of JSON type '{got}' to type '{want}'. Path '{p}'.'."
            ),
            Kind::Enum(v, allowed) => write!(
                f,
                "The value '{v}' of property '{p}' is not valid. Allowed values are: {}.",
                allowed.join(", ")
            ),
            Kind::Required(name) => write!(
                f,
                "The request content was invalid and could not be deserialized: \
                 'Required property '{name}' not found in JSON. Path '{p}'.'."
            ),
            Kind::Constraint(rule) => write!(
                f,
                "The value of property '{p}' is not valid: it must satisfy {rule}."
            ),
            Kind::Unresolved(r) => write!(
                f,
                "The value of property '{p}' cannot be checked: its schema '{r}' is missing \
                 from the contracts."
            ),
            Kind::ReadOnly => write!(
                f,
                "Property '{p}' is read-only and cannot be set in a request."
            ),
        }
    }
}

const MAX_DEPTH: usize = 64;

/// Enums (by `x-ms-enum.name`) the contract itself calls deprecated and incomplete: any
/// string passes (VM sizes newer than the list exist; the fake checks them elsewhere).
pub const OPEN_ENUMS: &[&str] = &["VirtualMachineSizeTypes"];

/// Checks `value` against `at`.
pub fn check(c: &Contracts, at: SchemaAt<'_>, value: &Value, mode: Mode) -> Result<(), Violation> {
    Walker { c, mode }.value(at, value, "", 0)
}

struct Walker<'c> {
    c: &'c Contracts,
    mode: Mode,
}

/// The object shape gathered from `properties`, `required`, `allOf` and `additionalProperties`.
#[derive(Default)]
struct Shape<'a> {
    name: &'a str,
    props: BTreeMap<&'a str, SchemaAt<'a>>,
    required: Vec<&'a str>,
    extra: Option<Extra<'a>>,
    /// A part of the shape (an `allOf` parent) whose `$ref` does not resolve.
    unresolved: Option<String>,
}

enum Extra<'a> {
    Allowed,
    Denied,
    Schema(SchemaAt<'a>),
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The first of `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`, `minItems`,
/// `maxItems` that `v` breaks. A pattern that cannot be compiled counts as broken.
fn broken_constraint(s: &Value, v: &Value) -> Option<String> {
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let len = match v {
        Value::String(t) => Some(t.chars().count() as f64),
        _ => None,
    };
    let items = v.as_array().map(|a| a.len() as f64);
    let checks = [
        ("minLength", len, true),
        ("maxLength", len, false),
        ("minItems", items, true),
        ("maxItems", items, false),
        ("minimum", v.as_f64(), true),
        ("maximum", v.as_f64(), false),
    ];
    for (key, have, is_min) in checks {
        if let (Some(limit), Some(have)) = (num(key), have)
            && (is_min && have < limit || !is_min && have > limit)
        {
            return Some(format!("{key} {limit}"));
        }
    }
    let pattern = s.get("pattern").and_then(Value::as_str);
    if let (Some(p), Some(t)) = (pattern, v.as_str()) {
        match crate::patterns::is_match(p, t) {
            Ok(true) => {}
            Ok(false) => return Some(format!("pattern {p}")),
            Err(_) => return Some(format!("pattern {p} (which the fake cannot compile)")),
        }
    }
    None
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'c> Walker<'c> {
    /// Follows `$ref` chains; `Err(reference)` when a target is missing (or the chain never
    /// ends), which callers turn into a violation for any value that would need it.
    fn deref(&self, mut at: SchemaAt<'c>, depth: usize) -> Result<SchemaAt<'c>, String> {
        let mut last = String::new();
        for _ in depth..MAX_DEPTH {
            match at.schema.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    last = format!("{}{r}", if r.starts_with('#') { at.file } else { "" });
                    at = self.c.resolve(at.file, r).ok_or_else(|| last.clone())?;
                }
                None => return Ok(at),
            }
        }
        Err(last)
    }

    fn is_read_only(&self, at: SchemaAt<'c>) -> bool {
        let flag = |s: &Value| s.get("readOnly").and_then(Value::as_bool) == Some(true);
        flag(at.schema) || self.deref(at, 0).is_ok_and(|d| flag(d.schema))
    }

    fn value(
        &self,
        at: SchemaAt<'c>,
        v: &Value,
        path: &str,
        depth: usize,
    ) -> Result<(), Violation> {
        let at = match self.deref(at, depth) {
            Ok(at) => at,
            Err(_) if v.is_null() => return Ok(()),
            Err(r) => {
                let kind = Kind::Unresolved(r);
                let path = path.to_string();
                return Err(Violation { path, kind });
            }
        };
        if v.is_null() || depth >= MAX_DEPTH {
            return Ok(());
        }
        let s = at.schema;
        let fail = |kind| {
            Err(Violation {
                path: path.to_string(),
                kind,
            })
        };
        let open = s["x-ms-enum"]["name"]
            .as_str()
            .is_some_and(|n| OPEN_ENUMS.contains(&n));
        if let Some(allowed) = s.get("enum").and_then(Value::as_array).filter(|_| !open) {
            let ok = allowed.iter().any(|a| match (a, v) {
                (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                (a, b) => a == b,
            });
            if !ok {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                let list = allowed
                    .iter()
                    .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
                    .collect();
                return fail(Kind::Enum(shown, list));
            }
        }
        let objectish = s.get("properties").is_some()
            || s.get("allOf").is_some()
            || s.get("additionalProperties").is_some();
        let ty = s
            .get("type")
            .and_then(Value::as_str)
            .or(objectish.then_some("object"));
        let found = json_type(v);
        let type_ok = match ty {
            None => true,
            Some("integer") => found == "integer",
            Some("number") => matches!(found, "integer" | "number"),
            Some(t) => t == found,
        };
        if !type_ok {
            return fail(Kind::Type(ty.unwrap_or("").to_string(), found.to_string()));
        }
        if let Some(rule) = broken_constraint(s, v) {
            return fail(Kind::Constraint(rule));
        }
        match v {
            Value::Array(items) => match s.get("items") {
                Some(item) => {
                    let item = SchemaAt {
                        schema: item,
                        name: "",
                        ..at
                    };
                    for (i, x) in items.iter().enumerate() {
                        self.value(item, x, &format!("{path}[{i}]"), depth + 1)?;
                    }
                    Ok(())
                }
                None => Ok(()),
            },
            Value::Object(map) if ty == Some("object") => self.object(at, map, path, depth),
            _ => Ok(()),
        }
    }

    fn object(
        &self,
        at: SchemaAt<'c>,
        map: &serde_json::Map<String, Value>,
        path: &str,
        depth: usize,
    ) -> Result<(), Violation> {
        let mut shape = Shape {
            name: at.name,
            ..Shape::default()
        };
        self.collect(at, &mut shape, depth);
        for name in &shape.required {
            if map.get(*name).is_none_or(Value::is_null) {
                let kind = Kind::Required((*name).to_string());
                return Err(Violation {
                    path: path.to_string(),
                    kind,
                });
            }
        }
        for (k, v) in map {
            let here = join(path, k);
            if let Some(prop) = shape.props.get(k.as_str()) {
                if self.mode == Mode::Request && self.is_read_only(*prop) {
                    return Err(Violation {
                        path: here,
                        kind: Kind::ReadOnly,
                    });
                }
                self.value(*prop, v, &here, depth + 1)?;
                continue;
            }
            if let Some(r) = &shape.unresolved {
                let kind = Kind::Unresolved(r.clone());
                return Err(Violation { path: here, kind });
            }
            match &shape.extra {
                Some(Extra::Schema(x)) => self.value(*x, v, &here, depth + 1)?,
                Some(Extra::Allowed) => {}
                None if shape.props.is_empty() => {}
                Some(Extra::Denied) | None => {
                    let kind = Kind::Unknown(shape.name.to_string());
                    return Err(Violation { path: here, kind });
                }
            }
        }
        Ok(())
    }

    /// Gathers properties from the schema and its `allOf` parents.
    fn collect(&self, at: SchemaAt<'c>, shape: &mut Shape<'c>, depth: usize) {
        let at = match self.deref(at, depth) {
            Ok(at) => at,
            Err(r) => {
                shape.unresolved = Some(r);
                return;
            }
        };
        if depth >= MAX_DEPTH {
            return;
        }
        let s = at.schema;
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, p) in props {
                let p = SchemaAt {
                    schema: p,
                    name: "",
                    ..at
                };
                shape.props.entry(k.as_str()).or_insert(p);
            }
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            shape.required.extend(req.iter().filter_map(Value::as_str));
        }
        match s.get("additionalProperties") {
            Some(Value::Bool(true)) => shape.extra = Some(Extra::Allowed),
            Some(Value::Bool(false)) if shape.extra.is_none() => shape.extra = Some(Extra::Denied),
            Some(x @ Value::Object(_)) => {
                shape.extra = Some(Extra::Schema(SchemaAt {
                    schema: x,
                    name: "",
                    ..at
                }))
            }
            _ => {}
        }
        if let Some(parents) = s.get("allOf").and_then(Value::as_array) {
            for p in parents {
                self.collect(
                    SchemaAt {
                        schema: p,
                        name: "",
                        ..at
                    },
                    shape,
                    depth + 1,
                );
            }
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
