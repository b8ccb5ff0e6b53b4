//! perf's jitdump format (`tools/perf/Documentation/jitdump-specification.txt`),
//! both ways, and the unwind data a frame-record stub needs in it.
//!
//! - Writer: [`Header::encode`] and [`RecordBody::encode`] give the bytes of
//!   the file header and of `JIT_CODE_LOAD` / `JIT_CODE_UNWINDING_INFO`
//!   records, stamped with [`monotonic_ns`] (`CLOCK_MONOTONIC`, what
//!   `perf record -k 1` orders by). Writing them to a file is the caller's
//!   job (the trampoline crates own the file, its lock and its marker mapping).
//! - Reader: [`parse`] turns a dump back into a [`Dump`]; any truncation or
//!   inconsistent size is a [`JitdumpError`] with the byte offset, never a
//!   panic. [`parse_complete_records`] stops at the first bad record instead.
//! - [`unwind`]: the `.eh_frame` + `.eh_frame_hdr` of a stub, built from its
//!   [`FrameRecordStub`] layout, and decoded back into unwind-table rows.
//! - [`validate`]: the rules a dump of ours follows (contract §7), for the
//!   trampolines' tests and the harness alike; [`read_file`] reads a dump
//!   found after a run.
//!
//! Dependencies: `gimli` writes the CIE/FDE and reads them back (the test of
//! the builder is an independent DWARF reader, not our own); `thiserror` for
//! the error types; `libc` for `clock_gettime(CLOCK_MONOTONIC)`, whose raw
//! nanoseconds std does not expose; `tempfile` (tests only) for scratch files.

mod clock;
pub mod format;
mod read;
mod record;
pub mod unwind;
mod validate;

pub use clock::monotonic_ns;
pub use format::{Arch, RecordId};
pub use read::{parse, parse_complete_records, parse_header, Dump, JitdumpError, Problem};
pub use record::{CodeLoad, EncodeError, Header, Record, RecordBody, UnwindingInfo};
pub use unwind::{build_unwinding_data, decode_rows, FrameRecordStub, UnwindingData};
pub use validate::{read_file, read_whole, validate, DumpFile};
