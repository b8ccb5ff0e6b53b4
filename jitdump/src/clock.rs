//! Record timestamps. perf orders jitdump records against its samples only
//! when both use `CLOCK_MONOTONIC` (`perf record -k 1`), so that is the only
//! clock this crate writes.

/// Nanoseconds of `CLOCK_MONOTONIC`.
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail with valid arguments.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}
