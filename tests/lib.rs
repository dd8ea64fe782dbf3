//! Integration tests of flags live in this package's test targets.
