//! Unit tests of the schema walker on small inline schemas (two files, cross-file `$ref`).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;

fn contracts() -> Contracts {
    let mut docs = HashMap::new();
    docs.insert(
        "s/net/v1/net.json".to_string(),
        json!({"definitions": {
            "Vnet": {
                "allOf": [{"$ref": "../../common/types.json#/definitions/Resource"}],
                "properties": {
                    "properties": {"$ref": "#/definitions/VnetProps", "x-ms-client-flatten": true}
                },
                "required": ["location"]
            },
            "VnetProps": {
                "properties": {
                    "prefixes": {"type": "array", "items": {"type": "string"}},
                    "sku": {"type": "string", "enum": ["Basic", "Standard"]},
                    "size": {"type": "string", "enum": ["Small"],
                        "x-ms-enum": {"name": "VirtualMachineSizeTypes", "modelAsString": true}},
                    "count": {"type": "integer", "minimum": 1, "maximum": 10},
                    "label": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                    "state": {"$ref": "#/definitions/State"},
                    "remote": {"$ref": "./missing.json#/definitions/Gone"}
                }
            },
            "State": {"type": "string", "readOnly": true, "enum": ["Succeeded"]}
        }}),
    );
    docs.insert(
        "s/common/types.json".to_string(),
        json!({"definitions": {"Resource": {"properties": {
            "id": {"type": "string", "readOnly": true},
            "location": {"type": "string"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}}
        }}}}),
    );
    Contracts::from_docs(docs)
}

fn run(v: Value, mode: Mode) -> Result<(), Violation> {
    let c = contracts();
    let at = c
        .resolve("s/net/v1/net.json", "#/definitions/Vnet")
        .expect("test schema");
    check(&c, at, &v, mode)
}

#[test]
fn valid_body_passes() {
    let v = json!({"location": "westeurope", "tags": {"env": "a"},
        "properties": {"prefixes": ["10.0.0.0/16"], "sku": "Standard", "count": 3}});
    assert_eq!(run(v, Mode::Request), Ok(()));
}

#[test]
fn unknown_member_is_named_with_its_type() {
    let err = run(
        json!({"location": "x", "properties": {"bogus": 1}}),
        Mode::Request,
    )
    .expect_err("unknown member");
    assert_eq!(err.path, "properties.bogus");
    assert_eq!(err.kind, Kind::Unknown("VnetProps".into()));
    assert!(err.to_string().contains("Could not find member 'bogus'"));
    let err = run(json!({"location": "x", "extra": true}), Mode::Request).expect_err("top");
    assert_eq!(err.kind, Kind::Unknown("Vnet".into()));
}

#[test]
fn wrong_types_are_refused() {
    let err = run(json!({"location": 5}), Mode::Request).expect_err("type");
    assert_eq!(err.kind, Kind::Type("string".into(), "integer".into()));
    let err = run(
        json!({"location": "x", "properties": {"prefixes": ["a", 1]}}),
        Mode::Request,
    )
    .expect_err("item type");
    assert_eq!(err.path, "properties.prefixes[1]");
    let err = run(
        json!({"location": "x", "properties": {"count": 1.5}}),
        Mode::Request,
    )
    .expect_err("integer");
    assert_eq!(err.path, "properties.count");
    let err = run(json!({"location": "x", "tags": {"a": 1}}), Mode::Request).expect_err("tag");
    assert_eq!(err.path, "tags.a");
}

#[test]
fn enum_values_are_checked() {
    let err = run(
        json!({"location": "x", "properties": {"sku": "Gold"}}),
        Mode::Request,
    )
    .expect_err("enum");
    assert_eq!(
        err.kind,
        Kind::Enum("Gold".into(), vec!["Basic".into(), "Standard".into()])
    );
    assert_eq!(
        run(
            json!({"location": "x", "properties": {"sku": "basic"}}),
            Mode::Request
        ),
        Ok(())
    );
}

#[test]
fn open_enums_accept_values_outside_the_list() {
    let v = json!({"location": "x", "properties": {"size": "Huge"}});
    assert_eq!(run(v, Mode::Request), Ok(()));
}

#[test]
fn required_members_are_checked() {
    let err = run(json!({"tags": {}}), Mode::Request).expect_err("required");
    assert_eq!(err.kind, Kind::Required("location".into()));
}

#[test]
fn read_only_is_refused_in_requests_only() {
    let body = json!({"location": "x", "id": "/a", "properties": {"state": "Succeeded"}});
    let err = run(body.clone(), Mode::Request).expect_err("readOnly id");
    assert_eq!((err.path.as_str(), err.kind), ("id", Kind::ReadOnly));
    let err = run(
        json!({"location": "x", "properties": {"state": "Succeeded"}}),
        Mode::Request,
    )
    .expect_err("readOnly through $ref");
    assert_eq!(err.path, "properties.state");
    assert_eq!(run(body, Mode::Response), Ok(()));
}

#[test]
fn unresolved_refs_refuse_the_values_that_need_them() {
    let v = json!({"location": "x", "properties": {"remote": {"anything": [1, 2]}}});
    let err = run(v, Mode::Request).expect_err("unresolved $ref");
    assert_eq!(err.path, "properties.remote");
    assert!(
        matches!(err.kind, Kind::Unresolved(ref r) if r.contains("missing.json")),
        "{err}"
    );
    assert!(err.to_string().contains("cannot be checked"), "{err}");
    // Absent or null, nothing needs the missing schema.
    let v = json!({"location": "x", "properties": {"remote": null}});
    assert_eq!(run(v, Mode::Response), Ok(()));
}

#[test]
fn lengths_ranges_and_patterns_are_checked() {
    let with = |p: Value| run(json!({"location": "x", "properties": p}), Mode::Request);
    assert_eq!(with(json!({"count": 10, "label": "abc"})), Ok(()));
    for bad in [
        json!({"count": 0}),
        json!({"count": 11}),
        json!({"label": "toolong"}),
        json!({"label": "A1"}),
    ] {
        let err = with(bad.clone()).expect_err("constraint");
        assert!(matches!(err.kind, Kind::Constraint(_)), "{bad}: {err:?}");
    }
}
