//! `list`: the environments this state folder knows.

use crate::state::StateStore;

/// Lists the environments of this state folder.
pub fn run(store: &StateStore, json: bool) -> anyhow::Result<()> {
    let envs = store.list()?;
    if json {
        crate::event::Event::List { environments: envs }.emit();
        return Ok(());
    }
    if envs.is_empty() {
        println!("no environments in {}", store.dir().display());
    }
    for s in envs {
        println!(
            "{:<32} {:<6} {:<14} {:<32} {:<10} {}",
            s.name,
            s.cloud,
            s.region,
            s.domain,
            s.step,
            s.public_ip.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
