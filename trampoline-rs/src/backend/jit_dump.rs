//! The jitdump writer (SPEC §7): `/tmp/jit-<pid>.dump`, created so that a
//! symlink or a file that is not ours alone is refused (and not truncated),
//! with its header, its first page mapped as the marker perf looks for, and
//! for every stub a `JIT_CODE_UNWINDING_INFO` record (the stub's `.eh_frame`
//! and `.eh_frame_hdr`) then a `JIT_CODE_LOAD` record, both in a single
//! `write(2)`, so neither reaches the file without the other or in pieces
//! (records the disk takes only in part are cut off again, and writing
//! stops: `file::Output`).

use super::file::{Opening, Output};
use super::marker::Marker;
use super::own_memory;
use super::Sink;
use crate::encode::HostStub;
use jitdump::unwind::layout::perf_mapping_len;
use jitdump::{monotonic_ns, Arch, CodeLoad, Header, RecordBody, UnwindingInfo};
use std::io;
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
    output: Output,
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

    /// The dump's output, or why there is none.
    fn output(&mut self) -> Result<&mut Output, Error> {
        self.dump
            .as_mut()
            .map(|d| &mut d.output)
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
        if self.output()?.is_stopped() {
            return Ok(());
        }
        let body = RecordBody::UnwindingInfo(self.stub_unwinding.clone());
        let mut records = body
            .encode(monotonic_ns())
            .map_err(|e| self.write_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        records.extend(self.code_load(addr, code.to_vec(), name)?);
        self.output()?.write_entry(&records)
    }

    fn add_foreign(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        if self.output()?.is_stopped() {
            return Ok(());
        }
        // No unwinding record: how foreign code keeps its frames is unknown.
        let code = own_memory::read(addr, size).map_err(|e| self.write_error(e))?;
        let record = self.code_load(addr, code, name)?;
        self.output()?.write_entry(&record)
    }

    fn after_fork_child(&mut self, persist: bool) -> Result<(), Error> {
        let child_path = jit_dump_path(std::process::id());
        if child_path == self.path {
            // Same pid: this is not a fresh child, or it already switched.
            return Ok(());
        }
        // What the parent's set had written at the fork, not what the
        // parent has added to the shared file since.
        let inherited = match (&self.dump, persist) {
            (Ok(parent), true) => records_for_child(&parent.output),
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

/// `O_CREAT|O_RDWR|O_NOFOLLOW|O_CLOEXEC`, mode 0600, truncated once it is
/// known to be ours alone; writes the header and `records` in one call, then
/// maps the marker.
fn create(path: &Path, elf_machine: u32, records: &[u8]) -> Result<OpenDump, Error> {
    let mut output = Output::open(path, Opening::Truncate)?;
    let mut start = Header::new(elf_machine, std::process::id(), monotonic_ns()).encode();
    start.extend_from_slice(records);
    output.write_initial(&start)?;
    let marker = Marker::map(output.file(), path)?;
    Ok(OpenDump {
        output,
        _marker: marker,
    })
}

/// The parent's whole records as they were at the fork (a record cut short
/// is left out), its code loads made the child's: perf files a code load
/// under the pid in the record.
fn records_for_child(parent: &Output) -> Result<Vec<u8>, Error> {
    let bytes = parent.written()?;
    let unreadable = |e: jitdump::JitdumpError| Error::Open {
        path: parent.path().to_path_buf(),
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

fn current_tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}
