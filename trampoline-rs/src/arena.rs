//! Executable memory for stubs (SPEC §2). An arena is a page-aligned,
//! anonymous, private mapping, filled with copies of the stub while it is
//! read-write and switched to read-execute before any slot is handed out, so
//! no page is ever writable and executable at once. Arenas are kept in a list
//! and are unmapped only by the explicit [`Arenas::unmap_all`].

use crate::encode::HostStub;
use std::io;
use trampoline_api::Error;

/// Bytes per arena (rounded up to the page size where pages are larger).
pub const ARENA_SIZE: usize = 64 * 1024;

/// Every stub starts on this boundary.
pub const SLOT_ALIGN: usize = 16;

/// One mapping of `len` bytes at `base`, read-execute once built.
struct Arena {
    base: *mut u8,
    len: usize,
}

// SAFETY: an arena is plain memory that is never written after it becomes
// executable; the pointer is only an address, safe to move between threads.
unsafe impl Send for Arena {}

impl Arena {
    /// Maps `len` bytes, writes `image` (exactly `len` bytes) into them, then
    /// makes them read-execute and flushes the instruction cache.
    fn build(image: &[u8]) -> Result<Arena, Error> {
        let len = image.len();
        // SAFETY: a fresh anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::Memory(io::Error::last_os_error()));
        }
        let base = base as *mut u8;
        // SAFETY: `base` is `len` writable bytes that we own.
        unsafe { std::ptr::copy_nonoverlapping(image.as_ptr(), base, len) };
        // SAFETY: the same mapping; from here on it is never written again.
        if unsafe { libc::mprotect(base.cast(), len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            let err = io::Error::last_os_error();
            // SAFETY: no slot of this mapping was handed out.
            unsafe { libc::munmap(base.cast(), len) };
            return Err(Error::Memory(err));
        }
        crate::icache::flush(base, len);
        Ok(Arena { base, len })
    }
}

/// The arena list and the next free slot.
pub struct Arenas {
    /// The bytes of one full arena: every slot already holds the stub.
    image: Vec<u8>,
    slot_size: usize,
    code_size: usize,
    arenas: Vec<Arena>,
    /// Slots of the last arena already handed out.
    used_in_last: usize,
}

impl Arenas {
    /// Readies the first arena for `stub`, with stubs at least `spacing`
    /// bytes apart (what the backend needs between two stubs; the code size
    /// if it is larger).
    pub fn new(stub: &HostStub, spacing: usize) -> Result<Arenas, Error> {
        let code_size = stub.code.len();
        let slot_size = code_size.max(spacing).next_multiple_of(SLOT_ALIGN);
        let arena_size = ARENA_SIZE.next_multiple_of(page_size());
        let mut slot = stub.code.clone();
        slot.extend(stub.filler.iter().cycle().take(slot_size - code_size));
        let image: Vec<u8> = slot.iter().copied().cycle().take(arena_size).collect();
        let first = Arena::build(&image)?;
        Ok(Arenas {
            image,
            slot_size,
            code_size,
            arenas: vec![first],
            used_in_last: 0,
        })
    }

    /// Size of the stub's code (what the map names), not of its slot.
    pub fn code_size(&self) -> usize {
        self.code_size
    }

    fn slots_per_arena(&self) -> usize {
        self.image.len() / self.slot_size
    }

    /// The address of a fresh, ready-to-run stub, mapping a new arena when
    /// the last one is full.
    pub fn allocate(&mut self) -> Result<*const u8, Error> {
        if self.used_in_last == self.slots_per_arena() {
            self.arenas.push(Arena::build(&self.image)?);
            self.used_in_last = 0;
        }
        let last = self
            .arenas
            .last()
            .expect("Arenas always holds at least one arena");
        // SAFETY: `used_in_last < slots_per_arena`, so the slot is inside it.
        let slot = unsafe { last.base.add(self.used_in_last * self.slot_size) };
        self.used_in_last += 1;
        Ok(slot)
    }

    /// Hands out no more slots of the arenas mapped so far (they stay
    /// mapped): the next slot comes from a fresh arena.
    pub fn retire(&mut self) {
        self.used_in_last = self.slots_per_arena();
    }

    /// Unmaps every arena.
    ///
    /// # Safety
    /// No stub handed out by these arenas may be executing or used again.
    pub unsafe fn unmap_all(&mut self) {
        for arena in self.arenas.drain(..) {
            libc::munmap(arena.base.cast(), arena.len);
        }
        self.used_in_last = self.slots_per_arena();
    }
}

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_stub() -> HostStub {
        HostStub {
            code: vec![1, 2, 3, 4, 5],
            filler: vec![0xee],
            layout: crate::encode::host_stub().unwrap().layout,
        }
    }

    #[test]
    fn slots_are_aligned_distinct_and_hold_the_stub() {
        let mut arenas = Arenas::new(&test_stub(), 0).unwrap();
        let per_arena = arenas.slots_per_arena();
        let slots: Vec<*const u8> = (0..per_arena + 3)
            .map(|_| arenas.allocate().unwrap())
            .collect();
        assert_eq!(
            arenas.arenas.len(),
            2,
            "the slot after a full arena starts a new one"
        );
        for (i, &slot) in slots.iter().enumerate() {
            assert_eq!(slot as usize % SLOT_ALIGN, 0, "slot {i} at {slot:?}");
            // SAFETY: the arenas are readable and still mapped.
            let bytes = unsafe { std::slice::from_raw_parts(slot, SLOT_ALIGN) };
            assert_eq!(&bytes[..5], [1, 2, 3, 4, 5]);
            assert!(
                bytes[5..].iter().all(|&b| b == 0xee),
                "padding of slot {i}: {bytes:?}"
            );
        }
        let mut sorted = slots.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), slots.len(), "a slot was handed out twice");
        unsafe { arenas.unmap_all() };
        assert!(arenas.arenas.is_empty());
    }

    #[test]
    fn spacing_widens_the_slots() {
        let mut arenas = Arenas::new(&test_stub(), 70).unwrap();
        assert_eq!(arenas.slot_size, 80);
        let (a, b) = (arenas.allocate().unwrap(), arenas.allocate().unwrap());
        assert_eq!(b as usize - a as usize, 80);
        // SAFETY: the slot is mapped and readable.
        let slot = unsafe { std::slice::from_raw_parts(a, 80) };
        assert_eq!(&slot[..5], [1, 2, 3, 4, 5]);
        assert!(slot[5..].iter().all(|&x| x == 0xee), "{slot:?}");
        unsafe { arenas.unmap_all() };
    }
}
