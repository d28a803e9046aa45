//! Generic JSON validator over discovery-document schemas: walks `$ref`, `type`, `properties`,
//! `items`, `enum`, `additionalProperties`, JSON-schema `required` lists and discovery's
//! per-method `annotations.required`, and string `pattern`s (anchored: the whole value must
//! match, as Google checks them). Knows nothing about Compute or DNS.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Why a value does not fit its schema; `at` is the dotted location (`resource.disks[0].type`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A field the schema does not declare.
    #[error("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")]
    UnknownField {
        /// The unknown field's name.
        name: String,
        /// Location of the object holding it.
        at: String,
    },
    /// A value of the wrong JSON type.
    #[error("Invalid value at '{at}' ({expected}), {found}")]
    WrongType {
        /// Location of the value.
        at: String,
        /// Google's type word, e.g. `TYPE_STRING`.
        expected: String,
        /// The offending value as JSON text.
        found: String,
    },
    /// A string outside the schema's `enum`.
    #[error("Invalid value at '{at}' (TYPE_ENUM), {found}")]
    BadEnum {
        /// Location of the value.
        at: String,
        /// The offending value as JSON text.
        found: String,
    },
    /// A required property that is absent.
    #[error("Required field '{at}' not specified")]
    MissingRequired {
        /// Location of the missing property.
        at: String,
    },
    /// A string that does not match the declared `pattern` (Compute's wording).
    #[error("Invalid value for field '{at}': '{value}'. Must be a match of regex '{pattern}'")]
    Pattern {
        /// Location of the value (a parameter name or a body path).
        at: String,
        /// The offending value.
        value: String,
        /// The declared pattern.
        pattern: String,
    },
    /// A `pattern` the regex engine cannot compile (a contract problem; `Contracts::load`
    /// refuses such documents, so this only shows with hand-made schemas).
    #[error("pattern '{0}' in the contract does not compile")]
    BadPattern(String),
    /// A `$ref` naming no schema (a contract problem, not a request problem).
    #[error("schema '{0}' is not in the contract")]
    UnknownRef(String),
}

/// A validator bound to one document's `schemas` map and, optionally, the calling method id
/// (properties annotated `required` for that method must be present).
pub struct Validator<'a> {
    schemas: &'a Map<String, Value>,
    method_id: Option<&'a str>,
}

impl<'a> Validator<'a> {
    /// Validator over `schemas`, checking annotations for `method_id` when given.
    pub fn new(schemas: &'a Map<String, Value>, method_id: Option<&'a str>) -> Self {
        Self { schemas, method_id }
    }

    /// Validate `value` against the named schema, reporting locations under `root`.
    pub fn check_ref(&self, name: &str, value: &Value, root: &str) -> Result<(), SchemaError> {
        let schema = self
            .schemas
            .get(name)
            .ok_or_else(|| SchemaError::UnknownRef(name.to_string()))?;
        self.check(schema, value, root)
    }

    /// Validate `value` against an inline schema.
    pub fn check(&self, schema: &Value, value: &Value, at: &str) -> Result<(), SchemaError> {
        if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
            return self.check_ref(name, value, at);
        }
        if value.is_null() {
            return Ok(()); // Google reads an explicit null as "unset".
        }
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
        match ty {
            "object" => self.check_object(schema, value, at),
            "array" => {
                let items = value
                    .as_array()
                    .ok_or_else(|| wrong(at, "TYPE_MESSAGE (repeated)", value))?;
                match schema.get("items") {
                    Some(item_schema) => items
                        .iter()
                        .enumerate()
                        .try_for_each(|(i, v)| self.check(item_schema, v, &format!("{at}[{i}]"))),
                    None => Ok(()),
                }
            }
            "string" => check_string(schema, value, at),
            "integer" => check_integer(value, at),
            "number" => check_number(value, at),
            "boolean" => value
                .is_boolean()
                .then_some(())
                .ok_or_else(|| wrong(at, "TYPE_BOOL", value)),
            _ => Ok(()),
        }
    }

    fn check_object(&self, schema: &Value, value: &Value, at: &str) -> Result<(), SchemaError> {
        let obj = value
            .as_object()
            .ok_or_else(|| wrong(at, "TYPE_MESSAGE", value))?;
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        for (key, v) in obj {
            let child = join(at, key);
            match (props.and_then(|p| p.get(key)), extra) {
                (Some(prop), _) => self.check(prop, v, &child)?,
                (None, Some(extra)) => self.check(extra, v, &child)?,
                (None, None) if props.is_none() => {} // free-form object
                (None, None) => {
                    return Err(SchemaError::UnknownField {
                        name: key.clone(),
                        at: at.to_string(),
                    });
                }
            }
        }
        for name in self.required_names(schema, props) {
            if obj.get(&name).is_none_or(Value::is_null) {
                return Err(SchemaError::MissingRequired {
                    at: join(at, &name),
                });
            }
        }
        Ok(())
    }

    fn required_names(&self, schema: &Value, props: Option<&Map<String, Value>>) -> Vec<String> {
        let mut names: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        if let (Some(id), Some(props)) = (self.method_id, props) {
            for (name, prop) in props {
                let methods = prop
                    .pointer("/annotations/required")
                    .and_then(Value::as_array);
                if methods.is_some_and(|m| m.iter().any(|x| x.as_str() == Some(id))) {
                    names.push(name.clone());
                }
            }
        }
        names
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn wrong(at: &str, expected: &str, value: &Value) -> SchemaError {
    SchemaError::WrongType {
        at: at.to_string(),
        expected: expected.to_string(),
        found: value.to_string(),
    }
}

fn check_string(schema: &Value, value: &Value, at: &str) -> Result<(), SchemaError> {
    let format = schema.get("format").and_then(Value::as_str);
    // Google's JSON parser takes 64-bit integers as strings or numbers.
    if matches!(format, Some("int64" | "uint64")) && value.is_i64() | value.is_u64() {
        return Ok(());
    }
    let text = value
        .as_str()
        .ok_or_else(|| wrong(at, "TYPE_STRING", value))?;
    if matches!(format, Some("int64")) && text.parse::<i64>().is_err()
        || matches!(format, Some("uint64")) && text.parse::<u64>().is_err()
    {
        return Err(wrong(at, "TYPE_INT64", value));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.iter().any(|a| a.as_str() == Some(text))
    {
        return Err(SchemaError::BadEnum {
            at: at.to_string(),
            found: value.to_string(),
        });
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && !full_match(pattern, text)?
    {
        return Err(SchemaError::Pattern {
            at: at.to_string(),
            value: text.to_string(),
            pattern: pattern.to_string(),
        });
    }
    Ok(())
}

/// Compile `pattern` anchored at both ends (`^(?:…)$`), as the whole value must match.
pub fn compile(pattern: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::Regex::new(&format!("^(?:{pattern})$"))
}

/// Whether all of `text` matches `pattern`; compiled patterns are kept for the process.
fn full_match(pattern: &str, text: &str) -> Result<bool, SchemaError> {
    static CACHE: OnceLock<Mutex<HashMap<String, regex_lite::Regex>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !cache.contains_key(pattern) {
        let re = compile(pattern).map_err(|_| SchemaError::BadPattern(pattern.to_string()))?;
        cache.insert(pattern.to_string(), re);
    }
    Ok(cache.get(pattern).is_some_and(|re| re.is_match(text)))
}

fn check_integer(value: &Value, at: &str) -> Result<(), SchemaError> {
    let ok = value.is_i64()
        || value.is_u64()
        || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
    ok.then_some(())
        .ok_or_else(|| wrong(at, "TYPE_INT32", value))
}

fn check_number(value: &Value, at: &str) -> Result<(), SchemaError> {
    let ok = value.is_number() || value.as_str().is_some_and(|s| s.parse::<f64>().is_ok());
    ok.then_some(())
        .ok_or_else(|| wrong(at, "TYPE_DOUBLE", value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> Map<String, Value> {
        let doc = json!({
            "Thing": {"type": "object", "properties": {
                "name": {"type": "string", "annotations": {"required": ["x.things.insert"]}},
                "size": {"type": "integer", "format": "int32"},
                "id": {"type": "string", "format": "uint64"},
                "on": {"type": "boolean"},
                "kind": {"type": "string", "enum": ["A", "B"]},
                "zone": {"type": "string", "pattern": "[a-z]+-[a-z]|[0-9]+"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "parts": {"type": "array", "items": {"$ref": "Part"}},
                "free": {"type": "object"}
            }},
            "Part": {"type": "object", "required": ["pos"], "properties": {
                "pos": {"type": "number"}
            }}
        });
        doc.as_object().cloned().unwrap_or_default()
    }

    fn check(method: Option<&str>, value: Value) -> Result<(), SchemaError> {
        let s = schemas();
        Validator::new(&s, method).check_ref("Thing", &value, "resource")
    }

    #[test]
    fn accepts_a_well_formed_value() {
        let v = json!({"name": "a", "size": 3, "id": "12", "on": true, "kind": "B",
            "labels": {"k": "v"}, "parts": [{"pos": 1.5}], "free": {"any": [1]}});
        assert_eq!(check(Some("x.things.insert"), v), Ok(()));
    }

    #[test]
    fn rejects_unknown_fields_at_their_location() {
        let err = check(None, json!({"parts": [{"pos": 1, "bogus": 2}]})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid JSON payload received. Unknown name \"bogus\" at 'resource.parts[0]': Cannot find field."
        );
        assert!(
            matches!(check(None, json!({"nme": "a"})), Err(SchemaError::UnknownField { name, .. }) if name == "nme")
        );
    }

    #[test]
    fn rejects_wrong_types_and_bad_enums() {
        assert!(
            matches!(check(None, json!({"name": 5})), Err(SchemaError::WrongType { at, .. }) if at == "resource.name")
        );
        assert!(matches!(
            check(None, json!({"size": "big"})),
            Err(SchemaError::WrongType { .. })
        ));
        assert!(matches!(
            check(None, json!({"on": "yes"})),
            Err(SchemaError::WrongType { .. })
        ));
        assert!(
            matches!(check(None, json!({"labels": {"k": 1}})), Err(SchemaError::WrongType { at, .. }) if at == "resource.labels.k")
        );
        assert!(matches!(
            check(None, json!({"parts": {}})),
            Err(SchemaError::WrongType { .. })
        ));
        assert!(matches!(
            check(None, json!({"id": "-1"})),
            Err(SchemaError::WrongType { .. })
        ));
        assert!(
            matches!(check(None, json!({"kind": "C"})), Err(SchemaError::BadEnum { found, .. }) if found == "\"C\"")
        );
    }

    #[test]
    fn patterns_must_match_the_whole_value() {
        assert_eq!(check(None, json!({"zone": "us-a"})), Ok(()));
        assert_eq!(check(None, json!({"zone": "42"})), Ok(()));
        assert!(
            matches!(check(None, json!({"zone": "us-a9"})), Err(SchemaError::Pattern { at, .. }) if at == "resource.zone")
        );
        assert!(matches!(
            check(None, json!({"zone": "x42"})),
            Err(SchemaError::Pattern { .. })
        ));
    }

    #[test]
    fn google_leniency_is_kept() {
        // Numeric strings for integers, numbers for 64-bit strings, nulls as unset.
        assert_eq!(
            check(None, json!({"size": "7", "id": 9, "name": null})),
            Ok(())
        );
    }

    #[test]
    fn required_comes_from_lists_and_method_annotations() {
        assert_eq!(check(None, json!({})), Ok(()));
        assert!(
            matches!(check(Some("x.things.insert"), json!({})), Err(SchemaError::MissingRequired { at }) if at == "resource.name")
        );
        assert!(
            matches!(check(None, json!({"parts": [{}]})), Err(SchemaError::MissingRequired { at }) if at == "resource.parts[0].pos")
        );
    }

    #[test]
    fn unknown_refs_are_contract_errors() {
        let s = schemas();
        let err = Validator::new(&s, None).check_ref("Nope", &json!({}), "r");
        assert_eq!(err, Err(SchemaError::UnknownRef("Nope".into())));
    }
}
