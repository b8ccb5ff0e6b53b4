//! The rules a well-formed dump of ours follows (contract §7), in one place
//! for the trampolines' tests and the harness: [`validate`] lists every rule
//! a readable dump breaks, and [`read_file`] reads a dump found after a run,
//! keeping what precedes a problem; every problem is one line naming the
//! file and the byte (`/tmp/jit-<pid>.dump: jitdump byte N: …`), never a
//! panic.

use crate::{decode_rows, Arch, Dump, RecordBody};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A dump as found after a run.
#[derive(Clone, Debug)]
pub struct DumpFile {
    pub path: PathBuf,
    /// The header and every record before the first problem; `None` when
    /// not even the header could be read.
    pub dump: Option<Dump>,
    /// The first problem, as `<path>: jitdump byte N: …` (or `<path>: <io
    /// error>`).
    pub error: Option<String>,
}

impl DumpFile {
    /// The code-load names in file order (those before any problem).
    pub fn names(&self) -> Vec<&str> {
        self.dump
            .iter()
            .flat_map(|d| d.code_loads())
            .map(|l| l.name.as_str())
            .collect()
    }
}

/// Reads the dump at `path`, keeping what precedes a problem.
pub fn read_file(path: &Path) -> DumpFile {
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let (dump, error) = match std::fs::read(path) {
        Err(e) => (None, Some(shown(&e))),
        Ok(bytes) => match crate::parse_complete_records(&bytes) {
            Err(e) => (None, Some(shown(&e))),
            Ok((dump, problem)) => (Some(dump), problem.map(|e| shown(&e))),
        },
    };
    DumpFile {
        path: path.to_path_buf(),
        dump,
        error,
    }
}

/// Reads a whole dump: any problem is `<path>: jitdump byte N: …`.
pub fn read_whole(path: &Path) -> Result<Dump, String> {
    match read_file(path) {
        DumpFile {
            dump: Some(dump),
            error: None,
            ..
        } => Ok(dump),
        DumpFile { error, .. } => Err(error.unwrap_or_default()),
    }
}

/// What is wrong with a readable dump written by process `pid` on `arch`:
/// the header (that machine, pid, flags 0), each code load's unwinding
/// record (right before it, decodable, covering the code), running code
/// indices, distinct names and non-overlapping code ranges, and timestamps
/// that never go back (perf inject orders the records by them).
pub fn validate(dump: &Dump, pid: u32, arch: Arch) -> Vec<String> {
    let mut problems = Vec::new();
    let header = &dump.header;
    if header.elf_mach != arch.elf_machine() {
        problems.push(format!(
            "header elf_mach {} is not {}'s {}",
            header.elf_mach,
            arch.name(),
            arch.elf_machine()
        ));
    }
    if header.pid != pid {
        problems.push(format!(
            "header pid {} is not the writer's {pid}",
            header.pid
        ));
    }
    if header.flags != 0 {
        problems.push(format!("header flags {:#x} are not 0", header.flags));
    }
    let mut names = BTreeSet::new();
    let mut ranges: Vec<(u64, u64, &str)> = Vec::new();
    let mut loads = 0u64;
    let mut last_timestamp = 0;
    for (i, record) in dump.records.iter().enumerate() {
        let at = record.offset;
        if record.timestamp < last_timestamp {
            problems.push(format!("record at byte {at}: timestamp goes back"));
        }
        last_timestamp = record.timestamp;
        let RecordBody::CodeLoad(load) = &record.body else {
            continue;
        };
        let name = &load.name;
        match i.checked_sub(1).map(|p| &dump.records[p].body) {
            Some(RecordBody::UnwindingInfo(info)) => {
                let rows = decode_rows(
                    info.unwinding_data(),
                    info.eh_frame_hdr_size,
                    load.code.len() as u64,
                );
                if let Err(e) = rows {
                    problems.push(format!("{name}: its unwinding record does not decode: {e}"));
                }
            }
            _ => problems.push(format!(
                "{name} (byte {at}): no unwinding record right before its code load"
            )),
        }
        if load.pid != pid {
            problems.push(format!("{name}: code-load pid {} is not {pid}", load.pid));
        }
        if load.code_index != loads {
            problems.push(format!(
                "{name}: code_index {} where {loads} was next",
                load.code_index
            ));
        }
        loads += 1;
        if load.vma != load.code_addr || load.code.is_empty() {
            problems.push(format!(
                "{name}: vma {:#x}, code_addr {:#x}, {} code bytes",
                load.vma,
                load.code_addr,
                load.code.len()
            ));
        }
        if !names.insert(name.as_str()) {
            problems.push(format!("name {name} appears twice"));
        }
        ranges.push((load.code_addr, load.code.len() as u64, name));
    }
    ranges.sort();
    for pair in ranges.windows(2) {
        if pair[0].0 + pair[0].1 > pair[1].0 {
            problems.push(format!("{} overlaps {}", pair[0].2, pair[1].2));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CodeLoad, FrameRecordStub, Header, Record};

    /// The x86_64 stub of SPEC §2, without `endbr64`.
    const STUB: [u8; 8] = [0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3];

    fn unwinding() -> RecordBody {
        let layout = FrameRecordStub {
            arch: Arch::X86_64,
            after_push: 1,
            after_set_fp: 4,
            after_pop: 7,
            code_size: STUB.len() as u32,
        };
        RecordBody::UnwindingInfo(crate::build_unwinding_data(&layout).unwrap().to_record())
    }

    fn load(name: &str, index: u64) -> RecordBody {
        RecordBody::CodeLoad(CodeLoad {
            pid: 7,
            tid: 7,
            vma: 0x1000 + 16 * index,
            code_addr: 0x1000 + 16 * index,
            code_index: index,
            name: name.into(),
            code: STUB.to_vec(),
        })
    }

    /// A dump of pid 7 with an unwinding record before each code load.
    fn dump_bytes(names: &[&str]) -> Vec<u8> {
        let mut bytes = Header::new(Arch::X86_64.elf_machine(), 7, 1).encode();
        for (i, name) in names.iter().enumerate() {
            for body in [unwinding(), load(name, i as u64)] {
                bytes.extend(body.encode(2 + i as u64).unwrap());
            }
        }
        bytes
    }

    fn parsed(bytes: &[u8]) -> Dump {
        crate::parse(bytes).unwrap()
    }

    #[test]
    fn a_well_formed_dump_has_no_problems() {
        let dump = parsed(&dump_bytes(&["py::<module>:/x.py", "py::foo:/x.py"]));
        assert_eq!(validate(&dump, 7, Arch::X86_64), Vec::<String>::new());
        assert_eq!(
            validate(&dump, 8, Arch::Aarch64)[..2],
            [
                "header elf_mach 62 is not aarch64's 183",
                "header pid 7 is not the writer's 8"
            ]
        );
    }

    #[test]
    fn broken_records_are_named() {
        let mut dump = parsed(&dump_bytes(&["py::a", "py::b", "py::a"]));
        // Drop b's unwinding record, move b onto a's code, skip an index.
        dump.records.remove(2);
        let Record { body, .. } = &mut dump.records[2];
        if let RecordBody::CodeLoad(b) = body {
            b.code_addr = 0x1004;
            b.vma = 0x1004;
        }
        if let RecordBody::CodeLoad(a) = &mut dump.records[4].body {
            a.code_index = 5;
        }
        let b_at = dump.records[2].offset;
        let problems = validate(&dump, 7, Arch::X86_64);
        let expected = [
            &format!("py::b (byte {b_at}): no unwinding record right before its code load"),
            "py::a: code_index 5 where 2 was next",
            "name py::a appears twice",
            "py::a overlaps py::b",
        ];
        for line in expected {
            let line: &str = line;
            assert!(problems.iter().any(|p| p == line), "{line}: {problems:?}");
        }
    }

    #[test]
    fn every_truncation_is_an_error_naming_the_file_and_byte() {
        let bytes = dump_bytes(&["py::<module>:/x.py", "py::foo:/x.py"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jit-7.dump");
        let prefix = format!("{}: jitdump byte ", path.display());
        for len in 0..bytes.len() {
            std::fs::write(&path, &bytes[..len]).unwrap();
            let file = read_file(&path);
            // A cut exactly between records leaves a complete, shorter dump.
            let Some(error) = file.error else {
                assert!(read_whole(&path).is_ok());
                continue;
            };
            assert!(error.starts_with(&prefix), "cut at {len}: {error}");
            assert_eq!(read_whole(&path).unwrap_err(), error);
        }
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_whole(&path).unwrap().code_loads().count(), 2);
        let missing = dir.path().join("jit-8.dump");
        assert!(read_whole(&missing)
            .unwrap_err()
            .starts_with(&format!("{}: ", missing.display())));
    }
}
