//! Heap objects behind `Value`: functions, classes (user and built-in),
//! instances, bound methods, modules, ranges. Built-in classes (`int`,
//! `ValueError`, …) are ordinary `Class` objects made once per thread, so
//! `isinstance`, `except` and `type()` treat them like user classes.

use crate::code::Code;
use crate::value::{Str, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// A closure cell: a variable shared between a function and the functions
/// nested in it.
pub type CellRef = Rc<RefCell<Value>>;

pub type Attrs = RefCell<HashMap<Str, Value>>;

pub struct Function {
    pub code: Rc<Code>,
    pub defaults: Vec<Value>,
    pub closure: Vec<CellRef>,
    /// The class whose body defined this function: what zero-argument
    /// `super()` starts from.
    pub owner: RefCell<Option<Weak<Class>>>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<function {}>", self.code.qualname)
    }
}

/// A user function bound to its receiver (`obj.method`).
#[derive(Debug)]
pub struct Method {
    pub func: Value,
    pub receiver: Value,
}

/// A built-in method bound to its receiver (`[].append`, `"".join`).
#[derive(Debug)]
pub struct NativeMethod {
    pub receiver: Value,
    pub name: Str,
}

#[derive(Debug)]
pub struct SuperObj {
    /// Look up attributes in the classes after this one in the receiver's MRO.
    pub after: Rc<Class>,
    pub receiver: Value,
}

#[derive(Debug)]
pub struct Module {
    pub name: Str,
    pub attrs: Attrs,
}

#[derive(Debug, Clone, Copy)]
pub struct RangeObj {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

impl RangeObj {
    pub fn len(&self) -> i64 {
        let (start, stop, step) = (self.start as i128, self.stop as i128, self.step as i128);
        let n = if step > 0 {
            (stop - start + step - 1).div_euclid(step)
        } else {
            (start - stop - step - 1).div_euclid(-step)
        };
        n.clamp(0, i64::MAX as i128) as i64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: i64) -> i64 {
        self.start + i * self.step
    }
}

/// Built-in exception types, each a class in the usual hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExcType {
    BaseException,
    SystemExit,
    KeyboardInterrupt,
    Exception,
    ArithmeticError,
    ZeroDivisionError,
    OverflowError,
    LookupError,
    IndexError,
    KeyError,
    ValueError,
    TypeError,
    RuntimeError,
    RecursionError,
    NotImplementedError,
    NameError,
    UnboundLocalError,
    AttributeError,
    AssertionError,
    ImportError,
    ModuleNotFoundError,
    StopIteration,
    OSError,
    ChildProcessError,
    ConnectionError,
    BrokenPipeError,
    MemoryError,
    SystemError,
}

impl ExcType {
    /// Every type, each after its parent.
    pub const ALL: [ExcType; 28] = [
        ExcType::BaseException,
        ExcType::SystemExit,
        ExcType::KeyboardInterrupt,
        ExcType::Exception,
        ExcType::ArithmeticError,
        ExcType::ZeroDivisionError,
        ExcType::OverflowError,
        ExcType::LookupError,
        ExcType::IndexError,
        ExcType::KeyError,
        ExcType::ValueError,
        ExcType::TypeError,
        ExcType::RuntimeError,
        ExcType::RecursionError,
        ExcType::NotImplementedError,
        ExcType::NameError,
        ExcType::UnboundLocalError,
        ExcType::AttributeError,
        ExcType::AssertionError,
        ExcType::ImportError,
        ExcType::ModuleNotFoundError,
        ExcType::StopIteration,
        ExcType::OSError,
        ExcType::ChildProcessError,
        ExcType::ConnectionError,
        ExcType::BrokenPipeError,
        ExcType::MemoryError,
        ExcType::SystemError,
    ];

    pub fn name(self) -> &'static str {
        use ExcType::*;
        match self {
            BaseException => "BaseException",
            SystemExit => "SystemExit",
            KeyboardInterrupt => "KeyboardInterrupt",
            Exception => "Exception",
            ArithmeticError => "ArithmeticError",
            ZeroDivisionError => "ZeroDivisionError",
            OverflowError => "OverflowError",
            LookupError => "LookupError",
            IndexError => "IndexError",
            KeyError => "KeyError",
            ValueError => "ValueError",
            TypeError => "TypeError",
            RuntimeError => "RuntimeError",
            RecursionError => "RecursionError",
            NotImplementedError => "NotImplementedError",
            NameError => "NameError",
            UnboundLocalError => "UnboundLocalError",
            AttributeError => "AttributeError",
            AssertionError => "AssertionError",
            ImportError => "ImportError",
            ModuleNotFoundError => "ModuleNotFoundError",
            StopIteration => "StopIteration",
            OSError => "OSError",
            ChildProcessError => "ChildProcessError",
            ConnectionError => "ConnectionError",
            BrokenPipeError => "BrokenPipeError",
            MemoryError => "MemoryError",
            SystemError => "SystemError",
        }
    }

    pub fn parent(self) -> Option<ExcType> {
        use ExcType::*;
        Some(match self {
            BaseException => return None,
            SystemExit | KeyboardInterrupt | Exception => BaseException,
            ZeroDivisionError | OverflowError => ArithmeticError,
            IndexError | KeyError => LookupError,
            RecursionError | NotImplementedError => RuntimeError,
            UnboundLocalError => NameError,
            ModuleNotFoundError => ImportError,
            ChildProcessError | ConnectionError => OSError,
            BrokenPipeError => ConnectionError,
            _ => Exception,
        })
    }
}

/// The built-in non-exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NativeType {
    Object,
    Type,
    Int,
    Bool,
    Float,
    Str,
    List,
    Tuple,
    Dict,
    Set,
    Range,
    NoneType,
    Function,
}

impl NativeType {
    pub const ALL: [NativeType; 13] = [
        NativeType::Object,
        NativeType::Type,
        NativeType::Int,
        NativeType::Bool,
        NativeType::Float,
        NativeType::Str,
        NativeType::List,
        NativeType::Tuple,
        NativeType::Dict,
        NativeType::Set,
        NativeType::Range,
        NativeType::NoneType,
        NativeType::Function,
    ];

    pub fn name(self) -> &'static str {
        use NativeType::*;
        match self {
            Object => "object",
            Type => "type",
            Int => "int",
            Bool => "bool",
            Float => "float",
            Str => "str",
            List => "list",
            Tuple => "tuple",
            Dict => "dict",
            Set => "set",
            Range => "range",
            NoneType => "NoneType",
            Function => "function",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    User,
    Native(NativeType),
    Exception(ExcType),
}

pub struct Class {
    pub name: Str,
    pub qualname: Str,
    pub module: Str,
    pub kind: ClassKind,
    /// Ancestors in lookup order, without the class itself.
    pub mro: Vec<Rc<Class>>,
    pub attrs: Attrs,
}

impl std::fmt::Debug for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<class '{}'>", self.qualname)
    }
}

impl Class {
    /// Makes a class; `bases` in declaration order.
    pub fn new(
        name: Str,
        qualname: Str,
        module: Str,
        kind: ClassKind,
        bases: &[Rc<Class>],
    ) -> Class {
        let mut mro: Vec<Rc<Class>> = Vec::new();
        for base in bases {
            for c in std::iter::once(base).chain(base.mro.iter()) {
                if !mro.iter().any(|m| Rc::ptr_eq(m, c)) {
                    mro.push(c.clone());
                }
            }
        }
        // `object` always comes last.
        if let Some(pos) = mro
            .iter()
            .position(|c| c.kind == ClassKind::Native(NativeType::Object))
        {
            let object = mro.remove(pos);
            mro.push(object);
        }
        Class {
            name,
            qualname,
            module,
            kind,
            mro,
            attrs: RefCell::new(HashMap::new()),
        }
    }

    /// Finds an attribute on the class or its ancestors.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.attrs.borrow().get(name) {
            return Some(v.clone());
        }
        self.mro
            .iter()
            .find_map(|c| c.attrs.borrow().get(name).cloned())
    }

    pub fn is_subclass_of(self: &Rc<Class>, other: &Rc<Class>) -> bool {
        Rc::ptr_eq(self, other) || self.mro.iter().any(|c| Rc::ptr_eq(c, other))
    }

    /// The nearest built-in exception type among the class and its ancestors.
    pub fn exc_type(&self) -> Option<ExcType> {
        std::iter::once(self.kind)
            .chain(self.mro.iter().map(|c| c.kind))
            .find_map(|k| match k {
                ClassKind::Exception(t) => Some(t),
                _ => None,
            })
    }

    pub fn native_type(&self) -> Option<NativeType> {
        std::iter::once(self.kind)
            .chain(self.mro.iter().map(|c| c.kind))
            .find_map(|k| match k {
                ClassKind::Native(t) if t != NativeType::Object => Some(t),
                _ => None,
            })
    }
}

#[derive(Debug)]
pub struct Instance {
    pub class: Rc<Class>,
    pub attrs: Attrs,
}

/// Frees the attribute values through [`crate::release`]: a linked list
/// of a million objects must not free itself by a million nested drops.
impl Drop for Instance {
    fn drop(&mut self) {
        let attrs = self.attrs.get_mut();
        if attrs.is_empty() {
            return;
        }
        crate::release::release(|pending| match pending {
            Some(p) => p.extend(attrs.drain().map(|(_, v)| v)),
            None => attrs.clear(),
        });
    }
}

/// Frees defaults and closure cells through [`crate::release`] (a chain
/// of closures is as deep as a chain of lists).
impl Drop for Function {
    fn drop(&mut self) {
        if self.defaults.is_empty() && self.closure.is_empty() {
            return;
        }
        let (defaults, closure) = (&mut self.defaults, &mut self.closure);
        crate::release::release(|pending| match pending {
            Some(p) => {
                p.append(defaults);
                for cell in closure.drain(..) {
                    // A cell shared with a live frame or function stays.
                    if let Ok(cell) = Rc::try_unwrap(cell) {
                        p.push(cell.into_inner());
                    }
                }
            }
            None => {
                defaults.clear();
                closure.clear();
            }
        });
    }
}

impl Instance {
    pub fn new(class: Rc<Class>) -> Instance {
        Instance {
            class,
            attrs: RefCell::new(HashMap::new()),
        }
    }
}

struct Registry {
    native: HashMap<NativeType, Rc<Class>>,
    exceptions: HashMap<ExcType, Rc<Class>>,
}

thread_local! {
    static REGISTRY: Registry = build_registry();
}

fn build_registry() -> Registry {
    let builtins: Str = Rc::from("builtins");
    let mut native = HashMap::new();
    let object = Rc::new(Class::new(
        Rc::from("object"),
        Rc::from("object"),
        builtins.clone(),
        ClassKind::Native(NativeType::Object),
        &[],
    ));
    native.insert(NativeType::Object, object.clone());
    for t in NativeType::ALL {
        if t == NativeType::Object || t == NativeType::Bool {
            continue;
        }
        let name: Str = Rc::from(t.name());
        let c = Class::new(
            name.clone(),
            name,
            builtins.clone(),
            ClassKind::Native(t),
            std::slice::from_ref(&object),
        );
        native.insert(t, Rc::new(c));
    }
    let int = native[&NativeType::Int].clone();
    let bool_class = Class::new(
        Rc::from("bool"),
        Rc::from("bool"),
        builtins.clone(),
        ClassKind::Native(NativeType::Bool),
        &[int],
    );
    native.insert(NativeType::Bool, Rc::new(bool_class));
    let mut exceptions: HashMap<ExcType, Rc<Class>> = HashMap::new();
    for t in ExcType::ALL {
        let bases = match t.parent() {
            Some(p) => vec![exceptions[&p].clone()],
            None => vec![object.clone()],
        };
        let name: Str = Rc::from(t.name());
        let c = Class::new(
            name.clone(),
            name,
            builtins.clone(),
            ClassKind::Exception(t),
            &bases,
        );
        exceptions.insert(t, Rc::new(c));
    }
    Registry { native, exceptions }
}

/// The class object of a built-in type.
pub fn native_class(t: NativeType) -> Rc<Class> {
    REGISTRY.with(|r| r.native[&t].clone())
}

/// The class object of a built-in exception type.
pub fn exc_class(t: ExcType) -> Rc<Class> {
    REGISTRY.with(|r| r.exceptions[&t].clone())
}

/// The class of any value, as `type(v)` returns it.
pub fn class_of(v: &Value) -> Rc<Class> {
    let t = match v {
        Value::Instance(i) => return i.class.clone(),
        Value::None => NativeType::NoneType,
        Value::Bool(_) => NativeType::Bool,
        Value::Int(_) | Value::BigInt(_) => NativeType::Int,
        Value::Float(_) => NativeType::Float,
        Value::Str(_) => NativeType::Str,
        Value::List(_) => NativeType::List,
        Value::Tuple(_) => NativeType::Tuple,
        Value::Dict(_) => NativeType::Dict,
        Value::Set(_) => NativeType::Set,
        Value::Range(_) => NativeType::Range,
        Value::Class(_) => NativeType::Type,
        Value::Function(_) => NativeType::Function,
        _ => NativeType::Object,
    };
    native_class(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_hierarchy_matches_python() {
        let zde = exc_class(ExcType::ZeroDivisionError);
        assert!(zde.is_subclass_of(&exc_class(ExcType::ArithmeticError)));
        assert!(zde.is_subclass_of(&exc_class(ExcType::Exception)));
        assert!(!exc_class(ExcType::SystemExit).is_subclass_of(&exc_class(ExcType::Exception)));
        assert!(native_class(NativeType::Bool).is_subclass_of(&native_class(NativeType::Int)));
    }

    #[test]
    fn range_lengths() {
        assert_eq!(
            RangeObj {
                start: 0,
                stop: 10,
                step: 3
            }
            .len(),
            4
        );
        assert_eq!(
            RangeObj {
                start: 10,
                stop: 0,
                step: -3
            }
            .len(),
            4
        );
        assert_eq!(
            RangeObj {
                start: 5,
                stop: 0,
                step: 1
            }
            .len(),
            0
        );
    }
}
