//! Integer and float arithmetic with Python semantics: arbitrary-precision
//! ints (an `i64` fast path, `num-bigint` past it, never a silent wrap),
//! floor division and modulo rounding toward negative infinity, and
//! CPython's messages for division by zero and overflow.

use crate::ast::BinOp;
use crate::errors::{Exc, PyResult};
use crate::value::Value;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use std::borrow::Cow;

/// An int operand: unboxed or big.
#[derive(Clone, Copy)]
pub enum IntRef<'a> {
    Small(i64),
    Big(&'a BigInt),
}

impl IntRef<'_> {
    pub fn of(v: &Value) -> Option<IntRef<'_>> {
        match v {
            Value::Int(i) => Some(IntRef::Small(*i)),
            Value::Bool(b) => Some(IntRef::Small(*b as i64)),
            Value::BigInt(b) => Some(IntRef::Big(b)),
            _ => None,
        }
    }

    pub fn big(self) -> Cow<'static, BigInt> {
        match self {
            IntRef::Small(i) => Cow::Owned(BigInt::from(i)),
            IntRef::Big(b) => Cow::Owned(b.clone()),
        }
    }

    pub fn is_zero(self) -> bool {
        match self {
            IntRef::Small(i) => i == 0,
            IntRef::Big(b) => b.is_zero(),
        }
    }

    pub fn is_negative(self) -> bool {
        match self {
            IntRef::Small(i) => i < 0,
            IntRef::Big(b) => b.is_negative(),
        }
    }

    pub fn to_f64(self) -> PyResult<f64> {
        match self {
            IntRef::Small(i) => Ok(i as f64),
            IntRef::Big(b) => {
                let f = b.to_f64().unwrap_or(f64::INFINITY);
                if f.is_finite() {
                    Ok(f)
                } else {
                    Err(Exc::overflow("int too large to convert to float"))
                }
            }
        }
    }
}

/// A numeric operand as a float (for mixed int/float arithmetic).
pub fn as_f64(v: &Value) -> Option<PyResult<f64>> {
    match v {
        Value::Float(f) => Some(Ok(f.get())),
        _ => IntRef::of(v).map(|i| i.to_f64()),
    }
}

/// `a op b` for two ints.
pub fn int_op(op: BinOp, a: IntRef, b: IntRef) -> PyResult<Value> {
    if let (IntRef::Small(x), IntRef::Small(y)) = (a, b) {
        if let Some(v) = small_op(op, x, y)? {
            return Ok(v);
        }
    }
    let (x, y) = (a.big(), b.big());
    let (x, y) = (x.as_ref(), y.as_ref());
    Ok(Value::from_bigint(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::FloorDiv => {
            if y.is_zero() {
                return Err(Exc::zero_division("integer division or modulo by zero"));
            }
            x.div_floor(y)
        }
        BinOp::Mod => {
            if y.is_zero() {
                return Err(Exc::zero_division("integer modulo by zero"));
            }
            x.mod_floor(y)
        }
        BinOp::Div => return Ok(Value::float(true_div(a, b)?)),
        BinOp::Pow => {
            if y.is_negative() {
                return float_op(BinOp::Pow, a.to_f64()?, b.to_f64()?);
            }
            let e = y
                .to_u32()
                .ok_or_else(|| Exc::overflow("exponent too large"))?;
            if x.bits() as u128 * e as u128 > 64_000_000 {
                return Err(Exc::new(
                    crate::object::ExcType::OverflowError,
                    "result too large",
                ));
            }
            num_traits::pow(x.clone(), e as usize)
        }
        BinOp::LShift => {
            if y.is_negative() {
                return Err(Exc::value_error("negative shift count"));
            }
            let n = y
                .to_usize()
                .filter(|n| *n < 64_000_000)
                .ok_or_else(|| Exc::overflow("too many digits in integer"))?;
            x << n
        }
        BinOp::RShift => {
            if y.is_negative() {
                return Err(Exc::value_error("negative shift count"));
            }
            match y.to_usize() {
                Some(n) => x >> n,
                None => BigInt::from(if x.is_negative() { -1 } else { 0 }),
            }
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::MatMul => {
            return Err(Exc::type_error(
                "unsupported operand type(s) for @: 'int' and 'int'",
            ))
        }
    }))
}

/// The cheapest int operations, for the evaluator's inline fast path;
/// `None` for every other case (then [`small_op`] or the general path).
#[inline(always)]
pub fn quick_op(op: BinOp, x: i64, y: i64) -> Option<Value> {
    match op {
        BinOp::Add => x.checked_add(y).map(Value::Int),
        BinOp::Sub => x.checked_sub(y).map(Value::Int),
        BinOp::Mul => x.checked_mul(y).map(Value::Int),
        _ => None,
    }
}

/// `x <cmp> y` for two ints (`None` for `in`/`is`, which need the general path).
#[inline(always)]
pub fn quick_cmp(op: crate::ast::CmpOp, x: i64, y: i64) -> Option<bool> {
    use crate::ast::CmpOp::*;
    Some(match op {
        Lt => x < y,
        LtE => x <= y,
        Gt => x > y,
        GtE => x >= y,
        Eq => x == y,
        NotEq => x != y,
        _ => return None,
    })
}

/// The i64 fast path; `None` when the result needs a big int.
#[inline]
pub fn small_op(op: BinOp, x: i64, y: i64) -> PyResult<Option<Value>> {
    Ok(match op {
        BinOp::Add => x.checked_add(y).map(Value::Int),
        BinOp::Sub => x.checked_sub(y).map(Value::Int),
        BinOp::Mul => x.checked_mul(y).map(Value::Int),
        BinOp::FloorDiv => {
            if y == 0 {
                return Err(Exc::zero_division("integer division or modulo by zero"));
            }
            if x == i64::MIN && y == -1 {
                None
            } else {
                Some(Value::Int(Integer::div_floor(&x, &y)))
            }
        }
        BinOp::Mod => {
            if y == 0 {
                return Err(Exc::zero_division("integer modulo by zero"));
            }
            if y == -1 {
                Some(Value::Int(0))
            } else {
                Some(Value::Int(x.mod_floor(&y)))
            }
        }
        BinOp::Div => Some(Value::float(true_div(IntRef::Small(x), IntRef::Small(y))?)),
        BinOp::Pow => {
            if y < 0 {
                return float_op(BinOp::Pow, x as f64, y as f64).map(Some);
            }
            u32::try_from(y)
                .ok()
                .and_then(|e| x.checked_pow(e))
                .map(Value::Int)
        }
        BinOp::LShift => {
            if y < 0 {
                return Err(Exc::value_error("negative shift count"));
            }
            if y < 63 && x.abs() < (1i64 << (62 - y)) {
                Some(Value::Int(x << y))
            } else if x == 0 {
                Some(Value::Int(0))
            } else {
                None
            }
        }
        BinOp::RShift => {
            if y < 0 {
                return Err(Exc::value_error("negative shift count"));
            }
            Some(Value::Int(x >> y.min(63)))
        }
        BinOp::BitAnd => Some(Value::Int(x & y)),
        BinOp::BitOr => Some(Value::Int(x | y)),
        BinOp::BitXor => Some(Value::Int(x ^ y)),
        BinOp::MatMul => None,
    })
}

fn true_div(a: IntRef, b: IntRef) -> PyResult<f64> {
    if b.is_zero() {
        return Err(Exc::zero_division("division by zero"));
    }
    match (a, b) {
        (IntRef::Small(x), IntRef::Small(y)) if x.abs() < (1 << 53) && y.abs() < (1 << 53) => {
            Ok(x as f64 / y as f64)
        }
        _ => {
            let q = a.to_f64()? / b.to_f64()?;
            if q.is_finite() {
                Ok(q)
            } else {
                Err(Exc::overflow(
                    "integer division result too large for a float",
                ))
            }
        }
    }
}

/// `a op b` for two floats.
pub fn float_op(op: BinOp, a: f64, b: f64) -> PyResult<Value> {
    Ok(Value::float(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return Err(Exc::zero_division("float division by zero"));
            }
            a / b
        }
        BinOp::FloorDiv => {
            if b == 0.0 {
                return Err(Exc::zero_division("float floor division by zero"));
            }
            float_divmod(a, b).0
        }
        BinOp::Mod => {
            if b == 0.0 {
                return Err(Exc::zero_division("float modulo"));
            }
            float_divmod(a, b).1
        }
        BinOp::Pow => {
            if a == 0.0 && b < 0.0 {
                return Err(Exc::zero_division(
                    "0.0 cannot be raised to a negative power",
                ));
            }
            if a < 0.0 && b.fract() != 0.0 && b.is_finite() {
                return Err(Exc::value_error("minipy does not support complex numbers"));
            }
            let r = a.powf(b);
            if r.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(Exc::overflow("(34, 'Numerical result out of range')"));
            }
            r
        }
        _ => {
            return Err(Exc::type_error(format!(
                "unsupported operand type(s) for {}: 'float' and 'float'",
                op.symbol()
            )))
        }
    }))
}

/// Python's float `divmod`: the quotient is floored, the remainder has the
/// sign of the divisor.
pub fn float_divmod(a: f64, b: f64) -> (f64, f64) {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(b);
    }
    let floordiv = if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    } else {
        0.0f64.copysign(a / b)
    };
    (floordiv, m)
}

/// Parses `int(text)` in the given base, with CPython's rules (spaces
/// around, `_` between digits, optional sign and base prefix).
pub fn parse_int(text: &str, base: u32) -> Option<Value> {
    let t = text.trim();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = t.to_ascii_lowercase();
    let (base, digits) = match (base, lower.get(..2)) {
        (16 | 0, Some("0x")) => (16, &t[2..]),
        (8 | 0, Some("0o")) => (8, &t[2..]),
        (2 | 0, Some("0b")) => (2, &t[2..]),
        (0, _) => (10, t),
        _ => (base, t),
    };
    let digits = digits.strip_prefix('_').unwrap_or(digits);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let v = BigInt::parse_bytes(clean.as_bytes(), base)?;
    Some(Value::from_bigint(if neg { -v } else { v }))
}

/// `int(f)`: truncates toward zero.
pub fn float_to_int(f: f64) -> PyResult<Value> {
    if f.is_nan() {
        return Err(Exc::value_error("cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(Exc::overflow("cannot convert float infinity to integer"));
    }
    let t = f.trunc();
    if t.abs() < 9.0e18 {
        return Ok(Value::Int(t as i64));
    }
    Ok(Value::from_bigint(
        num_traits::FromPrimitive::from_f64(t).unwrap_or(BigInt::zero()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(op: BinOp, a: i64, b: i64) -> String {
        match int_op(op, IntRef::Small(a), IntRef::Small(b)) {
            Ok(Value::Int(i)) => i.to_string(),
            Ok(Value::BigInt(b)) => b.to_string(),
            Ok(Value::Float(f)) => format!("{}", f.get()),
            Ok(_) => "?".into(),
            Err(e) => format!("err:{}", e.args().len()),
        }
    }

    #[test]
    fn floor_semantics() {
        assert_eq!(ints(BinOp::FloorDiv, 7, -2), "-4");
        assert_eq!(ints(BinOp::Mod, -7, 3), "2");
        assert_eq!(float_divmod(-7.5, 2.0), (-4.0, 0.5));
    }

    #[test]
    fn overflow_promotes_to_bigint() {
        assert_eq!(ints(BinOp::Add, i64::MAX, 1), "9223372036854775808");
        assert_eq!(ints(BinOp::Pow, 2, 100), "1267650600228229401496703205376");
        assert_eq!(ints(BinOp::FloorDiv, i64::MIN, -1), "9223372036854775808");
        assert_eq!(ints(BinOp::LShift, 1, 70), "1180591620717411303424");
    }

    #[test]
    fn parse_int_rules() {
        assert!(matches!(parse_int(" 12_3 ", 10), Some(Value::Int(123))));
        assert!(matches!(parse_int("-0x1f", 0), Some(Value::Int(-31))));
        assert!(parse_int("4.5", 10).is_none());
        assert!(parse_int("1__2", 10).is_none());
    }
}
