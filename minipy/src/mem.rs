//! Fallible allocation for sizes a script chooses (`'a'.ljust(2**62)`,
//! `[0] * 10**10`, a format width of a billion): when the memory cannot be
//! had, the script gets a `MemoryError`, as in CPython, instead of the
//! process aborting in the allocator.

use crate::errors::{memory_error, PyResult};

/// An empty vector with room for `n` items.
pub fn vec_with_capacity<T>(n: usize) -> PyResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| memory_error())?;
    Ok(v)
}

/// An empty string with room for `n` bytes.
pub fn string_with_capacity(n: usize) -> PyResult<String> {
    let mut s = String::new();
    s.try_reserve_exact(n).map_err(|_| memory_error())?;
    Ok(s)
}

/// Makes room for `more` bytes (with the usual doubling growth).
pub fn reserve_str(s: &mut String, more: usize) -> PyResult<()> {
    s.try_reserve(more).map_err(|_| memory_error())
}

/// Makes room for `more` items (with the usual doubling growth).
pub fn reserve<T>(v: &mut Vec<T>, more: usize) -> PyResult<()> {
    v.try_reserve(more).map_err(|_| memory_error())
}

/// `v.push(x)`, growing fallibly: for lists a script grows without bound.
#[inline]
pub fn push<T>(v: &mut Vec<T>, x: T) -> PyResult<()> {
    if v.len() == v.capacity() {
        reserve(v, 1)?;
    }
    v.push(x);
    Ok(())
}

/// `s.push_str(t)`, growing fallibly.
pub fn push_str(s: &mut String, t: &str) -> PyResult<()> {
    reserve_str(s, t.len())?;
    s.push_str(t);
    Ok(())
}

/// Appends `n` copies of `c`.
pub fn push_repeated(s: &mut String, c: char, n: usize) -> PyResult<()> {
    let mut buf = [0u8; 4];
    push_repeated_str(s, c.encode_utf8(&mut buf), n)
}

/// Appends `n` copies of `t`, by doubling copies (fast even in a debug
/// build, where a loop over a billion pieces is not).
pub fn push_repeated_str(s: &mut String, t: &str, n: usize) -> PyResult<()> {
    if n == 0 || t.is_empty() {
        return Ok(());
    }
    let total = t.len().checked_mul(n).ok_or_else(memory_error)?;
    reserve_str(s, total)?;
    let mut v = std::mem::take(s).into_bytes();
    let start = v.len();
    v.extend_from_slice(t.as_bytes());
    while v.len() - start < total {
        let have = v.len() - start;
        v.extend_from_within(start..start + have.min(total - have));
    }
    // SAFETY: whole copies of UTF-8 text appended to UTF-8 text.
    *s = unsafe { String::from_utf8_unchecked(v) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_memory_errors() {
        let e = string_with_capacity(usize::MAX / 2).unwrap_err();
        assert_eq!(&*e.0.value.class.name, "MemoryError");
        assert!(vec_with_capacity::<u64>(1 << 61).is_err());
        let mut s = String::from("x");
        assert!(push_repeated(&mut s, 'é', usize::MAX / 2).is_err());
        assert_eq!(s, "x");
    }

    #[test]
    fn repeated_fill_is_exact() {
        let mut s = String::from("ab");
        push_repeated(&mut s, '*', 3).unwrap();
        push_repeated(&mut s, 'é', 2).unwrap();
        push_repeated_str(&mut s, "xy", 3).unwrap();
        assert_eq!(s, "ab***ééxyxyxy");
    }
}
