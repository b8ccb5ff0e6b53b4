//! The jitdump half of the shared conformance suite (trampoline-api,
//! feature `conformance`), run against the Rust implementation's
//! `Backend::JitDump`.

trampoline_api::jitdump_conformance_tests!(trampoline_rs::RustTrampolines);
