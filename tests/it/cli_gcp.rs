//! PLACEHOLDER: bad input to `carto-provision gcp` (owned by the gcp provider work).
