//! A jitdump written by minipy (`-X perf_jit`, no perf needed), read back
//! through the harness's reader: the header, every record's size, every
//! code-load name and address, against the names the seed cases expect and
//! the perf map the same script writes with `-X perf`. Cut and corrupted
//! copies give `<path>: jitdump byte N: …`, never a panic.

use harness::cases;
use harness::runtime::minipy::Build;
use jitdump::{Arch, Dump, RecordBody};
use std::path::{Path, PathBuf};
use std::process::Command;

fn project_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Removes the files a minipy run left in /tmp, also when a check fails.
struct Leftovers(Vec<PathBuf>);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for file in &self.0 {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Runs `minipy <option> seed.py 1000` in `dir`; returns its pid and the
/// files it left (its perf map and jitdump paths, whether written or not).
fn run_seed(minipy: &Path, dir: &Path, option: &str, trampoline: &str) -> (u32, Leftovers) {
    let mut command = Command::new(minipy);
    for (name, _) in std::env::vars() {
        if name.starts_with("PYTHON") || name.starts_with("MINIPY_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args(["-X", option, "seed.py", "1000"])
        .env("MINIPY_TRAMPOLINE", trampoline)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("minipy starts");
    let pid = child.id();
    let files = Leftovers(vec![
        trampoline_api::perf_map_path(pid),
        trampoline_api::jit_dump_path(pid),
    ]);
    assert!(child.wait().unwrap().success(), "minipy {option} failed");
    (pid, files)
}

fn expected_names(case: &str) -> Vec<String> {
    let all = cases::load_all(project_root()).expect("the cases load");
    let case = all
        .iter()
        .find(|c| c.name == case)
        .expect("the case exists");
    let e = &case.expect;
    e.dump_names.clone().or(e.map_names.clone()).unwrap()
}

/// `$CASE` for the run folder, as the snapshots write it.
fn normalized(name: &str, dir: &Path) -> String {
    name.replace(
        &dir.canonicalize().unwrap().to_string_lossy().into_owned(),
        "$CASE",
    )
}

/// Checks the bytes and the parsed dump of process `pid` against each other.
fn check_layout(bytes: &[u8], dump: &Dump, pid: u32) {
    let header = &dump.header;
    assert_eq!(
        (header.version, header.total_size, header.flags),
        (1, 40, 0)
    );
    assert_eq!(header.pid, pid);
    if let Some(arch) = Arch::host() {
        assert_eq!(header.elf_mach, arch.elf_machine());
    }
    // Every record's size is exactly what its fields encode, back to back
    // from the end of the header to the end of the file.
    let mut at = header.total_size as usize;
    for record in &dump.records {
        assert_eq!(record.offset, at);
        let encoded = record.encode().unwrap();
        assert_eq!(
            &bytes[at..at + encoded.len()],
            encoded.as_slice(),
            "record at {at}"
        );
        at += encoded.len();
    }
    assert_eq!(at, bytes.len(), "bytes after the last record");
    assert_eq!(
        jitdump::validate(dump, pid, jitdump::Arch::host().expect("x86_64 or aarch64")),
        Vec::<String>::new()
    );
}

fn check_stub_code(code: &[u8], name: &str) {
    if Arch::host() == Some(Arch::X86_64) {
        // push %rbp; mov %rsp,%rbp; call *%rcx; pop %rbp; ret (SPEC §2)
        let stub = [0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3];
        let endbr64 = [0xf3, 0x0f, 0x1e, 0xfa];
        let body = code.strip_prefix(&endbr64[..]).unwrap_or(code);
        assert_eq!(body, stub, "{name}");
    }
}

#[test]
fn minipy_dumps_read_back_with_the_names_and_stubs_the_cases_expect() {
    let root = project_root();
    let minipy = Build::Fp.make(root, true).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("cases/scripts/seed.py"),
        dir.path().join("seed.py"),
    )
    .unwrap();
    let names = expected_names("seed_xperf_jit");
    // One list of names for both backends: the dump names what the map names.
    assert_eq!(names, expected_names("seed_xperf"));

    for trampoline in ["c", "rust"] {
        let (pid, _dump_files) = run_seed(&minipy, dir.path(), "perf_jit", trampoline);
        let path = trampoline_api::jit_dump_path(pid);
        assert!(
            !trampoline_api::perf_map_path(pid).exists(),
            "perf_jit wrote a map"
        );
        let bytes = std::fs::read(&path).unwrap();
        let dump = jitdump::read_whole(&path).unwrap_or_else(|e| panic!("{e}"));
        check_layout(&bytes, &dump, pid);

        let loads: Vec<_> = dump.code_loads().collect();
        let dumped: Vec<String> = loads
            .iter()
            .map(|l| normalized(&l.name, dir.path()))
            .collect();
        assert_eq!(dumped, names, "{trampoline}");
        for (index, load) in loads.iter().enumerate() {
            assert_eq!((load.pid, load.code_index), (pid, index as u64));
            assert_eq!(load.vma, load.code_addr, "{}", load.name);
            assert_eq!(
                load.code_addr % 16,
                0,
                "{} is not 16-byte aligned",
                load.name
            );
            check_stub_code(&load.code, &load.name);
        }
        let unwinding = dump
            .records
            .iter()
            .filter(|r| matches!(r.body, RecordBody::UnwindingInfo(_)))
            .count();
        assert_eq!(unwinding, loads.len(), "one unwinding record per stub");

        // The same script under the perf map backend names the same stubs,
        // in the same order, with the same code size.
        let (pid, _map_files) = run_seed(&minipy, dir.path(), "perf", trampoline);
        let map = std::fs::read_to_string(trampoline_api::perf_map_path(pid)).unwrap();
        let entries: Vec<_> = map
            .lines()
            .map(|l| trampoline_api::MapEntry::parse(l).expect("a well-formed line"))
            .collect();
        let mapped: Vec<String> = entries
            .iter()
            .map(|e| normalized(&e.name, dir.path()))
            .collect();
        assert_eq!(mapped, names, "{trampoline}");
        for (entry, load) in entries.iter().zip(&loads) {
            assert_eq!(entry.size, load.code.len(), "{}", entry.name);
        }
    }
}

#[test]
fn cut_or_corrupted_minipy_dumps_are_errors_with_file_and_byte() {
    let root = project_root();
    let minipy = Build::Fp.make(root, true).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("cases/scripts/seed.py"),
        dir.path().join("seed.py"),
    )
    .unwrap();
    let (pid, _files) = run_seed(&minipy, dir.path(), "perf_jit", "rust");
    let bytes = std::fs::read(trampoline_api::jit_dump_path(pid)).unwrap();
    let dump = jitdump::parse(&bytes).unwrap();
    let copy = dir.path().join("jit-copy.dump");
    let read = |bytes: &[u8]| {
        std::fs::write(&copy, bytes).unwrap();
        jitdump::read_whole(&copy)
    };
    let error_at = |offset: usize| format!("{}: jitdump byte {offset}: ", copy.display());

    // Cut anywhere: complete records read, a cut record is an error at its start.
    let starts: Vec<usize> = dump.records.iter().map(|r| r.offset).collect();
    for len in 0..bytes.len() {
        match read(&bytes[..len]) {
            Ok(_) => assert!(starts.contains(&len), "cut at {len} read as complete"),
            Err(e) => {
                let at = starts.iter().rev().find(|&&s| s <= len).map_or(0, |&s| s);
                assert!(e.starts_with(&error_at(at)), "cut at {len}: {e}");
            }
        }
    }
    let last = *starts.last().unwrap();
    let cut = read(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(cut.ends_with("(the dump is truncated)"), "{cut}");
    assert!(cut.starts_with(&error_at(last)), "{cut}");

    let mut bad_magic = bytes.clone();
    bad_magic[0] ^= 0xff;
    let e = read(&bad_magic).unwrap_err();
    assert!(
        e.starts_with(&error_at(0)) && e.contains("not a jitdump file"),
        "{e}"
    );

    // A record whose total_size is smaller than its own prefix.
    let second = starts[1];
    let mut small = bytes.clone();
    small[second + 4..second + 8].copy_from_slice(&8u32.to_ne_bytes());
    let e = read(&small).unwrap_err();
    assert!(e.starts_with(&error_at(second + 4)), "{e}");

    // A code load whose code_size runs past its record.
    let load = dump
        .records
        .iter()
        .find(|r| matches!(r.body, RecordBody::CodeLoad(_)))
        .unwrap()
        .offset;
    let mut huge = bytes.clone();
    huge[load + 40..load + 48].copy_from_slice(&u64::MAX.to_ne_bytes());
    let e = read(&huge).unwrap_err();
    assert!(e.starts_with(&error_at(load + 40)), "{e}");
}
