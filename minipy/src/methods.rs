//! Methods of the built-in types: `str`, `list`, `tuple`, `dict`, `set`,
//! `int` and `float`, called by name on a receiver. Sorting is a merge sort
//! written here (not std's) because comparisons may run script code
//! (`key=` functions, `__lt__`), and script calls must not pass through a
//! precompiled std callback frame.

use crate::call::Kwargs;
use crate::dict::{Dict, Key, SetData};
use crate::errors::{Exc, PyResult};
use crate::interp::Interp;
use crate::object::ExcType;
use crate::seq::normalize;
use crate::value::{PyStr, Value};
use std::cell::RefCell;
use std::rc::Rc;

const STR_METHODS: &[&str] = &[
    "join",
    "split",
    "rsplit",
    "strip",
    "lstrip",
    "rstrip",
    "upper",
    "lower",
    "startswith",
    "endswith",
    "replace",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "format",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "isupper",
    "islower",
    "isdecimal",
    "isnumeric",
    "isidentifier",
    "title",
    "capitalize",
    "splitlines",
    "center",
    "ljust",
    "rjust",
    "zfill",
    "partition",
    "rpartition",
    "swapcase",
    "removeprefix",
    "removesuffix",
    "casefold",
];
const LIST_METHODS: &[&str] = &[
    "append", "pop", "extend", "insert", "remove", "index", "count", "reverse", "sort", "copy",
    "clear",
];
const TUPLE_METHODS: &[&str] = &["index", "count"];
const DICT_METHODS: &[&str] = &[
    "get",
    "items",
    "keys",
    "values",
    "pop",
    "setdefault",
    "update",
    "copy",
    "clear",
    "popitem",
];
const SET_METHODS: &[&str] = &[
    "add",
    "remove",
    "discard",
    "pop",
    "clear",
    "copy",
    "union",
    "intersection",
    "difference",
    "update",
    "issubset",
    "issuperset",
];

/// Whether `obj.<name>` is a built-in method.
pub fn has_method(obj: &Value, name: &str) -> bool {
    let table: &[&str] = match obj {
        Value::Str(_) => STR_METHODS,
        Value::List(_) => LIST_METHODS,
        Value::Tuple(_) => TUPLE_METHODS,
        Value::Dict(_) => DICT_METHODS,
        Value::Set(_) => SET_METHODS,
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => &["bit_length", "conjugate"],
        Value::Float(_) => &["is_integer", "conjugate"],
        _ => &[],
    };
    table.contains(&name)
}

fn check_args(name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    let n = args.len();
    if n >= min && n <= max {
        return Ok(());
    }
    Err(Exc::type_error(if min == max && min == 1 {
        format!("{name}() takes exactly one argument ({n} given)")
    } else if min == max && min == 0 {
        format!("{name}() takes no arguments ({n} given)")
    } else if n < min {
        format!(
            "{name} expected at least {min} argument{}, got {n}",
            if min == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "{name} expected at most {max} argument{}, got {n}",
            if max == 1 { "" } else { "s" }
        )
    }))
}

fn str_arg<'a>(v: &'a Value, what: &str) -> PyResult<&'a str> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(Exc::type_error(format!(
            "{what} must be str, not {}",
            other.type_name()
        ))),
    }
}

fn int_arg(v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        other => Err(Exc::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            other.type_name()
        ))),
    }
}

fn new_str(s: impl AsRef<str>) -> Value {
    Value::Str(PyStr::from(s.as_ref()))
}

impl Interp {
    pub fn call_native_method(
        &mut self,
        recv: &Value,
        name: &str,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> PyResult<Value> {
        if let (Value::Instance(_), "__init__") = (recv, name) {
            return crate::builtins::run_base_init(recv, args);
        }
        let takes_kwargs = (matches!(recv, Value::List(_)) && name == "sort")
            || name == "format"
            || name == "update";
        if !kwargs.is_empty() && !takes_kwargs {
            return Err(Exc::type_error(format!(
                "{name}() takes no keyword arguments"
            )));
        }
        match recv {
            Value::Str(s) => self.str_method(s, name, args, kwargs),
            Value::List(l) => self.list_method(recv, l, name, args, kwargs),
            Value::Tuple(t) => self.seq_search(t, name, &args, "tuple"),
            Value::Dict(d) => self.dict_method(d, name, args, kwargs),
            Value::Set(s) => self.set_method(s, name, args),
            Value::Int(_) | Value::BigInt(_) | Value::Bool(_) if name == "bit_length" => {
                let b = crate::num::IntRef::of(recv)
                    .map(|i| i.big().bits())
                    .unwrap_or(0);
                Ok(Value::Int(b as i64))
            }
            Value::Float(f) if name == "is_integer" => {
                Ok(Value::bool(f.get().fract() == 0.0 && f.get().is_finite()))
            }
            _ if name == "conjugate" => Ok(recv.clone()),
            _ => Err(Exc::attribute_error(recv.type_name(), name)),
        }
    }

    fn seq_search(
        &mut self,
        items: &[Value],
        name: &str,
        args: &[Value],
        what: &str,
    ) -> PyResult<Value> {
        match name {
            "count" => {
                check_args("count", args, 1, 1)?;
                let mut n = 0;
                for x in items {
                    if x.is(&args[0]) || self.eq(x, &args[0])? {
                        n += 1;
                    }
                }
                Ok(Value::Int(n))
            }
            "index" => {
                check_args("index", args, 1, 3)?;
                let len = items.len() as i64;
                let bound = |v: Option<&Value>, d: i64| -> PyResult<i64> {
                    Ok(match v {
                        Some(v) => {
                            let i = int_arg(v)?;
                            if i < 0 {
                                (i + len).max(0)
                            } else {
                                i.min(len)
                            }
                        }
                        None => d,
                    })
                };
                let (start, stop) = (bound(args.get(1), 0)?, bound(args.get(2), len)?);
                for i in start..stop {
                    let x = &items[i as usize];
                    if x.is(&args[0]) || self.eq(x, &args[0])? {
                        return Ok(Value::Int(i));
                    }
                }
                if what == "list" {
                    let r = self.repr(&args[0])?;
                    Err(Exc::value_error(format!("{r} is not in list")))
                } else {
                    Err(Exc::value_error("tuple.index(x): x not in tuple"))
                }
            }
            _ => Err(Exc::attribute_error(what, name)),
        }
    }

    fn list_method(
        &mut self,
        recv: &Value,
        l: &crate::value::ListRef,
        name: &str,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> PyResult<Value> {
        match name {
            "append" => {
                check_args("list.append", &args, 1, 1).map_err(|_| {
                    Exc::type_error(format!(
                        "list.append() takes exactly one argument ({} given)",
                        args.len()
                    ))
                })?;
                let item = args.into_iter().next().unwrap_or(Value::None);
                crate::mem::push(&mut l.borrow_mut(), item)?;
                Ok(Value::None)
            }
            "pop" => {
                check_args("pop", &args, 0, 1)?;
                let mut list = l.borrow_mut();
                if list.is_empty() {
                    return Err(Exc::index_error("pop from empty list"));
                }
                let i = match args.first() {
                    Some(v) => int_arg(v)?,
                    None => -1,
                };
                let len = list.len();
                match normalize(i, len) {
                    Some(i) => Ok(list.remove(i)),
                    None => Err(Exc::index_error("pop index out of range")),
                }
            }
            "extend" => {
                check_args("list.extend", &args, 1, 1)?;
                let items = self.collect(&args[0])?;
                let mut list = l.borrow_mut();
                crate::mem::reserve(&mut list, items.len())?;
                list.extend(items);
                Ok(Value::None)
            }
            "insert" => {
                check_args("insert", &args, 2, 2)?;
                let i = int_arg(&args[0])?;
                let mut list = l.borrow_mut();
                let len = list.len() as i64;
                let pos = if i < 0 { (i + len).max(0) } else { i.min(len) };
                list.insert(pos as usize, args[1].clone());
                Ok(Value::None)
            }
            "remove" => {
                check_args("list.remove", &args, 1, 1)?;
                let items = l.borrow().clone();
                for (i, x) in items.iter().enumerate() {
                    if x.is(&args[0]) || self.eq(x, &args[0])? {
                        l.borrow_mut().remove(i);
                        return Ok(Value::None);
                    }
                }
                Err(Exc::value_error("list.remove(x): x not in list"))
            }
            "index" | "count" => {
                let items = l.borrow().clone();
                self.seq_search(&items, name, &args, "list")
            }
            "reverse" => {
                check_args("list.reverse", &args, 0, 0)?;
                l.borrow_mut().reverse();
                Ok(Value::None)
            }
            "sort" => {
                check_args("sort", &args, 0, 0)
                    .map_err(|_| Exc::type_error("sort() takes no positional arguments"))?;
                let (key, reverse) = sort_options(kwargs)?;
                let items = std::mem::take(&mut l.borrow_mut().0);
                let sorted = self.sort_values(items, key.as_ref(), reverse);
                match sorted {
                    Ok(v) => {
                        l.borrow_mut().0 = v;
                        Ok(Value::None)
                    }
                    Err((e, original)) => {
                        l.borrow_mut().0 = original;
                        Err(e)
                    }
                }
            }
            "copy" => {
                check_args("list.copy", &args, 0, 0)?;
                Ok(Value::list(crate::iter::copy_items(&l.borrow())?))
            }
            "clear" => {
                check_args("list.clear", &args, 0, 0)?;
                l.borrow_mut().clear();
                Ok(Value::None)
            }
            _ => Err(Exc::attribute_error(recv.type_name(), name)),
        }
    }

    /// A stable sort (merge sort) whose comparisons may call script code.
    /// On error returns the original items.
    pub fn sort_values(
        &mut self,
        items: Vec<Value>,
        key: Option<&Value>,
        reverse: bool,
    ) -> Result<Vec<Value>, (Exc, Vec<Value>)> {
        let keys = match key {
            Some(k) if !matches!(k, Value::None) => {
                let mut keys = Vec::with_capacity(items.len());
                for x in &items {
                    match self.call_value(k, vec![x.clone()], Vec::new()) {
                        Ok(v) => keys.push(v),
                        Err(e) => return Err((e, items)),
                    }
                }
                keys
            }
            _ => items.clone(),
        };
        let mut order: Vec<usize> = (0..items.len()).collect();
        let mut buf = order.clone();
        if let Err(e) = self.merge_sort(&keys, &mut order, &mut buf, reverse) {
            return Err((e, items));
        }
        Ok(order.into_iter().map(|i| items[i].clone()).collect())
    }

    fn merge_sort(
        &mut self,
        keys: &[Value],
        idx: &mut [usize],
        buf: &mut [usize],
        reverse: bool,
    ) -> PyResult<()> {
        let n = idx.len();
        if n < 2 {
            return Ok(());
        }
        let mid = n / 2;
        self.merge_sort(keys, &mut idx[..mid], &mut buf[..mid], reverse)?;
        self.merge_sort(keys, &mut idx[mid..], &mut buf[mid..], reverse)?;
        let (mut i, mut j, mut k) = (0, mid, 0);
        while i < mid && j < n {
            // Take from the right only when it is strictly smaller: stable.
            let (a, b) = (&keys[idx[i]], &keys[idx[j]]);
            let right_first = if reverse {
                self.compare(crate::ast::CmpOp::Lt, a, b)?
            } else {
                self.compare(crate::ast::CmpOp::Lt, b, a)?
            };
            if right_first {
                buf[k] = idx[j];
                j += 1;
            } else {
                buf[k] = idx[i];
                i += 1;
            }
            k += 1;
        }
        buf[k..k + mid - i].copy_from_slice(&idx[i..mid]);
        let k = k + mid - i;
        buf[k..k + n - j].copy_from_slice(&idx[j..n]);
        idx.copy_from_slice(&buf[..n]);
        Ok(())
    }

    fn dict_method(
        &mut self,
        d: &Rc<RefCell<Dict>>,
        name: &str,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> PyResult<Value> {
        match name {
            "get" => {
                check_args("get", &args, 1, 2)?;
                let key = Key::new(args[0].clone())?;
                Ok(d.borrow()
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::None)))
            }
            "keys" => Ok(Value::list(
                d.borrow().keys().map(|k| k.0.clone()).collect(),
            )),
            "values" => Ok(Value::list(d.borrow().values().cloned().collect())),
            "items" => Ok(Value::list(
                d.borrow()
                    .iter()
                    .map(|(k, v)| Value::tuple(vec![k.0.clone(), v.clone()]))
                    .collect(),
            )),
            "pop" => {
                check_args("pop", &args, 1, 2)?;
                let key = Key::new(args[0].clone())?;
                match d.borrow_mut().shift_remove(&key) {
                    Some(v) => Ok(v),
                    None => args
                        .get(1)
                        .cloned()
                        .ok_or_else(|| Exc::with_args(ExcType::KeyError, vec![args[0].clone()])),
                }
            }
            "popitem" => match d.borrow_mut().pop() {
                Some((k, v)) => Ok(Value::tuple(vec![k.0, v])),
                None => Err(Exc::new(
                    ExcType::KeyError,
                    "popitem(): dictionary is empty",
                )),
            },
            "setdefault" => {
                check_args("setdefault", &args, 1, 2)?;
                let key = Key::new(args[0].clone())?;
                let default = args.get(1).cloned().unwrap_or(Value::None);
                Ok(d.borrow_mut().entry(key).or_insert(default).clone())
            }
            "update" => {
                check_args("update", &args, 0, 1)?;
                if let Some(other) = args.first() {
                    let pairs = self.pairs_of(other)?;
                    let mut dm = d.borrow_mut();
                    for (k, v) in pairs {
                        dm.insert(Key::new(k)?, v);
                    }
                }
                for (k, v) in kwargs {
                    d.borrow_mut().insert(Key(Value::Str(PyStr::from(&k))), v);
                }
                Ok(Value::None)
            }
            "copy" => Ok(Value::Dict(Rc::new(RefCell::new(d.borrow().clone())))),
            "clear" => {
                d.borrow_mut().clear();
                Ok(Value::None)
            }
            _ => Err(Exc::attribute_error("dict", name)),
        }
    }

    /// Key/value pairs from a dict or an iterable of pairs (`dict(x)`, `update`).
    pub fn pairs_of(&mut self, v: &Value) -> PyResult<Vec<(Value, Value)>> {
        if let Value::Dict(d) = v {
            return Ok(d
                .borrow()
                .iter()
                .map(|(k, v)| (k.0.clone(), v.clone()))
                .collect());
        }
        let mut out = Vec::new();
        for (i, item) in self.collect(v)?.into_iter().enumerate() {
            let pair = self.collect(&item).map_err(|_| {
                Exc::type_error(format!(
                    "cannot convert dictionary update sequence element #{i} to a sequence"
                ))
            })?;
            if pair.len() != 2 {
                return Err(Exc::value_error(format!(
                    "dictionary update sequence element #{i} has length {}; 2 is required",
                    pair.len()
                )));
            }
            let mut it = pair.into_iter();
            out.push((
                it.next().unwrap_or(Value::None),
                it.next().unwrap_or(Value::None),
            ));
        }
        Ok(out)
    }

    fn set_method(
        &mut self,
        s: &Rc<RefCell<SetData>>,
        name: &str,
        args: Vec<Value>,
    ) -> PyResult<Value> {
        let other_set = |me: &mut Interp, v: &Value| -> PyResult<SetData> {
            me.collect(v)?.into_iter().map(Key::new).collect()
        };
        match name {
            "add" => {
                check_args("set.add", &args, 1, 1)?;
                s.borrow_mut().add(Key::new(args[0].clone())?)?;
                Ok(Value::None)
            }
            "remove" | "discard" => {
                check_args(name, &args, 1, 1)?;
                let removed = s.borrow_mut().shift_remove(&Key::new(args[0].clone())?);
                if !removed && name == "remove" {
                    return Err(Exc::with_args(ExcType::KeyError, vec![args[0].clone()]));
                }
                Ok(Value::None)
            }
            "pop" => s
                .borrow_mut()
                .pop()
                .map(|k| k.0)
                .ok_or_else(|| Exc::new(ExcType::KeyError, "pop from an empty set")),
            "clear" => {
                s.borrow_mut().clear();
                Ok(Value::None)
            }
            "copy" => Ok(Value::Set(Rc::new(RefCell::new(s.borrow().clone())))),
            "update" => {
                for a in &args {
                    let o = other_set(self, a)?;
                    s.borrow_mut().extend(o.iter().cloned());
                }
                Ok(Value::None)
            }
            "union" | "intersection" | "difference" => {
                let mut acc = s.borrow().clone();
                for a in &args {
                    let o = other_set(self, a)?;
                    acc = match name {
                        "union" => acc.union(&o).cloned().collect(),
                        "intersection" => acc.intersection(&o).cloned().collect(),
                        _ => acc.difference(&o).cloned().collect(),
                    };
                }
                Ok(Value::Set(Rc::new(RefCell::new(acc))))
            }
            "issubset" | "issuperset" => {
                check_args(name, &args, 1, 1)?;
                let o = other_set(self, &args[0])?;
                let me = s.borrow();
                Ok(Value::bool(if name == "issubset" {
                    me.is_subset(&o)
                } else {
                    me.is_superset(&o)
                }))
            }
            _ => Err(Exc::attribute_error("set", name)),
        }
    }

    fn str_method(
        &mut self,
        s: &PyStr,
        name: &str,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> PyResult<Value> {
        let s: &str = s;
        match name {
            "join" => {
                check_args("str.join", &args, 1, 1)?;
                // A list is read in place: copying a huge one could
                // itself run out of memory.
                let collected;
                let list;
                let items: &[Value] = match &args[0] {
                    Value::List(l) => {
                        list = l.borrow();
                        &list
                    }
                    Value::Tuple(t) => t,
                    other => {
                        collected = self.collect(other)?;
                        &collected
                    }
                };
                let mut total = s.len().saturating_mul(items.len().saturating_sub(1));
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Str(x) => total = total.saturating_add(x.len()),
                        other => {
                            return Err(Exc::type_error(format!(
                                "sequence item {i}: expected str instance, {} found",
                                other.type_name()
                            )))
                        }
                    }
                }
                let mut out = crate::mem::string_with_capacity(total)?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(s);
                    }
                    if let Value::Str(x) = item {
                        out.push_str(x);
                    }
                }
                Ok(new_str(out))
            }
            "split" | "rsplit" => {
                check_args(name, &args, 0, 2)?;
                let maxsplit = match args.get(1) {
                    Some(v) => int_arg(v)?,
                    None => -1,
                };
                let parts: Vec<String> = match args.first() {
                    None | Some(Value::None) => split_whitespace(s, maxsplit, name == "rsplit"),
                    Some(sep) => {
                        let sep = str_arg(sep, "must be str or None")?;
                        if sep.is_empty() {
                            return Err(Exc::value_error("empty separator"));
                        }
                        let n = if maxsplit < 0 {
                            usize::MAX
                        } else {
                            maxsplit as usize + 1
                        };
                        if name == "rsplit" {
                            let mut v: Vec<String> = s.rsplitn(n, sep).map(String::from).collect();
                            v.reverse();
                            v
                        } else {
                            s.splitn(n, sep).map(String::from).collect()
                        }
                    }
                };
                Ok(Value::list(parts.into_iter().map(new_str).collect()))
            }
            "strip" | "lstrip" | "rstrip" => {
                check_args(name, &args, 0, 1)?;
                let chars: Option<Vec<char>> = match args.first() {
                    None | Some(Value::None) => None,
                    Some(v) => Some(str_arg(v, "strip arg")?.chars().collect()),
                };
                let pred = |c: char| match &chars {
                    None => c.is_whitespace(),
                    Some(cs) => cs.contains(&c),
                };
                Ok(new_str(match name {
                    "strip" => s.trim_matches(pred),
                    "lstrip" => s.trim_start_matches(pred),
                    _ => s.trim_end_matches(pred),
                }))
            }
            "upper" => Ok(new_str(s.to_uppercase())),
            "lower" | "casefold" => Ok(new_str(s.to_lowercase())),
            "swapcase" => Ok(new_str(
                s.chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect()
                        }
                    })
                    .collect::<String>(),
            )),
            "title" => {
                let mut out = String::new();
                let mut prev_alpha = false;
                for c in s.chars() {
                    if prev_alpha {
                        out.extend(c.to_lowercase());
                    } else {
                        out.extend(c.to_uppercase());
                    }
                    prev_alpha = c.is_alphabetic();
                }
                Ok(new_str(out))
            }
            "capitalize" => {
                let mut cs = s.chars();
                Ok(new_str(match cs.next() {
                    Some(first) => {
                        first.to_uppercase().collect::<String>() + &cs.as_str().to_lowercase()
                    }
                    None => String::new(),
                }))
            }
            "startswith" | "endswith" => {
                check_args(name, &args, 1, 1)?;
                let test = |p: &str| {
                    if name == "startswith" {
                        s.starts_with(p)
                    } else {
                        s.ends_with(p)
                    }
                };
                match &args[0] {
                    Value::Str(p) => Ok(Value::bool(test(p))),
                    Value::Tuple(ps) => {
                        for p in ps.iter() {
                            if test(str_arg(p, "tuple for startswith")?) {
                                return Ok(Value::bool(true));
                            }
                        }
                        Ok(Value::bool(false))
                    }
                    other => Err(Exc::type_error(format!(
                        "{name} first arg must be str or a tuple of str, not {}",
                        other.type_name()
                    ))),
                }
            }
            "replace" => {
                check_args("replace", &args, 2, 3)?;
                let (old, new) = (
                    str_arg(&args[0], "replace() argument 1")?,
                    str_arg(&args[1], "replace() argument 2")?,
                );
                let count = match args.get(2) {
                    Some(v) => int_arg(v)?,
                    None => -1,
                };
                let limit = if count < 0 {
                    usize::MAX
                } else {
                    count as usize
                };
                // The result may be far larger than the text: sized first,
                // allocated fallibly.
                let n = s.match_indices(old).take(limit).count();
                let size = (new.len() as u128 * n as u128 + s.len() as u128)
                    .saturating_sub(old.len() as u128 * n as u128);
                let mut out = crate::mem::string_with_capacity(
                    usize::try_from(size).map_err(|_| crate::errors::memory_error())?,
                )?;
                let mut last = 0;
                for (i, m) in s.match_indices(old).take(n) {
                    out.push_str(&s[last..i]);
                    out.push_str(new);
                    last = i + m.len();
                }
                out.push_str(&s[last..]);
                Ok(new_str(out))
            }
            "find" | "rfind" | "index" | "rindex" | "count" => {
                check_args(name, &args, 1, 1)?;
                let sub = str_arg(&args[0], "must be str")?;
                if name == "count" {
                    let n = if sub.is_empty() {
                        s.chars().count() + 1
                    } else {
                        s.matches(sub).count()
                    };
                    return Ok(Value::Int(n as i64));
                }
                let pos = if name.starts_with('r') {
                    s.rfind(sub)
                } else {
                    s.find(sub)
                };
                match pos {
                    Some(b) => Ok(Value::Int(s[..b].chars().count() as i64)),
                    None if name.ends_with("index") => Err(Exc::value_error("substring not found")),
                    None => Ok(Value::Int(-1)),
                }
            }
            "format" => Ok(new_str(self.str_format(s, &args, &kwargs)?)),
            "isdigit" | "isdecimal" | "isnumeric" => Ok(Value::bool(
                !s.is_empty() && s.chars().all(|c| c.is_numeric()),
            )),
            "isalpha" => Ok(Value::bool(
                !s.is_empty() && s.chars().all(char::is_alphabetic),
            )),
            "isalnum" => Ok(Value::bool(
                !s.is_empty() && s.chars().all(char::is_alphanumeric),
            )),
            "isspace" => Ok(Value::bool(
                !s.is_empty() && s.chars().all(char::is_whitespace),
            )),
            "isupper" => Ok(Value::bool(
                s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase),
            )),
            "islower" => Ok(Value::bool(
                s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase),
            )),
            "isidentifier" => Ok(Value::bool(
                s.chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_alphabetic())
                    && s.chars().all(|c| c == '_' || c.is_alphanumeric()),
            )),
            "splitlines" => Ok(Value::list(s.lines().map(new_str).collect())),
            "center" | "ljust" | "rjust" => {
                check_args(name, &args, 1, 2)?;
                let width = int_arg(&args[0])?.max(0) as usize;
                let fill = match args.get(1) {
                    Some(v) => {
                        let f = str_arg(v, "fill character")?;
                        let mut cs = f.chars();
                        match (cs.next(), cs.next()) {
                            (Some(c), None) => c,
                            _ => {
                                return Err(Exc::type_error(
                                    "The fill character must be exactly one character long",
                                ))
                            }
                        }
                    }
                    None => ' ',
                };
                let n = s.chars().count();
                if n >= width {
                    return Ok(new_str(s));
                }
                let pad = width - n;
                let (left, right) = match name {
                    "ljust" => (0, pad),
                    "rjust" => (pad, 0),
                    _ => {
                        let left = pad / 2 + (pad & width & 1);
                        (left, pad - left)
                    }
                };
                let mut out = crate::mem::string_with_capacity(s.len().saturating_add(pad))?;
                crate::mem::push_repeated(&mut out, fill, left)?;
                out.push_str(s);
                crate::mem::push_repeated(&mut out, fill, right)?;
                Ok(new_str(out))
            }
            "zfill" => {
                check_args("zfill", &args, 1, 1)?;
                let width = int_arg(&args[0])?.max(0) as usize;
                let n = s.chars().count();
                if n >= width {
                    return Ok(new_str(s));
                }
                let (sign, rest) = match s.as_bytes().first() {
                    Some(b'-' | b'+') => s.split_at(1),
                    _ => ("", s),
                };
                let mut out = crate::mem::string_with_capacity(s.len().saturating_add(width - n))?;
                out.push_str(sign);
                crate::mem::push_repeated(&mut out, '0', width - n)?;
                out.push_str(rest);
                Ok(new_str(out))
            }
            "partition" | "rpartition" => {
                check_args(name, &args, 1, 1)?;
                let sep = str_arg(&args[0], "must be str")?;
                if sep.is_empty() {
                    return Err(Exc::value_error("empty separator"));
                }
                let found = if name == "partition" {
                    s.find(sep)
                } else {
                    s.rfind(sep)
                };
                let parts = match found {
                    Some(i) => [&s[..i], sep, &s[i + sep.len()..]],
                    None if name == "partition" => [s, "", ""],
                    None => ["", "", s],
                };
                Ok(Value::tuple(parts.iter().map(new_str).collect()))
            }
            "removeprefix" => {
                check_args(name, &args, 1, 1)?;
                Ok(new_str(
                    s.strip_prefix(str_arg(&args[0], "must be str")?)
                        .unwrap_or(s),
                ))
            }
            "removesuffix" => {
                check_args(name, &args, 1, 1)?;
                Ok(new_str(
                    s.strip_suffix(str_arg(&args[0], "must be str")?)
                        .unwrap_or(s),
                ))
            }
            _ => Err(Exc::attribute_error("str", name)),
        }
    }

    /// `str.format`: `{}`, `{0}`, `{name}`, `{x.attr}`, `{x[0]}`, `!r`, `:spec`.
    pub fn str_format(&mut self, fmt: &str, args: &[Value], kwargs: &Kwargs) -> PyResult<String> {
        let mut out = String::new();
        let mut auto = 0usize;
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '}' {
                if chars.peek() == Some(&'}') {
                    chars.next();
                    out.push('}');
                    continue;
                }
                return Err(Exc::value_error("Single '}' encountered in format string"));
            }
            if c != '{' {
                out.push(c);
                continue;
            }
            if chars.peek() == Some(&'{') {
                chars.next();
                out.push('{');
                continue;
            }
            let mut field = String::new();
            let mut depth = 0;
            loop {
                match chars.next() {
                    None => return Err(Exc::value_error("expected '}' before end of string")),
                    Some('{') => {
                        depth += 1;
                        field.push('{');
                    }
                    Some('}') if depth > 0 => {
                        depth -= 1;
                        field.push('}');
                    }
                    Some('}') => break,
                    Some(ch) => field.push(ch),
                }
            }
            let (head, spec) = match field.find(':') {
                Some(i) => (field[..i].to_string(), field[i + 1..].to_string()),
                None => (field.clone(), String::new()),
            };
            let (path, conv) = match head.find('!') {
                Some(i) => (head[..i].to_string(), head[i + 1..].chars().next()),
                None => (head, None),
            };
            let name_end = path.find(['.', '[']).unwrap_or(path.len());
            let first = &path[..name_end];
            let mut value = if first.is_empty() {
                let v = args.get(auto).cloned().ok_or_else(|| {
                    Exc::new(
                        ExcType::IndexError,
                        format!("Replacement index {auto} out of range for positional args tuple"),
                    )
                })?;
                auto += 1;
                v
            } else if let Ok(i) = first.parse::<usize>() {
                args.get(i).cloned().ok_or_else(|| {
                    Exc::new(
                        ExcType::IndexError,
                        format!("Replacement index {i} out of range for positional args tuple"),
                    )
                })?
            } else {
                kwargs
                    .iter()
                    .find(|(k, _)| &**k == first)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| Exc::with_args(ExcType::KeyError, vec![Value::str(first)]))?
            };
            let mut rest = &path[name_end..];
            while !rest.is_empty() {
                if let Some(r) = rest.strip_prefix('.') {
                    let end = r.find(['.', '[']).unwrap_or(r.len());
                    value = self.get_attr(&value, &r[..end])?;
                    rest = &r[end..];
                } else if let Some(r) = rest.strip_prefix('[') {
                    let end = r
                        .find(']')
                        .ok_or_else(|| Exc::value_error("Missing ']' in format string"))?;
                    let key = &r[..end];
                    let k = key
                        .parse::<i64>()
                        .map(Value::Int)
                        .unwrap_or_else(|_| Value::str(key));
                    value = self.get_item(&value, &k)?;
                    rest = &r[end + 1..];
                } else {
                    break;
                }
            }
            let value = match conv {
                Some('r') | Some('a') => Value::Str(PyStr::from(self.repr(&value)?)),
                Some('s') => Value::Str(PyStr::from(self.to_str(&value)?)),
                _ => value,
            };
            let spec = if spec.contains('{') {
                self.str_format(&spec, args, kwargs)?
            } else {
                spec
            };
            crate::mem::push_str(&mut out, &self.format_value(&value, &spec)?)?;
        }
        Ok(out)
    }
}

fn sort_options(kwargs: Kwargs) -> PyResult<(Option<Value>, bool)> {
    let mut key = None;
    let mut reverse = false;
    for (k, v) in kwargs {
        match &*k {
            "key" => key = Some(v),
            "reverse" => reverse = v.truthy(),
            other => {
                return Err(Exc::type_error(format!(
                    "'{other}' is an invalid keyword argument for sort()"
                )))
            }
        }
    }
    Ok((key, reverse))
}

pub fn sort_kwargs(kwargs: Kwargs) -> PyResult<(Option<Value>, bool)> {
    sort_options(kwargs)
}

fn split_whitespace(s: &str, maxsplit: i64, from_right: bool) -> Vec<String> {
    if maxsplit < 0 {
        return s.split_whitespace().map(String::from).collect();
    }
    let mut parts = Vec::new();
    if from_right {
        let mut rest = s.trim_end();
        while !rest.is_empty() && (parts.len() as i64) < maxsplit {
            match rest.rfind(char::is_whitespace) {
                Some(i) => {
                    parts.push(rest[i..].trim_start().to_string());
                    rest = rest[..i].trim_end();
                }
                None => break,
            }
        }
        if !rest.is_empty() {
            parts.push(rest.to_string());
        }
        parts.reverse();
    } else {
        let mut rest = s.trim_start();
        while !rest.is_empty() && (parts.len() as i64) < maxsplit {
            match rest.find(char::is_whitespace) {
                Some(i) => {
                    parts.push(rest[..i].to_string());
                    rest = rest[i..].trim_start();
                }
                None => break,
            }
        }
        if !rest.is_empty() {
            parts.push(rest.to_string());
        }
    }
    parts
}
