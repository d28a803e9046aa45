//! What no contract file in `../shared/contracts/azure` covers but the provider reads, served
//! from small built-in catalogues (as `skus.rs` does for Resource SKUs): the subscription
//! (`GET /subscriptions/{id}`), its locations (`…/locations`), both at api-version
//! 2021-01-01, and the versions of VM images (`…/publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions`,
//! api-version 2024-07-01). The api-version is still checked; unknown subscriptions are 404.

use serde_json::{Value, json};

use crate::errors::ArmError;
use crate::reply::Reply;

/// api-version of the subscriptions API.
pub const SUBSCRIPTIONS_API: &str = "2021-01-01";
/// api-version of the VM image API.
pub const IMAGES_API: &str = "2024-07-01";
/// The images the catalogue holds: (publisher, offer, sku, versions).
pub const IMAGES: &[(&str, &str, &str, &[&str])] = &[(
    "Canonical",
    "0001-com-ubuntu-server-jammy",
    "22_04-lts-gen2",
    &["22.04.202409120", "22.04.202410020"],
)];

/// Which built-in answer a path asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    /// `GET /subscriptions/{id}`.
    Subscription(String),
    /// `GET /subscriptions/{id}/locations`.
    Locations(String),
    /// Image versions: subscription, location, publisher, offer, sku.
    ImageVersions(String, String, String, String, String),
}

/// The query parameters Azure's REST reference lists for the operation behind `item`
/// (besides `api-version`); any other is refused.
pub fn query_params(item: &Item) -> &'static [&'static str] {
    match item {
        Item::Subscription(_) => &[],
        Item::Locations(_) => &["includeExtendedLocations"],
        Item::ImageVersions(..) => &["$expand", "$top", "$orderby"],
    }
}

/// The built-in item a GET path names, if any.
pub fn parse(path: &str) -> Option<Item> {
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match s.as_slice() {
        [sub, id] if is(sub, "subscriptions") => Some(Item::Subscription(id.to_string())),
        [sub, id, l] if is(sub, "subscriptions") && is(l, "locations") => {
            Some(Item::Locations(id.to_string()))
        }
        [
            sub,
            id,
            p,
            ns,
            l,
            loc,
            pb,
            publisher,
            at,
            vmi,
            of,
            offer,
            sk,
            sku,
            v,
        ] if is(sub, "subscriptions")
            && is(p, "providers")
            && is(ns, "Microsoft.Compute")
            && is(l, "locations")
            && is(pb, "publishers")
            && is(at, "artifacttypes")
            && is(vmi, "vmimage")
            && is(of, "offers")
            && is(sk, "skus")
            && is(v, "versions") =>
        {
            Some(Item::ImageVersions(
                id.to_string(),
                loc.to_string(),
                publisher.to_string(),
                offer.to_string(),
                sku.to_string(),
            ))
        }
        _ => None,
    }
}

fn check_version(got: Option<&str>, want: &str) -> Result<(), ArmError> {
    if got == Some(want) {
        return Ok(());
    }
    Err(ArmError::new(
        400,
        "InvalidApiVersionParameter",
        format!(
            "The api-version '{}' is invalid. The supported versions are '{want}'.",
            got.unwrap_or_default()
        ),
    ))
}

fn subscription_known(subscriptions: &[String], id: &str) -> Result<(), ArmError> {
    if subscriptions.is_empty() || subscriptions.iter().any(|s| s.eq_ignore_ascii_case(id)) {
        return Ok(());
    }
    Err(ArmError::new(
        404,
        "SubscriptionNotFound",
        format!("The subscription '{id}' could not be found."),
    ))
}

/// Answers a built-in item. `subscriptions` empty means every subscription exists.
pub fn answer(
    item: &Item,
    api_version: Option<&str>,
    subscriptions: &[String],
    locations: &[String],
) -> Result<Reply, ArmError> {
    match item {
        Item::Subscription(id) => {
            check_version(api_version, SUBSCRIPTIONS_API)?;
            subscription_known(subscriptions, id)?;
            Ok(Reply::json(
                200,
                json!({
                    "id": format!("/subscriptions/{id}"),
                    "subscriptionId": id,
                    "displayName": "carto fake subscription",
                    "state": "Enabled",
                }),
            ))
        }
        Item::Locations(id) => {
            check_version(api_version, SUBSCRIPTIONS_API)?;
            subscription_known(subscriptions, id)?;
            let value: Vec<Value> = locations
                .iter()
                .map(|l| {
                    json!({
                        "id": format!("/subscriptions/{id}/locations/{l}"),
                        "name": l,
                        "displayName": l,
                        "regionalDisplayName": l,
                    })
                })
                .collect();
            Ok(Reply::json(200, json!({ "value": value })))
        }
        Item::ImageVersions(id, loc, publisher, offer, sku) => {
            check_version(api_version, IMAGES_API)?;
            subscription_known(subscriptions, id)?;
            if !locations.iter().any(|l| l.eq_ignore_ascii_case(loc)) {
                return Err(ArmError::new(
                    404,
                    "NoRegisteredProviderFound",
                    format!("No registered resource provider found for location '{loc}'."),
                ));
            }
            let versions = IMAGES
                .iter()
                .find(|(p, o, s, _)| {
                    p.eq_ignore_ascii_case(publisher)
                        && o.eq_ignore_ascii_case(offer)
                        && s.eq_ignore_ascii_case(sku)
                })
                .map(|i| i.3)
                .unwrap_or_default();
            let value: Vec<Value> = versions
                .iter()
                .map(|v| {
                    json!({
                        "name": v,
                        "location": loc,
                        "id": format!("/Subscriptions/{id}/Providers/Microsoft.Compute/Locations/{loc}/Publishers/{publisher}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{sku}/Versions/{v}"),
                    })
                })
                .collect();
            Ok(Reply::json(200, Value::Array(value)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_answers() {
        let subs = vec!["s1".to_string()];
        let locs = vec!["eastus".to_string()];
        let sub = parse("/subscriptions/s1").unwrap();
        assert_eq!(
            answer(&sub, Some("2021-01-01"), &subs, &locs)
                .unwrap()
                .status,
            200
        );
        let other = parse("/subscriptions/s2").unwrap();
        assert_eq!(
            answer(&other, Some("2021-01-01"), &subs, &locs)
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            answer(&sub, Some("2022-12-01"), &subs, &locs)
                .unwrap_err()
                .status,
            400
        );
        let img = parse("/subscriptions/s1/providers/Microsoft.Compute/locations/eastus/publishers/Canonical/artifacttypes/vmimage/offers/0001-com-ubuntu-server-jammy/skus/22_04-lts-gen2/versions").unwrap();
        let r = answer(&img, Some(IMAGES_API), &subs, &locs).unwrap();
        assert_eq!(r.body.unwrap().as_array().map(Vec::len), Some(2));
        assert!(parse("/subscriptions/s1/resourceGroups/g").is_none());
    }
}
