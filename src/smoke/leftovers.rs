//! After a destroy: what is still there. Two honest sources, merged: every resource the cloud
//! lists with the environment's tag (`Provider::list_tagged`), and every resource the state
//! file still records (a destroy that stopped part way keeps them there, including a DNS
//! record, which some clouds cannot tag). Reads only; deletes nothing.

use carto_core::EnvName;

use crate::providers::ProviderConfig;
use crate::state::EnvState;

/// The resources left of `env`, each as `kind id`, sorted and without repeats. `state` is the
/// state file as it is after the destroy (`None` when it is gone). An error means the cloud
/// could not be asked, so nothing is known.
pub async fn find(
    config: &ProviderConfig,
    env: &EnvName,
    state: Option<&EnvState>,
) -> Result<Vec<String>, String> {
    let provider = config.connect().await.map_err(|e| {
        format!(
            "connecting to {} to look for leftovers: {e}",
            config.cloud()
        )
    })?;
    let tagged = provider
        .list_tagged(Some(env))
        .await
        .map_err(|e| format!("listing what is tagged carto-env={env}: {e}"))?;
    let recorded = state.map(|s| s.resources.as_slice()).unwrap_or_default();
    Ok(merge(
        tagged
            .iter()
            .map(|t| format!("{} {}", t.resource.kind, t.resource.id)),
        recorded.iter().map(|r| format!("{} {}", r.kind, r.id)),
    ))
}

fn merge(a: impl Iterator<Item = String>, b: impl Iterator<Item = String>) -> Vec<String> {
    let mut all: Vec<String> = a.chain(b).collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_and_recorded_are_merged_once_each() {
        let tagged = ["vm i-1", "firewall sg-1"].map(String::from).into_iter();
        let recorded = ["vm i-1", "dns-record a.test"]
            .map(String::from)
            .into_iter();
        assert_eq!(
            merge(tagged, recorded),
            ["dns-record a.test", "firewall sg-1", "vm i-1"]
        );
        assert!(merge(std::iter::empty(), std::iter::empty()).is_empty());
    }
}
