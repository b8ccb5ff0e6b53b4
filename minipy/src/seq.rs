//! Indexing and slicing helpers shared by lists, tuples, strings and
//! ranges: negative indices, clamped slice bounds, steps.

use crate::errors::{Exc, PyResult};
use crate::num::IntRef;
use crate::value::Value;
use std::rc::Rc;

pub fn make_slice(a: Value, b: Value, c: Value) -> Value {
    Value::Slice(Rc::new([a, b, c]))
}

/// An index operand as i64 (`True` counts as 1), or the CPython TypeError.
pub fn index_of(idx: &Value, what: &str) -> PyResult<i64> {
    match IntRef::of(idx) {
        Some(IntRef::Small(i)) => Ok(i),
        Some(IntRef::Big(_)) => Err(Exc::index_error(
            "cannot fit 'int' into an index-sized integer",
        )),
        None => Err(Exc::type_error(format!(
            "{what} indices must be integers or slices, not {}",
            idx.type_name()
        ))),
    }
}

/// Resolves a possibly negative index against `len`; `None` if out of range.
pub fn normalize(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if i < 0 { i + len } else { i };
    if (0..len).contains(&i) {
        Some(i as usize)
    } else {
        None
    }
}

/// The positions a slice selects from a sequence of `len` items.
pub fn slice_indices(bounds: &[Value; 3], len: usize) -> PyResult<Vec<usize>> {
    let (start, stop, step) = slice_params(bounds, len)?;
    let mut out = Vec::new();
    let mut i = start;
    if step > 0 {
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    Ok(out)
}

/// start, stop, step clamped as `slice.indices(len)` does.
pub fn slice_params(bounds: &[Value; 3], len: usize) -> PyResult<(i64, i64, i64)> {
    let len = len as i64;
    let step = match &bounds[2] {
        Value::None => 1,
        v => slice_int(v)?,
    };
    if step == 0 {
        return Err(Exc::value_error("slice step cannot be zero"));
    }
    let clamp = |v: &Value, default: i64| -> PyResult<i64> {
        if let Value::None = v {
            return Ok(default);
        }
        let mut i = slice_int(v)?;
        if i < 0 {
            i += len;
            if i < 0 {
                i = if step < 0 { -1 } else { 0 };
            }
        } else if i >= len {
            i = if step < 0 { len - 1 } else { len };
        }
        Ok(i)
    };
    let (ds, de) = if step > 0 { (0, len) } else { (len - 1, -1) };
    Ok((clamp(&bounds[0], ds)?, clamp(&bounds[1], de)?, step))
}

fn slice_int(v: &Value) -> PyResult<i64> {
    match IntRef::of(v) {
        Some(IntRef::Small(i)) => Ok(i),
        Some(IntRef::Big(b)) => Ok(if b.sign() == num_bigint::Sign::Minus {
            i64::MIN / 2
        } else {
            i64::MAX / 2
        }),
        None => Err(Exc::type_error(
            "slice indices must be integers or None or have an __index__ method",
        )),
    }
}

/// The `i`-th character of a string.
pub fn str_char(s: &str, i: i64) -> Option<char> {
    if s.is_ascii() {
        let i = normalize(i, s.len())?;
        return Some(s.as_bytes()[i] as char);
    }
    let n = s.chars().count();
    let i = normalize(i, n)?;
    s.chars().nth(i)
}

/// A string slice by character positions.
pub fn str_slice(s: &str, bounds: &[Value; 3]) -> PyResult<String> {
    if s.is_ascii() {
        let idx = slice_indices(bounds, s.len())?;
        let b = s.as_bytes();
        return Ok(idx.into_iter().map(|i| b[i] as char).collect());
    }
    let chars: Vec<char> = s.chars().collect();
    let idx = slice_indices(bounds, chars.len())?;
    Ok(idx.into_iter().map(|i| chars[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(a: Option<i64>, b: Option<i64>, c: Option<i64>) -> [Value; 3] {
        let v = |x: Option<i64>| x.map_or(Value::None, Value::Int);
        [v(a), v(b), v(c)]
    }

    #[test]
    fn slices_clamp_like_python() {
        assert_eq!(
            slice_indices(&b(Some(1), None, None), 4).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(
            slice_indices(&b(None, None, Some(-1)), 3).unwrap(),
            [2, 1, 0]
        );
        assert_eq!(
            slice_indices(&b(Some(-2), Some(100), None), 4).unwrap(),
            [2, 3]
        );
        assert_eq!(
            slice_indices(&b(Some(5), Some(1), Some(-2)), 4).unwrap(),
            [3]
        );
        assert!(slice_indices(&b(None, None, Some(0)), 4).is_err());
    }

    #[test]
    fn string_slices_count_characters() {
        assert_eq!(
            str_slice("héllo", &b(Some(1), Some(3), None)).unwrap(),
            "él"
        );
        assert_eq!(str_char("héllo", -1), Some('o'));
    }
}
