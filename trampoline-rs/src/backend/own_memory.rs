//! Copying bytes of this process's memory that may not be readable (code
//! named by `write_entry`, given as a bare address), so that a bad address
//! is an error and not a crash. A range that is not wholly readable is
//! `EFAULT`, whichever way it is read (docs/contract-notes-aarch64.md):
//! `process_vm_readv` on ourselves checks the range; where it is
//! unavailable (`ENOSYS` under qemu-user, `EPERM` under seccomp) a pipe
//! does the same. (`/proc/self/mem` would not: it says `EIO`, and reads
//! `PROT_NONE` pages.)

use std::io;

/// The `len` bytes at `addr`, or why they cannot be read (`EFAULT` when
/// the range is not wholly readable).
pub fn read(addr: usize, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    if len == 0 {
        return Ok(buf);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: `local` is our writable buffer of `len` bytes; the kernel
    // checks `remote` and fails with EFAULT instead of touching bad memory.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    if n == len as isize {
        return Ok(buf);
    }
    if n >= 0 {
        // Only the start of the range is mapped.
        return Err(io::Error::from_raw_os_error(libc::EFAULT));
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::ENOSYS | libc::EPERM) => through_pipe(addr, &mut buf).map(|()| buf),
        _ => Err(error),
    }
}

/// The fallback of [`read`]: `write(2)` from the range into a fresh pipe
/// checks it as `process_vm_readv` does, and the bytes are read back. A
/// page at a time: an empty pipe always takes that much without blocking.
fn through_pipe(addr: usize, buf: &mut [u8]) -> io::Result<()> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let result = (|| {
        let mut have = 0;
        while have < buf.len() {
            let chunk = (buf.len() - have).min(4096);
            // SAFETY: the kernel reads the range and fails with EFAULT
            // instead of touching memory that is not readable.
            let n = unsafe { libc::write(fds[1], (addr + have) as *const libc::c_void, chunk) };
            if n < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            if n == 0 {
                return Err(io::Error::from_raw_os_error(libc::EFAULT));
            }
            let n = n as usize;
            // SAFETY: `buf[have..have + n]` is ours and writable.
            let got = unsafe { libc::read(fds[0], buf[have..].as_mut_ptr().cast(), n) };
            if got != n as isize {
                return Err(io::Error::other(
                    "the pipe gave back fewer bytes than it took",
                ));
            }
            have += n;
        }
        Ok(())
    })();
    // SAFETY: closing the two descriptors made above.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mapped_bytes_and_refuses_unmapped_ones() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(read(data.as_ptr() as usize, 256).unwrap(), data);
        let err = read(8, 16).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EFAULT), "{err}");
        assert!(read(0, 0).unwrap().is_empty());
    }

    #[test]
    fn the_pipe_copies_several_pages_and_refuses_what_is_not_readable() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut copy = vec![0u8; data.len()];
        through_pipe(data.as_ptr() as usize, &mut copy).unwrap();
        assert_eq!(copy, data);
        let err = through_pipe(0x1000, &mut [0u8; 8]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EFAULT), "{err}");
    }
}
