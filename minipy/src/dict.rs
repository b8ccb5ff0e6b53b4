//! Dict and set storage: insertion-ordered hash tables (`indexmap`) keyed by
//! [`Key`], a value whose hash and equality follow Python's (`1 == 1.0 ==
//! True` hash alike, tuples hash by content, objects by identity).

use crate::errors::{Exc, PyResult};
use crate::value::Value;
use indexmap::{IndexMap, IndexSet};
use std::hash::{Hash, Hasher};

/// A dict's table. Its `Drop` frees nested values through
/// [`crate::release`], so that deep nesting cannot overflow the stack.
#[derive(Clone, Debug, Default)]
pub struct Dict(pub IndexMap<Key, Value>);

/// A set's table (see [`Dict`]).
#[derive(Clone, Debug, Default)]
pub struct SetData(pub IndexSet<Key>);

impl Dict {
    pub fn new() -> Dict {
        Dict::default()
    }

    pub fn with_capacity(n: usize) -> Dict {
        Dict(IndexMap::with_capacity(n))
    }
}

impl SetData {
    pub fn new() -> SetData {
        SetData::default()
    }

    /// `insert`, growing fallibly (`MemoryError`, not an abort).
    pub fn add(&mut self, k: Key) -> PyResult<bool> {
        if self.0.len() == self.0.capacity() {
            self.0
                .try_reserve(1)
                .map_err(|_| crate::errors::memory_error())?;
        }
        Ok(self.0.insert(k))
    }
}

impl Dict {
    /// `insert`, growing fallibly (`MemoryError`, not an abort).
    pub fn put(&mut self, k: Key, v: Value) -> PyResult<()> {
        if self.0.len() == self.0.capacity() {
            self.0
                .try_reserve(1)
                .map_err(|_| crate::errors::memory_error())?;
        }
        self.0.insert(k, v);
        Ok(())
    }
}

impl std::ops::Deref for Dict {
    type Target = IndexMap<Key, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Dict {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl std::ops::Deref for SetData {
    type Target = IndexSet<Key>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for SetData {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl FromIterator<Key> for SetData {
    fn from_iter<I: IntoIterator<Item = Key>>(iter: I) -> SetData {
        SetData(iter.into_iter().collect())
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let map = &mut self.0;
        crate::release::release(|pending| match pending {
            Some(p) => {
                for (k, v) in map.drain(..) {
                    p.push(k.0);
                    p.push(v);
                }
            }
            None => map.clear(),
        });
    }
}

impl Drop for SetData {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let set = &mut self.0;
        crate::release::release(|pending| match pending {
            Some(p) => p.extend(set.drain(..).map(|k| k.0)),
            None => set.clear(),
        });
    }
}

/// A hashable value.
#[derive(Clone, Debug)]
pub struct Key(pub Value);

impl Key {
    /// Fails with `TypeError: unhashable type: 'list'` for mutable containers.
    pub fn new(v: Value) -> PyResult<Key> {
        check_hashable(&v)?;
        Ok(Key(v))
    }
}

/// Tuples are walked with an explicit stack, here and in hashing and key
/// equality: a tuple nested a million deep hashes like any other.
fn check_hashable(v: &Value) -> PyResult<()> {
    let unhashable = |v: &Value| {
        Err(Exc::type_error(format!(
            "unhashable type: '{}'",
            v.type_name()
        )))
    };
    match v {
        Value::List(_) | Value::Dict(_) | Value::Set(_) => unhashable(v),
        Value::Tuple(items) => {
            let mut stack = vec![items.iter()];
            while let Some(top) = stack.last_mut() {
                match top.next() {
                    None => {
                        stack.pop();
                    }
                    Some(Value::Tuple(inner)) => stack.push(inner.iter()),
                    Some(v @ (Value::List(_) | Value::Dict(_) | Value::Set(_))) => {
                        return unhashable(v)
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state)
    }
}

fn hash_value<H: Hasher>(v: &Value, state: &mut H) {
    let Value::Tuple(items) = v else {
        return hash_scalar(v, state);
    };
    // Length, then items in order, nested tuples likewise (pre-order).
    items.len().hash(state);
    let mut stack = vec![items.iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(Value::Tuple(inner)) => {
                inner.len().hash(state);
                stack.push(inner.iter());
            }
            Some(item) => hash_scalar(item, state),
        }
    }
}

/// The hash of a value other than a tuple.
fn hash_scalar<H: Hasher>(v: &Value, state: &mut H) {
    match v {
        Value::None => 0u8.hash(state),
        Value::Bool(b) => (b.get() as i64).hash(state),
        Value::Int(i) => i.hash(state),
        Value::BigInt(b) => b.hash(state),
        Value::Float(f) => {
            let f = f.get();
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                (f as i64).hash(state)
            } else {
                f.to_bits().hash(state)
            }
        }
        Value::Str(s) => s.hash(state),
        other => other.address().hash(state),
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        key_eq(&self.0, &other.0)
    }
}

impl Eq for Key {}

/// Equality of hashable values (never calls script code).
pub fn key_eq(a: &Value, b: &Value) -> bool {
    let (Value::Tuple(x), Value::Tuple(y)) = (a, b) else {
        return scalar_key_eq(a, b);
    };
    if x.len() != y.len() {
        return false;
    }
    let mut stack = vec![x.iter().zip(y.iter())];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some((Value::Tuple(p), Value::Tuple(q))) => {
                if p.len() != q.len() {
                    return false;
                }
                stack.push(p.iter().zip(q.iter()));
            }
            Some((p, q)) => {
                if !scalar_key_eq(p, q) {
                    return false;
                }
            }
        }
    }
    true
}

/// Key equality when at most one side is a tuple.
fn scalar_key_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Tuple(_), _) | (_, Value::Tuple(_)) => false,
        _ => match (crate::ops::num_eq(a, b), a, b) {
            (Some(r), _, _) => r,
            (None, Value::None, Value::None) => true,
            _ => a.is(b) || (a.address() == b.address() && same_heap_kind(a, b)),
        },
    }
}

fn same_heap_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        && !matches!(
            a,
            Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_keys_collapse_like_python() {
        let mut d = Dict::new();
        d.insert(Key::new(Value::Int(1)).unwrap(), Value::str("int"));
        d.insert(Key::new(Value::float(1.0)).unwrap(), Value::str("float"));
        d.insert(Key::new(Value::bool(true)).unwrap(), Value::str("bool"));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn lists_are_unhashable() {
        assert!(Key::new(Value::list(vec![])).is_err());
        assert!(Key::new(Value::tuple(vec![Value::list(vec![])])).is_err());
        assert!(Key::new(Value::tuple(vec![Value::Int(1), Value::str("a")])).is_ok());
    }
}
