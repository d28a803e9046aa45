//! Firewall drift: a rule of the environment changed behind its back (SSH widened to the
//! whole Internet, another port added, the target tag dropped) is put back to exactly the
//! spec by the next `ensure_firewall`, keeping its id; a rule matching the spec is not written;
//! a rule in another network is refused, not moved.

use carto_core::Provider;
use serde_json::{Value, json};

use crate::common::{self, OPERATOR_CIDR};

fn ssh_rule(env: &common::Env) -> Value {
    let rules = env.rules();
    let found = rules.into_iter().find(|r| r["name"] == "carto-drift-ssh");
    found.expect("the ssh rule")
}

#[tokio::test]
async fn a_widened_ssh_rule_is_put_back_to_the_spec() {
    let env = common::start().await;
    let p = &env.provider;
    let s = common::spec("drift", "carto.example.com");
    let resolved = p.preflight(&s).await.expect("preflight");
    p.ensure_network(&s, &resolved).await.expect("network");
    let made = p.ensure_firewall(&s, &resolved).await.expect("firewall");
    let before = ssh_rule(&env);
    assert_eq!(before["sourceRanges"], json!([OPERATOR_CIDR]));

    p.ensure_firewall(&s, &resolved).await.expect("again");
    assert_eq!(
        env.calls("compute.firewalls.update"),
        0,
        "a rule matching the spec was written"
    );

    let edited = env
        .fake
        .state()
        .edit_resource("firewalls", "carto-drift-ssh", |r| {
            r["sourceRanges"] = json!(["0.0.0.0/0"]);
            r["allowed"] = json!([{"IPProtocol": "tcp", "ports": ["22", "3389"]}]);
            r["targetTags"] = json!([]);
        });
    assert!(edited);
    assert_eq!(ssh_rule(&env)["sourceRanges"], json!(["0.0.0.0/0"]));

    let again = p.ensure_firewall(&s, &resolved).await.expect("reconcile");
    assert_eq!(again, made, "same rules, same ids");
    assert_eq!(env.calls("compute.firewalls.update"), 1);
    let after = ssh_rule(&env);
    assert_eq!(after["sourceRanges"], json!([OPERATOR_CIDR]), "{after}");
    assert_eq!(
        after["allowed"],
        json!([{"IPProtocol": "tcp", "ports": ["22"]}]),
        "{after}"
    );
    assert_eq!(after["targetTags"], json!(["carto-drift"]), "{after}");
    for field in [
        "id",
        "network",
        "description",
        "direction",
        "priority",
        "selfLink",
    ] {
        assert_eq!(after[field], before[field], "{field}");
    }
    assert_eq!(env.rules().len(), 3);
    p.ensure_firewall(&s, &resolved).await.expect("in line");
    assert_eq!(env.calls("compute.firewalls.update"), 1, "written again");

    // A rule left in another network (an environment from before dedicated networks) cannot
    // be moved: the run stops and says what to do, changing nothing.
    let default = before["network"]
        .as_str()
        .unwrap()
        .replace("carto-drift-net", "default");
    env.fake
        .state()
        .edit_resource("firewalls", "carto-drift-ssh", |r| {
            r["network"] = json!(default);
        });
    let err = p.ensure_firewall(&s, &resolved).await.expect_err("moved");
    assert_eq!(err.kind, carto_core::ErrorKind::Conflict, "{err}");
    assert!(
        err.message
            .contains("is in network default, not carto-drift-net"),
        "{err}"
    );
    assert!(err.message.contains("destroy the environment"), "{err}");
    assert_eq!(env.calls("compute.firewalls.update"), 1);
}
