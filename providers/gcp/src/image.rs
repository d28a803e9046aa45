//! The Ubuntu 22.04 LTS image: the newest image of Canonical's public family
//! `projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts`.

use carto_core::{ErrorKind, ProviderError, Result};

use crate::config::Clients;
use crate::send::send;

/// Canonical's image project.
pub const IMAGE_PROJECT: &str = "ubuntu-os-cloud";
/// The Ubuntu 22.04 LTS (x86_64) family.
pub const IMAGE_FAMILY: &str = "ubuntu-2204-lts";

/// The image a VM boots from: its path (`projects/ubuntu-os-cloud/global/images/NAME`) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Path usable as `sourceImage`.
    pub id: String,
    /// Image name.
    pub name: String,
}

/// The image the family points at now.
pub async fn ubuntu_jammy(c: &Clients) -> Result<Image> {
    const CALL: &str = "compute.images.getFromFamily";
    let image = send(&c.policy, CALL, || {
        c.images
            .get_from_family()
            .set_project(IMAGE_PROJECT)
            .set_family(IMAGE_FAMILY)
            .send()
    })
    .await?;
    let name = image
        .name
        .clone()
        .ok_or_else(|| ProviderError::missing_field(CALL, "image name"))?;
    let arch = image.architecture.as_ref().and_then(|a| a.name());
    if arch.is_some_and(|a| a != "X86_64") {
        return Err(ProviderError::new(
            ErrorKind::Other,
            CALL,
            format!(
                "image family {IMAGE_PROJECT}/{IMAGE_FAMILY} points at {name}, which is not x86_64"
            ),
        ));
    }
    Ok(Image {
        id: format!("projects/{IMAGE_PROJECT}/global/images/{name}"),
        name,
    })
}
