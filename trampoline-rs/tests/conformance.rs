//! The shared conformance suite (trampoline-api, feature `conformance`), run
//! against the Rust implementation.

trampoline_api::conformance_tests!(trampoline_rs::RustTrampolines);
