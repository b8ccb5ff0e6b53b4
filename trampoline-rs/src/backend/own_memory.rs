//! Copying bytes of this process's memory that may not be readable (code
//! named by `write_entry`, given as a bare address), so that a bad address
//! is an error and not a crash: `process_vm_readv` on ourselves reports
//! `EFAULT` instead of faulting; where a seccomp filter forbids it,
//! `/proc/self/mem` does the same.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The `len` bytes at `addr`, or why they cannot be read.
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
    let result = if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    };
    match result {
        Ok(n) if n == len => Ok(buf),
        Ok(n) => Err(unreadable(addr, len, format!("only {n} bytes are mapped"))),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
            File::open("/proc/self/mem")
                .and_then(|mem| mem.read_exact_at(&mut buf, addr as u64))
                .map_err(|e| unreadable(addr, len, e.to_string()))?;
            Ok(buf)
        }
        Err(e) => Err(unreadable(addr, len, e.to_string())),
    }
}

fn unreadable(addr: usize, len: usize, why: String) -> io::Error {
    io::Error::other(format!(
        "cannot copy the {len} bytes of code at {addr:#x} into the dump: {why}"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_mapped_bytes_and_refuses_unmapped_ones() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(super::read(data.as_ptr() as usize, 256).unwrap(), data);
        let err = super::read(8, 16).unwrap_err();
        assert!(err.to_string().contains("0x8"), "{err}");
        assert!(super::read(0, 0).unwrap().is_empty());
    }
}
