//! The error for bad input, on its own so that every module that checks input (the spec, the
//! provider settings, the commands) can name it without depending on the others.

/// Bad input: one sentence naming the input and the fix. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);
