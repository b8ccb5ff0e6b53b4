//! The runtime value: one enum, 16 bytes, cheap to clone (immutable data is
//! shared through `Rc`, mutable containers through `Rc<RefCell<…>>`; the
//! interpreter is single-threaded). Small ints are unboxed (`Int`); ints
//! outside `i64` live in `BigInt`, always normalized so that an `Int`
//! never has a `BigInt` twin.

use crate::dict::{Dict, SetData};
use crate::object::{Class, Function, Instance, Method, Module, NativeMethod, RangeObj, SuperObj};
use crate::release::Items;
use num_bigint::BigInt;
use std::cell::RefCell;
use std::rc::Rc;

/// Names (attributes, parameters, qualnames): shared, immutable text.
pub type Str = Rc<str>;
pub type ListRef = Rc<RefCell<Items>>;

/// A Python `str` value: a thin pointer (so `Value` stays a pair of
/// words, see its layout note) to shared immutable text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PyStr(Rc<String>);

impl PyStr {
    pub fn ptr_eq(a: &PyStr, b: &PyStr) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
}

impl std::ops::Deref for PyStr {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> PyStr {
        PyStr(Rc::new(s.to_string()))
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> PyStr {
        PyStr(Rc::new(s))
    }
}

impl From<&Rc<str>> for PyStr {
    fn from(s: &Rc<str>) -> PyStr {
        PyStr(Rc::new(s.to_string()))
    }
}

impl std::fmt::Debug for PyStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self.0, f)
    }
}

impl std::fmt::Display for PyStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `bool` payload one machine word wide (see the layout note on [`Value`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Truth {
    False = 0,
    True = 1,
}

impl From<bool> for Truth {
    #[inline(always)]
    fn from(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

impl Truth {
    #[inline(always)]
    pub fn get(self) -> bool {
        self == Truth::True
    }
}

impl std::fmt::Debug for Truth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.get(), f)
    }
}

/// An `f64` payload kept as its bits, so it is an integer to the compiler
/// (see the layout note on [`Value`]).
#[derive(Clone, Copy)]
pub struct FloatBits(u64);

impl From<f64> for FloatBits {
    #[inline(always)]
    fn from(x: f64) -> FloatBits {
        FloatBits(x.to_bits())
    }
}

impl FloatBits {
    #[inline(always)]
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl PartialEq for FloatBits {
    /// Float equality (`nan != nan`, `0.0 == -0.0`), not bit equality.
    fn eq(&self, other: &FloatBits) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for FloatBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.get(), f)
    }
}

/// Layout note: every payload is one 8-byte integer or pointer at the same
/// offset (hence [`Truth`] and [`FloatBits`] instead of `bool` and `f64`),
/// which makes `Value` a "scalar pair" to rustc: it is moved, passed and
/// returned in two integer registers. With a 1-byte `bool` or an `f64`
/// payload it is an opaque 16-byte blob that LLVM copies with SSE moves
/// and odd-sized pieces, and the mismatched store/load sizes stall the
/// CPU's store-to-load forwarding on every call (measured: about a third
/// of `call_heavy.py`'s run time).
#[derive(Clone, Debug)]
pub enum Value {
    None,
    Bool(Truth),
    Int(i64),
    BigInt(Rc<BigInt>),
    Float(FloatBits),
    Str(PyStr),
    List(ListRef),
    Tuple(Rc<Items>),
    Dict(Rc<RefCell<Dict>>),
    Set(Rc<RefCell<SetData>>),
    Range(Rc<RangeObj>),
    Function(Rc<Function>),
    Builtin(&'static crate::builtins::BuiltinDef),
    Method(Rc<Method>),
    NativeMethod(Rc<NativeMethod>),
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Module(Rc<Module>),
    Super(Rc<SuperObj>),
    /// `a[start:stop:step]` bounds (each may be None).
    Slice(Rc<[Value; 3]>),
    Ellipsis,
    /// Marks a local or global slot that has no value yet; never visible to
    /// scripts.
    Unbound,
}

impl Value {
    /// Whether the value owns nothing (dropping it is a no-op), so hot
    /// paths can skip the out-of-line drop glue.
    #[inline(always)]
    pub fn is_plain(&self) -> bool {
        matches!(
            self,
            Value::None
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Float(_)
                | Value::Unbound
                | Value::Builtin(_)
                | Value::Ellipsis
        )
    }

    /// `clone` with the unboxed cases inline.
    #[inline(always)]
    pub fn clone_fast(&self) -> Value {
        if self.is_plain() {
            // SAFETY: a plain value owns nothing, so a bitwise copy is a clone.
            unsafe { std::ptr::read(self) }
        } else {
            self.clone()
        }
    }

    /// `*slot = v`, without calling drop glue when the old value owns nothing.
    #[inline(always)]
    pub fn store(slot: &mut Value, v: Value) {
        let old = std::mem::replace(slot, v);
        if old.is_plain() {
            std::mem::forget(old);
        } else {
            drop(old);
        }
    }

    #[inline(always)]
    pub fn bool(b: bool) -> Value {
        Value::Bool(Truth::from(b))
    }

    #[inline(always)]
    pub fn float(x: f64) -> Value {
        Value::Float(FloatBits::from(x))
    }

    pub fn str(s: &str) -> Value {
        Value::Str(PyStr::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::Str(PyStr::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(Items(items))))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(Items(items)))
    }

    pub fn from_bigint(b: BigInt) -> Value {
        match i64::try_from(&b) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::BigInt(Rc::new(b)),
        }
    }

    /// The name of the value's type, as `type(x).__name__` gives it.
    pub fn type_name(&self) -> &str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Range(_) => "range",
            Value::Function(_) => "function",
            Value::Builtin(_) | Value::NativeMethod(_) => "builtin_function_or_method",
            Value::Method(_) => "method",
            Value::Class(_) => "type",
            Value::Instance(i) => &i.class.name,
            Value::Module(_) => "module",
            Value::Super(_) => "super",
            Value::Slice(_) => "slice",
            Value::Ellipsis => "ellipsis",
            Value::Unbound => "<unbound>",
        }
    }

    /// Python truthiness for values that need no method call
    /// (instances with `__bool__`/`__len__` go through the interpreter).
    pub fn truthy(&self) -> bool {
        match self {
            Value::None | Value::Unbound => false,
            Value::Bool(b) => b.get(),
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => f.get() != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
            Value::Set(s) => !s.borrow().is_empty(),
            Value::Range(r) => !r.is_empty(),
            _ => true,
        }
    }

    /// Identity (`is`). Small ints, bools, None and equal interned-style
    /// constants behave as CPython's caches make them behave.
    pub fn is(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b && (-5..=256).contains(a),
            (Value::Float(a), Value::Float(b)) => a.get().to_bits() == b.get().to_bits(),
            (Value::Str(a), Value::Str(b)) => PyStr::ptr_eq(a, b) || (a.is_empty() && b.is_empty()),
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b),
            (Value::Tuple(a), Value::Tuple(b)) => {
                Rc::ptr_eq(a, b) || (a.is_empty() && b.is_empty())
            }
            (Value::Dict(a), Value::Dict(b)) => Rc::ptr_eq(a, b),
            (Value::Set(a), Value::Set(b)) => Rc::ptr_eq(a, b),
            (Value::Range(a), Value::Range(b)) => Rc::ptr_eq(a, b),
            (Value::Function(a), Value::Function(b)) => Rc::ptr_eq(a, b),
            (Value::Builtin(a), Value::Builtin(b)) => std::ptr::eq(*a, *b),
            (Value::Class(a), Value::Class(b)) => Rc::ptr_eq(a, b),
            (Value::Instance(a), Value::Instance(b)) => Rc::ptr_eq(a, b),
            (Value::Module(a), Value::Module(b)) => Rc::ptr_eq(a, b),
            (Value::Method(a), Value::Method(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// An address for `<function f at 0x…>` style reprs and `id()`.
    pub fn address(&self) -> usize {
        match self {
            Value::List(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Dict(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Set(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Function(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Class(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Instance(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Module(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Method(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Str(s) => s.as_ptr() as usize,
            Value::Tuple(t) => t.as_ptr() as usize,
            Value::Builtin(b) => *b as *const _ as usize,
            other => other as *const Value as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stays_small() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<crate::errors::PyResult<Value>>(), 16);
    }

    #[test]
    fn truthiness_follows_python() {
        assert!(!Value::Int(0).truthy());
        assert!(Value::str("a").truthy());
        assert!(!Value::list(vec![]).truthy());
        assert!(!Value::float(0.0).truthy());
        assert!(Value::tuple(vec![Value::None]).truthy());
    }

    #[test]
    fn identity_of_small_ints_only() {
        assert!(Value::Int(7).is(&Value::Int(7)));
        assert!(!Value::Int(1000).is(&Value::Int(1000)));
        let l = Value::list(vec![]);
        assert!(l.is(&l.clone()) && !l.is(&Value::list(vec![])));
    }
}
