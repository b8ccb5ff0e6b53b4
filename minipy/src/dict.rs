//! Dict and set storage: insertion-ordered hash tables (`indexmap`) keyed by
//! [`Key`], a value whose hash and equality follow Python's (`1 == 1.0 ==
//! True` hash alike, tuples hash by content, objects by identity).

use crate::errors::{Exc, PyResult};
use crate::value::Value;
use indexmap::{IndexMap, IndexSet};
use std::hash::{Hash, Hasher};

pub type Dict = IndexMap<Key, Value>;
pub type SetData = IndexSet<Key>;

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

fn check_hashable(v: &Value) -> PyResult<()> {
    match v {
        Value::List(_) | Value::Dict(_) | Value::Set(_) => Err(Exc::type_error(format!(
            "unhashable type: '{}'",
            v.type_name()
        ))),
        Value::Tuple(items) => items.iter().try_for_each(check_hashable),
        _ => Ok(()),
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state)
    }
}

fn hash_value<H: Hasher>(v: &Value, state: &mut H) {
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
        Value::Tuple(items) => {
            items.len().hash(state);
            items.iter().for_each(|i| hash_value(i, state));
        }
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
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| key_eq(p, q))
        }
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
