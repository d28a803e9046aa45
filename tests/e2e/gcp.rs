//! PLACEHOLDER: end-to-end tests of `carto-provision gcp` (owned by the gcp provider work).
