//! The contract documents: every OpenAPI 2.0 file under `<contracts>/specification`, loaded at
//! start and kept by its path relative to the contracts root, and the `$ref` resolution between
//! them (relative file part + JSON pointer). A reference whose file or pointer is missing
//! resolves to `None`; callers treat that as a permissive schema. No validation happens here.

use std::collections::HashMap;
use std::path::{Component, Path};

use serde_json::Value;

/// Failure to read the contracts folder.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// A file or folder could not be read.
    #[error("reading contract {path}: {source}")]
    Read {
        /// The path read.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A contract file is not JSON.
    #[error("parsing contract {path}: {source}")]
    Parse {
        /// The path parsed.
        path: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// No contract file found at all.
    #[error("no contract files under {0}")]
    Empty(String),
}

/// A schema together with the file it lives in (so its own `$ref`s resolve) and, when it was
/// reached through a `$ref`, the definition name.
#[derive(Debug, Clone, Copy)]
pub struct SchemaAt<'a> {
    /// Path of the containing file, relative to the contracts root, `/`-separated.
    pub file: &'a str,
    /// The schema object.
    pub schema: &'a Value,
    /// Definition name (last pointer segment) or "" when not reached through a `$ref`.
    pub name: &'a str,
}

/// All contract documents, by relative path.
#[derive(Debug, Default)]
pub struct Contracts {
    docs: HashMap<String, Value>,
}

impl Contracts {
    /// Reads every `*.json` below `<root>/specification`, skipping `examples` folders.
    pub fn load(root: &Path) -> Result<Self, ContractError> {
        let mut docs = HashMap::new();
        read_dir(root, &root.join("specification"), &mut docs)?;
        if docs.is_empty() {
            return Err(ContractError::Empty(root.display().to_string()));
        }
        Ok(Self { docs })
    }

    /// Contracts from documents already in memory (unit tests).
    pub fn from_docs(docs: HashMap<String, Value>) -> Self {
        Self { docs }
    }

    /// Every document with its relative path.
    pub fn docs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.docs.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Resolves `reference` (`other.json#/definitions/X`, `#/parameters/Y`) seen in `file`.
    pub fn resolve<'a>(&'a self, file: &str, reference: &str) -> Option<SchemaAt<'a>> {
        let (file_part, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if file_part.is_empty() {
            file.to_string()
        } else {
            let dir = Path::new(file).parent().unwrap_or(Path::new(""));
            normalize(&dir.join(file_part))
        };
        let (key, doc) = self.docs.get_key_value(&target)?;
        let schema = if pointer.is_empty() {
            doc
        } else {
            doc.pointer(pointer)?
        };
        let name = pointer.rsplit('/').next().unwrap_or("");
        let name = doc
            .pointer(pointer.rsplit_once('/').map(|(p, _)| p).unwrap_or(""))
            .and_then(Value::as_object)
            .and_then(|m| m.get_key_value(name))
            .map(|(k, _)| k.as_str())
            .unwrap_or("");
        Some(SchemaAt {
            file: key,
            schema,
            name,
        })
    }
}

/// Joins `..` and `.` components away; result is `/`-separated.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

fn read_dir(
    root: &Path,
    dir: &Path,
    docs: &mut HashMap<String, Value>,
) -> Result<(), ContractError> {
    let read_err = |source| ContractError::Read {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "examples") {
                read_dir(root, &path, docs)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| ContractError::Read {
                path: shown.clone(),
                source,
            })?;
            let value = serde_json::from_str(&text).map_err(|source| ContractError::Parse {
                path: shown,
                source,
            })?;
            let rel = path.strip_prefix(root).unwrap_or(&path);
            docs.insert(normalize(rel), value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relative_refs_resolve_across_files() {
        let mut docs = HashMap::new();
        docs.insert(
            "spec/a/v1/a.json".to_string(),
            json!({"definitions": {"A": {"type": "string"}}}),
        );
        docs.insert(
            "spec/common/types.json".to_string(),
            json!({"definitions": {"T": {"type": "integer"}}}),
        );
        let c = Contracts::from_docs(docs);
        let t = c
            .resolve("spec/a/v1/a.json", "../../common/types.json#/definitions/T")
            .expect("resolves");
        assert_eq!(t.file, "spec/common/types.json");
        assert_eq!(t.name, "T");
        assert_eq!(t.schema["type"], "integer");
        let a = c
            .resolve("spec/a/v1/a.json", "#/definitions/A")
            .expect("local");
        assert_eq!(a.schema["type"], "string");
        assert!(c.resolve("spec/a/v1/a.json", "./missing.json#/x").is_none());
        assert!(
            c.resolve("spec/a/v1/a.json", "#/definitions/Nope")
                .is_none()
        );
    }

    #[test]
    fn shipped_contracts_load() {
        let dir = crate::FakeConfig::default_contracts_dir();
        let c = Contracts::load(&dir).expect("contracts load");
        assert!(c.docs().count() >= 10);
    }
}
