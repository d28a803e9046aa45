//! Route table tests against the shipped contracts: every served operation found, matching
//! rules, response schemas available for the self-check.

use super::*;
use serde_json::json;

fn shipped() -> Contracts {
    Contracts::load(&crate::FakeConfig::default_contracts_dir()).expect("contracts")
}

#[test]
fn every_served_operation_is_in_the_contracts() {
    let c = shipped();
    let routes = Routes::build(&c);
    for op in SERVED {
        assert!(routes.routes.iter().any(|r| r.op_id == *op), "{op} missing");
    }
}

#[test]
fn match_is_case_insensitive_and_prefers_literals() {
    let c = shipped();
    let routes = Routes::build(&c);
    let m = routes
        .find(
            "PUT",
            "/subscriptions/s/resourceGroups/g/providers/microsoft.network/dnszones/z.com/A/www",
        )
        .expect("record set route");
    assert_eq!(m.route.op_id, "RecordSets_CreateOrUpdate");
    assert_eq!(m.params.get("recordType").map(String::as_str), Some("A"));
    assert_eq!(m.route.api_version, "2018-05-01");
    let g = routes
        .find("GET", "/subscriptions/s/resourceGroups/g")
        .expect("group");
    assert_eq!(g.route.op_id, "ResourceGroups_Get");
    assert!(
        routes
            .find("POST", "/subscriptions/s/resourceGroups/g")
            .is_err()
    );
}

#[test]
fn response_schemas_are_used_for_the_self_check() {
    let c = shipped();
    let routes = Routes::build(&c);
    let m = routes
        .find(
            "GET",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/m",
        )
        .expect("vm get");
    let schema = m.route.response_schema(&c, 200).expect("200 schema");
    let ok = json!({"id": "/x", "name": "m", "location": "l",
        "properties": {"provisioningState": "Succeeded", "vmId": "abc"}});
    assert_eq!(validate::check(&c, schema, &ok, Mode::Response), Ok(()));
    let bad = json!({"location": "l", "properties": {"madeUp": 1}});
    assert!(validate::check(&c, schema, &bad, Mode::Response).is_err());
    assert!(m.route.response_schema(&c, 418).is_none());
}
