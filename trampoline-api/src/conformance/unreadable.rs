//! Code that `write_entry` cannot read (docs/contract-notes-aarch64.md):
//! whatever way an implementation reads its own memory, a range that is not
//! wholly mapped readable is `Error::Write` carrying `EFAULT`, adds nothing
//! to the dump, and leaves the set usable. Checked with `process_vm_readv`
//! and without it (a seccomp filter makes it fail with `ENOSYS`, as
//! qemu-user and some sandboxes do), so the fallback path runs natively too.

use super::{create, DumpWatch};
use crate::{Backend, Error, Options, Trampolines};
use std::io;

/// Expands to the tests for `$imp`, each in its own process (the seccomp
/// filter cannot be removed once installed).
#[macro_export]
macro_rules! unreadable_code_tests {
    ($imp:ty) => {
        use $crate::conformance::rusty_fork::rusty_fork_test;
        $crate::conformance::rusty_fork::rusty_fork_test! {
            #[test]
            fn unreadable_code_is_efault_with_process_vm_readv() {
                $crate::conformance::unreadable_code_is_efault::<$imp>(
                    $crate::conformance::Reading::AsTheSystemAllows,
                );
            }
            #[test]
            fn unreadable_code_is_efault_without_process_vm_readv() {
                $crate::conformance::unreadable_code_is_efault::<$imp>(
                    $crate::conformance::Reading::WithoutProcessVmReadv,
                );
            }
        }
    };
}

/// Which way the implementation may read its memory during the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    AsTheSystemAllows,
    /// `process_vm_readv` fails with `ENOSYS` for this thread.
    WithoutProcessVmReadv,
}

/// Two fresh pages: the first readable, the second mapped without any
/// access, for as long as this lives.
struct Pages {
    addr: usize,
    page: usize,
}

impl Pages {
    fn new() -> Pages {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: a fresh anonymous mapping, touched by no one else.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(
            addr,
            libc::MAP_FAILED,
            "mmap: {}",
            io::Error::last_os_error()
        );
        let second = (addr as usize + page) as *mut libc::c_void;
        // SAFETY: the second page of our own mapping.
        let r = unsafe { libc::mprotect(second, page, libc::PROT_NONE) };
        assert_eq!(r, 0, "mprotect: {}", io::Error::last_os_error());
        Pages {
            addr: addr as usize,
            page,
        }
    }

    fn no_access(&self) -> usize {
        self.addr + self.page
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unused by anything else.
        unsafe { libc::munmap(self.addr as *mut libc::c_void, 2 * self.page) };
    }
}

/// The contract above, for each kind of unreadable range.
pub fn unreadable_code_is_efault<T: Trampolines>(reading: Reading) {
    if reading == Reading::WithoutProcessVmReadv && !forbid_process_vm_readv() {
        return;
    }
    static FOREIGN: [u8; 16] = *b"\x55\x48\x89\xe5\x90\x90\x90\x90\x90\x90\x90\x90\x5d\xc3\xcc\xcc";
    let watch = DumpWatch::this_process();
    let set = create::<T>(Options {
        backend: Backend::JitDump,
        ..Options::default()
    });
    let pages = Pages::new();
    let unreadable: [(&str, usize, usize); 3] = [
        ("never mapped (below mmap_min_addr)", 0x1000, 8),
        ("mapped without read permission", pages.no_access(), 8),
        ("readable start, unreadable end", pages.no_access() - 8, 16),
    ];
    for (what, addr, size) in unreadable {
        match set.write_entry(addr, size, "jit::unreadable") {
            Err(Error::Write { path, source }) => {
                assert_eq!(path, watch.path(), "{what}: the error names another file");
                assert_eq!(
                    source.raw_os_error(),
                    Some(libc::EFAULT),
                    "{what} ({reading:?}): {source}"
                );
            }
            other => {
                panic!("{what} ({reading:?}): expected Error::Write with EFAULT, got {other:?}")
            }
        }
    }
    set.write_entry(FOREIGN.as_ptr() as usize, FOREIGN.len(), "jit::readable")
        .unwrap_or_else(|e| panic!("readable code after the failures ({reading:?}): {e}"));
    let dump = watch.dump();
    let loads: Vec<(&str, &[u8])> = dump
        .code_loads()
        .map(|l| (l.name.as_str(), l.code.as_slice()))
        .collect();
    assert_eq!(loads, [("jit::readable", &FOREIGN[..])], "{reading:?}");
}

/// Makes `process_vm_readv` fail with `ENOSYS` for this thread (a seccomp
/// filter). `false`, after saying why, where no filter can be installed and
/// the call is not available anyway (qemu-user): the fallback runs then.
fn forbid_process_vm_readv() -> bool {
    match install_enosys_filter(libc::SYS_process_vm_readv) {
        Ok(()) => {}
        Err(e) => match perf_script::user_mode_emulation() {
            Some(why) if !process_vm_readv_works() => {
                eprintln!(
                    "note: no seccomp filter under emulation ({e}); process_vm_readv is \
                     missing anyway ({why}), so the fallback is what runs"
                );
                return true;
            }
            _ => panic!("cannot install a seccomp filter: {e}"),
        },
    }
    assert!(
        !process_vm_readv_works(),
        "the seccomp filter did not stop process_vm_readv"
    );
    true
}

fn process_vm_readv_works() -> bool {
    let source = [7u8; 4];
    let mut copy = [0u8; 4];
    let local = libc::iovec {
        iov_base: copy.as_mut_ptr().cast(),
        iov_len: copy.len(),
    };
    let remote = libc::iovec {
        iov_base: source.as_ptr() as *mut libc::c_void,
        iov_len: source.len(),
    };
    // SAFETY: both buffers are ours and as long as the iovecs say.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == 4 && copy == source
}

/// A classic BPF seccomp filter: `ENOSYS` for system call `nr` of this
/// architecture, everything else allowed.
fn install_enosys_filter(nr: libc::c_long) -> io::Result<()> {
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    const ARCH_OFFSET: u32 = 4; // struct seccomp_data: nr, arch, ...
    const NR_OFFSET: u32 = 0;
    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    let op = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let program = [
        op(LD_W_ABS, 0, 0, ARCH_OFFSET),
        op(JEQ_K, 0, 3, AUDIT_ARCH),
        op(LD_W_ABS, 0, 0, NR_OFFSET),
        op(JEQ_K, 0, 1, nr as u32),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: plain prctl calls; the kernel copies the program.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
