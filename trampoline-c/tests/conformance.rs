//! The shared conformance suites (trampoline-api, feature `conformance`)
//! run against the C implementation: the perf map half and the jitdump half.

trampoline_api::conformance_tests!(trampoline_c::CTrampolines);
trampoline_api::jitdump_conformance_tests!(trampoline_c::CTrampolines);
