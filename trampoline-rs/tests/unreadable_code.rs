//! The contract for code `write_entry` cannot read, with and without
//! `process_vm_readv` (the shared check of trampoline-api).

trampoline_api::unreadable_code_tests!(trampoline_rs::RustTrampolines);
