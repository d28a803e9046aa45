//! Requests Google refuses and the fake must refuse too, one test per gap found in review:
//! no or an unissued access token, path variables off their `pattern`, query values off their
//! type, a body sent to a method that takes none.

use crate::common::{Fake, ZONE, message, reason};
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
async fn path_variables_must_match_their_pattern() {
    let fake = Fake::default().await;
    let cases = [
        (Fake::compute("zones/US_Central1"), "zone", "US_Central1"),
        (
            Fake::compute("global/firewalls/Bad.Name"),
            "firewall",
            "Bad.Name",
        ),
        (
            "/compute/v1/projects/Not_A_Project/zones/us-central1-a".to_string(),
            "project",
            "Not_A_Project",
        ),
        (
            Fake::compute(&format!("zones/{ZONE}/instances/-vm")),
            "instance",
            "-vm",
        ),
    ];
    for (path, field, value) in cases {
        let (status, err) = fake.get(&path).await;
        assert_eq!((status, reason(&err)), (400, "invalid"), "{path}: {err}");
        assert_eq!(status_word(&err), "INVALID_ARGUMENT");
        let expected =
            format!("Invalid value for field '{field}': '{value}'. Must be a match of regex");
        assert!(message(&err).starts_with(&expected), "{path}: {err}");
    }
    assert!(fake.server.state().resources("instances").is_empty());
}

#[tokio::test]
async fn query_values_must_have_their_declared_type() {
    let fake = Fake::default().await;
    let list = Fake::compute(&format!("zones/{ZONE}/instances"));
    let (status, err) = fake.get(&format!("{list}?maxResults=many")).await;
    assert_eq!((status, reason(&err)), (400, "invalid"), "{err}");
    assert!(message(&err).contains("'maxResults'"), "{err}");
    assert_eq!(fake.get(&format!("{list}?maxResults=5")).await.0, 200);
}

#[tokio::test]
async fn a_body_sent_to_a_method_that_takes_none_is_refused() {
    let fake = Fake::default().await;
    let (status, err) = fake
        .post(
            &Fake::compute(&format!("zones/{ZONE}/operations/op-1/wait")),
            &json!({"timeout": "30s"}),
        )
        .await;
    assert_eq!((status, reason(&err)), (400, "invalid"), "{err}");
    assert!(
        message(&err).contains("compute.zoneOperations.wait takes no request body"),
        "{err}"
    );
    let (status, err) = fake
        .send(
            "DELETE",
            &Fake::compute("global/firewalls/fw-1"),
            Some(&json!({"name": "fw-1"})),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    // Without the body the same calls reach their handlers (404: nothing of that name).
    let (status, _) = fake.delete(&Fake::compute("global/firewalls/fw-1")).await;
    assert_eq!(status, 404);
}
