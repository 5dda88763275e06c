//! Integration tests of the fake API server over real HTTP.
