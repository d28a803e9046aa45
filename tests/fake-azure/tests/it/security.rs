//! Credentials, throttling and the SKU catalogue: 401 without a valid bearer token, the token
//! endpoint's answer, injected 429 + Retry-After for chosen operations, and VM sizes with
//! their capabilities.

use crate::client::*;

#[tokio::test]
async fn arm_calls_need_an_issued_bearer_token() {
    let arm = Arm::start().await;
    let url = format!("{}{}?api-version={RES}", arm.fake.url(), rg("x"));
    let none = arm.http.get(&url).send().await.expect("call");
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = none.json().await.expect("json");
    assert_eq!(body["error"]["code"], "AuthenticationFailed");
    let forged = arm
        .http
        .get(&url)
        .bearer_auth("made-up")
        .send()
        .await
        .expect("call");
    assert_eq!(forged.status(), 401);
    assert_eq!(
        arm.call("GET", &rg("x"), RES, None).await.code(),
        "ResourceGroupNotFound"
    );
    let bad_form = arm
        .http
        .post(format!("{}/t/oauth2/v2.0/token", arm.fake.url()))
        .form(&[("grant_type", "client_credentials"), ("scope", "s")])
        .send()
        .await
        .expect("call");
    assert_eq!(bad_form.status(), 400);
    let logged = arm.fake.state().requests();
    assert!(logged.iter().all(|r| {
        r.body
            .as_ref()
            .is_none_or(|b| !b.to_string().contains("not-a-real-secret"))
    }));
}

#[tokio::test]
async fn the_latency_knob_delays_every_answer_over_http() {
    let arm = Arm::start().await;
    let delay = std::time::Duration::from_millis(300);
    arm.fake.state().set_latency(delay);
    let started = std::time::Instant::now();
    assert_eq!(arm.call("GET", &rg("slow"), RES, None).await.status, 404);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    arm.fake.state().set_latency(std::time::Duration::ZERO);
    assert_eq!(arm.fake.state().latency(), std::time::Duration::ZERO);
}

#[tokio::test]
async fn injected_throttling_answers_429_then_recovers() {
    let arm = Arm::start().await;
    arm.fake
        .state()
        .throttle("ResourceGroups_CreateOrUpdate", 2);
    for _ in 0..2 {
        let a = arm.call("PUT", &rg("t"), RES, Some(group_body())).await;
        assert_eq!((a.status, a.code()), (429, "TooManyRequests"));
        assert_eq!(a.header("retry-after").as_deref(), Some("1"));
    }
    assert!(
        arm.fake.state().resource(&rg("t")).is_none(),
        "throttled calls change nothing"
    );
    assert_eq!(
        arm.call("GET", &rg("t"), RES, None).await.status,
        404,
        "other operations unaffected"
    );
    assert_eq!(
        arm.call("PUT", &rg("t"), RES, Some(group_body()))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn sku_catalogue_lists_vm_sizes_with_capabilities() {
    let arm = Arm::start().await;
    let url = format!(
        "{}/subscriptions/{SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=location%20eq%20%27northeurope%27",
        arm.fake.url()
    );
    let a = arm.send("GET", &url, None, &[]).await;
    assert_eq!(a.status, 200);
    let skus = a.body["value"].as_array().expect("value").clone();
    let find = |n: &str| {
        skus.iter()
            .find(|s| s["name"] == n)
            .cloned()
            .expect("sku listed")
    };
    let cap = |s: &serde_json::Value, c: &str| {
        s["capabilities"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == c)
            .map(|x| x["value"].clone())
            .expect("capability")
    };
    let b2s = find("Standard_B2s");
    assert_eq!(
        (cap(&b2s, "vCPUs"), cap(&b2s, "MemoryGB")),
        ("2".into(), "4".into())
    );
    assert_eq!(b2s["locations"][0], "northeurope");
    assert_eq!(
        cap(&find("Standard_D4ps_v5"), "CpuArchitectureType"),
        "Arm64"
    );
    assert_eq!(cap(&find("Standard_D8s_v5"), "PremiumIO"), "True");
    arm.fake.state().throttle("ResourceSkus_List", 1);
    assert_eq!(arm.send("GET", &url, None, &[]).await.status, 429);
}

#[tokio::test]
async fn dropping_the_fake_stops_it() {
    let arm = Arm::start().await;
    let addr = arm.fake.url().trim_start_matches("http://").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "loopback only: {addr}");
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_ok(),
        "accepting while alive"
    );
    drop(arm);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "listener still accepting after drop");
}
