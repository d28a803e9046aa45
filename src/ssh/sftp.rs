//! Atomic file upload over SFTP: write `PATH.tmp-RAND`, set the mode explicitly (open
//! attributes are ignored for existing files and subject to umask), then rename over `PATH`
//! with `posix-rename@openssh.com` (falling back to remove + rename when the server lacks it).

use russh_sftp::client::RawSftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};

/// SFTP write requests are kept below the usual 32 KiB packet limit.
const CHUNK: usize = 30 * 1024;

/// Upload `contents` to `path` with exactly `mode`, replacing any file atomically.
pub(super) async fn put<S>(stream: S, path: &str, contents: &[u8], mode: u32) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sftp = RawSftpSession::new(stream);
    sftp.set_timeout(60);
    let version = sftp.init().await.map_err(|e| format!("SFTP start: {e}"))?;
    let tmp = format!("{path}.tmp-{:016x}", fastrand::u64(..));
    let result = write_then_rename(
        &sftp,
        &tmp,
        path,
        contents,
        mode,
        version.extensions.contains_key("posix-rename@openssh.com"),
    )
    .await;
    if result.is_err() {
        let _ = sftp.remove(tmp.as_str()).await;
    }
    let _ = sftp.close_session();
    result
}

async fn write_then_rename(
    sftp: &RawSftpSession,
    tmp: &str,
    path: &str,
    contents: &[u8],
    mode: u32,
    posix_rename: bool,
) -> Result<(), String> {
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(0o600);
    let handle = sftp
        .open(
            tmp,
            OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::EXCLUDE,
            attrs,
        )
        .await
        .map_err(|e| format!("creating {tmp}: {e}"))?
        .handle;
    let mut offset = 0u64;
    for chunk in contents.chunks(CHUNK) {
        sftp.write(handle.as_str(), offset, chunk.to_vec())
            .await
            .map_err(|e| format!("writing {tmp}: {e}"))?;
        offset += chunk.len() as u64;
    }
    let mut mode_only = FileAttributes::empty();
    mode_only.permissions = Some(mode & 0o7777);
    sftp.fsetstat(handle.as_str(), mode_only)
        .await
        .map_err(|e| format!("setting mode {mode:o} on {tmp}: {e}"))?;
    sftp.close(handle.as_str())
        .await
        .map_err(|e| format!("closing {tmp}: {e}"))?;
    if posix_rename {
        let mut data = Vec::new();
        for s in [tmp, path] {
            data.extend_from_slice(&(s.len() as u32).to_be_bytes());
            data.extend_from_slice(s.as_bytes());
        }
        return match sftp.extended("posix-rename@openssh.com", data).await {
            Ok(Packet::Status(s)) if s.status_code == StatusCode::Ok => Ok(()),
            Ok(Packet::Status(s)) => Err(format!(
                "renaming {tmp} to {path}: {}: {}",
                s.status_code, s.error_message
            )),
            Ok(_) => Err(format!("renaming {tmp} to {path}: unexpected SFTP reply")),
            Err(e) => Err(format!("renaming {tmp} to {path}: {e}")),
        };
    }
    let _ = sftp.remove(path).await;
    sftp.rename(tmp, path)
        .await
        .map(|_| ())
        .map_err(|e| format!("renaming {tmp} to {path}: {e}"))
}
