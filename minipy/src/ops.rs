//! Operators on built-in values that never run script code: arithmetic,
//! concatenation and repetition, equality, ordering and `in`. Each returns
//! `None` when the operand types are not handled here, so the interpreter
//! can try a user class's special method before raising `TypeError`.

use crate::ast::{BinOp, CmpOp};
use crate::dict::Key;
use crate::errors::{Exc, PyResult};
use crate::num::{as_f64, float_op, int_op, IntRef};
use crate::value::{PyStr, Value};
use std::cmp::Ordering;
use std::rc::Rc;

pub fn binary(op: BinOp, a: &Value, b: &Value) -> Option<PyResult<Value>> {
    if let (Some(x), Some(y)) = (IntRef::of(a), IntRef::of(b)) {
        return Some(int_op(op, x, y));
    }
    if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
        if let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) {
            return Some(x.and_then(|x| y.and_then(|y| float_op(op, x, y))));
        }
    }
    match (op, a, b) {
        (BinOp::Add, Value::Str(x), Value::Str(y)) => {
            let mut s = match crate::mem::string_with_capacity(x.len().saturating_add(y.len())) {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            s.push_str(x);
            s.push_str(y);
            Some(Ok(Value::Str(PyStr::from(s))))
        }
        (BinOp::Add, Value::List(x), Value::List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            let mut v = match crate::mem::vec_with_capacity(x.len().saturating_add(y.len())) {
                Ok(v) => v,
                Err(e) => return Some(Err(e)),
            };
            v.extend_from_slice(&x);
            v.extend_from_slice(&y);
            Some(Ok(Value::list(v)))
        }
        (BinOp::Add, Value::Tuple(x), Value::Tuple(y)) => Some(Ok(Value::tuple(
            x.iter().chain(y.iter()).cloned().collect(),
        ))),
        (BinOp::Mul, Value::Str(_) | Value::List(_) | Value::Tuple(_), _)
            if IntRef::of(b).is_some() =>
        {
            Some(repeat(a, b))
        }
        (BinOp::Mul, _, Value::Str(_) | Value::List(_) | Value::Tuple(_))
            if IntRef::of(a).is_some() =>
        {
            Some(repeat(b, a))
        }
        (BinOp::BitOr, Value::Dict(x), Value::Dict(y)) => {
            let mut d = x.borrow().clone();
            for (k, v) in y.borrow().iter() {
                d.insert(k.clone(), v.clone());
            }
            Some(Ok(Value::Dict(Rc::new(std::cell::RefCell::new(d)))))
        }
        (
            BinOp::BitOr | BinOp::BitAnd | BinOp::Sub | BinOp::BitXor,
            Value::Set(x),
            Value::Set(y),
        ) => {
            let (x, y) = (x.borrow(), y.borrow());
            let out: crate::dict::SetData = match op {
                BinOp::BitOr => x.union(&y).cloned().collect(),
                BinOp::BitAnd => x.intersection(&y).cloned().collect(),
                BinOp::Sub => x.difference(&y).cloned().collect(),
                _ => x.symmetric_difference(&y).cloned().collect(),
            };
            Some(Ok(Value::Set(Rc::new(std::cell::RefCell::new(out)))))
        }
        _ => None,
    }
}

fn repeat(seq: &Value, count: &Value) -> PyResult<Value> {
    let n = match IntRef::of(count) {
        Some(IntRef::Small(n)) => n.max(0) as u64,
        _ => {
            return Err(Exc::overflow(
                "cannot fit 'int' into an index-sized integer",
            ))
        }
    };
    let list;
    let items: &[Value] = match seq {
        Value::Str(s) => {
            // CPython: a length past Py_ssize_t is an OverflowError, a
            // length that cannot be allocated a MemoryError.
            let total = (s.len() as u64)
                .checked_mul(n)
                .filter(|t| *t <= isize::MAX as u64)
                .ok_or_else(|| Exc::overflow("repeated string is too long"))?;
            let mut out = crate::mem::string_with_capacity(total as usize)?;
            crate::mem::push_repeated_str(&mut out, s, n as usize)?;
            return Ok(Value::Str(PyStr::from(out)));
        }
        Value::List(l) => {
            list = l.borrow();
            &list
        }
        Value::Tuple(t) => t,
        _ => return Ok(Value::None),
    };
    let total = (items.len() as u64)
        .checked_mul(n)
        .and_then(|t| usize::try_from(t).ok())
        .ok_or_else(crate::errors::memory_error)?;
    let mut v = crate::mem::vec_with_capacity(total)?;
    for _ in 0..n.min(total as u64) {
        v.extend_from_slice(items);
    }
    Ok(match seq {
        Value::Tuple(_) => Value::tuple(v),
        _ => Value::list(v),
    })
}

/// The `TypeError` CPython raises when no operand supports `op`.
pub fn binary_type_error(op: BinOp, a: &Value, b: &Value) -> Exc {
    match (op, a, b) {
        (BinOp::Add, Value::Str(_), _) => Exc::type_error(format!(
            "can only concatenate str (not \"{}\") to str",
            b.type_name()
        )),
        (BinOp::Add, Value::List(_), _) => Exc::type_error(format!(
            "can only concatenate list (not \"{}\") to list",
            b.type_name()
        )),
        (BinOp::Add, Value::Tuple(_), _) => Exc::type_error(format!(
            "can only concatenate tuple (not \"{}\") to tuple",
            b.type_name()
        )),
        (BinOp::Mul, Value::Str(_) | Value::List(_) | Value::Tuple(_), _) => {
            Exc::type_error(format!(
                "can't multiply sequence by non-int of type '{}'",
                b.type_name()
            ))
        }
        (BinOp::Mul, _, Value::Str(_) | Value::List(_) | Value::Tuple(_)) => {
            Exc::type_error(format!(
                "can't multiply sequence by non-int of type '{}'",
                a.type_name()
            ))
        }
        _ => Exc::type_error(format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        )),
    }
}

/// Numeric equality across int, bool, big int and float.
pub fn num_eq(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x == y),
        (Value::Float(x), Value::Float(y)) => Some(x == y),
        _ => {
            let (x, y) = (IntRef::of(a), IntRef::of(b));
            if let (Some(x), Some(y)) = (x, y) {
                return Some(x.big() == y.big());
            }
            match (a, b) {
                (Value::Float(f), _) if y.is_some() => {
                    Some(float_int_cmp(f.get(), y?) == Some(Ordering::Equal))
                }
                (_, Value::Float(f)) if x.is_some() => {
                    Some(float_int_cmp(f.get(), x?) == Some(Ordering::Equal))
                }
                _ => None,
            }
        }
    }
}

fn float_int_cmp(f: f64, i: IntRef) -> Option<Ordering> {
    match i {
        IntRef::Small(i) if i.unsigned_abs() < (1 << 53) => f.partial_cmp(&(i as f64)),
        _ => {
            if f.is_nan() {
                return None;
            }
            if f.is_infinite() {
                return Some(if f > 0.0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                });
            }
            let fi = crate::num::float_to_int(f.trunc()).ok()?;
            let big = IntRef::of(&fi)?.big();
            match big.as_ref().cmp(i.big().as_ref()) {
                Ordering::Equal => f.fract().partial_cmp(&0.0),
                o => Some(o),
            }
        }
    }
}

/// The error for containers nested deeper than the recursion limit
/// allows (`depth` counts the levels left).
fn too_deep() -> Exc {
    Exc::new(
        crate::object::ExcType::RecursionError,
        "maximum recursion depth exceeded in comparison",
    )
}

/// `a == b` for built-in values (identity for objects). Containers are
/// compared at most `depth` levels deep: deeper is a `RecursionError`, as
/// in CPython, never a native stack overflow.
pub fn eq(a: &Value, b: &Value, depth: u32) -> PyResult<bool> {
    if let Some(r) = num_eq(a, b) {
        return Ok(r);
    }
    Ok(match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::None, Value::None) => true,
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y) || seq_eq(&x.borrow(), &y.borrow(), depth)?
        }
        (Value::Tuple(x), Value::Tuple(y)) => seq_eq(x, y, depth)?,
        (Value::Dict(x), Value::Dict(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            if x.len() != y.len() {
                return Ok(false);
            }
            if depth == 0 {
                return Err(too_deep());
            }
            for (k, v) in x.iter() {
                match y.get(k) {
                    Some(w) if v.is(w) || eq(v, w, depth - 1)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (Value::Set(x), Value::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|k| y.contains(k))
        }
        (Value::Range(x), Value::Range(y)) => {
            let (lx, ly) = (x.len(), y.len());
            lx == ly && (lx == 0 || (x.start == y.start && (lx == 1 || x.step == y.step)))
        }
        (Value::Method(x), Value::Method(y)) => x.func.is(&y.func) && x.receiver.is(&y.receiver),
        _ => a.is(b),
    })
}

fn seq_eq(x: &[Value], y: &[Value], depth: u32) -> PyResult<bool> {
    if x.len() != y.len() {
        return Ok(false);
    }
    if depth == 0 && !x.is_empty() {
        return Err(too_deep());
    }
    for (p, q) in x.iter().zip(y.iter()) {
        if !(p.is(q) || eq(p, q, depth - 1)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `<`, `<=`, `>`, `>=` for built-in values; `None` if unsupported.
/// Containers are compared at most `depth` levels deep (see [`eq`]).
pub fn order(op: CmpOp, a: &Value, b: &Value, depth: u32) -> Option<PyResult<bool>> {
    let ord = match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.get().partial_cmp(&y.get()),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::List(x), Value::List(y)) => {
            return Some(seq_order(op, &x.borrow(), &y.borrow(), depth))
        }
        (Value::Tuple(x), Value::Tuple(y)) => return Some(seq_order(op, x, y, depth)),
        (Value::Set(x), Value::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            let sub = x.iter().all(|k| y.contains(k));
            let sup = y.iter().all(|k| x.contains(k));
            return Some(Ok(match op {
                CmpOp::Lt => sub && x.len() < y.len(),
                CmpOp::LtE => sub,
                CmpOp::Gt => sup && x.len() > y.len(),
                _ => sup,
            }));
        }
        _ => {
            let (x, y) = (IntRef::of(a), IntRef::of(b));
            match (x, y, a, b) {
                (Some(x), Some(y), _, _) => Some(x.big().as_ref().cmp(y.big().as_ref())),
                (None, Some(y), Value::Float(f), _) => float_int_cmp(f.get(), y),
                (Some(x), None, _, Value::Float(f)) => {
                    float_int_cmp(f.get(), x).map(Ordering::reverse)
                }
                _ => return None,
            }
        }
    };
    Some(Ok(match ord {
        None => false,
        Some(o) => match op {
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::LtE => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        },
    }))
}

fn seq_order(op: CmpOp, x: &[Value], y: &[Value], depth: u32) -> PyResult<bool> {
    for (p, q) in x.iter().zip(y.iter()) {
        if depth == 0 {
            return Err(too_deep());
        }
        if !(p.is(q) || eq(p, q, depth - 1)?) {
            return match order(op, p, q, depth - 1) {
                Some(r) => r,
                None => Err(order_type_error(op, p, q)),
            };
        }
    }
    let o = x.len().cmp(&y.len());
    Ok(match op {
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::LtE => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        _ => o != Ordering::Less,
    })
}

pub fn order_type_error(op: CmpOp, a: &Value, b: &Value) -> Exc {
    Exc::type_error(format!(
        "'{}' not supported between instances of '{}' and '{}'",
        op.symbol(),
        a.type_name(),
        b.type_name()
    ))
}

/// `item in container` for built-in containers (items compared at most
/// `depth` levels deep, see [`eq`]).
pub fn contains(container: &Value, item: &Value, depth: u32) -> Option<PyResult<bool>> {
    Some(Ok(match container {
        Value::Str(s) => match item {
            Value::Str(sub) => s.contains(&**sub),
            _ => {
                return Some(Err(Exc::type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    item.type_name()
                ))))
            }
        },
        Value::List(l) => return Some(any_equal(&l.borrow(), item, depth)),
        Value::Tuple(t) => return Some(any_equal(t, item, depth)),
        Value::Dict(d) => match Key::new(item.clone()) {
            Ok(k) => d.borrow().contains_key(&k),
            Err(e) => return Some(Err(e)),
        },
        Value::Set(s) => match Key::new(item.clone()) {
            Ok(k) => s.borrow().contains(&k),
            Err(e) => return Some(Err(e)),
        },
        Value::Range(r) => match item {
            Value::Int(i) => {
                let (i, start, step) = (*i as i128, r.start as i128, r.step as i128);
                let n = (i - start) / step;
                (i - start) % step == 0 && n >= 0 && n < r.len() as i128
            }
            _ => false,
        },
        _ => return None,
    }))
}

fn any_equal(items: &[Value], item: &Value, depth: u32) -> PyResult<bool> {
    for x in items {
        if x.is(item) || eq(x, item, depth)? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_numeric_comparisons() {
        assert!(eq(&Value::Int(3), &Value::float(3.0), 10).unwrap());
        assert!(eq(&Value::bool(true), &Value::Int(1), 10).unwrap());
        assert!(!eq(&Value::None, &Value::Int(0), 10).unwrap());
        assert!(matches!(
            order(CmpOp::Lt, &Value::Int(1), &Value::float(1.5), 10),
            Some(Ok(true))
        ));
    }

    #[test]
    fn sequences_compare_lexicographically() {
        let a = Value::list(vec![Value::Int(1), Value::Int(2)]);
        let b = Value::list(vec![Value::Int(1), Value::Int(3)]);
        assert!(matches!(order(CmpOp::Lt, &a, &b, 10), Some(Ok(true))));
        assert!(eq(
            &Value::list(vec![Value::Int(1)]),
            &Value::list(vec![Value::float(1.0)]),
            10
        )
        .unwrap());
    }

    #[test]
    fn nesting_past_the_budget_is_a_recursion_error() {
        let nest = |n: usize| {
            let mut v = Value::list(vec![]);
            for _ in 0..n {
                v = Value::list(vec![v]);
            }
            v
        };
        let (a, b) = (nest(50), nest(50));
        assert!(eq(&a, &b, 51).unwrap());
        assert!(eq(&a, &b, 49).is_err());
        assert!(matches!(order(CmpOp::Lt, &a, &b, 49), Some(Err(_))));
        assert!(matches!(
            contains(&Value::list(vec![b]), &a, 49),
            Some(Err(_))
        ));
    }

    #[test]
    fn type_errors_use_cpython_wording() {
        let e = binary_type_error(BinOp::Add, &Value::str("a"), &Value::Int(1));
        assert_eq!(e.args().len(), 1);
        assert!(binary(BinOp::Add, &Value::Int(1), &Value::str("a")).is_none());
    }
}
