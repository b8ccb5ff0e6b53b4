//! The jitdump writer (SPEC §7): `/tmp/jit-<pid>.dump`, created so that a
//! symlink at the path is refused, with its header, its first page mapped as
//! the marker perf looks for, and for every stub a `JIT_CODE_UNWINDING_INFO`
//! record (the stub's `.eh_frame` + `.eh_frame_hdr`) then a `JIT_CODE_LOAD`
//! record, both in a single `write(2)`, so neither reaches the file without
//! the other or in pieces.

use super::file::{open_error, write_in_one_call};
use super::marker::Marker;
use super::own_memory;
use super::Sink;
use crate::encode::HostStub;
use jitdump::unwind::layout::perf_mapping_len;
use jitdump::{monotonic_ns, Arch, CodeLoad, Header, RecordBody, UnwindingInfo};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use trampoline_api::{jit_dump_path, sanitize_name, Error};

/// The open dump of this process.
pub struct JitDump {
    /// The file and its marker, or why there is none: a forked child whose
    /// own dump could not be made writes nowhere rather than to the parent's.
    dump: Result<OpenDump, String>,
    path: PathBuf,
    elf_machine: u32,
    /// The same for every stub: its pointers are all relative to the code.
    stub_unwinding: UnwindingInfo,
    stub_spacing: usize,
    next_code_index: u64,
}

struct OpenDump {
    file: File,
    /// Mapped as long as this dump is the one written; unmapped with it.
    _marker: Marker,
}

impl JitDump {
    /// Creates `/tmp/jit-<getpid()>.dump` for stubs like `stub`.
    pub fn for_this_process(stub: &HostStub) -> Result<JitDump, Error> {
        let unwinding = jitdump::build_unwinding_data(&stub.layout)
            .map_err(|e| Error::Unusable(format!("cannot describe the stub for unwinding: {e}")))?;
        let elf_machine = stub.layout.arch.elf_machine();
        debug_assert_eq!(Some(stub.layout.arch), Arch::host());
        let path = jit_dump_path(std::process::id());
        let dump = create(&path, elf_machine, &[])?;
        let spacing = perf_mapping_len(stub.code.len() as u64, unwinding.mapped_size);
        Ok(JitDump {
            dump: Ok(dump),
            path,
            elf_machine,
            stub_unwinding: unwinding.to_record(),
            stub_spacing: spacing as usize,
            next_code_index: 0,
        })
    }

    fn file(&self) -> Result<&File, Error> {
        self.dump
            .as_ref()
            .map(|d| &d.file)
            .map_err(|why| Error::Unusable(why.clone()))
    }

    /// The `JIT_CODE_LOAD` record of `code` at `addr`, with the next index.
    fn code_load(&mut self, addr: usize, code: Vec<u8>, name: &str) -> Result<Vec<u8>, Error> {
        let load = CodeLoad {
            pid: std::process::id(),
            tid: current_tid(),
            vma: addr as u64,
            code_addr: addr as u64,
            code_index: self.next_code_index,
            name: sanitize_name(name),
            code,
        };
        let record = RecordBody::CodeLoad(load)
            .encode(monotonic_ns())
            .map_err(|e| self.write_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        self.next_code_index += 1;
        Ok(record)
    }

    fn write_error(&self, source: io::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            source,
        }
    }
}

impl Sink for JitDump {
    fn add_stub(&mut self, addr: usize, code: &[u8], name: &str) -> Result<(), Error> {
        self.file()?;
        let body = RecordBody::UnwindingInfo(self.stub_unwinding.clone());
        let mut records = body
            .encode(monotonic_ns())
            .map_err(|e| self.write_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        records.extend(self.code_load(addr, code.to_vec(), name)?);
        write_in_one_call(self.file()?, &records, &self.path)
    }

    fn add_foreign(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        self.file()?;
        // No unwinding record: how foreign code keeps its frames is unknown.
        let code = own_memory::read(addr, size).map_err(|e| self.write_error(e))?;
        let record = self.code_load(addr, code, name)?;
        write_in_one_call(self.file()?, &record, &self.path)
    }

    fn after_fork_child(&mut self, persist: bool) -> Result<(), Error> {
        let child_path = jit_dump_path(std::process::id());
        if child_path == self.path {
            // Same pid: this is not a fresh child, or it already switched.
            return Ok(());
        }
        let inherited = match (&self.dump, persist) {
            (Ok(parent), true) => records_for_child(&parent.file, &self.path),
            _ => Ok(Vec::new()),
        };
        // From here on nothing may reach the parent's dump: drop the child's
        // copies of its descriptor and of its marker mapping first.
        self.dump = Err(format!(
            "{} could not be created in this forked child; nothing is written",
            child_path.display()
        ));
        self.path = child_path;
        let records = inherited.as_deref().unwrap_or_default();
        self.dump = Ok(create(&self.path, self.elf_machine, records)?);
        inherited.map(drop)
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn stub_spacing(&self) -> usize {
        self.stub_spacing
    }
}

/// `O_CREAT|O_TRUNC|O_RDWR|O_NOFOLLOW|O_CLOEXEC`, mode 0600; writes the
/// header and `records` in one call, then maps the marker.
fn create(path: &Path, elf_machine: u32, records: &[u8]) -> Result<OpenDump, Error> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    let mut start = Header::new(elf_machine, std::process::id(), monotonic_ns()).encode();
    start.extend_from_slice(records);
    write_in_one_call(&file, &start, path)?;
    let marker = Marker::map(&file, path)?;
    Ok(OpenDump {
        file,
        _marker: marker,
    })
}

/// The parent's whole records (a record it was writing at the moment of
/// `fork` is left out), its code loads made the child's: perf files a code
/// load under the pid in the record.
fn records_for_child(parent: &File, parent_path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = read_whole(parent).map_err(|source| Error::Open {
        path: parent_path.to_path_buf(),
        source,
    })?;
    let unreadable = |e: jitdump::JitdumpError| Error::Open {
        path: parent_path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e),
    };
    let (dump, _cut_short) = jitdump::parse_complete_records(&bytes).map_err(unreadable)?;
    let (pid, tid) = (std::process::id(), current_tid());
    let mut out = Vec::new();
    for mut record in dump.records {
        if let RecordBody::CodeLoad(load) = &mut record.body {
            (load.pid, load.tid) = (pid, tid);
        }
        // Re-encoding what was just decoded cannot fail.
        out.extend(record.encode().unwrap_or_default());
    }
    Ok(out)
}

/// The file's bytes via positional reads: the descriptor's offset is shared
/// with the parent and must not move.
fn read_whole(file: &File) -> io::Result<Vec<u8>> {
    let len = file.metadata()?.len() as usize;
    let mut bytes = vec![0; len];
    let mut done = 0;
    while done < len {
        match file.read_at(&mut bytes[done..], done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(done);
    Ok(bytes)
}

fn current_tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}
