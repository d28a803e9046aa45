//! PLACEHOLDER: the cross-cloud smoke deployment end to end (owned by the smoke work).
