//! Finding the Ubuntu 22.04 (jammy) amd64 AMI of a region: Canonical's public SSM parameter
//! first, else the newest image owned by Canonical whose name matches the jammy pattern.

use carto_core::OrAbsent;
use carto_core::{ErrorKind, Input, InvalidInput, ProviderError, Result};

use crate::config::Clients;
use crate::send::send;
use crate::tags::filter;

/// Canonical's public parameter holding the current jammy amd64 AMI id of each region.
pub const UBUNTU_SSM_PARAMETER: &str =
    "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id";
/// Canonical's AWS account, owner of the official Ubuntu AMIs.
pub const CANONICAL_OWNER: &str = "099720109477";
/// Name pattern of the official jammy amd64 AMIs.
pub const JAMMY_NAME_PATTERN: &str = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*";

/// An AMI: its id and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// `ami-…`.
    pub id: String,
    /// The AMI's name.
    pub name: String,
}

/// The jammy AMI for `region`.
pub async fn ubuntu_jammy(clients: &Clients, region: &str) -> Result<Image> {
    match from_ssm(clients, region).await {
        Ok(Some(image)) => return Ok(image),
        Ok(None) => {}
        // The parameter can be missing in a region, or hidden by a policy: search instead.
        Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Permission) => {
            tracing::debug!(error = %e, "Ubuntu SSM parameter unavailable; searching images");
        }
        Err(e) => return Err(e),
    }
    newest_by_name(clients, region).await
}

/// The AMI the SSM parameter names, if the parameter and the image exist.
async fn from_ssm(clients: &Clients, region: &str) -> Result<Option<Image>> {
    let ssm = clients.ssm(region);
    let out = send(&clients.policy, "ssm:GetParameter", || {
        ssm.get_parameter().name(UBUNTU_SSM_PARAMETER).send()
    })
    .await?;
    let Some(id) = out.parameter().and_then(|p| p.value()) else {
        return Ok(None);
    };
    let ec2 = clients.ec2(region);
    let images = send(&clients.policy, "ec2:DescribeImages", || {
        ec2.describe_images().image_ids(id).send()
    })
    .await;
    let Some(images) = images.or_absent()? else {
        return Ok(None);
    };
    Ok(images.images().first().map(|image| Image {
        id: id.to_string(),
        name: image.name().unwrap_or(id).to_string(),
    }))
}

/// The newest Canonical jammy amd64 AMI by CreationDate.
async fn newest_by_name(clients: &Clients, region: &str) -> Result<Image> {
    let ec2 = clients.ec2(region);
    let out = send(&clients.policy, "ec2:DescribeImages", || {
        ec2.describe_images()
            .owners(CANONICAL_OWNER)
            .filters(filter("name", JAMMY_NAME_PATTERN))
            .filters(filter("architecture", "x86_64"))
            .filters(filter("state", "available"))
            .send()
    })
    .await?;
    // CreationDate is ISO 8601 in UTC, so the string order is the time order.
    out.images()
        .iter()
        .filter_map(|i| Some((i.creation_date()?, i.image_id()?, i.name().unwrap_or(""))))
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, id, name)| Image {
            id: id.to_string(),
            name: name.to_string(),
        })
        .ok_or_else(|| {
            ProviderError::invalid(
                "ec2:DescribeImages",
                InvalidInput::new(
                    Input::Region,
                    region,
                    "has no Ubuntu 22.04 image from Canonical",
                )
                .hint("choose another region"),
            )
        })
}
