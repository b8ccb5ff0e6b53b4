//! Attribute access (`obj.name`) and subscription (`obj[i]`) for every
//! kind of value, with CPython's error messages.

use crate::call::{bind_class_attr, native_method};
use crate::dict::Key;
use crate::errors::{Exc, PyResult};
use crate::interp::Interp;
use crate::object::{class_of, ExcType, RangeObj};
use crate::seq::{index_of, normalize, slice_indices, slice_params, str_char, str_slice};
use crate::value::{PyStr, Value};
use std::rc::Rc;

impl Interp {
    pub fn get_attr(&mut self, obj: &Value, name: &str) -> PyResult<Value> {
        match obj {
            Value::Instance(inst) => {
                if let Some(v) = inst.attrs.borrow().get(name) {
                    return Ok(v.clone());
                }
                if let Some(v) = inst.class.lookup(name) {
                    return Ok(bind_class_attr(v, obj));
                }
                if name == "__class__" {
                    return Ok(Value::Class(inst.class.clone()));
                }
                if let Some(getattr) = inst.class.lookup("__getattr__") {
                    let m = bind_class_attr(getattr, obj);
                    return self.call_value(&m, vec![Value::str(name)], Vec::new());
                }
                Err(Exc::attribute_error(&inst.class.name, name))
            }
            Value::Class(c) => {
                if let Some(v) = c.lookup(name) {
                    return Ok(v);
                }
                match name {
                    "__name__" => Ok(Value::Str(PyStr::from(&c.name))),
                    "__qualname__" => Ok(Value::Str(PyStr::from(&c.qualname))),
                    "__module__" => Ok(Value::Str(PyStr::from(&c.module))),
                    "__mro__" => Ok(Value::tuple(
                        std::iter::once(Value::Class(c.clone()))
                            .chain(c.mro.iter().map(|m| Value::Class(m.clone())))
                            .collect(),
                    )),
                    "__bases__" => Ok(Value::tuple(
                        c.mro
                            .first()
                            .map(|m| Value::Class(m.clone()))
                            .into_iter()
                            .collect(),
                    )),
                    _ => Err(Exc::new(
                        ExcType::AttributeError,
                        format!("type object '{}' has no attribute '{name}'", c.name),
                    )),
                }
            }
            Value::Module(m) => m.attrs.borrow().get(name).cloned().ok_or_else(|| {
                Exc::new(
                    ExcType::AttributeError,
                    format!("module '{}' has no attribute '{name}'", m.name),
                )
            }),
            Value::Super(s) => {
                let Value::Instance(inst) = &s.receiver else {
                    return Err(Exc::attribute_error("super", name));
                };
                let mro: Vec<_> = std::iter::once(inst.class.clone())
                    .chain(inst.class.mro.iter().cloned())
                    .collect();
                let start = mro
                    .iter()
                    .position(|c| Rc::ptr_eq(c, &s.after))
                    .map_or(0, |p| p + 1);
                for c in &mro[start..] {
                    if let Some(v) = c.attrs.borrow().get(name) {
                        return Ok(bind_class_attr(v.clone(), &s.receiver));
                    }
                }
                if name == "__init__" {
                    // object.__init__ / BaseException.__init__: store args for exceptions.
                    return Ok(crate::builtins::base_init(&s.receiver));
                }
                Err(Exc::new(
                    ExcType::AttributeError,
                    format!("'super' object has no attribute '{name}'"),
                ))
            }
            Value::Function(func) => match name {
                "__name__" => Ok(Value::Str(PyStr::from(&func.code.name))),
                "__qualname__" => Ok(Value::Str(PyStr::from(&func.code.qualname))),
                "__module__" => Ok(Value::str("__main__")),
                _ => Err(Exc::attribute_error("function", name)),
            },
            Value::Method(m) => match name {
                "__self__" => Ok(m.receiver.clone()),
                "__func__" => Ok(m.func.clone()),
                _ => self.get_attr(&m.func.clone(), name),
            },
            Value::Builtin(b) => match name {
                "__name__" | "__qualname__" => Ok(Value::str(b.name)),
                _ => Err(Exc::attribute_error("builtin_function_or_method", name)),
            },
            _ => {
                if name == "__class__" {
                    return Ok(Value::Class(class_of(obj)));
                }
                if crate::methods::has_method(obj, name) {
                    return Ok(native_method(obj, name));
                }
                Err(Exc::attribute_error(obj.type_name(), name))
            }
        }
    }

    pub fn set_attr(&mut self, obj: &Value, name: &str, v: Value) -> PyResult<()> {
        match obj {
            Value::Instance(inst) => {
                if let Some(setattr) = inst.class.lookup("__setattr__") {
                    let m = bind_class_attr(setattr, obj);
                    self.call_value(&m, vec![Value::str(name), v], Vec::new())?;
                    return Ok(());
                }
                inst.attrs.borrow_mut().insert(Rc::from(name), v);
                Ok(())
            }
            Value::Class(c) if c.kind == crate::object::ClassKind::User => {
                c.attrs.borrow_mut().insert(Rc::from(name), v);
                Ok(())
            }
            Value::Module(m) => {
                m.attrs.borrow_mut().insert(Rc::from(name), v);
                Ok(())
            }
            Value::Class(c) => Err(Exc::type_error(format!(
                "cannot set '{name}' attribute of immutable type '{}'",
                c.name
            ))),
            _ => Err(Exc::attribute_error(obj.type_name(), name)),
        }
    }

    pub fn del_attr(&mut self, obj: &Value, name: &str) -> PyResult<()> {
        let removed = match obj {
            Value::Instance(inst) => inst.attrs.borrow_mut().remove(name).is_some(),
            Value::Class(c) => c.attrs.borrow_mut().remove(name).is_some(),
            Value::Module(m) => m.attrs.borrow_mut().remove(name).is_some(),
            _ => false,
        };
        if removed {
            Ok(())
        } else {
            Err(Exc::attribute_error(obj.type_name(), name))
        }
    }

    pub fn get_item(&mut self, obj: &Value, idx: &Value) -> PyResult<Value> {
        match (obj, idx) {
            (Value::List(l), Value::Slice(b)) => {
                let l = l.borrow();
                Ok(Value::list(
                    slice_indices(b, l.len())?
                        .into_iter()
                        .map(|i| l[i].clone())
                        .collect(),
                ))
            }
            (Value::List(l), _) => {
                let i = index_of(idx, "list")?;
                let l = l.borrow();
                normalize(i, l.len())
                    .map(|i| l[i].clone())
                    .ok_or_else(|| Exc::index_error("list index out of range"))
            }
            (Value::Tuple(t), Value::Slice(b)) => Ok(Value::tuple(
                slice_indices(b, t.len())?
                    .into_iter()
                    .map(|i| t[i].clone())
                    .collect(),
            )),
            (Value::Tuple(t), _) => {
                let i = index_of(idx, "tuple")?;
                normalize(i, t.len())
                    .map(|i| t[i].clone())
                    .ok_or_else(|| Exc::index_error("tuple index out of range"))
            }
            (Value::Str(s), Value::Slice(b)) => Ok(Value::Str(PyStr::from(str_slice(s, b)?))),
            (Value::Str(s), _) => {
                let i = index_of(idx, "string")?;
                match str_char(s, i) {
                    Some(c) => Ok(Value::Str(
                        PyStr::from(c.encode_utf8(&mut [0u8; 4]) as &str),
                    )),
                    None => Err(Exc::index_error("string index out of range")),
                }
            }
            (Value::Dict(d), _) => {
                let key = Key::new(idx.clone())?;
                if let Some(v) = d.borrow().get(&key) {
                    return Ok(v.clone());
                }
                Err(Exc::with_args(ExcType::KeyError, vec![idx.clone()]))
            }
            (Value::Range(r), Value::Slice(b)) => {
                let (start, stop, step) = slice_params(b, r.len() as usize)?;
                Ok(Value::Range(Rc::new(RangeObj {
                    start: r.get(start),
                    stop: r.get(stop),
                    step: r.step * step,
                })))
            }
            (Value::Range(r), _) => {
                let i = index_of(idx, "range")?;
                normalize(i, r.len() as usize)
                    .map(|i| Value::Int(r.get(i as i64)))
                    .ok_or_else(|| Exc::index_error("range object index out of range"))
            }
            (Value::Instance(_), _) => {
                match self.call_special(obj, "__getitem__", vec![idx.clone()])? {
                    Some(v) => Ok(v),
                    None => Err(not_subscriptable(obj)),
                }
            }
            (Value::Class(c), _) if c.kind != crate::object::ClassKind::User => Ok(obj.clone()),
            _ => Err(not_subscriptable(obj)),
        }
    }

    pub fn set_item(&mut self, obj: &Value, idx: Value, v: Value) -> PyResult<()> {
        match obj {
            Value::List(l) => {
                if let Value::Slice(b) = &idx {
                    let items = self.collect_assignable(&v)?;
                    let mut l = l.borrow_mut();
                    let (start, stop, step) = slice_params(b, l.len())?;
                    if step == 1 {
                        let stop = stop.max(start) as usize;
                        l.splice(start as usize..stop, items);
                        return Ok(());
                    }
                    let idx = slice_indices(b, l.len())?;
                    if idx.len() != items.len() {
                        return Err(Exc::value_error(format!(
                            "attempt to assign sequence of size {} to extended slice of size {}",
                            items.len(),
                            idx.len()
                        )));
                    }
                    for (i, item) in idx.into_iter().zip(items) {
                        l[i] = item;
                    }
                    return Ok(());
                }
                let i = index_of(&idx, "list")?;
                let mut l = l.borrow_mut();
                let len = l.len();
                match normalize(i, len) {
                    Some(i) => {
                        l[i] = v;
                        Ok(())
                    }
                    None => Err(Exc::index_error("list assignment index out of range")),
                }
            }
            Value::Dict(d) => {
                let key = Key::new(idx)?;
                d.borrow_mut().put(key, v)?;
                Ok(())
            }
            Value::Instance(_) => match self.call_special(obj, "__setitem__", vec![idx, v])? {
                Some(_) => Ok(()),
                None => Err(no_item_assignment(obj)),
            },
            _ => Err(no_item_assignment(obj)),
        }
    }

    fn collect_assignable(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        if !self.is_iterable(v) {
            return Err(Exc::type_error("can only assign an iterable"));
        }
        self.collect(v)
    }

    pub fn del_item(&mut self, obj: &Value, idx: &Value) -> PyResult<()> {
        match obj {
            Value::List(l) => {
                let mut l = l.borrow_mut();
                if let Value::Slice(b) = idx {
                    let mut positions = slice_indices(b, l.len())?;
                    positions.sort_unstable();
                    for i in positions.into_iter().rev() {
                        l.remove(i);
                    }
                    return Ok(());
                }
                let i = index_of(idx, "list")?;
                let len = l.len();
                match normalize(i, len) {
                    Some(i) => {
                        l.remove(i);
                        Ok(())
                    }
                    None => Err(Exc::index_error("list assignment index out of range")),
                }
            }
            Value::Dict(d) => {
                let key = Key::new(idx.clone())?;
                match d.borrow_mut().shift_remove(&key) {
                    Some(_) => Ok(()),
                    None => Err(Exc::with_args(ExcType::KeyError, vec![idx.clone()])),
                }
            }
            Value::Instance(_) => match self.call_special(obj, "__delitem__", vec![idx.clone()])? {
                Some(_) => Ok(()),
                None => Err(Exc::type_error(format!(
                    "'{}' object does not support item deletion",
                    obj.type_name()
                ))),
            },
            _ => Err(Exc::type_error(format!(
                "'{}' object doesn't support item deletion",
                obj.type_name()
            ))),
        }
    }
}

fn not_subscriptable(obj: &Value) -> Exc {
    Exc::type_error(format!("'{}' object is not subscriptable", obj.type_name()))
}

fn no_item_assignment(obj: &Value) -> Exc {
    Exc::type_error(format!(
        "'{}' object does not support item assignment",
        obj.type_name()
    ))
}
