//! Requests Google refuses and the fake must refuse too, one test or table row per gap found in
//! review: no or an unissued access token, path variables off their `pattern`, query values off
//! their type, a body sent to a method that takes none.

use crate::common::Says::{Any, Has, Starts};
use crate::common::{Case, Fake, ZONE, check, get, message, post, reason, send};
use serde_json::{Value, json};

fn zone() -> String {
    Fake::compute(&format!("zones/{ZONE}"))
}

fn status_word(body: &Value) -> &str {
    body["error"]["status"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_call_without_an_access_token_is_unauthenticated() {
    let fake = Fake::default().await;
    let (status, err) = fake.send_as("GET", &zone(), None, None).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(
        (status_word(&err), reason(&err)),
        ("UNAUTHENTICATED", "required")
    );
    assert!(
        message(&err).contains("missing required authentication credential"),
        "{err}"
    );
    let (status, _) = fake
        .send_as("GET", &Fake::dns("managedZones"), None, None)
        .await;
    assert_eq!(status, 401, "Cloud DNS is guarded too");
    let log = fake.server.state().requests();
    assert!(log.iter().all(|r| !r.authorized && r.status == 401));
}

#[tokio::test]
async fn a_token_the_token_endpoint_did_not_issue_is_refused() {
    let fake = Fake::default().await;
    for header in [
        "Bearer fake-gcp-access-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
    ] {
        let (status, err) = fake.send_as("GET", &zone(), None, Some(header)).await;
        assert_eq!(status, 401, "{header}: {err}");
        assert_eq!(
            (status_word(&err), reason(&err)),
            ("UNAUTHENTICATED", "authError")
        );
    }
    let bad = format!("{}?access_token=made-up", zone());
    assert_eq!(fake.send_as("GET", &bad, None, None).await.0, 401);
    // A token from the token endpoint works, in the header or as `access_token`.
    let grant =
        r#"{"grant_type":"refresh_token","client_id":"c","client_secret":"s","refresh_token":"r"}"#;
    let (status, token) = fake
        .send_as("POST", carto_fake_gcp::TOKEN_PATH, Some(grant), None)
        .await;
    assert_eq!(status, 200, "{token}");
    let token = token["access_token"].as_str().expect("access_token");
    assert_ne!(token, fake.token, "every grant gets its own token");
    let header = format!("Bearer {token}");
    assert_eq!(
        fake.send_as("GET", &zone(), None, Some(&header)).await.0,
        200
    );
    let query = format!("{}?access_token={token}", zone());
    assert_eq!(fake.send_as("GET", &query, None, None).await.0, 200);
    // The grant's secrets are not logged.
    let log = fake.server.state().requests();
    let grants = log
        .iter()
        .filter(|r| r.method_id.as_deref() == Some("oauth2.token"));
    assert!(grants.clone().count() == 1 && grants.into_iter().all(|r| r.body.is_none()));
    let (status, _) = fake
        .send_as("POST", carto_fake_gcp::TOKEN_PATH, Some("{}"), None)
        .await;
    assert_eq!(status, 400, "a grant without grant_type");
}

#[tokio::test]
async fn path_variables_query_values_and_bodies_must_fit_the_method() {
    let fake = Fake::default().await;
    let list = Fake::compute(&format!("zones/{ZONE}/instances"));
    let fw = Fake::compute("global/firewalls/fw-1");
    let wait = Fake::compute(&format!("zones/{ZONE}/operations/op-1/wait"));
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("a zone off its pattern", get(Fake::compute("zones/US_Central1")), 400, "invalid",
            Starts("Invalid value for field 'zone': 'US_Central1'. Must be a match of regex")),
        ("a firewall off its pattern", get(Fake::compute("global/firewalls/Bad.Name")), 400,
            "invalid",
            Starts("Invalid value for field 'firewall': 'Bad.Name'. Must be a match of regex")),
        ("a project off its pattern", get("/compute/v1/projects/Not_A_Project/zones/us-central1-a"),
            400, "invalid",
            Starts("Invalid value for field 'project': 'Not_A_Project'. Must be a match of regex")),
        ("an instance off its pattern", get(format!("{list}/-vm")), 400, "invalid",
            Starts("Invalid value for field 'instance': '-vm'. Must be a match of regex")),
        ("an integer query value that is not one", get(format!("{list}?maxResults=many")), 400,
            "invalid", Has(&["'maxResults'"])),
        ("an integer query value", get(format!("{list}?maxResults=5")), 200, "", Any),
        ("a body for a method that takes none", post(&wait, json!({"timeout": "30s"})), 400,
            "invalid", Has(&["compute.zoneOperations.wait takes no request body"])),
        ("a body for a delete", send("DELETE", &fw, Some(json!({"name": "fw-1"}))), 400, "invalid",
            Has(&["compute.firewalls.delete takes no request body"])),
        // Without the body the same call reaches its handler (404: nothing of that name).
        ("the delete without its body", send("DELETE", &fw, None), 404, "notFound", Any),
    ];
    check(&fake, cases).await;
    assert!(fake.server.state().resources("instances").is_empty());
}
