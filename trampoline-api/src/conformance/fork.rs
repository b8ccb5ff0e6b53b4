//! Forking in a test: the child must not write before the parent watches
//! the child's files, or the watch would skip what it wrote.

/// Forks. The child waits until the parent has called `watch(child_pid)`,
/// then runs `child` and exits with its verdict (a panic counts as `false`;
/// nothing unwinds out of the child). The parent waits for the child,
/// asserts it succeeded, and returns its pid with the watch.
pub fn fork_gated<W>(watch: impl FnOnce(u32) -> W, child: impl FnOnce() -> bool) -> (u32, W) {
    let mut gate = [0 as libc::c_int; 2];
    assert_eq!(unsafe { libc::pipe(gate.as_mut_ptr()) }, 0, "pipe failed");
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut byte = 0u8;
        unsafe {
            libc::close(gate[1]);
            // Returns (0, end of file) once the parent closes its write end.
            libc::read(gate[0], (&mut byte as *mut u8).cast(), 1);
        }
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(false);
        unsafe { libc::_exit(if ok { 0 } else { 3 }) };
    }
    let watched = watch(pid as u32);
    unsafe {
        libc::close(gate[1]);
        libc::close(gate[0]);
    }
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    assert!(exited_ok, "child failed: wait status {status}");
    (pid as u32, watched)
}
