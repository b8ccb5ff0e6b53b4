//! What the C jitdump backend promises beyond the shared jitdump suite
//! (`tests/conformance.rs`), read back with the `jitdump` crate's reader:
//! the file's mode, every stub carrying exactly the C builder's unwind data
//! and spaced so perf's mappings of it do not overlap, unreadable foreign
//! code as a write error that uses up no code index, persisted records
//! re-stamped as the child's, and a child that never calls
//! `after_fork_child`. Each test runs in its own process (the dump is named
//! after the pid) and removes the dumps it created, and only those.

use jitdump::{Dump, RecordBody};
use trampoline_api::conformance::rusty_fork::rusty_fork_test;
use trampoline_api::conformance::{fork_gated, DumpWatch};
use trampoline_api::{jit_dump_path, sanitize_name, Backend, Error, Options, Stub, Trampolines};
use trampoline_c::{host_stub_unwind_data, template_bytes, CTrampolines};

fn jit_options(persist_after_fork: bool) -> Options {
    Options {
        backend: Backend::JitDump,
        persist_after_fork,
    }
}

fn create() -> CTrampolines {
    CTrampolines::create(jit_options(false)).unwrap_or_else(|e| panic!("create failed: {e}"))
}

fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) },
        0
    );
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// (name, code_addr, code_index) of every code load, in file order.
fn loads(dump: &Dump) -> Vec<(String, u64, u64)> {
    dump.code_loads()
        .map(|l| (l.name.clone(), l.code_addr, l.code_index))
        .collect()
}

/// Requires the records to be (unwinding info, code load) pairs, each load
/// describing a stub of this build with the C builder's unwind data.
fn assert_stub_pairs(dump: &Dump, pid: u32) {
    let unwind = host_stub_unwind_data();
    assert!(
        dump.records.len().is_multiple_of(2),
        "{} records: not in pairs",
        dump.records.len()
    );
    for pair in dump.records.chunks(2) {
        let (RecordBody::UnwindingInfo(info), RecordBody::CodeLoad(load)) =
            (&pair[0].body, &pair[1].body)
        else {
            panic!("not an unwinding-info + code-load pair: {pair:?}");
        };
        assert_eq!(
            info.unwinding_data(),
            unwind.bytes,
            "unwind data of {}",
            load.name
        );
        assert_eq!(info.eh_frame_hdr_size as usize, unwind.eh_frame_hdr().len());
        assert_eq!(info.mapped_size, info.unwinding_size);
        assert_eq!(
            pair[0].timestamp, pair[1].timestamp,
            "a stub's two records differ in time"
        );
        assert_eq!((load.pid, load.vma), (pid, load.code_addr));
        assert_eq!(
            load.code,
            template_bytes(),
            "{} is not the template",
            load.name
        );
        assert_eq!(load.code_addr % 16, 0);
    }
}

rusty_fork_test! {
    #[test]
    fn dump_is_private_to_its_owner_and_starts_with_the_magic() {
        tests::dump_is_private_to_its_owner_and_starts_with_the_magic();
    }

    #[test]
    fn every_stub_carries_the_c_builders_unwind_data_and_is_spaced_for_perf() {
        tests::every_stub_carries_the_c_builders_unwind_data_and_is_spaced_for_perf();
    }

    #[test]
    fn unreadable_foreign_code_is_a_write_error_that_uses_no_code_index() {
        tests::unreadable_foreign_code_is_a_write_error_that_uses_no_code_index();
    }

    #[test]
    fn fork_child_with_persist_restamps_the_copied_records_as_its_own() {
        tests::fork_child_with_persist_restamps_the_copied_records_as_its_own();
    }

    #[test]
    fn fork_child_that_skips_after_fork_child_still_writes_its_own_dump() {
        tests::fork_child_that_skips_after_fork_child_still_writes_its_own_dump();
    }
}

/// The test bodies, outside the macro so that rustfmt formats them.
mod tests {
    use super::*;

    pub fn dump_is_private_to_its_owner_and_starts_with_the_magic() {
        let watch = DumpWatch::this_process();
        let set = create();
        assert_eq!(set.output_path(), jit_dump_path(std::process::id()));
        let machine = if cfg!(target_arch = "x86_64") {
            62
        } else {
            183
        };
        assert_eq!(watch.dump().header.elf_mach, machine);
        let bytes = std::fs::read(watch.path()).unwrap();
        assert_eq!(bytes[..4], 0x4A69_5444u32.to_ne_bytes());
        let mode = std::fs::metadata(watch.path())
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()))
            .unwrap();
        assert_eq!(mode & 0o777, 0o600);
    }

    pub fn every_stub_carries_the_c_builders_unwind_data_and_is_spaced_for_perf() {
        let watch = DumpWatch::this_process();
        let set = create();
        let created = monotonic_ns();
        let names = [
            "py::<module>:/src/a.py",
            "py::K.m:/src/a.py",
            "py::evil\nname\u{85}x\0y",
        ];
        let stubs: Vec<Stub> = names.iter().map(|n| set.compile(n).unwrap()).collect();
        let dump = watch.dump();
        assert_stub_pairs(&dump, std::process::id());
        let expected: Vec<(String, u64, u64)> = names
            .iter()
            .zip(&stubs)
            .enumerate()
            .map(|(i, (n, s))| (sanitize_name(n), s.addr() as u64, i as u64))
            .collect();
        assert_eq!(loads(&dump), expected);
        let tid = unsafe { libc::gettid() } as u32;
        assert!(dump
            .code_loads()
            .all(|l| l.tid == tid && l.code.len() == stubs[0].size()));
        assert!(created <= dump.records[0].timestamp);
        // perf maps each stub as its code rounded up to 8 plus mapped_size:
        // the next stub starts right after that, on a 16-byte boundary.
        let unwind = host_stub_unwind_data();
        let span = (unwind.code_size.next_multiple_of(8) + unwind.bytes.len()).next_multiple_of(16);
        let gaps: Vec<usize> = stubs
            .windows(2)
            .map(|w| w[1].addr() - w[0].addr())
            .collect();
        assert_eq!(gaps, [span, span]);
    }

    pub fn unreadable_foreign_code_is_a_write_error_that_uses_no_code_index() {
        static FOREIGN_CODE: [u8; 12] = [
            0x55, 0x48, 0x89, 0xe5, 0x90, 0x90, 0x90, 0x90, 0x5d, 0xc3, 0xcc, 0xcc,
        ];
        let watch = DumpWatch::this_process();
        let set = create();
        let foreign = FOREIGN_CODE.as_ptr() as usize;
        set.write_entry(foreign, FOREIGN_CODE.len(), "jit::loop_17")
            .unwrap();
        // Below mmap_min_addr: never mapped, so its bytes cannot be read.
        match set.write_entry(0x1000, 8, "jit::gone") {
            Err(Error::Write { path, source }) => {
                assert_eq!(
                    (path, source.raw_os_error()),
                    (watch.path().to_path_buf(), Some(libc::EFAULT))
                );
            }
            other => panic!("expected a write error for unreadable code, got {other:?}"),
        }
        set.write_entry(foreign, 4, "jit::after\r").unwrap();
        let dump = watch.dump();
        assert!(
            dump.records
                .iter()
                .all(|r| matches!(r.body, RecordBody::CodeLoad(_))),
            "unwind info for foreign code"
        );
        let found: Vec<(String, u64, Vec<u8>, u64)> = dump
            .code_loads()
            .map(|l| (l.name.clone(), l.code_addr, l.code.clone(), l.code_index))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "jit::loop_17".to_string(),
                    foreign as u64,
                    FOREIGN_CODE.to_vec(),
                    0
                ),
                (
                    "jit::after?".to_string(),
                    foreign as u64,
                    FOREIGN_CODE[..4].to_vec(),
                    1
                ),
            ]
        );
    }

    pub fn fork_child_with_persist_restamps_the_copied_records_as_its_own() {
        let parent_watch = DumpWatch::this_process();
        let set = CTrampolines::create(jit_options(true)).unwrap();
        let inherited = set.compile("py::parent_function").unwrap();
        let forked_at = monotonic_ns();
        let (child_pid, child_watch) = fork_gated(DumpWatch::for_pid, || {
            set.after_fork_child().is_ok() && set.compile("py::child_function").is_ok()
        });
        assert_eq!(
            parent_watch.dump().code_loads().count(),
            1,
            "the child wrote into the parent's dump"
        );
        let child = child_watch.dump();
        assert_eq!(child.header.pid, child_pid);
        // The copies describe code mapped in the child from the fork on.
        assert_stub_pairs(&child, child_pid);
        assert!(child.code_loads().all(|l| l.tid == child_pid));
        assert!(
            child.records.iter().all(|r| r.timestamp >= forked_at),
            "a copy kept the parent's time"
        );
        let found = loads(&child);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            (
                "py::parent_function".to_string(),
                inherited.addr() as u64,
                0
            )
        );
        assert_eq!((found[1].0.as_str(), found[1].2), ("py::child_function", 1));
    }

    pub fn fork_child_that_skips_after_fork_child_still_writes_its_own_dump() {
        let parent_watch = DumpWatch::this_process();
        let set = create();
        set.compile("py::parent_function").unwrap();
        let (_, child_watch) = fork_gated(DumpWatch::for_pid, || {
            set.compile("py::child_function").is_ok()
                && set.output_path() == jit_dump_path(std::process::id())
        });
        let parent: Vec<String> = parent_watch
            .dump()
            .code_loads()
            .map(|l| l.name.clone())
            .collect();
        let child: Vec<String> = child_watch
            .dump()
            .code_loads()
            .map(|l| l.name.clone())
            .collect();
        assert_eq!(parent, ["py::parent_function"]);
        assert_eq!(child, ["py::child_function"]);
    }
}
