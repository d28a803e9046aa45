//! The contracts' `pattern`s are ECMA-262 regular expressions; this translates the parts that
//! differ from Rust's regex syntax (`\/`, `\d`, `\D`, named groups `(?<n>`) and compiles them,
//! once per pattern. A pattern that still does not compile (look-around, back-references) is
//! never skipped: the fake refuses to start on such a contract, and a hand-made schema holding
//! one refuses the value it would check.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::contracts::Contracts;

/// `pattern` in Rust regex syntax.
pub fn translate(ecma: &str) -> String {
    let mut out = String::with_capacity(ecma.len());
    let mut chars = ecma.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().copied()) {
            ('\\', Some('/')) => {
                chars.next();
                out.push('/');
            }
            ('\\', Some('d')) => {
                chars.next();
                out.push_str("[0-9]");
            }
            ('\\', Some('D')) => {
                chars.next();
                out.push_str("[^0-9]");
            }
            ('\\', Some(next)) => {
                chars.next();
                out.push('\\');
                out.push(next);
            }
            ('(', Some('?')) if ecma_named_group(&mut chars.clone()) => {
                chars.next();
                out.push_str("(?P");
            }
            _ => out.push(c),
        }
    }
    out
}

/// After `(`: `?<name>` (a named group), not `?<=`/`?<!` (look-behind).
fn ecma_named_group(rest: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    rest.next();
    rest.next() == Some('<') && !matches!(rest.next(), Some('=' | '!'))
}

/// Whether `text` matches the ECMA `pattern` (unanchored, as ECMA `test` is);
/// `Err` when the pattern cannot be compiled.
pub fn is_match(pattern: &str, text: &str) -> Result<bool, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, regex_lite::Regex>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !cache.contains_key(pattern) {
        let re = regex_lite::Regex::new(&translate(pattern)).map_err(|e| e.to_string())?;
        cache.insert(pattern.to_string(), re);
    }
    Ok(cache.get(pattern).is_some_and(|re| re.is_match(text)))
}

/// Every `pattern` in the contracts that cannot be compiled, with its file.
pub fn uncompilable(c: &Contracts) -> Vec<String> {
    let mut bad = Vec::new();
    for (file, doc) in c.docs() {
        let mut stack = vec![doc];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    if let Some(p) = m.get("pattern").and_then(Value::as_str)
                        && is_match(p, "").is_err()
                    {
                        bad.push(format!("{file}: {p}"));
                    }
                    stack.extend(m.values());
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
    }
    bad.sort();
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecma_escapes_and_named_groups_translate() {
        assert_eq!(translate(r"^a\/b\d+\D$"), "^a/b[0-9]+[^0-9]$");
        assert_eq!(translate(r"(?<x>a)\.(?:b)"), r"(?P<x>a)\.(?:b)");
        assert_eq!(is_match(r"^\d{2}\/x$", "42/x"), Ok(true));
        assert_eq!(is_match(r"^[-\w\._\(\)]+$", "my-group_(1)"), Ok(true));
        assert_eq!(is_match(r"^[-\w\._\(\)]+$", "bad group"), Ok(false));
    }

    #[test]
    fn look_around_cannot_compile_and_says_so() {
        assert!(is_match(r"^(?!default$).*$", "x").is_err());
        assert!(is_match(r"(?<=a)b", "ab").is_err());
        let shipped = Contracts::load(&crate::FakeConfig::default_contracts_dir());
        let shipped = shipped.expect("contracts load");
        assert_eq!(uncompilable(&shipped), Vec::<String>::new());
    }
}
