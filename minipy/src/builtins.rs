//! The built-in namespace: functions (`print`, `len`, `range`, …), the
//! built-in types as callable classes (`int`, `str`, `list`, …) and the
//! exception classes. Unlike CPython, `enumerate`, `zip`, `map`, `filter`
//! and `reversed` return lists rather than lazy iterators.

use crate::call::Kwargs;
use crate::dict::{Dict, Key, SetData};
use crate::errors::{Exc, PyResult};
use crate::interp::Interp;
use crate::num::{float_to_int, parse_int, IntRef};
use crate::object::{
    class_of, exc_class, native_class, ExcType, Instance, NativeType, RangeObj, SuperObj,
};
use crate::value::{PyStr, Value};
use num_bigint::BigInt;
use std::cell::RefCell;
use std::rc::Rc;

pub type BuiltinFn = fn(&mut Interp, Vec<Value>, Kwargs) -> PyResult<Value>;

pub struct BuiltinDef {
    pub name: &'static str,
    pub func: BuiltinFn,
}

impl std::fmt::Debug for BuiltinDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<built-in function {}>", self.name)
    }
}

macro_rules! builtins {
    ($($name:literal => $f:path),* $(,)?) => {
        static BUILTINS: &[BuiltinDef] = &[$(BuiltinDef { name: $name, func: $f }),*];
    };
}

builtins! {
    "print" => print,
    "len" => len,
    "abs" => abs,
    "min" => min,
    "max" => max,
    "sum" => sum,
    "isinstance" => isinstance,
    "issubclass" => issubclass,
    "repr" => repr,
    "sorted" => sorted,
    "reversed" => reversed,
    "enumerate" => enumerate,
    "zip" => zip,
    "map" => map,
    "filter" => filter,
    "any" => any,
    "all" => all,
    "ord" => ord,
    "chr" => chr,
    "round" => round,
    "divmod" => divmod,
    "pow" => pow,
    "hash" => hash,
    "id" => id,
    "hex" => hex,
    "oct" => oct,
    "bin" => bin,
    "callable" => callable,
    "getattr" => getattr,
    "setattr" => setattr,
    "hasattr" => hasattr,
    "delattr" => delattr,
    "format" => format,
    "super" => super_,
}

/// What a global name falls back to when the module does not bind it.
pub fn lookup(name: &str) -> Option<Value> {
    if let Some(b) = BUILTINS.iter().find(|b| b.name == name) {
        return Some(Value::Builtin(b));
    }
    if let Some(t) = NativeType::ALL
        .iter()
        .find(|t| t.name() == name && !matches!(t, NativeType::NoneType | NativeType::Function))
    {
        return Some(Value::Class(native_class(*t)));
    }
    if let Some(t) = ExcType::ALL.iter().find(|t| t.name() == name) {
        return Some(Value::Class(exc_class(*t)));
    }
    match name {
        "None" => Some(Value::None),
        "Ellipsis" => Some(Value::Ellipsis),
        "NotImplemented" => Some(Value::str("\0NotImplemented")),
        "__debug__" => Some(Value::bool(true)),
        _ => None,
    }
}

/// A built-in function by name (for `sys` and `os` attributes).
pub fn builtin_fn(def: &'static BuiltinDef) -> Value {
    Value::Builtin(def)
}

fn exactly_one(name: &str, args: &[Value]) -> PyResult<()> {
    if args.len() != 1 {
        return Err(Exc::type_error(format!(
            "{name}() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    Ok(())
}

fn no_kwargs(name: &str, kwargs: &Kwargs) -> PyResult<()> {
    if let Some((k, _)) = kwargs.first() {
        return Err(Exc::type_error(format!(
            "{name}() takes no keyword arguments (got '{k}')"
        )));
    }
    Ok(())
}

fn take_kwarg(kwargs: &mut Kwargs, name: &str) -> Option<Value> {
    let i = kwargs.iter().position(|(k, _)| &**k == name)?;
    Some(kwargs.remove(i).1)
}

fn unexpected_kwarg(fname: &str, kwargs: &Kwargs) -> PyResult<()> {
    match kwargs.first() {
        Some((k, _)) => Err(Exc::type_error(format!(
            "'{k}' is an invalid keyword argument for {fname}()"
        ))),
        None => Ok(()),
    }
}

fn print(interp: &mut Interp, args: Vec<Value>, mut kwargs: Kwargs) -> PyResult<Value> {
    let sep = take_kwarg(&mut kwargs, "sep");
    let end = take_kwarg(&mut kwargs, "end");
    let file = take_kwarg(&mut kwargs, "file");
    let flush = take_kwarg(&mut kwargs, "flush").is_some_and(|v| v.truthy());
    unexpected_kwarg("print", &kwargs)?;
    let text_of = |v: Option<Value>, default: &str, what: &str| -> PyResult<String> {
        match v {
            None | Some(Value::None) => Ok(default.to_string()),
            Some(Value::Str(s)) => Ok(s.to_string()),
            Some(other) => Err(Exc::type_error(format!(
                "{what} must be None or a string, not {}",
                other.type_name()
            ))),
        }
    };
    let sep = text_of(sep, " ", "sep")?;
    let end = text_of(end, "\n", "end")?;
    let to_stderr = matches!(&file, Some(Value::Module(m)) if &*m.name == "sys.stderr");
    if to_stderr {
        let mut line = String::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                line.push_str(&sep);
            }
            line.push_str(&interp.to_str(a)?);
        }
        line.push_str(&end);
        crate::output::write_stderr(&line);
        return Ok(Value::None);
    }
    // Piece by piece: a huge string is written, not copied into a line.
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            interp.out.write_str(&sep)?;
        }
        match a {
            Value::Str(s) => interp.out.write_str(s)?,
            other => {
                let text = interp.to_str(other)?;
                interp.out.write_str(&text)?;
            }
        }
    }
    interp.out.write_str(&end)?;
    if flush {
        interp.out.flush()?;
    }
    Ok(Value::None)
}

fn len(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_kwargs("len", &kwargs)?;
    exactly_one("len", &args)?;
    let n = match &args[0] {
        Value::Str(s) => {
            if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            }
        }
        Value::List(l) => l.borrow().len(),
        Value::Tuple(t) => t.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::Set(s) => s.borrow().len(),
        Value::Range(r) => r.len() as usize,
        v @ Value::Instance(_) => match interp.call_special(v, "__len__", Vec::new())? {
            Some(r) => return Ok(r),
            None => {
                return Err(Exc::type_error(format!(
                    "object of type '{}' has no len()",
                    v.type_name()
                )))
            }
        },
        other => {
            return Err(Exc::type_error(format!(
                "object of type '{}' has no len()",
                other.type_name()
            )))
        }
    };
    Ok(Value::Int(n as i64))
}

fn abs(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("abs", &args)?;
    match &args[0] {
        Value::Int(i) if *i != i64::MIN => Ok(Value::Int(i.abs())),
        Value::Float(f) => Ok(Value::float(f.get().abs())),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        v @ (Value::Int(_) | Value::BigInt(_)) => {
            let b = IntRef::of(v)
                .map(|i| i.big().into_owned())
                .unwrap_or_default();
            Ok(Value::from_bigint(if b.sign() == num_bigint::Sign::Minus {
                -b
            } else {
                b
            }))
        }
        v @ Value::Instance(_) => match interp.call_special(v, "__abs__", Vec::new())? {
            Some(r) => Ok(r),
            None => Err(Exc::type_error(format!(
                "bad operand type for abs(): '{}'",
                v.type_name()
            ))),
        },
        other => Err(Exc::type_error(format!(
            "bad operand type for abs(): '{}'",
            other.type_name()
        ))),
    }
}

fn min_max(
    interp: &mut Interp,
    name: &str,
    args: Vec<Value>,
    mut kwargs: Kwargs,
    want_greater: bool,
) -> PyResult<Value> {
    let key = take_kwarg(&mut kwargs, "key").filter(|k| !matches!(k, Value::None));
    let default = take_kwarg(&mut kwargs, "default");
    unexpected_kwarg(name, &kwargs)?;
    let items = match args.len() {
        0 => {
            return Err(Exc::type_error(format!(
                "{name} expected at least 1 argument, got 0"
            )))
        }
        1 => interp.collect(&args[0])?,
        _ => {
            if default.is_some() {
                return Err(Exc::type_error(format!(
                    "Cannot specify a default for {name}() with multiple positional arguments"
                )));
            }
            args
        }
    };
    let mut best: Option<(Value, Value)> = None;
    for item in items {
        let k = match &key {
            Some(f) => interp.call_value(f, vec![item.clone()], Vec::new())?,
            None => item.clone(),
        };
        best = match best {
            None => Some((k, item)),
            Some((bk, bv)) => {
                let better = if want_greater {
                    interp.compare(crate::ast::CmpOp::Gt, &k, &bk)?
                } else {
                    interp.compare(crate::ast::CmpOp::Lt, &k, &bk)?
                };
                if better {
                    Some((k, item))
                } else {
                    Some((bk, bv))
                }
            }
        };
    }
    match (best, default) {
        (Some((_, v)), _) => Ok(v),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Exc::value_error(format!(
            "{name}() iterable argument is empty"
        ))),
    }
}

fn min(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    min_max(interp, "min", args, kwargs, false)
}

fn max(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    min_max(interp, "max", args, kwargs, true)
}

fn sum(interp: &mut Interp, args: Vec<Value>, mut kwargs: Kwargs) -> PyResult<Value> {
    let start_kw = take_kwarg(&mut kwargs, "start");
    unexpected_kwarg("sum", &kwargs)?;
    if args.is_empty() || args.len() > 2 {
        return Err(Exc::type_error(format!(
            "sum() takes at most 2 arguments ({} given)",
            args.len()
        )));
    }
    let mut acc = args.get(1).cloned().or(start_kw).unwrap_or(Value::Int(0));
    if let Value::Str(_) = acc {
        return Err(Exc::type_error(
            "sum() can't sum strings [use ''.join(seq) instead]",
        ));
    }
    let mut it = interp.iterate(&args[0])?;
    while let Some(x) = interp.next_item(&mut it)? {
        if let (Value::Int(a), Value::Int(b)) = (&acc, &x) {
            if let Some(s) = a.checked_add(*b) {
                acc = Value::Int(s);
                continue;
            }
        }
        acc = interp.binary_op(crate::ast::BinOp::Add, &acc, &x)?;
    }
    Ok(acc)
}

/// The classes of `isinstance`'s second argument, tuples flattened at
/// most `depth` levels deep (deeper is CPython's `RecursionError`).
fn class_list(v: &Value, fname: &str, depth: u32) -> PyResult<Vec<Rc<crate::object::Class>>> {
    match v {
        Value::Class(c) => Ok(vec![c.clone()]),
        Value::Tuple(_) if depth == 0 => Err(Exc::new(
            ExcType::RecursionError,
            format!(
                "maximum recursion depth exceeded in __{}check__",
                if fname == "isinstance" {
                    "instance"
                } else {
                    "subclass"
                }
            ),
        )),
        Value::Tuple(items) => {
            let mut out = Vec::new();
            for i in items.iter() {
                out.extend(class_list(i, fname, depth - 1)?);
            }
            Ok(out)
        }
        _ => Err(Exc::type_error(format!(
            "{fname}() arg 2 must be a type, a tuple of types, or a union"
        ))),
    }
}

fn isinstance(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(Exc::type_error(format!(
            "isinstance expected 2 arguments, got {}",
            args.len()
        )));
    }
    let cls = class_of(&args[0]);
    let depth = interp.recursion_limit.saturating_sub(interp.depth);
    let targets = class_list(&args[1], "isinstance", depth)?;
    Ok(Value::bool(targets.iter().any(|t| cls.is_subclass_of(t))))
}

fn issubclass(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(Exc::type_error(format!(
            "issubclass expected 2 arguments, got {}",
            args.len()
        )));
    }
    let Value::Class(c) = &args[0] else {
        return Err(Exc::type_error("issubclass() arg 1 must be a class"));
    };
    let depth = interp.recursion_limit.saturating_sub(interp.depth);
    let targets = class_list(&args[1], "issubclass", depth)?;
    Ok(Value::bool(targets.iter().any(|t| c.is_subclass_of(t))))
}

fn repr(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("repr", &args)?;
    Ok(Value::Str(PyStr::from(interp.repr(&args[0])?)))
}

fn sorted(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    if args.len() != 1 {
        return Err(Exc::type_error(format!(
            "sorted expected 1 argument, got {}",
            args.len()
        )));
    }
    let (key, reverse) = crate::methods::sort_kwargs(kwargs)?;
    let items = interp.collect(&args[0])?;
    match interp.sort_values(items, key.as_ref(), reverse) {
        Ok(v) => Ok(Value::list(v)),
        Err((e, _)) => Err(e),
    }
}

fn reversed(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("reversed", &args)?;
    if matches!(args[0], Value::Set(_)) {
        return Err(Exc::type_error("'set' object is not reversible"));
    }
    let mut items = interp.collect(&args[0])?;
    items.reverse();
    Ok(Value::list(items))
}

fn enumerate(interp: &mut Interp, args: Vec<Value>, mut kwargs: Kwargs) -> PyResult<Value> {
    let start = take_kwarg(&mut kwargs, "start")
        .or_else(|| args.get(1).cloned())
        .unwrap_or(Value::Int(0));
    unexpected_kwarg("enumerate", &kwargs)?;
    let Some(it) = args.first() else {
        return Err(Exc::type_error(
            "enumerate() missing required argument 'iterable' (pos 1)",
        ));
    };
    let items = interp.collect(it)?;
    let mut i = start;
    let mut out = Vec::with_capacity(items.len());
    for x in items {
        out.push(Value::tuple(vec![i.clone(), x]));
        i = interp.binary_op(crate::ast::BinOp::Add, &i, &Value::Int(1))?;
    }
    Ok(Value::list(out))
}

fn zip(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let mut columns = Vec::new();
    for a in &args {
        columns.push(interp.collect(a)?);
    }
    let n = columns.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::list(
        (0..n)
            .map(|i| Value::tuple(columns.iter().map(|c| c[i].clone()).collect()))
            .collect(),
    ))
}

fn map(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() < 2 {
        return Err(Exc::type_error("map() must have at least two arguments."));
    }
    let mut columns = Vec::new();
    for a in &args[1..] {
        columns.push(interp.collect(a)?);
    }
    let n = columns.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let call_args = columns.iter().map(|c| c[i].clone()).collect();
        out.push(interp.call_value(&args[0], call_args, Vec::new())?);
    }
    Ok(Value::list(out))
}

fn filter(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(Exc::type_error(format!(
            "filter expected 2 arguments, got {}",
            args.len()
        )));
    }
    let mut out = Vec::new();
    for x in interp.collect(&args[1])? {
        let keep = match &args[0] {
            Value::None => interp.truthy(&x)?,
            f => {
                let r = interp.call_value(f, vec![x.clone()], Vec::new())?;
                interp.truthy(&r)?
            }
        };
        if keep {
            out.push(x);
        }
    }
    Ok(Value::list(out))
}

fn any(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("any", &args)?;
    let mut it = interp.iterate(&args[0])?;
    while let Some(x) = interp.next_item(&mut it)? {
        if interp.truthy(&x)? {
            return Ok(Value::bool(true));
        }
    }
    Ok(Value::bool(false))
}

fn all(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("all", &args)?;
    let mut it = interp.iterate(&args[0])?;
    while let Some(x) = interp.next_item(&mut it)? {
        if !interp.truthy(&x)? {
            return Ok(Value::bool(false));
        }
    }
    Ok(Value::bool(true))
}

fn ord(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("ord", &args)?;
    match &args[0] {
        Value::Str(s) => {
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Ok(Value::Int(c as i64)),
                _ => Err(Exc::type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    s.chars().count()
                ))),
            }
        }
        other => Err(Exc::type_error(format!(
            "ord() expected string of length 1, but {} found",
            other.type_name()
        ))),
    }
}

fn chr(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("chr", &args)?;
    let Value::Int(i) = args[0] else {
        return Err(Exc::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            args[0].type_name()
        )));
    };
    match u32::try_from(i).ok().and_then(char::from_u32) {
        Some(c) => Ok(Value::str(c.encode_utf8(&mut [0; 4]))),
        None => Err(Exc::value_error("chr() arg not in range(0x110000)")),
    }
}

fn round(_: &mut Interp, args: Vec<Value>, mut kwargs: Kwargs) -> PyResult<Value> {
    let nd = take_kwarg(&mut kwargs, "ndigits")
        .or_else(|| args.get(1).cloned())
        .filter(|v| !matches!(v, Value::None));
    if args.is_empty() || args.len() > 2 {
        return Err(Exc::type_error(format!(
            "round() takes at most 2 arguments ({} given)",
            args.len()
        )));
    }
    let ndigits = match &nd {
        None => None,
        Some(Value::Int(n)) => Some(*n),
        Some(other) => {
            return Err(Exc::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                other.type_name()
            )))
        }
    };
    match (&args[0], ndigits) {
        (Value::Float(f), None) => float_to_int(f.get().round_ties_even()),
        (Value::Float(f), Some(n)) => {
            let f = f.get();
            if !f.is_finite() || n > 300 {
                return Ok(Value::float(f));
            }
            if n >= 0 {
                // Rust formats the exact binary value, so this rounds as CPython does.
                let s = format!("{:.*}", n as usize, f);
                Ok(Value::float(s.parse().unwrap_or(f)))
            } else {
                let p = 10f64.powi((-n) as i32);
                Ok(Value::float((f / p).round_ties_even() * p))
            }
        }
        (v @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_)), n) => {
            let b = IntRef::of(v)
                .map(|i| i.big().into_owned())
                .unwrap_or_default();
            match n {
                Some(n) if n < 0 => {
                    let p = num_traits::pow(BigInt::from(10), (-n) as usize);
                    let two = BigInt::from(2);
                    let (q, r) = num_integer::Integer::div_mod_floor(&b, &p);
                    let twice = &r * &two;
                    let q = if twice > p || (twice == p && num_integer::Integer::is_odd(&q)) {
                        q + 1
                    } else {
                        q
                    };
                    Ok(Value::from_bigint(q * p))
                }
                _ => Ok(Value::from_bigint(b)),
            }
        }
        (other, _) => Err(Exc::type_error(format!(
            "type {} doesn't define __round__ method",
            other.type_name()
        ))),
    }
}

fn divmod(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(Exc::type_error(format!(
            "divmod expected 2 arguments, got {}",
            args.len()
        )));
    }
    if let (Some(_), Some(b)) = (IntRef::of(&args[0]), IntRef::of(&args[1])) {
        if b.is_zero() {
            return Err(Exc::zero_division("integer division or modulo by zero"));
        }
    }
    let q = interp.binary_op(crate::ast::BinOp::FloorDiv, &args[0], &args[1])?;
    let r = interp.binary_op(crate::ast::BinOp::Mod, &args[0], &args[1])?;
    Ok(Value::tuple(vec![q, r]))
}

fn pow(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    match args.len() {
        2 => interp.binary_op(crate::ast::BinOp::Pow, &args[0], &args[1]),
        3 => {
            let (Some(b), Some(e), Some(m)) = (
                IntRef::of(&args[0]),
                IntRef::of(&args[1]),
                IntRef::of(&args[2]),
            ) else {
                return Err(Exc::type_error(
                    "pow() 3rd argument not allowed unless all arguments are integers",
                ));
            };
            if m.is_zero() {
                return Err(Exc::value_error("pow() 3rd argument cannot be 0"));
            }
            let (mut b, mut e, m) = (
                b.big().into_owned(),
                e.big().into_owned(),
                m.big().into_owned(),
            );
            if e.sign() == num_bigint::Sign::Minus {
                // b ** -e is the modular inverse of b, to the power e.
                use num_integer::Integer;
                let m_abs = num_traits::Signed::abs(&m);
                let egcd = b.mod_floor(&m_abs).extended_gcd(&m_abs);
                if !num_traits::One::is_one(&egcd.gcd) {
                    return Err(Exc::value_error(
                        "base is not invertible for the given modulus",
                    ));
                }
                b = egcd.x;
                e = -e;
            }
            let r = b.modpow(&e, &m);
            // Python's result has the sign of the modulus.
            let r = if r.sign() != num_bigint::Sign::NoSign && r.sign() != m.sign() {
                r + &m
            } else {
                r
            };
            Ok(Value::from_bigint(r))
        }
        n => Err(Exc::type_error(format!(
            "pow expected 2 arguments, got {n}"
        ))),
    }
}

fn hash(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("hash", &args)?;
    if let Value::Int(i) = args[0] {
        return Ok(Value::Int(if i == -1 { -2 } else { i }));
    }
    let key = Key::new(args[0].clone())?;
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    Ok(Value::Int((h.finish() >> 2) as i64))
}

fn id(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("id", &args)?;
    Ok(Value::Int(args[0].address() as i64))
}

fn radix(name: &str, args: &[Value], spec: &str) -> PyResult<Value> {
    exactly_one(name, args)?;
    if IntRef::of(&args[0]).is_none() {
        return Err(Exc::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            args[0].type_name()
        )));
    }
    Ok(Value::str(&crate::format::format_with_spec(
        &args[0], spec,
    )?))
}

fn hex(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    radix("hex", &args, "#x")
}

fn oct(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    radix("oct", &args, "#o")
}

fn bin(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    radix("bin", &args, "#b")
}

fn callable(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    exactly_one("callable", &args)?;
    Ok(Value::bool(match &args[0] {
        Value::Function(_)
        | Value::Builtin(_)
        | Value::Method(_)
        | Value::NativeMethod(_)
        | Value::Class(_) => true,
        v @ Value::Instance(_) => interp.lookup_special(v, "__call__").is_some(),
        _ => false,
    }))
}

fn attr_name(v: &Value) -> PyResult<&str> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(Exc::type_error(format!(
            "attribute name must be string, not '{}'",
            other.type_name()
        ))),
    }
}

fn getattr(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() < 2 || args.len() > 3 {
        return Err(Exc::type_error(format!(
            "getattr expected 2 or 3 arguments, got {}",
            args.len()
        )));
    }
    match interp.get_attr(&args[0], attr_name(&args[1])?) {
        Err(e) if e.is(ExcType::AttributeError) && args.len() == 3 => Ok(args[2].clone()),
        r => r,
    }
}

fn setattr(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 3 {
        return Err(Exc::type_error(format!(
            "setattr expected 3 arguments, got {}",
            args.len()
        )));
    }
    interp.set_attr(&args[0], attr_name(&args[1])?, args[2].clone())?;
    Ok(Value::None)
}

fn hasattr(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(Exc::type_error(format!(
            "hasattr expected 2 arguments, got {}",
            args.len()
        )));
    }
    match interp.get_attr(&args[0], attr_name(&args[1])?) {
        Ok(_) => Ok(Value::bool(true)),
        Err(e) if e.is(ExcType::AttributeError) => Ok(Value::bool(false)),
        Err(e) => Err(e),
    }
}

fn delattr(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.len() != 2 {
        return Err(Exc::type_error(format!(
            "delattr expected 2 arguments, got {}",
            args.len()
        )));
    }
    interp.del_attr(&args[0], attr_name(&args[1])?)?;
    Ok(Value::None)
}

fn format(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if args.is_empty() || args.len() > 2 {
        return Err(Exc::type_error(format!(
            "format expected at most 2 arguments, got {}",
            args.len()
        )));
    }
    let spec = match args.get(1) {
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => {
            return Err(Exc::type_error(format!(
                "format() argument 2 must be str, not {}",
                other.type_name()
            )))
        }
        None => String::new(),
    };
    Ok(Value::Str(PyStr::from(
        interp.format_value(&args[0], &spec)?,
    )))
}

fn super_(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    match (args.first(), args.get(1)) {
        (Some(Value::Class(c)), Some(obj)) => Ok(Value::Super(Rc::new(SuperObj {
            after: c.clone(),
            receiver: obj.clone(),
        }))),
        _ => Err(Exc::new(ExcType::RuntimeError, "super(): no arguments")),
    }
}

/// `object.__init__` / `BaseException.__init__` reached through `super()`.
pub fn base_init(receiver: &Value) -> Value {
    crate::call::native_method(receiver, "__init__")
}

/// Runs `BaseException.__init__` (stores `args`) or `object.__init__`.
pub fn run_base_init(receiver: &Value, args: Vec<Value>) -> PyResult<Value> {
    if let Value::Instance(inst) = receiver {
        if inst.class.exc_type().is_some() {
            inst.attrs
                .borrow_mut()
                .insert(Rc::from("args"), Value::tuple(args));
            return Ok(Value::None);
        }
    }
    if !args.is_empty() {
        return Err(Exc::type_error(
            "object.__init__() takes exactly one argument (the instance to initialize)",
        ));
    }
    Ok(Value::None)
}

fn int_arg(v: &Value, fname: &str) -> PyResult<i64> {
    match IntRef::of(v) {
        Some(IntRef::Small(i)) => Ok(i),
        Some(IntRef::Big(_)) => Err(Exc::overflow(
            "Python int too large to convert to C ssize_t",
        )),
        None => {
            let _ = fname;
            Err(Exc::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                v.type_name()
            )))
        }
    }
}

/// Calls a built-in type: `int(x)`, `str(x)`, `list(x)`, `range(a, b)`, …
pub fn construct(
    interp: &mut Interp,
    t: NativeType,
    args: Vec<Value>,
    mut kwargs: Kwargs,
) -> PyResult<Value> {
    let name = t.name();
    if t != NativeType::Dict && t != NativeType::Int {
        no_kwargs(name, &kwargs)?;
    }
    let at_most = |n: usize| -> PyResult<()> {
        if args.len() > n {
            return Err(Exc::type_error(format!(
                "{name}() takes at most {n} argument{} ({} given)",
                if n == 1 { "" } else { "s" },
                args.len()
            )));
        }
        Ok(())
    };
    match t {
        NativeType::Int => {
            let base_kw = take_kwarg(&mut kwargs, "base");
            unexpected_kwarg("int", &kwargs)?;
            at_most(2)?;
            let base = args.get(1).cloned().or(base_kw);
            match (args.first(), base) {
                (None, _) => Ok(Value::Int(0)),
                (Some(Value::Str(s)), base) => {
                    let b = match base {
                        Some(b) => int_arg(&b, "int")?,
                        None => 10,
                    };
                    if b != 0 && !(2..=36).contains(&b) {
                        return Err(Exc::value_error("int() base must be >= 2 and <= 36, or 0"));
                    }
                    parse_int(s, b as u32).ok_or_else(|| {
                        let mut r = String::new();
                        crate::format::str_repr(&mut r, s);
                        Exc::value_error(format!("invalid literal for int() with base {b}: {r}"))
                    })
                }
                (Some(_), Some(_)) => Err(Exc::type_error(
                    "int() can't convert non-string with explicit base",
                )),
                (Some(Value::Float(f)), None) => float_to_int(f.get()),
                (Some(v @ (Value::Int(_) | Value::BigInt(_))), None) => Ok(v.clone()),
                (Some(Value::Bool(b)), None) => Ok(Value::Int(*b as i64)),
                (Some(v @ Value::Instance(_)), None) => {
                    match interp.call_special(v, "__int__", Vec::new())? {
                        Some(r) => Ok(r),
                        None => Err(int_type_error(v)),
                    }
                }
                (Some(v), None) => Err(int_type_error(v)),
            }
        }
        NativeType::Float => {
            at_most(1)?;
            match args.first() {
                None => Ok(Value::float(0.0)),
                Some(Value::Float(f)) => Ok(Value::Float(*f)),
                Some(v @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_))) => Ok(Value::float(
                    IntRef::of(v).map(|i| i.to_f64()).unwrap_or(Ok(0.0))?,
                )),
                Some(Value::Str(s)) => parse_float(s).map(Value::float).ok_or_else(|| {
                    let mut r = String::new();
                    crate::format::str_repr(&mut r, s);
                    Exc::value_error(format!("could not convert string to float: {r}"))
                }),
                Some(v @ Value::Instance(_)) => {
                    match interp.call_special(v, "__float__", Vec::new())? {
                        Some(r) => Ok(r),
                        None => Err(Exc::type_error(format!(
                            "float() argument must be a string or a real number, not '{}'",
                            v.type_name()
                        ))),
                    }
                }
                Some(v) => Err(Exc::type_error(format!(
                    "float() argument must be a string or a real number, not '{}'",
                    v.type_name()
                ))),
            }
        }
        NativeType::Str => {
            at_most(1)?;
            match args.first() {
                None => Ok(Value::str("")),
                Some(v) => Ok(Value::Str(PyStr::from(interp.to_str(v)?))),
            }
        }
        NativeType::Bool => {
            at_most(1)?;
            match args.first() {
                None => Ok(Value::bool(false)),
                Some(v) => Ok(Value::bool(interp.truthy(v)?)),
            }
        }
        NativeType::List => {
            at_most(1)?;
            match args.first() {
                None => Ok(Value::list(Vec::new())),
                Some(v) => Ok(Value::list(interp.collect(v)?)),
            }
        }
        NativeType::Tuple => {
            at_most(1)?;
            match args.first() {
                None => Ok(Value::tuple(Vec::new())),
                Some(v @ Value::Tuple(_)) => Ok(v.clone()),
                Some(v) => Ok(Value::tuple(interp.collect(v)?)),
            }
        }
        NativeType::Set => {
            at_most(1)?;
            let mut s = SetData::new();
            if let Some(v) = args.first() {
                for x in interp.collect(v)? {
                    s.add(Key::new(x)?)?;
                }
            }
            Ok(Value::Set(Rc::new(RefCell::new(s))))
        }
        NativeType::Dict => {
            if args.len() > 1 {
                return Err(Exc::type_error(format!(
                    "dict expected at most 1 argument, got {}",
                    args.len()
                )));
            }
            let mut d = Dict::new();
            if let Some(v) = args.first() {
                for (k, v) in interp.pairs_of(v)? {
                    d.put(Key::new(k)?, v)?;
                }
            }
            for (k, v) in kwargs {
                d.insert(Key(Value::Str(PyStr::from(&k))), v);
            }
            Ok(Value::Dict(Rc::new(RefCell::new(d))))
        }
        NativeType::Range => {
            let ints: Vec<i64> = args
                .iter()
                .map(|a| int_arg(a, "range"))
                .collect::<PyResult<_>>()?;
            let (start, stop, step) = match ints.as_slice() {
                [stop] => (0, *stop, 1),
                [start, stop] => (*start, *stop, 1),
                [start, stop, step] => (*start, *stop, *step),
                [] => return Err(Exc::type_error("range expected at least 1 argument, got 0")),
                _ => {
                    return Err(Exc::type_error(format!(
                        "range expected at most 3 arguments, got {}",
                        ints.len()
                    )))
                }
            };
            if step == 0 {
                return Err(Exc::value_error("range() arg 3 must not be zero"));
            }
            Ok(Value::Range(Rc::new(RangeObj { start, stop, step })))
        }
        NativeType::Type => {
            exactly_one("type", &args)
                .map_err(|_| Exc::type_error("type() takes 1 or 3 arguments"))?;
            Ok(Value::Class(class_of(&args[0])))
        }
        NativeType::Object => {
            if !args.is_empty() {
                return Err(Exc::type_error("object() takes no arguments"));
            }
            Ok(Value::Instance(Rc::new(Instance::new(native_class(
                NativeType::Object,
            )))))
        }
        NativeType::NoneType | NativeType::Function => {
            Err(Exc::type_error(format!("cannot create '{name}' instances")))
        }
    }
}

fn int_type_error(v: &Value) -> Exc {
    Exc::type_error(format!(
        "int() argument must be a string, a bytes-like object or a real number, not '{}'",
        v.type_name()
    ))
}

/// `float(text)`: decimal or `inf`/`nan` spellings, spaces around, `_` between digits.
pub fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return lower.parse::<f64>().ok().or_else(|| {
            let v = if body == "nan" {
                f64::NAN
            } else {
                f64::INFINITY
            };
            Some(if lower.starts_with('-') { -v } else { v })
        });
    }
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    if !clean
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    clean.parse().ok()
}
