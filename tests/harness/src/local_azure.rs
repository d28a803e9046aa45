//! PLACEHOLDER: the emulated azure as a deployment sees it (owned by the azure provider work).
