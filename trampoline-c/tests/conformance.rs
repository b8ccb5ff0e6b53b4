//! The shared conformance suite (trampoline-api, feature `conformance`) run
//! against the C implementation.

trampoline_api::conformance_tests!(trampoline_c::CTrampolines);
