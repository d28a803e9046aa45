//! Requests that break the contract are refused in ARM's error shape: unknown members, bad
//! enums, wrong types, missing required members, read-only input, api-version, path enums,
//! and references to resources that do not exist.

use serde_json::json;

use crate::client::*;

const BAD: &str = "InvalidRequestContent";
const BAD_PARAM: &str = "InvalidParameter";
const BAD_API: &str = "InvalidApiVersionParameter";

async fn with_group(name: &str) -> Arm {
    let arm = Arm::start().await;
    arm.put_done(&rg(name), RES, group_body()).await;
    arm
}

#[tokio::test]
async fn requests_breaking_the_contract_are_refused() {
    let arm = with_group("g").await;
    let vnet = net("g", "virtualNetworks", "v");
    let subnet = vnet.clone() + "/subnets/default";
    let nsg = net("g", "networkSecurityGroups", "n");
    let pip = net("g", "publicIPAddresses", "p");
    let zone = net("g", "dnsZones", "z.com");
    arm.put_done(&zone, DNS, json!({"location": "global"}))
        .await;
    let rule = "/properties/securityRules/0/properties";
    let create_option = "/properties/storageProfile/osDisk/createOption";
    let prefixes = json!({"addressPrefixes": ["10.0.0.0/16"]});
    let guid = "00000000-0000-0000-0000-000000000000";
    let records = record_body("127.0.0.2");
    let expand = format!("{VM}&$expand=everything");
    let nope = format!("/subscriptions/{SUB}/providers/Microsoft.Nope/things");
    let nic = net("g", "networkInterfaces", "nic");
    let refs = nic_body(&subnet, &pip, &nsg);
    let elsewhere = net("nope", "virtualNetworks", "v");
    let orphan = json!({"properties": {"addressPrefix": "10.0.0.0/24"}});
    arm.check(vec![
        // Unknown members, nested or top-level.
        case("unknown member", "PUT", &vnet, NET, vnet_body())
            .set("/properties/addressSpaces", prefixes)
            .answers(400, BAD)
            .says(&["'addressSpaces'", "properties.addressSpaces"]),
        case("top-level", "PUT", rg("v2"), RES, json!({"location": LOC}))
            .set("/colour", "red")
            .answers(400, BAD),
        // Bad enums.
        case("rule access", "PUT", &nsg, NET, nsg_body())
            .set(&format!("{rule}/access"), "Maybe")
            .answers(400, BAD)
            .says(&["'Maybe'", "Allow"]),
        case("createOption", "PUT", vm("g", "m"), VM, vm_body("/x"))
            .set(create_option, "FromThinAir")
            .answers(400, None),
        // Wrong types, missing required members or body.
        case("string priority", "PUT", &nsg, NET, nsg_body())
            .set(&format!("{rule}/priority"), "100")
            .answers(400, BAD)
            .says(&["securityRules[0].properties.priority"]),
        case("no location", "PUT", rg("t2"), RES, json!({"tags": {}}))
            .answers(400, None)
            .says(&["'location'"]),
        case("no body", "PUT", rg("t3"), RES, None).answers(400, BAD),
        // Read-only input, also when readOnly comes through a $ref (provisioningState).
        case("resourceGuid", "PUT", &pip, NET, pip_body())
            .set("/properties/resourceGuid", guid)
            .answers(400, BAD)
            .says(&["properties.resourceGuid", "read-only"]),
        case("provisioningState", "PUT", &vnet, NET, vnet_body())
            .set("/properties/provisioningState", "Succeeded")
            .answers(400, None),
        // The api-version of the contract, required.
        case("old api-version", "PUT", &vnet, "2023-09-01", vnet_body())
            .answers(400, BAD_API)
            .says(&["'2024-05-01'"]),
        case("network api-version", "GET", vm("g", "m"), NET, None).answers(400, BAD_API),
        case("no api-version", "GET", rg("g"), "", None).answers(400, "MissingApiVersionParameter"),
        // Path and query parameters.
        case("record type", "PUT", zone + "/B/www", DNS, records).answers(400, BAD_PARAM),
        case("$expand", "GET", vm("g", "m"), &expand, None).answers(400, BAD_PARAM),
        case("group name", "PUT", rg("bad!name"), RES, group_body()).answers(400, BAD_PARAM),
        case("unknown provider", "GET", nope, NET, None).answers(404, None),
        // References to what does not exist.
        case("NIC references", "PUT", nic, NET, refs).answers(400, "InvalidResourceReference"),
        case("no group", "PUT", elsewhere, NET, vnet_body()).answers(404, "ResourceGroupNotFound"),
        case("no vnet", "PUT", &subnet, NET, orphan).answers(404, "ResourceNotFound"),
    ])
    .await;
    assert!(arm.fake.state().resource(&vnet).is_none());
}

#[tokio::test]
async fn vm_sizes_come_from_the_sku_catalogue() {
    let arm = with_group("s1").await;
    let nic = arm.network_for_vm("s1").await;
    let size = "/properties/hardwareProfile/vmSize";
    arm.check(vec![
        // Sizes newer than the contract's deprecated enum are accepted.
        case("newer size", "PUT", vm("s1", "a"), VM, vm_body(&nic))
            .set(size, "Standard_D4s_v5")
            .answers(201, None),
        case("group name", "PUT", rg("bad!name"), RES, group_body()).answers(400, BAD_PARAM),
        case("unknown size", "PUT", vm("s1", "b"), VM, vm_body(&nic))
            .set(size, "Standard_Imaginary_v9")
            .answers(409, "SkuNotAvailable"),
    ])
    .await;
}

#[tokio::test]
async fn bodies_must_be_json() {
    let arm = Arm::start().await;
    let url = format!("{}{}?api-version={RES}", arm.fake.url(), rg("j"));
    let text = arm
        .http
        .put(&url)
        .bearer_auth(&arm.token)
        .header("content-type", "text/plain")
        .body("{\"location\": \"westeurope\"}")
        .send()
        .await
        .expect("call");
    assert_eq!(text.status(), 415);
    let broken = arm
        .http
        .put(&url)
        .bearer_auth(&arm.token)
        .header("content-type", "application/json")
        .body("{\"location\": ")
        .send()
        .await
        .expect("call");
    assert_eq!(broken.status(), 400);
    let body: serde_json::Value = broken.json().await.expect("json");
    assert_eq!(body["error"]["code"], "InvalidRequestContent");
}
