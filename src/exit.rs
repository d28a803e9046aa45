//! The exit codes, one per kind of failure, documented in the README:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | any other failure |
//! | 2 | bad input: a flag, the installation package, or something preflight rejected; nothing was created |
//! | 3 | the cloud refused or failed a call (permission, quota, throttling past the retry limit) |
//! | 4 | the VM: SSH, Docker, install.sh, a CARTO service or the HTTPS check failed |
//! | 5 | security: the VM's SSH host key is not the pinned one |
//! | 130 | stopped by Ctrl-C or SIGTERM; the state is saved, the same command resumes |

use carto_core::{ErrorKind, ProviderError};

use crate::remote::RemoteError;
use crate::spec::InputError;
use crate::ssh::SshError;

/// Exit code of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// 1: anything not listed.
    Other = 1,
    /// 2: bad input, nothing created.
    Input = 2,
    /// 3: a cloud API failure.
    Cloud = 3,
    /// 4: a failure on the VM.
    Remote = 4,
    /// 5: host key mismatch.
    Security = 5,
    /// 130: stopped by a signal, state saved.
    Interrupted = 130,
}

impl Code {
    /// The code for an error, from the first typed error found in its chain.
    pub fn of(error: &anyhow::Error) -> Code {
        if error
            .chain()
            .any(|c| c.is::<crate::interrupt::Interrupted>())
        {
            return Code::Interrupted;
        }
        for cause in error.chain() {
            if cause.is::<InputError>()
                || cause.is::<crate::package::PackageError>()
                || cause.is::<crate::domain::DomainError>()
            {
                return Code::Input;
            }
            if let Some(e) = cause.downcast_ref::<ProviderError>() {
                return if e.kind == ErrorKind::InvalidInput {
                    Code::Input
                } else {
                    Code::Cloud
                };
            }
            if let Some(e) = cause.downcast_ref::<SshError>() {
                return if matches!(e, SshError::HostKeyMismatch { .. }) {
                    Code::Security
                } else {
                    Code::Remote
                };
            }
            if cause.is::<RemoteError>()
                || cause.is::<crate::pipeline::install::InstallError>()
                || cause.is::<crate::https_probe::VerifyError>()
            {
                return Code::Remote;
            }
        }
        Code::Other
    }
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
