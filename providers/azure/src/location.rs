//! The subscription and the location: that the subscription exists for these credentials and
//! that the location is one of its locations. Read-only.

use carto_core::{ErrorKind, Input, InvalidInput, ProviderError, Result};

use crate::arm::body;
use crate::config::Clients;
use crate::transport::send;

/// Checks the subscription and that `location` is one of its locations.
pub async fn check(c: &Clients, location: &str) -> Result<()> {
    let sub = c.sub()?;
    let subs = &c.subscriptions.subscriptions_client();
    const GET: &str = "resources:Subscriptions_Get";
    match send(&c.policy, GET, || async {
        Ok(subs.get(sub).send().await?.into_raw_response())
    })
    .await
    {
        Ok(_) => {}
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Permission) => {
            return Err(ProviderError::invalid(
                GET,
                InvalidInput::new(
                    Input::Subscription,
                    sub,
                    format!(
                        "is not a subscription these Azure credentials can use ({})",
                        e.message
                    ),
                )
                .hint("`az account list` shows yours"),
            ));
        }
        Err(e) => return Err(e),
    }
    const LIST: &str = "resources:Subscriptions_ListLocations";
    let rsp = send(&c.policy, LIST, || async {
        Ok(subs.list_locations(sub).send().await?.into_raw_response())
    })
    .await?;
    let v = body(LIST, rsp).await?;
    let names: Vec<&str> = v["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["name"].as_str())
        .collect();
    if names.iter().any(|n| n.eq_ignore_ascii_case(location)) {
        return Ok(());
    }
    Err(ProviderError::invalid(
        LIST,
        InvalidInput::new(
            Input::Location,
            location,
            format!("is not an Azure location of subscription {sub}"),
        )
        .hint(format!("pick one of {}", names.join(", "))),
    ))
}
