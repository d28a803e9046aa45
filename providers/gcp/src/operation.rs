//! Compute long-running operations: waiting on a zone, region or global operation until it
//! is DONE (polled with the core wait, never the SDK's 1 s-and-up poller), and surfacing the
//! error a finished operation carries verbatim (the SDK reports such an operation as Ok).
//! Also the `requestId` every insert and delete carries, derived from the environment's nonce,
//! [`inserted`]: an insert sent, its operation waited for and the resource read back, and
//! [`inserted_id`]: the same without the read, the id taken from the operation.

use std::future::Future;
use std::time::Duration;

use carto_core::retry::{Poll, wait_until};
use carto_core::{OrAbsent, ProviderError, Result};
use google_cloud_compute_v1::model::Operation;

use crate::config::Clients;
use crate::errors;
use crate::send::send;

/// Longest wait for one insert's operation.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(600);

/// Where an operation lives.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// `zones/{zone}/operations`
    Zone(&'a str),
    /// `regions/{region}/operations`
    Region(&'a str),
    /// `global/operations`
    Global,
}

fn is_done(op: &Operation) -> bool {
    op.status.as_ref().and_then(|s| s.name()) == Some("DONE")
}

/// The operation's error, if it finished with one.
fn failure(call: &str, op: &Operation) -> Option<ProviderError> {
    let first = op.error.as_ref().and_then(|e| e.errors.first());
    let http = op
        .http_error_status_code
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400);
    if first.is_none() && http.is_none() {
        return None;
    }
    let code = first.and_then(|e| e.code.clone());
    let message = first
        .and_then(|e| e.message.clone())
        .or_else(|| op.http_error_message.clone())
        .unwrap_or_else(|| "no message".to_string());
    let name = op.name.as_deref().unwrap_or("(unnamed)");
    Some(errors::operation_failed(
        call,
        name,
        code.as_deref(),
        &message,
        http,
    ))
}

/// Sends the insert `insert` builds (with its request id), waits for its operation in `scope`
/// and reads the resource back with `read`; nothing to read after the insert is an error naming
/// `what`.
pub async fn inserted<T, I, IFut, R, RFut>(
    c: &Clients,
    call: &str,
    scope: Scope<'_>,
    what: &str,
    insert: I,
    read: R,
) -> Result<T>
where
    I: FnMut() -> IFut,
    IFut: Future<Output = std::result::Result<Operation, google_cloud_gax::error::Error>>,
    R: FnOnce() -> RFut,
    RFut: Future<Output = Result<Option<T>>>,
{
    let op = send(&c.policy, call, insert).await?;
    wait(c, call, scope, op, OPERATION_TIMEOUT).await?;
    read()
        .await?
        .ok_or_else(|| ProviderError::missing_field(call, &format!("{what} after its insert")))
}

/// Sends the insert `insert` builds (with its request id), waits for its operation in `scope`
/// and returns the new resource's id as the finished operation names it (`targetId`), for a
/// caller that needs nothing else of the resource: one read less than [`inserted`].
pub async fn inserted_id<I, IFut>(
    c: &Clients,
    call: &str,
    scope: Scope<'_>,
    insert: I,
) -> Result<u64>
where
    I: FnMut() -> IFut,
    IFut: Future<Output = std::result::Result<Operation, google_cloud_gax::error::Error>>,
{
    let op = send(&c.policy, call, insert).await?;
    let done = wait(c, call, scope, op, OPERATION_TIMEOUT).await?;
    done.target_id
        .ok_or_else(|| ProviderError::missing_field(call, "targetId of its finished operation"))
}

/// Follows a delete to its end: waits for its operation when the delete gave one; a resource
/// absent before or during the wait is deleted all the same.
pub async fn deleted(
    c: &Clients,
    call: &str,
    scope: Scope<'_>,
    op: Option<Operation>,
    timeout: Duration,
) -> Result<()> {
    match op {
        Some(op) => wait(c, call, scope, op, timeout)
            .await
            .or_absent()
            .map(drop),
        None => Ok(()),
    }
}

/// Waits (at most `timeout`) until `op` (started by `call`) is DONE and returns it; an
/// operation that finished with an error is that error.
pub async fn wait(
    c: &Clients,
    call: &str,
    scope: Scope<'_>,
    op: Operation,
    timeout: Duration,
) -> Result<Operation> {
    let name = op
        .name
        .clone()
        .ok_or_else(|| ProviderError::missing_field(call, "operation name"))?;
    let done = if is_done(&op) {
        op
    } else {
        let project = c.project()?;
        let what = format!("operation {name} of {call} to finish");
        wait_until(&what, call, timeout, c.poll, || async {
            let current = match scope {
                Scope::Zone(zone) => {
                    send(&c.policy, "compute.zoneOperations.get", || {
                        c.zone_ops
                            .get()
                            .set_project(project)
                            .set_zone(zone)
                            .set_operation(&name)
                            .send()
                    })
                    .await?
                }
                Scope::Region(region) => {
                    send(&c.policy, "compute.regionOperations.get", || {
                        c.region_ops
                            .get()
                            .set_project(project)
                            .set_region(region)
                            .set_operation(&name)
                            .send()
                    })
                    .await?
                }
                Scope::Global => {
                    send(&c.policy, "compute.globalOperations.get", || {
                        c.global_ops
                            .get()
                            .set_project(project)
                            .set_operation(&name)
                            .send()
                    })
                    .await?
                }
            };
            Ok(if is_done(&current) {
                Poll::Ready(current)
            } else {
                let status = current.status.as_ref().and_then(|s| s.name());
                Poll::Pending(format!("status {}", status.unwrap_or("unknown")))
            })
        })
        .await?
    };
    match failure(call, &done) {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// A deterministic, valid (non-zero, RFC 4122 variant, version 8) UUID for one step of one
/// resource of one environment: a re-run after a kill sends the same id, so Compute answers
/// with the earlier operation instead of a second resource. Built from the environment's
/// nonce, so a destroyed-then-recreated environment gets new ids.
pub fn request_id(nonce: &str, name: &str, step: &str) -> String {
    let input = format!("{nonce}\0{name}\0{step}");
    let hi = fnv1a(0xcbf2_9ce4_8422_2325, input.as_bytes());
    let lo = fnv1a(0x6c62_272e_07bb_0142, input.as_bytes());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// FNV-1a, 64 bits, from `basis`: stable across Rust releases (unlike `DefaultHasher`).
fn fnv1a(basis: u64, data: &[u8]) -> u64 {
    data.iter().fold(basis, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_stable_uuids_per_step() {
        let a = request_id("n1", "carto-e-vm", "insert");
        assert_eq!(a, request_id("n1", "carto-e-vm", "insert"));
        assert_ne!(a, request_id("n1", "carto-e-vm", "delete"));
        assert_ne!(a, request_id("n2", "carto-e-vm", "insert"));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(&a[14..15], "8", "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
