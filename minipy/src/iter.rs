//! Iteration over every iterable value (`for`, comprehensions, `list(x)`,
//! unpacking): ranges, lists (live, by index, as CPython does), tuples,
//! strings, dicts (keys), sets, and user objects with `__iter__`/`__next__`.

use crate::errors::{Exc, PyResult};
use crate::interp::Interp;
use crate::object::ExcType;
use crate::value::{ListRef, PyStr, Value};
use std::rc::Rc;

pub enum Iter {
    Range {
        next: i64,
        step: i64,
        remaining: i64,
    },
    List {
        list: ListRef,
        pos: usize,
    },
    Tuple {
        items: Rc<crate::release::Items>,
        pos: usize,
    },
    Chars {
        s: PyStr,
        pos: usize,
    },
    Values(std::vec::IntoIter<Value>),
    /// A user iterator: call `__next__` until `StopIteration`.
    Object(Value),
}

impl Interp {
    pub fn is_iterable(&self, v: &Value) -> bool {
        match v {
            Value::Range(_)
            | Value::List(_)
            | Value::Tuple(_)
            | Value::Str(_)
            | Value::Dict(_)
            | Value::Set(_) => true,
            Value::Instance(i) => {
                i.class.lookup("__iter__").is_some() || i.class.lookup("__getitem__").is_some()
            }
            _ => false,
        }
    }

    pub fn iterate(&mut self, v: &Value) -> PyResult<Iter> {
        Ok(match v {
            Value::Range(r) => Iter::Range {
                next: r.start,
                step: r.step,
                remaining: r.len(),
            },
            Value::List(l) => Iter::List {
                list: l.clone(),
                pos: 0,
            },
            Value::Tuple(t) => Iter::Tuple {
                items: t.clone(),
                pos: 0,
            },
            Value::Str(s) => Iter::Chars {
                s: s.clone(),
                pos: 0,
            },
            Value::Dict(d) => Iter::Values(
                d.borrow()
                    .keys()
                    .map(|k| k.0.clone())
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Value::Set(s) => Iter::Values(
                s.borrow()
                    .iter()
                    .map(|k| k.0.clone())
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Value::Instance(_) => match self.call_special(v, "__iter__", Vec::new())? {
                Some(it) => {
                    if self.lookup_special(&it, "__next__").is_some() {
                        Iter::Object(it)
                    } else {
                        self.iterate(&it)?
                    }
                }
                None => return Err(not_iterable(v)),
            },
            _ => return Err(not_iterable(v)),
        })
    }

    #[inline]
    pub fn next_item(&mut self, it: &mut Iter) -> PyResult<Option<Value>> {
        Ok(match it {
            Iter::Range {
                next,
                step,
                remaining,
            } => {
                if *remaining <= 0 {
                    return Ok(None);
                }
                let v = *next;
                *remaining -= 1;
                *next = next.wrapping_add(*step);
                Some(Value::Int(v))
            }
            Iter::List { list, pos } => {
                let l = list.borrow();
                let v = l.get(*pos).cloned();
                *pos += 1;
                v
            }
            Iter::Tuple { items, pos } => {
                let v = items.get(*pos).cloned();
                *pos += 1;
                v
            }
            Iter::Chars { s, pos } => {
                let rest = &s[*pos..];
                match rest.chars().next() {
                    None => None,
                    Some(c) => {
                        *pos += c.len_utf8();
                        Some(Value::Str(PyStr::from(&rest[..c.len_utf8()])))
                    }
                }
            }
            Iter::Values(v) => v.next(),
            Iter::Object(obj) => {
                let obj = obj.clone();
                match self.call_special(&obj, "__next__", Vec::new()) {
                    Ok(v) => v,
                    Err(e) if e.is(ExcType::StopIteration) => None,
                    Err(e) => return Err(e),
                }
            }
        })
    }

    /// All items of an iterable, in order.
    pub fn collect(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        match v {
            Value::List(l) => return copy_items(&l.borrow()),
            Value::Tuple(t) => return copy_items(t),
            _ => {}
        }
        let mut it = self.iterate(v)?;
        let mut out = Vec::new();
        if let Iter::Range { remaining, .. } = it {
            // The size is known: ask for it at once (a MemoryError, not an
            // abort, when it cannot be had).
            out = crate::mem::vec_with_capacity(usize::try_from(remaining).unwrap_or(usize::MAX))?;
        }
        while let Some(x) = self.next_item(&mut it)? {
            crate::mem::push(&mut out, x)?;
        }
        Ok(out)
    }
}

/// A copy of a list's or tuple's items, made fallibly (it may be huge).
pub fn copy_items(items: &[Value]) -> PyResult<Vec<Value>> {
    let mut v = crate::mem::vec_with_capacity(items.len())?;
    v.extend_from_slice(items);
    Ok(v)
}

pub fn not_iterable(v: &Value) -> Exc {
    Exc::type_error(format!("'{}' object is not iterable", v.type_name()))
}
