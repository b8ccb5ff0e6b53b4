//! Ctrl-C as CPython handles it: SIGINT only sets a flag; the interpreter
//! looks at the flag at every call and every loop iteration (one load
//! and a predictable branch) and raises `KeyboardInterrupt` there, so
//! buffered output is flushed and `except KeyboardInterrupt` works. An
//! uncaught one ends the process by SIGINT after the traceback, as
//! CPython's does (the shell sees 130).
//!
//! The handler is written here with `libc` rather than a signal crate:
//! the flag must be a plain static for the check to stay one load.

use crate::errors::Exc;
use crate::object::ExcType;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Async-signal-safe: one atomic store.
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Installs the SIGINT handler, unless SIGINT is ignored (as for a
/// background job of a non-interactive shell: CPython then leaves it
/// ignored too). No `SA_RESTART`, so a blocking call such as `sleep`
/// returns early and can raise at once.
pub fn install() {
    // SAFETY: plain sigaction calls on valid, zeroed structs; the handler
    // only stores to an atomic.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) != 0
            || old.sa_sigaction == libc::SIG_IGN
        {
            return;
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Keeps SIGINT away from the calling thread, so that it reaches the
/// interpreter thread (and interrupts its blocking calls).
pub fn block_in_this_thread() {
    // SAFETY: pthread_sigmask on a valid, initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Whether a SIGINT is waiting to be raised.
#[inline(always)]
pub fn pending() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// The `KeyboardInterrupt` for a pending SIGINT (clearing it), if any.
#[cold]
pub fn take() -> Option<Exc> {
    INTERRUPTED
        .swap(false, Ordering::Relaxed)
        .then(|| Exc::with_args(ExcType::KeyboardInterrupt, Vec::new()))
}

/// `Err(KeyboardInterrupt)` when a SIGINT is pending.
#[inline(always)]
pub fn check() -> Result<(), Exc> {
    if pending() {
        if let Some(e) = take() {
            return Err(e);
        }
    }
    Ok(())
}

/// Ends the process the way an uncaught `KeyboardInterrupt` ends CPython:
/// killed by SIGINT, so that a calling shell stops too.
pub fn exit_by_sigint() -> ! {
    // SAFETY: restores the default action and raises the signal in this
    // thread (the only one that does not block it).
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGINT);
    }
    std::process::exit(130)
}
