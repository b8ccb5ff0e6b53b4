//! The jitdump half of the conformance suite (SPEC §7), written once for
//! every implementation and expanded with
//! [`jitdump_conformance_tests!`](crate::jitdump_conformance_tests).
//!
//! Every test runs in a process of its own (the dump is
//! `/tmp/jit-<pid>.dump`) and removes the dumps it created, and only those.
//! Dumps are read back with the `jitdump` crate's reader, and the stubs'
//! unwind data is decoded with its `gimli`-based `decode_rows` and compared
//! with the rules SPEC §2's instruction sequences imply, written out here.

use super::{compile, create, fork_gated, refuses_symlink_at, TestFile};
use crate::{jit_dump_path, Backend, Options, Stub, Trampolines};
use jitdump::unwind::dwarf_reg::*;
use jitdump::unwind::layout::perf_mapping_len;
use jitdump::unwind::{Cfa, Rule};
use jitdump::{CodeLoad, Dump, RecordBody, UnwindingInfo};
use std::ffi::c_void;
use std::path::Path;
use std::sync::Arc;

/// Expands to the jitdump tests as `#[test]`s for the implementation `$imp`,
/// each in its own process (in a module of their own, so this macro and
/// [`conformance_tests!`](crate::conformance_tests) can share a file).
#[macro_export]
macro_rules! jitdump_conformance_tests {
    ($imp:ty) => {
        mod jitdump_conformance {
            #[allow(unused_imports)]
            use super::*;
            // rusty_fork_test! calls itself by its bare name, so it must be in scope.
            use $crate::conformance::rusty_fork::rusty_fork_test;
            $crate::conformance::rusty_fork::rusty_fork_test! {
                #[test]
                fn dump_has_unwind_info_and_code_for_every_stub() {
                    $crate::conformance::dump_describes_every_stub::<$imp>();
                }
                #[test]
                fn dump_marker_is_mapped_read_execute() {
                    $crate::conformance::dump_marker_is_mapped::<$imp>();
                }
                #[test]
                fn concurrent_compiles_write_whole_records() {
                    $crate::conformance::concurrent_compiles_write_whole_records::<$imp>(4, 500);
                }
                #[test]
                fn fork_child_writes_a_fresh_dump_of_its_own() {
                    $crate::conformance::fork_child_writes_its_own_dump::<$imp>(false);
                }
                #[test]
                fn fork_child_with_persist_starts_with_parent_records() {
                    $crate::conformance::fork_child_writes_its_own_dump::<$imp>(true);
                }
                #[test]
                fn symlink_at_dump_path_is_refused() {
                    $crate::conformance::symlink_at_dump_path_is_refused::<$imp>();
                }
                #[test]
                fn write_entry_adds_a_code_load_of_the_bytes_there() {
                    $crate::conformance::write_entry_adds_a_code_load::<$imp>();
                }
                #[test]
                fn failed_dump_write_leaves_whole_records_and_stops() {
                    $crate::conformance::failed_write_leaves_whole_entries_and_stops::<$imp>(
                        $crate::Backend::JitDump,
                    );
                }
                #[test]
                fn full_tmp_leaves_whole_dump_records_and_stops() {
                    $crate::conformance::full_tmp_leaves_whole_entries_and_stops::<$imp>(
                        $crate::Backend::JitDump,
                    );
                }
                #[test]
                fn fork_child_refused_its_dump_never_writes_the_parents() {
                    $crate::conformance::fork_child_refused_its_file_never_writes_the_parents::<$imp>(
                        $crate::Backend::JitDump,
                    );
                }
                #[test]
                fn read_only_tmp_is_one_open_error_for_the_dump() {
                    $crate::conformance::read_only_tmp_is_an_open_error::<$imp>(
                        $crate::Backend::JitDump,
                    );
                }
                #[test]
                fn dump_of_another_user_is_refused() {
                    $crate::conformance::planted_file_is_refused::<$imp>(
                        $crate::Backend::JitDump,
                        $crate::conformance::Planted::OtherUsersFile,
                    );
                }
                #[test]
                fn dump_open_to_others_is_refused() {
                    $crate::conformance::planted_file_is_refused::<$imp>(
                        $crate::Backend::JitDump,
                        $crate::conformance::Planted::OpenToOthers,
                    );
                }
                #[test]
                fn hard_link_at_dump_path_is_refused_and_not_truncated() {
                    $crate::conformance::planted_file_is_refused::<$imp>(
                        $crate::Backend::JitDump,
                        $crate::conformance::Planted::HardLink,
                    );
                }
                #[test]
                fn fifo_at_dump_path_is_refused() {
                    $crate::conformance::planted_file_is_refused::<$imp>(
                        $crate::Backend::JitDump,
                        $crate::conformance::Planted::Fifo,
                    );
                }
            }
        }
    };
}

/// A process's dump, watched from the start of a test: removed on drop if
/// the test created it.
pub struct DumpWatch {
    file: TestFile,
}

impl DumpWatch {
    pub fn for_pid(pid: u32) -> DumpWatch {
        DumpWatch {
            file: TestFile::new(jit_dump_path(pid)),
        }
    }

    pub fn this_process() -> DumpWatch {
        DumpWatch::for_pid(std::process::id())
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The dump, which must parse whole.
    pub fn dump(&self) -> Dump {
        jitdump::parse(&self.file.read())
            .unwrap_or_else(|e| panic!("{}: {e}", self.path().display()))
    }
}

fn jit_options(persist_after_fork: bool) -> Options {
    Options {
        backend: Backend::JitDump,
        persist_after_fork,
    }
}

fn current_tid() -> u32 {
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}

unsafe extern "C" fn add_one(_: *mut c_void, _: *mut c_void, arg: *mut c_void) -> *mut c_void {
    (arg as usize).wrapping_add(1) as *mut c_void
}

/// The stub's bytes, read where it lives.
fn stub_code(stub: &Stub) -> Vec<u8> {
    unsafe { std::slice::from_raw_parts(stub.addr() as *const u8, stub.size()) }.to_vec()
}

/// An instruction's offset and text, and the CFA and register rules in force
/// before it runs.
type Step = (u64, &'static str, Cfa, Vec<(u16, Rule)>);

/// The rules in force before each instruction of a SPEC §2 stub, recognised
/// from its bytes: (offset, instruction, CFA, registers with a rule).
fn expected_rules(code: &[u8]) -> Vec<Step> {
    let cfa = |register, offset| Cfa::RegisterOffset { register, offset };
    if cfg!(target_arch = "x86_64") {
        const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
        let b = if code.starts_with(&ENDBR64) { 4 } else { 0 };
        let body = [0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3];
        assert_eq!(
            &code[b as usize..],
            body,
            "not the SPEC §2 x86_64 stub: {code:02x?}"
        );
        let entry = || (cfa(X86_64_RSP, 8), vec![(X86_64_RA, Rule::Offset(-8))]);
        let saved = || {
            vec![
                (X86_64_RBP, Rule::Offset(-16)),
                (X86_64_RA, Rule::Offset(-8)),
            ]
        };
        let mut rules = Vec::new();
        let mut add = |offset, text, (cfa, regs): (Cfa, Vec<(u16, Rule)>)| {
            rules.push((offset, text, cfa, regs))
        };
        if b == 4 {
            add(0, "endbr64", entry());
        }
        add(b, "push %rbp", entry());
        add(b + 1, "mov %rsp,%rbp", (cfa(X86_64_RSP, 16), saved()));
        add(b + 4, "call *%rcx", (cfa(X86_64_RBP, 16), saved()));
        add(b + 6, "pop %rbp", (cfa(X86_64_RBP, 16), saved()));
        add(b + 7, "ret", entry());
        rules
    } else if cfg!(target_arch = "aarch64") {
        let words: Vec<u32> = code
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect();
        let plain = [
            0xa9bf_7bfd,
            0x9100_03fd,
            0xd63f_0060,
            0xa8c1_7bfd,
            0xd65f_03c0,
        ];
        assert_eq!(
            words, plain,
            "not the SPEC §2 aarch64 stub (PAC is not covered here)"
        );
        let saved = || {
            vec![
                (AARCH64_X29, Rule::Offset(-16)),
                (AARCH64_X30, Rule::Offset(-8)),
            ]
        };
        vec![
            (0, "stp x29,x30,[sp,#-16]!", cfa(AARCH64_SP, 0), vec![]),
            (4, "mov x29,sp", cfa(AARCH64_SP, 16), saved()),
            (8, "blr x3", cfa(AARCH64_X29, 16), saved()),
            (12, "ldp x29,x30,[sp],#16", cfa(AARCH64_X29, 16), saved()),
            (16, "ret", cfa(AARCH64_SP, 0), vec![]),
        ]
    } else {
        panic!("no stub rules for {}", std::env::consts::ARCH)
    }
}

/// The unwinding record decodes to the stub's rules at every instruction,
/// and its rows tile the code.
fn check_unwinding(info: &UnwindingInfo, code: &[u8]) {
    assert!(
        info.data.len() as u64 >= info.unwinding_size && info.eh_frame_hdr_size > 0,
        "{info:?}"
    );
    assert!(
        info.mapped_size >= info.unwinding_size,
        "perf would map less than the unwind data: {info:?}"
    );
    let rows = jitdump::decode_rows(
        info.unwinding_data(),
        info.eh_frame_hdr_size,
        code.len() as u64,
    )
    .unwrap_or_else(|e| panic!("unwind data does not decode: {e}"));
    assert_eq!(
        (rows.first().map(|r| r.start), rows.last().map(|r| r.end)),
        (Some(0), Some(code.len() as u64))
    );
    assert!(
        rows.windows(2).all(|p| p[0].end == p[1].start),
        "rows leave gaps: {rows:#?}"
    );
    for (offset, text, cfa, registers) in expected_rules(code) {
        let row = rows
            .iter()
            .find(|r| r.contains(offset))
            .unwrap_or_else(|| panic!("no row at {text}"));
        assert_eq!(
            (&row.cfa, &row.registers),
            (&cfa, &registers),
            "rules before {text} (+{offset})"
        );
    }
}

/// The code loads of a dump, each checked to follow its unwinding record.
fn stub_loads(dump: &Dump) -> Vec<(&UnwindingInfo, &CodeLoad)> {
    assert!(
        dump.records.len().is_multiple_of(2),
        "records do not come in pairs: {:#?}",
        dump.records
    );
    dump.records
        .chunks(2)
        .map(|pair| match (&pair[0].body, &pair[1].body) {
            (RecordBody::UnwindingInfo(info), RecordBody::CodeLoad(load)) => (info, load),
            other => panic!(
                "expected unwinding info then code load at byte {}: {other:?}",
                pair[0].offset
            ),
        })
        .collect()
}

/// Header, one unwinding + code-load pair per stub with the stub's address,
/// bytes and (sanitised) name, rising indexes and timestamps, and stubs
/// spaced so that perf's synthesized mappings do not overlap.
pub fn dump_describes_every_stub<T: Trampolines>() {
    let watch = DumpWatch::this_process();
    let before = jitdump::monotonic_ns();
    let set = create::<T>(jit_options(false));
    assert_eq!(set.output_path(), jit_dump_path(std::process::id()));
    let names = [
        "py::baz:/src/x.py",
        "py::K.m.<locals>.inner:/src/x.py",
        "py::evil\nname\0x",
    ];
    let stubs: Vec<Stub> = names.iter().map(|n| compile(&set, n)).collect();
    let after = jitdump::monotonic_ns();
    for (i, stub) in stubs.iter().enumerate() {
        let got = unsafe {
            stub.call(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                i as *mut c_void,
                add_one,
            )
        };
        assert_eq!(got as usize, i + 1, "stub {i} does not run");
    }

    let dump = watch.dump();
    let h = &dump.header;
    assert_eq!(
        (h.version, h.total_size, h.pid, h.flags),
        (1, 40, std::process::id(), 0),
        "{h:?}"
    );
    let host = jitdump::Arch::host()
        .expect("a supported architecture")
        .elf_machine();
    assert_eq!(h.elf_mach, host, "ELF machine");
    assert!(
        before <= h.timestamp && h.timestamp <= after,
        "header time {} not CLOCK_MONOTONIC",
        h.timestamp
    );
    let times: Vec<u64> = dump.records.iter().map(|r| r.timestamp).collect();
    assert!(
        times.windows(2).all(|t| t[0] <= t[1]),
        "timestamps go back: {times:?}"
    );
    assert!(
        times.iter().all(|&t| before <= t && t <= after),
        "record times {times:?} not CLOCK_MONOTONIC"
    );

    let loads = stub_loads(&dump);
    assert_eq!(loads.len(), stubs.len());
    let mut last_index = None;
    for ((info, load), (stub, name)) in loads.iter().zip(stubs.iter().zip(names)) {
        assert_eq!(load.name, crate::sanitize_name(name));
        assert_eq!(
            (load.pid, load.tid),
            (std::process::id(), current_tid()),
            "{}",
            load.name
        );
        assert_eq!(
            (load.vma, load.code_addr),
            (stub.addr() as u64, stub.addr() as u64),
            "{}",
            load.name
        );
        assert_eq!(
            load.code,
            stub_code(stub),
            "{}: code bytes differ from the stub",
            load.name
        );
        assert!(
            last_index < Some(load.code_index),
            "code_index does not rise: {}",
            load.code_index
        );
        last_index = Some(load.code_index);
        check_unwinding(info, &load.code);
    }
    assert_eq!(loads[2].1.name, "py::evil?name?x");

    let mut spans: Vec<(u64, u64)> = loads
        .iter()
        .map(|(info, load)| {
            (
                load.code_addr,
                perf_mapping_len(load.code.len() as u64, info.mapped_size),
            )
        })
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        let ((a, len), (b, _)) = (pair[0], pair[1]);
        assert!(
            a + len <= b,
            "perf's mapping {a:#x}+{len:#x} overlaps the next stub at {b:#x}"
        );
    }
}

/// `/proc/self/maps` lines that map `path`: (perms, offset).
fn mappings_of(path: &Path) -> Vec<(String, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    maps.lines()
        .filter(|l| l.ends_with(&format!(" {}", path.display())))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[1].to_string(), f[2].to_string())
        })
        .collect()
}

/// The marker: the dump's first page mapped `r-xp`, for the set's life.
pub fn dump_marker_is_mapped<T: Trampolines>() {
    let watch = DumpWatch::this_process();
    let set = create::<T>(jit_options(false));
    let marker = vec![("r-xp".to_string(), "00000000".to_string())];
    assert_eq!(mappings_of(watch.path()), marker, "after create");
    compile(&set, "py::f");
    assert_eq!(mappings_of(watch.path()), marker, "after a compile");
}

/// Concurrent compiles: every record whole, none lost.
pub fn concurrent_compiles_write_whole_records<T: Trampolines + 'static>(
    threads: usize,
    each: usize,
) {
    let watch = DumpWatch::this_process();
    let set = Arc::new(create::<T>(jit_options(false)));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let set = set.clone();
            std::thread::spawn(move || {
                (0..each)
                    .map(|i| {
                        (
                            compile(&*set, &format!("py::t{t}_f{i}")).addr() as u64,
                            current_tid(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut made: Vec<(u64, u32)> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("compiling thread panicked"))
        .collect();
    let dump = watch.dump();
    let loads = stub_loads(&dump);
    let mut got: Vec<(u64, u32)> = loads.iter().map(|(_, l)| (l.code_addr, l.tid)).collect();
    let mut indexes: Vec<u64> = loads.iter().map(|(_, l)| l.code_index).collect();
    let mut names: Vec<&str> = loads.iter().map(|(_, l)| l.name.as_str()).collect();
    made.sort();
    got.sort();
    indexes.sort();
    indexes.dedup();
    names.sort();
    names.dedup();
    assert_eq!(
        got, made,
        "records lost, duplicated or given the wrong thread"
    );
    assert_eq!(
        (indexes.len(), names.len()),
        (threads * each, threads * each),
        "indexes or names repeat"
    );
}

/// The child writes `/tmp/jit-<childpid>.dump` only, with its own marker;
/// inherited stubs still run; with persist the child's dump starts with the
/// parent's records, made the child's.
pub fn fork_child_writes_its_own_dump<T: Trampolines>(persist: bool) {
    let parent_watch = DumpWatch::this_process();
    let set = create::<T>(jit_options(persist));
    let inherited = compile(&set, "py::parent_function");

    // The parent names a function after the fork but before the child
    // switches files: the child must not copy it (it is not mapped there).
    let (pid, child_watch) = fork_gated(
        |pid| {
            compile(&set, "py::parent_after_fork");
            DumpWatch::for_pid(pid)
        },
        || {
            set.after_fork_child().expect("after_fork_child");
            let own = jit_dump_path(std::process::id());
            assert_eq!(set.output_path(), own, "the child's dump path");
            let marker = [("r-xp".to_string(), "00000000".to_string())];
            assert_eq!(mappings_of(&own), marker, "the child's own marker mapping");
            let null = std::ptr::null_mut();
            let got = unsafe { inherited.call(null, null, 41 as *mut c_void, add_one) };
            assert_eq!(got as usize, 42, "the inherited stub");
            set.compile("py::child_function")
                .expect("compile in the child");
            true
        },
    );

    let parent = parent_watch.dump();
    let parent_names: Vec<&str> = parent.code_loads().map(|l| l.name.as_str()).collect();
    assert_eq!(
        parent_names,
        ["py::parent_function", "py::parent_after_fork"],
        "the child wrote into the parent's dump"
    );
    let child = child_watch.dump();
    assert_eq!(child.header.pid, pid);
    let loads = stub_loads(&child);
    let child_names: Vec<&str> = loads.iter().map(|(_, l)| l.name.as_str()).collect();
    if persist {
        assert_eq!(
            child_names,
            ["py::parent_function", "py::child_function"],
            "the child's dump must copy the parent's records as they were at the fork"
        );
        assert_eq!(
            (loads[0].1.code_addr, loads[0].1.code.len()),
            (inherited.addr() as u64, inherited.size())
        );
        assert!(
            loads[0].1.code_index < loads[1].1.code_index,
            "code_index repeats in the child's dump"
        );
    } else {
        assert_eq!(child_names, ["py::child_function"]);
    }
    assert!(
        loads.iter().all(|(_, l)| l.pid == pid),
        "a code load in the child's dump names another pid"
    );
    for (info, load) in loads {
        check_unwinding(info, &load.code);
    }
}

/// A symlink at the dump path is refused and its target untouched.
pub fn symlink_at_dump_path_is_refused<T: Trampolines>() {
    refuses_symlink_at::<T>(jit_options(false), jit_dump_path(std::process::id()));
}

/// `write_entry` adds a code load (no unwind info) of the bytes at the
/// address; an unreadable address is an error, not a crash, and adds nothing.
pub fn write_entry_adds_a_code_load<T: Trampolines>() {
    let watch = DumpWatch::this_process();
    let set = create::<T>(jit_options(false));
    let foreign = add_one as *const () as usize;
    let expected = unsafe { std::slice::from_raw_parts(foreign as *const u8, 16) }.to_vec();
    set.write_entry(foreign, 16, "jit::loop\n17")
        .unwrap_or_else(|e| panic!("write_entry failed: {e}"));
    let err = set.write_entry(8, 16, "jit::unmapped");
    assert!(
        err.is_err(),
        "write_entry of unreadable memory at 0x8 succeeded"
    );
    let dump = watch.dump();
    assert_eq!(dump.records.len(), 1, "{:#?}", dump.records);
    let RecordBody::CodeLoad(load) = &dump.records[0].body else {
        panic!("not a code load: {:?}", dump.records[0])
    };
    assert_eq!(
        (load.name.as_str(), load.code_addr, load.vma),
        ("jit::loop?17", foreign as u64, foreign as u64)
    );
    assert_eq!(load.code, expected);
}
