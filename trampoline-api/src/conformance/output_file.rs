//! How both backends treat their output file when it is not theirs alone,
//! or when the disk will not take an entry (`docs/contract-notes.md`):
//!
//! - a file planted at the path (another user's, open to others, a hard
//!   link, a FIFO) is refused with [`Error::UnsafeFile`] and left exactly
//!   as it was;
//! - a failed or short write cuts the file back to its last whole entry,
//!   is reported once as [`Error::WriteStopped`], and from then on the set
//!   makes stubs without writing anything more.
//!
//! Write failures are provoked two ways: a file size limit (`RLIMIT_FSIZE`,
//! with `SIGXFSZ` ignored), which works for any user, and a full 16 KiB
//! tmpfs on `/tmp` in a private mount namespace of a forked child (skipped,
//! with the reason printed, where no such namespace can be made). A
//! read-only `/tmp` made the same way must stay one open error.

use super::{compile, create, TestFile};
use crate::{jit_dump_path, perf_map_path, Backend, Error, MapEntry, Options, Trampolines};
use std::ffi::{c_void, CString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn options(backend: Backend) -> Options {
    Options {
        backend,
        persist_after_fork: false,
    }
}

/// The file `backend` writes for process `pid`.
pub fn output_path(backend: Backend, pid: u32) -> PathBuf {
    match backend {
        Backend::PerfMap => perf_map_path(pid),
        Backend::JitDump => jit_dump_path(pid),
    }
}

/// The names of the entries in a backend's file, or why the file does not
/// end with a whole entry (a torn line, a record cut short).
fn whole_entries(backend: Backend, bytes: &[u8]) -> Result<Vec<String>, String> {
    match backend {
        Backend::PerfMap => {
            let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
            if !text.is_empty() && !text.ends_with('\n') {
                let torn = text.rsplit('\n').next().unwrap_or(text);
                return Err(format!("the map ends in a torn line {torn:?}"));
            }
            text.lines()
                .map(|l| {
                    MapEntry::parse(l)
                        .map(|e| e.name)
                        .ok_or_else(|| format!("malformed map line {l:?}"))
                })
                .collect()
        }
        Backend::JitDump => jitdump::parse(bytes)
            .map(|d| d.code_loads().map(|l| l.name.clone()).collect())
            .map_err(|e| e.to_string()),
    }
}

unsafe extern "C" fn add_one(_: *mut c_void, _: *mut c_void, arg: *mut c_void) -> *mut c_void {
    (arg as usize).wrapping_add(1) as *mut c_void
}

fn call_add_one(stub: &crate::Stub, value: usize) -> usize {
    let null = std::ptr::null_mut();
    unsafe { stub.call(null, null, value as *mut c_void, add_one) as usize }
}

/// After the set stopped writing: stubs are still made and run, and a
/// foreign entry is accepted, but nothing reaches the file.
fn check_stopped<T: Trampolines>(set: &T, file: &Path, written: &[String], backend: Backend) {
    let before = std::fs::read(file).expect("read the output file");
    for i in 0..5 {
        let stub = set
            .compile(&format!("py::after_stop{i}"))
            .unwrap_or_else(|e| panic!("compile after the set stopped writing: {e}"));
        assert_eq!(call_add_one(&stub, i), i + 1, "a stub made after the stop");
    }
    // A readable address, so the jitdump backend could copy its bytes.
    set.write_entry(add_one as *const () as usize, 8, "jit::after_stop")
        .unwrap_or_else(|e| panic!("write_entry after the set stopped writing: {e}"));
    let after = std::fs::read(file).expect("read the output file");
    assert!(
        after == before,
        "the set wrote {} more bytes after it stopped writing",
        after.len() as i64 - before.len() as i64
    );
    let names =
        whole_entries(backend, &after).unwrap_or_else(|why| panic!("{}: {why}", file.display()));
    assert_eq!(names, written, "the entries left in {}", file.display());
}

/// Runs `f` while no file of this process may grow past `limit` bytes
/// (writes past it fail with `EFBIG`, `SIGXFSZ` is ignored), then restores
/// the limit. Nothing may be printed meanwhile: the test's output is a file.
fn with_file_size_limit<R>(limit: u64, f: impl FnOnce() -> R) -> R {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut old), 0);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limited = libc::rlimit {
            rlim_cur: limit,
            rlim_max: old.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limited), 0);
    }
    let result = f();
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &old) }, 0);
    result
}

/// A write cut short by a file size limit: the entry that did not fit is
/// removed again, the error comes once, and the set stays stopped even when
/// writing would succeed again.
pub fn failed_write_leaves_whole_entries_and_stops<T: Trampolines>(backend: Backend) {
    let file = TestFile::new(output_path(backend, std::process::id()));
    let set = create::<T>(options(backend));
    let written: Vec<String> = (0..3).map(|i| format!("py::before{i}")).collect();
    for name in &written {
        compile(&set, name);
    }
    let size = file.read().len() as u64;
    // Ten more bytes fit: the next entry reaches the file only in part.
    let result = with_file_size_limit(size + 10, || set.compile("py::cut_short"));
    match result {
        Err(Error::WriteStopped { path, source }) => {
            assert_eq!(path, file.path());
            assert_eq!(source.raw_os_error(), Some(libc::EFBIG), "{source}");
        }
        Err(other) => panic!("expected Error::WriteStopped, got: {other}"),
        Ok(_) => panic!("a write past the file size limit succeeded"),
    }
    check_stopped(&set, file.path(), &written, backend);
}

/// Forks; the child runs `child` and exits with its code (a panic is 101).
/// Returns the child's exit code.
fn exit_code_of_child(child: impl FnOnce() -> i32) -> i32 {
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: wait status {status}");
    libc::WEXITSTATUS(status)
}

/// The exit code of a child that could not make a private `/tmp`.
const SKIPPED: i32 = 77;

fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn write_proc_file(name: &str, text: &str) -> Result<(), String> {
    std::fs::write(format!("/proc/self/{name}"), text).map_err(|e| format!("{name}: {e}"))
}

/// In a single-threaded child: a mount namespace of its own (inside a user
/// namespace that maps only its own ids, when not root) whose `/tmp` is a
/// fresh tmpfs of `size` bytes, read-only if asked. The mounts are private
/// first, so nothing propagates to the rest of the machine.
fn private_small_tmp(size: usize, read_only: bool) -> Result<(), String> {
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 {
        if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
            return Err(os_error("unshare(CLONE_NEWNS)"));
        }
    } else {
        if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
            return Err(os_error("unshare(CLONE_NEWUSER|CLONE_NEWNS)"));
        }
        write_proc_file("setgroups", "deny")?;
        write_proc_file("uid_map", &format!("{uid} {uid} 1"))?;
        write_proc_file("gid_map", &format!("{gid} {gid} 1"))?;
    }
    let root = CString::new("/").unwrap();
    let private = libc::MS_REC | libc::MS_PRIVATE;
    let done = unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            private,
            std::ptr::null(),
        )
    };
    if done != 0 {
        return Err(os_error("making the mounts private"));
    }
    let (tmpfs, tmp) = (
        CString::new("tmpfs").unwrap(),
        CString::new("/tmp").unwrap(),
    );
    let data = CString::new(format!("size={size},mode=1777")).unwrap();
    let flags = if read_only { libc::MS_RDONLY } else { 0 };
    let done = unsafe {
        libc::mount(
            tmpfs.as_ptr(),
            tmp.as_ptr(),
            tmpfs.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if done != 0 {
        return Err(os_error("mounting a tmpfs on /tmp"));
    }
    Ok(())
}

/// The size in bytes of the file system that holds `path`.
fn file_system_size(path: &str) -> u64 {
    let path = CString::new(path).unwrap();
    let mut fs: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut fs) }, 0);
    fs.f_blocks as u64 * fs.f_frsize as u64
}

/// A full `/tmp` (a 16 KiB tmpfs in a private mount namespace, as the
/// reliability probe measured it): entries until the disk is full, then the
/// same as [`failed_write_leaves_whole_entries_and_stops`] with `ENOSPC`.
pub fn full_tmp_leaves_whole_entries_and_stops<T: Trampolines>(backend: Backend) {
    const TMP_SIZE: usize = 16 * 1024;
    let code = exit_code_of_child(|| {
        if let Err(why) = private_small_tmp(TMP_SIZE, false) {
            eprintln!("skipped: no private 16 KiB /tmp can be made here ({why})");
            return SKIPPED;
        }
        let file = output_path(backend, std::process::id());
        let set = create::<T>(options(backend));
        let mut written = Vec::new();
        let error = loop {
            let name = format!("py::function_{}:/src/many.py", written.len());
            match set.compile(&name) {
                Ok(_) => written.push(name),
                Err(e) => break e,
            }
            assert!(written.len() < TMP_SIZE, "a 16 KiB /tmp never filled up");
        };
        match error {
            Error::WriteStopped { path, source } => {
                assert_eq!(path, file);
                assert_eq!(source.raw_os_error(), Some(libc::ENOSPC), "{source}");
            }
            other => panic!("expected Error::WriteStopped, got: {other}"),
        }
        check_stopped(&set, &file, &written, backend);
        0
    });
    assert!(
        file_system_size("/tmp") > TMP_SIZE as u64,
        "the child's small /tmp is visible outside its namespace"
    );
    assert!(
        code == 0 || code == SKIPPED,
        "the child failed (exit {code}); its message is above"
    );
}

/// A read-only `/tmp`: `create` fails with one [`Error::Open`] naming the
/// file (the caller then runs without this backend).
pub fn read_only_tmp_is_an_open_error<T: Trampolines>(backend: Backend) {
    let code = exit_code_of_child(|| {
        if let Err(why) = private_small_tmp(16 * 1024, true) {
            eprintln!("skipped: no private read-only /tmp can be made here ({why})");
            return SKIPPED;
        }
        match T::create(options(backend)) {
            Err(Error::Open { path, source }) => {
                assert_eq!(path, output_path(backend, std::process::id()));
                assert_eq!(source.raw_os_error(), Some(libc::EROFS), "{source}");
            }
            Err(other) => panic!("expected Error::Open, got: {other}"),
            Ok(_) => panic!("a set was created on a read-only /tmp"),
        }
        0
    });
    assert!(
        code == 0 || code == SKIPPED,
        "the child failed (exit {code}); its message is above"
    );
}

/// What a test plants at the output path before the set opens it.
#[derive(Clone, Copy, Debug)]
pub enum Planted {
    /// A file of another user (uid 65534), mode 0666: needs root to plant.
    OtherUsersFile,
    /// Our own file, but mode 0666: others could write it.
    OpenToOthers,
    /// A hard link to another file of ours.
    HardLink,
    /// A FIFO, with a reader so that opening it for writing does not block.
    Fifo,
}

const PLANTED_TEXT: &str = "planted 1 line\n";

/// `create` must refuse what is planted at the path and leave it, and
/// whatever it links to, exactly as it was.
pub fn planted_file_is_refused<T: Trampolines>(backend: Backend, planted: Planted) {
    let path = output_path(backend, std::process::id());
    assert!(
        std::fs::symlink_metadata(&path).is_err(),
        "{} already exists",
        path.display()
    );
    let at_path = TestFile::new(path.clone());
    let other = TestFile::new(
        std::env::temp_dir().join(format!("trampoline-planted-target-{}", std::process::id())),
    );
    let mut fifo_reader = None;
    match planted {
        Planted::OtherUsersFile => {
            if unsafe { libc::geteuid() } != 0 {
                eprintln!("skipped: planting another user's file needs root");
                return;
            }
            std::fs::write(&path, PLANTED_TEXT).unwrap();
            std::fs::set_permissions(&path, PermissionsExt::from_mode(0o666)).unwrap();
            std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        }
        Planted::OpenToOthers => {
            std::fs::write(&path, PLANTED_TEXT).unwrap();
            std::fs::set_permissions(&path, PermissionsExt::from_mode(0o666)).unwrap();
        }
        Planted::HardLink => {
            std::fs::write(other.path(), PLANTED_TEXT).unwrap();
            std::fs::set_permissions(other.path(), PermissionsExt::from_mode(0o600)).unwrap();
            std::fs::hard_link(other.path(), &path).unwrap();
        }
        Planted::Fifo => {
            let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
            let reader = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK) };
            assert!(reader >= 0, "open the FIFO for reading");
            fifo_reader = Some(reader);
        }
    }
    let before = std::fs::symlink_metadata(&path).unwrap();

    let result = T::create(options(backend));

    let after = std::fs::symlink_metadata(&path).unwrap();
    let mut in_fifo = [0u8; 64];
    let fifo_bytes = fifo_reader.map_or(0, |fd| unsafe {
        let n = libc::read(fd, in_fifo.as_mut_ptr().cast(), in_fifo.len());
        libc::close(fd);
        n.max(0)
    });
    match result {
        Err(Error::UnsafeFile { path: p, reason }) => {
            assert_eq!(p, path, "{reason}");
        }
        // Where fs.protected_regular is on, even root may not open another
        // user's file in a sticky directory with O_CREAT: refused as well.
        Err(Error::Open { path: p, source })
            if matches!(planted, Planted::OtherUsersFile)
                && source.raw_os_error() == Some(libc::EACCES) =>
        {
            assert_eq!(p, path);
            eprintln!(
                "note: the kernel refused to open {} ({source})",
                p.display()
            );
        }
        Err(other) => panic!("expected Error::UnsafeFile for {planted:?}, got: {other}"),
        Ok(_) => panic!("{planted:?} at {} was accepted", path.display()),
    }
    assert_eq!(
        (after.uid(), after.mode(), after.nlink()),
        (before.uid(), before.mode(), before.nlink()),
        "the planted {planted:?} changed owner, mode or links"
    );
    assert_eq!(fifo_bytes, 0, "bytes were written into the FIFO");
    if !matches!(planted, Planted::Fifo) {
        assert_eq!(
            at_path.read(),
            PLANTED_TEXT.as_bytes(),
            "the planted {planted:?} was written or truncated"
        );
    }
}

/// A fork child whose own file is refused (here: a symlink it planted)
/// gets the refusal from `after_fork_child`, and its later calls never reach
/// the parent's file.
pub fn fork_child_refused_its_file_never_writes_the_parents<T: Trampolines>(backend: Backend) {
    let parent_file = TestFile::new(output_path(backend, std::process::id()));
    let set = create::<T>(options(backend));
    compile(&set, "py::parent_function");
    let before = parent_file.read();
    let (_, _child_file) = super::fork_gated(
        |pid| TestFile::new(output_path(backend, pid)),
        || {
            let own = output_path(backend, std::process::id());
            let target = own.with_extension("nowhere");
            std::os::unix::fs::symlink(&target, &own).unwrap();
            let switched = set.after_fork_child();
            assert!(
                matches!(&switched, Err(Error::Symlink { path }) if *path == own),
                "after_fork_child with a symlink at {}: {switched:?}",
                own.display()
            );
            // Errors or not, these must not reach the parent's file.
            let _ = set.compile("py::child_function");
            let _ = set.write_entry(add_one as *const () as usize, 8, "jit::child");
            !target.exists()
        },
    );
    assert!(
        parent_file.read() == before,
        "the child wrote into the parent's {}",
        parent_file.path().display()
    );
}
