//! PLACEHOLDER: the emulated gcp as a deployment sees it (owned by the gcp provider work).
