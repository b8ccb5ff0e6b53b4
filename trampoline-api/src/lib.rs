//! The one contract that both trampoline implementations follow
//! (`../shared/SPEC.md` §2–3, §6), so an interpreter can pick the C reference
//! (`trampoline-c`) or the Rust one (`trampoline-rs`) at run time through
//! [`Trampolines`].
//!
//! This crate owns the shared vocabulary only: the calling convention
//! ([`EvalFn`], [`StubFn`], [`Stub`]), the options, the error type, the rules
//! for names and perf-map lines, and (feature `conformance`) the test suite
//! that every implementation must pass. It contains no trampoline code.
//!
//! Dependencies: `thiserror` for the error type; `rusty-fork` (feature
//! `conformance` only) because every conformance test needs a process of its
//! own: the perf map path is keyed by pid; `jitdump` (feature `conformance`)
//! to read the dumps of the jitdump backend back; `criterion` (feature `bench`) for
//! the benchmarks both implementations share.

use std::ffi::c_void;
use std::fmt;
use std::io;
use std::path::PathBuf;

#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "conformance")]
pub mod conformance;

/// The evaluator: `ret eval(state, frame, arg)`, three pointer-sized
/// arguments, C ABI.
pub type EvalFn =
    unsafe extern "C" fn(state: *mut c_void, frame: *mut c_void, arg: *mut c_void) -> *mut c_void;

/// A trampoline: `ret tramp(state, frame, arg, eval)` calls `eval(state,
/// frame, arg)` (a real call, so its return address stays on the stack) and
/// returns the result unchanged.
pub type StubFn = unsafe extern "C" fn(
    state: *mut c_void,
    frame: *mut c_void,
    arg: *mut c_void,
    eval: EvalFn,
) -> *mut c_void;

/// Which file names the stubs for perf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `/tmp/perf-<pid>.map`, for frame-pointer unwinding (`perf record -g`).
    PerfMap,
    /// `/tmp/jit-<pid>.dump` with unwind info, for DWARF unwinding (SPEC §7).
    /// Implementations that do not have it yet return [`Error::Unsupported`].
    JitDump,
}

/// How a trampoline set is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub backend: Backend,
    /// After `fork`, start the child's map as a copy of the parent's entries
    /// instead of an empty one (SPEC §6).
    pub persist_after_fork: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::PerfMap,
            persist_after_fork: false,
        }
    }
}

/// One compiled trampoline: executable code owned by its set, valid until the
/// set is torn down.
#[derive(Clone, Copy)]
pub struct Stub {
    entry: StubFn,
    size: usize,
}

impl Stub {
    /// # Safety
    /// `entry` must point at executable code that follows the [`StubFn`]
    /// contract and stays mapped as long as the `Stub` is used.
    pub unsafe fn from_raw(entry: *const u8, size: usize) -> Stub {
        Stub {
            entry: std::mem::transmute::<*const u8, StubFn>(entry),
            size,
        }
    }

    /// Start address of the code.
    pub fn addr(&self) -> usize {
        self.entry as usize
    }

    /// Code size in bytes (what the map names, not the padded slot).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Calls `eval(state, frame, arg)` through this stub.
    ///
    /// # Safety
    /// The stub's set must not have been torn down, and `eval` must be safe to
    /// call with these arguments.
    #[inline(always)]
    pub unsafe fn call(
        &self,
        state: *mut c_void,
        frame: *mut c_void,
        arg: *mut c_void,
        eval: EvalFn,
    ) -> *mut c_void {
        (self.entry)(state, frame, arg, eval)
    }
}

impl fmt::Debug for Stub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stub({:#x}, {} bytes)", self.addr(), self.size)
    }
}

/// Everything that can go wrong in a trampoline set. Messages are one line
/// and name the file or the resource.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("refusing to open {path}: it is a symbolic link (remove it; nothing was written through it)")]
    Symlink { path: PathBuf },
    /// The file at the backend's path is not ours alone (another user's, open
    /// to others, hard-linked, not a regular file): it is left as it was.
    #[error("refusing to use {path}: {reason} (remove it; nothing was written to it)")]
    UnsafeFile { path: PathBuf, reason: String },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot write to {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    /// A write of an entry failed (a full disk, a file size limit): the file
    /// was cut back to end with its last whole entry, and the set writes
    /// nothing more to it. Reported once; later entries succeed unwritten.
    #[error("cannot write to {path}: {source}; it ends with its last whole entry and nothing more will be written to it")]
    WriteStopped { path: PathBuf, source: io::Error },
    #[error("cannot map memory for trampolines: {0}")]
    Memory(io::Error),
    #[error("trampoline set is not usable: {0}")]
    Unusable(String),
    #[error("{0} is not supported by this implementation")]
    Unsupported(String),
}

/// The operations every implementation offers, with the same meaning.
///
/// A set is shared between threads: `compile` and `write_entry` may be called
/// concurrently, and each map line still reaches the file whole.
///
/// The file is always left ending with a whole line (or record): when a
/// write fails or is cut short (a full disk), what reached the file is cut
/// off again, the call returns [`Error::WriteStopped`], and from then on the
/// set writes nothing more (`compile` still makes stubs, `write_entry`
/// accepts entries): the failure is reported once, not once per function.
pub trait Trampolines: Send + Sync {
    /// Opens (creates, mode 0600) the backend's file for this process and
    /// readies the first arena. A file at the path that is not this user's
    /// alone (another owner, group or other access, more than one link, not
    /// a regular file) is refused with [`Error::UnsafeFile`] and left as it
    /// was (the dump is truncated only after that check); a symlink there
    /// with [`Error::Symlink`].
    fn create(options: Options) -> Result<Self, Error>
    where
        Self: Sized;

    /// `"c"` or `"rust"`.
    fn implementation(&self) -> &'static str;

    /// Makes a new stub and names it `name` in the map (one line, written
    /// whole). Control characters in `name` are replaced (see
    /// [`sanitize_name`]).
    fn compile(&self, name: &str) -> Result<Stub, Error>;

    /// Adds an entry for code this set did not make (a JIT, a second
    /// interpreter): `<addr> <size> <name>`.
    fn write_entry(&self, addr: usize, size: usize, name: &str) -> Result<(), Error>;

    /// Call in the child right after `fork`: switches to the child's own file
    /// (`/tmp/perf-<childpid>.map`), fresh or a copy of the parent's entries
    /// per [`Options::persist_after_fork`] (exactly those it had written when
    /// the fork happened, none the parent added since). Existing stubs stay
    /// mapped and callable.
    fn after_fork_child(&self) -> Result<(), Error>;

    /// The file this set writes now.
    fn output_path(&self) -> PathBuf;

    /// Unmaps every arena and closes the file.
    ///
    /// # Safety
    /// No stub of this set may be executing or called afterwards. Dropping a
    /// set without teardown closes the file but leaves the code mapped, which
    /// is always safe.
    unsafe fn teardown(self: Box<Self>);
}

/// `/tmp/perf-<pid>.map`, the path perf reads.
pub fn perf_map_path(pid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{pid}.map"))
}

/// `/tmp/jit-<pid>.dump`, the path `perf inject --jit` looks for.
pub fn jit_dump_path(pid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/jit-{pid}.dump"))
}

/// The character that replaces every control character in a name, so a line
/// can never be split or truncated by it.
pub const NAME_REPLACEMENT: char = '?';

/// Replaces control characters (`\n`, `\r`, NUL, DEL, …) with
/// [`NAME_REPLACEMENT`]. Both implementations apply exactly this rule.
pub fn sanitize_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { NAME_REPLACEMENT } else { c })
        .collect()
}

/// One perf map line: `<start> <size> <name>`, hex without `0x`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    pub start: usize,
    pub size: usize,
    pub name: String,
}

impl MapEntry {
    /// Parses one line (without its newline); `None` if it is not of the
    /// form perf reads.
    pub fn parse(line: &str) -> Option<MapEntry> {
        let mut parts = line.splitn(3, ' ');
        let start = parts.next()?;
        let size = parts.next()?;
        let name = parts.next()?;
        let is_hex = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !is_hex(start) || !is_hex(size) || name.is_empty() {
            return None;
        }
        Some(MapEntry {
            start: usize::from_str_radix(start, 16).ok()?,
            size: usize::from_str_radix(size, 16).ok()?,
            name: name.to_string(),
        })
    }

    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.start && addr < self.start + self.size
    }
}

impl fmt::Display for MapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x} {:x} {}", self.start, self.size, self.name)
    }
}

/// A perf map read back: its entries in file order, and every rule of a
/// well-formed map (contract §3) that the file breaks, one line each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapCheck {
    pub entries: Vec<MapEntry>,
    pub problems: Vec<String>,
}

/// Checks a perf map's text: every line `<start> <size> <name>` ending in a
/// newline (a torn last line is what a failed write leaves), names distinct,
/// address ranges not overlapping. Used by the tests and the harness alike.
pub fn check_map(text: &str) -> MapCheck {
    let mut check = MapCheck::default();
    for line in text.lines() {
        match MapEntry::parse(line) {
            Some(entry) => check.entries.push(entry),
            None => check.problems.push(format!("malformed map line {line:?}")),
        }
    }
    if !text.is_empty() && !text.ends_with('\n') {
        check
            .problems
            .push("the last line has no newline: a torn write".into());
    }
    let mut names = std::collections::BTreeSet::new();
    for e in &check.entries {
        if !names.insert(e.name.as_str()) {
            check
                .problems
                .push(format!("name {} appears twice", e.name));
        }
    }
    let mut sorted: Vec<&MapEntry> = check.entries.iter().collect();
    sorted.sort_by_key(|e| e.start);
    for pair in sorted.windows(2) {
        if pair[0].start + pair[0].size > pair[1].start {
            check
                .problems
                .push(format!("{} overlaps {}", pair[0].name, pair[1].name));
        }
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_checks_name_every_broken_rule() {
        let good = check_map("10 4 py::a:/x\n14 4 py::b:/x\n");
        assert_eq!(good.problems, Vec::<String>::new());
        assert_eq!(good.entries.len(), 2);
        let bad = check_map("10 8 py::a:/x\n14 8 py::b:/x\n20 8 py::a:/x\n0x30 8 py::c\n7f");
        assert_eq!(
            bad.problems,
            [
                "malformed map line \"0x30 8 py::c\"",
                "malformed map line \"7f\"",
                "the last line has no newline: a torn write",
                "name py::a:/x appears twice",
                "py::a:/x overlaps py::b:/x"
            ]
        );
    }

    #[test]
    fn sanitize_replaces_every_control_character() {
        assert_eq!(sanitize_name("a\nb\rc\0d\x7fe"), "a?b?c?d?e");
        assert_eq!(sanitize_name("py::K.m.<locals>.é"), "py::K.m.<locals>.é");
    }

    #[test]
    fn map_entry_round_trips_and_rejects_0x() {
        let e = MapEntry::parse("7f00ab 8 py::foo:/x.py").unwrap();
        assert_eq!(
            (e.start, e.size, e.name.as_str()),
            (0x7f00ab, 8, "py::foo:/x.py")
        );
        assert_eq!(e.to_string(), "7f00ab 8 py::foo:/x.py");
        assert!(e.contains(0x7f00ab + 7) && !e.contains(0x7f00ab + 8));
        assert_eq!(MapEntry::parse("0x7f00ab 8 py::foo"), None);
        assert_eq!(MapEntry::parse("7F00AB 8 py::foo"), None);
        assert_eq!(MapEntry::parse("7f00ab 8"), None);
    }
}
