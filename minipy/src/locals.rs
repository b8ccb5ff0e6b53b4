//! The locals stack: the local-variable slots of every running frame, cut
//! from a few large chunks. Calls nest, so slots are taken and given back
//! in last-in-first-out order, and a call costs a bounds check and a
//! pointer bump instead of an allocation.
//!
//! A chunk is never moved or freed while slots in it are in use, which is
//! what lets a frame hold a raw pointer to its slots while the interpreter
//! (and with it this stack) is borrowed mutably elsewhere.

use crate::value::Value;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Slots in an ordinary chunk (64 KiB); a bigger frame gets a chunk of its own size.
const CHUNK_SLOTS: usize = 4096;

/// One frame's slots. Only [`LocalsStack::give`] ends their use.
pub struct Locals {
    ptr: NonNull<Value>,
    len: usize,
}

impl Deref for Locals {
    type Target = [Value];
    #[inline(always)]
    fn deref(&self) -> &[Value] {
        // SAFETY: `take` initialized `len` slots at `ptr`, in a chunk that
        // stays allocated and is used by no one else until `give`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for Locals {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [Value] {
        // SAFETY: as for `deref`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

/// Raw memory for `cap` values.
struct Chunk {
    base: NonNull<Value>,
    cap: usize,
    /// The stack's top in this chunk when the next chunk was entered.
    saved_top: *mut Value,
}

impl Chunk {
    fn new(cap: usize) -> Chunk {
        let layout = Layout::array::<Value>(cap).expect("locals chunk size fits in memory");
        // SAFETY: `cap >= 1`, so the layout is not zero-sized.
        let p = unsafe { alloc(layout) } as *mut Value;
        let base = NonNull::new(p).unwrap_or_else(|| handle_alloc_error(layout));
        Chunk {
            base,
            cap,
            saved_top: p,
        }
    }

    fn end(&self) -> *mut Value {
        // SAFETY: one past the end of the allocation.
        unsafe { self.base.as_ptr().add(self.cap) }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        let layout = Layout::array::<Value>(self.cap).expect("layout was valid at allocation");
        // SAFETY: allocated in `Chunk::new` with this layout; every value
        // in it was dropped by `give` (or the stack is torn down unused).
        unsafe { dealloc(self.base.as_ptr() as *mut u8, layout) }
    }
}

/// The slots in use are, in order, those below `saved_top` in
/// `chunks[..current]` and those below `top` in `chunks[current]`.
/// `base`, `top` and `limit` describe the current chunk, cached so a take
/// or give touches no other memory.
pub struct LocalsStack {
    base: *mut Value,
    top: *mut Value,
    limit: *mut Value,
    /// Chunks after `current` are empty, kept for reuse.
    chunks: Vec<Chunk>,
    current: usize,
}

impl Default for LocalsStack {
    fn default() -> Self {
        let first = Chunk::new(CHUNK_SLOTS);
        LocalsStack {
            base: first.base.as_ptr(),
            top: first.base.as_ptr(),
            limit: first.end(),
            chunks: vec![first],
            current: 0,
        }
    }
}

impl LocalsStack {
    /// `n` unbound slots on top of the stack.
    #[inline(always)]
    pub fn take(&mut self, n: usize) -> Locals {
        // SAFETY (pointer difference): `top` and `limit` are in one chunk.
        if (unsafe { self.limit.offset_from(self.top) } as usize) < n {
            self.next_chunk(n);
        }
        // SAFETY: `top + n <= limit`, so the slots are inside the current
        // chunk and above every slot in use; each is written before it is
        // read.
        unsafe {
            let p = self.top;
            for i in 0..n {
                p.add(i).write(Value::Unbound);
            }
            self.top = p.add(n);
            Locals {
                ptr: NonNull::new_unchecked(p),
                len: n,
            }
        }
    }

    /// Ends the use of the most recently taken slots, dropping their values.
    #[inline(always)]
    pub fn give(&mut self, mut locals: Locals) {
        // Most locals are ints: skip the drop glue for values owning nothing.
        for v in locals.iter_mut() {
            if !v.is_plain() {
                // SAFETY: each value is dropped once; the slots are
                // unreachable once `top` moves below them.
                unsafe { std::ptr::drop_in_place(v) }
            }
        }
        let p = locals.ptr.as_ptr();
        debug_assert_eq!(
            p.wrapping_add(locals.len),
            self.top,
            "locals given back out of order"
        );
        // A non-first chunk's first slots belong to the frame that entered
        // it (it took at least one slot), so reaching its base means leaving it.
        if p == self.base && self.current > 0 {
            self.previous_chunk();
        } else {
            self.top = p;
        }
    }

    /// Moves to the next chunk (making it, or a bigger one, if needed).
    #[cold]
    #[inline(never)]
    fn next_chunk(&mut self, n: usize) {
        self.chunks[self.current].saved_top = self.top;
        let next = self.current + 1;
        let cap = n.max(CHUNK_SLOTS);
        if next == self.chunks.len() {
            self.chunks.push(Chunk::new(cap));
        } else if self.chunks[next].cap < n {
            self.chunks[next] = Chunk::new(cap);
        }
        self.enter_chunk(next, self.chunks[next].base.as_ptr());
    }

    #[cold]
    #[inline(never)]
    fn previous_chunk(&mut self) {
        let prev = self.current - 1;
        self.enter_chunk(prev, self.chunks[prev].saved_top);
    }

    fn enter_chunk(&mut self, i: usize, top: *mut Value) {
        let chunk = &self.chunks[i];
        self.current = i;
        self.base = chunk.base.as_ptr();
        self.limit = chunk.end();
        self.top = top;
    }

    /// Slots in use (for tests).
    #[cfg(test)]
    fn in_use(&self) -> usize {
        let below: usize = self.chunks[..self.current]
            .iter()
            .map(|c| unsafe { c.saved_top.offset_from(c.base.as_ptr()) } as usize)
            .sum();
        below + unsafe { self.top.offset_from(self.base) } as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_start_unbound_and_nest() {
        let mut s = LocalsStack::default();
        let mut a = s.take(3);
        assert!(a.iter().all(|v| matches!(v, Value::Unbound)));
        a[0] = Value::str("kept");
        let b = s.take(2);
        assert_ne!(a.as_ptr(), b.as_ptr());
        s.give(b);
        assert!(matches!(&a[0], Value::Str(x) if &**x == "kept"));
        assert_eq!(s.in_use(), 3);
        s.give(a);
        assert_eq!(s.in_use(), 0);
    }

    #[test]
    fn frames_bigger_than_a_chunk_get_their_own() {
        let mut s = LocalsStack::default();
        let small = s.take(CHUNK_SLOTS - 1);
        let big = s.take(CHUNK_SLOTS * 2);
        assert_eq!(s.current, 1);
        assert_eq!(big.len(), CHUNK_SLOTS * 2);
        assert_eq!(s.in_use(), CHUNK_SLOTS * 3 - 1);
        s.give(big);
        assert_eq!((s.current, s.in_use()), (0, CHUNK_SLOTS - 1));
        s.give(small);
        // The spare chunk is reused, not made again.
        let first = s.take(CHUNK_SLOTS);
        let again = s.take(CHUNK_SLOTS + 1);
        assert_eq!((s.current, s.chunks.len()), (1, 2));
        s.give(again);
        s.give(first);
        assert_eq!((s.current, s.in_use()), (0, 0));
    }

    #[test]
    fn given_back_values_are_dropped() {
        let mut s = LocalsStack::default();
        let shared = std::rc::Rc::new(crate::release::Items::default());
        let mut l = s.take(1);
        l[0] = Value::Tuple(shared.clone());
        assert_eq!(std::rc::Rc::strong_count(&shared), 2);
        s.give(l);
        assert_eq!(std::rc::Rc::strong_count(&shared), 1);
    }
}
