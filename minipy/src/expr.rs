//! Expression evaluation, assignment to targets, and the operator protocol
//! (built-in fast paths first, then a user class's special methods).

use crate::ast::{BinOp, CmpOp, CompKind, UnaryOp};
use crate::code::{Comp, Expr, FPart, Target};
use crate::dict::Key;
use crate::errors::{Exc, PyResult};
use crate::interp::{Frame, Interp};
use crate::num::{quick_cmp, quick_op, small_op};
use crate::object::{ExcType, SuperObj};
use crate::ops;
use crate::value::{PyStr, Value};
use std::cell::RefCell;
use std::rc::Rc;

impl Interp {
    /// Evaluates an expression. The hot cases are handled here, with int
    /// fast paths inline; everything else goes to `eval_cold`, which keeps
    /// this function's native frame small (it recurses on every call).
    pub fn eval(&mut self, f: &mut Frame, e: &Expr) -> PyResult<Value> {
        match e {
            Expr::Local(slot) => match &f.locals[*slot as usize] {
                Value::Int(i) => Ok(Value::Int(*i)),
                Value::Unbound => Err(self.unbound_local(f, *slot)),
                v => Ok(v.clone()),
            },
            Expr::Const(v) => Ok(v.clone_fast()),
            Expr::Global(slot) => self.load_global(*slot),
            Expr::BinLocalConst(slot, op, c) => {
                if let (Value::Int(x), Value::Int(y)) = (&f.locals[*slot as usize], c) {
                    if let Some(v) = quick_op(*op, *x, *y) {
                        return Ok(v);
                    }
                }
                self.bin_slow(f, &Expr::Local(*slot), *op, c.clone())
            }
            Expr::BinLocals(a, op, b) => {
                if let (Value::Int(x), Value::Int(y)) =
                    (&f.locals[*a as usize], &f.locals[*b as usize])
                {
                    if let Some(v) = quick_op(*op, *x, *y) {
                        return Ok(v);
                    }
                }
                let r = self.eval(f, &Expr::Local(*b))?;
                self.bin_slow(f, &Expr::Local(*a), *op, r)
            }
            Expr::Bin(l, op, r) => {
                let a = self.eval_fast(f, l)?;
                let b = self.eval_fast(f, r)?;
                if let (&Value::Int(x), &Value::Int(y)) = (&a, &b) {
                    if let Some(v) = quick_op(*op, x, y) {
                        // Ints own nothing: skip the out-of-line drop glue.
                        std::mem::forget((a, b));
                        return Ok(v);
                    }
                }
                self.binary_values(*op, a, b)
            }
            Expr::CmpLocalConst(slot, op, c) => {
                if let (Value::Int(x), Value::Int(y)) = (&f.locals[*slot as usize], c) {
                    if let Some(r) = quick_cmp(*op, *x, *y) {
                        return Ok(Value::bool(r));
                    }
                }
                let a = self.eval(f, &Expr::Local(*slot))?;
                Ok(Value::bool(self.compare(*op, &a, c)?))
            }
            Expr::CmpLocals(x, op, y) => {
                if let (Value::Int(a), Value::Int(b)) =
                    (&f.locals[*x as usize], &f.locals[*y as usize])
                {
                    if let Some(r) = quick_cmp(*op, *a, *b) {
                        return Ok(Value::bool(r));
                    }
                }
                let a = self.eval(f, &Expr::Local(*x))?;
                let b = self.eval(f, &Expr::Local(*y))?;
                Ok(Value::bool(self.compare(*op, &a, &b)?))
            }
            Expr::Compare(l, op, r) => {
                let a = self.eval_fast(f, l)?;
                let b = self.eval_fast(f, r)?;
                if let (&Value::Int(x), &Value::Int(y)) = (&a, &b) {
                    if let Some(r) = quick_cmp(*op, x, y) {
                        // Ints own nothing: skip the out-of-line drop glue.
                        std::mem::forget((a, b));
                        return Ok(Value::bool(r));
                    }
                }
                Ok(Value::bool(self.compare(*op, &a, &b)?))
            }
            Expr::CallGlobal(slot, args) => self.call_global(f, *slot, args),
            Expr::MethodCall(m) => self.eval_method_call(f, m),
            _ => self.eval_cold(f, e),
        }
    }

    /// `eval` with locals and constants handled inline, and calls of
    /// globals made directly: saves a native frame for the commonest
    /// operands and for `y = f(x)` / `return f(x) + 1`.
    #[inline(always)]
    pub fn eval_fast(&mut self, f: &mut Frame, e: &Expr) -> PyResult<Value> {
        match e {
            Expr::Local(slot) => match &f.locals[*slot as usize] {
                Value::Unbound => Err(self.unbound_local(f, *slot)),
                v => Ok(v.clone_fast()),
            },
            Expr::Const(v) => Ok(v.clone_fast()),
            Expr::CallGlobal(slot, args) => self.call_global(f, *slot, args),
            _ => self.eval(f, e),
        }
    }

    #[inline(never)]
    fn bin_slow(&mut self, f: &mut Frame, left: &Expr, op: BinOp, right: Value) -> PyResult<Value> {
        let a = self.eval(f, left)?;
        self.binary_values(op, a, right)
    }

    #[inline(never)]
    fn binary_values(&mut self, op: BinOp, a: Value, b: Value) -> PyResult<Value> {
        if let (Value::Int(x), Value::Int(y)) = (&a, &b) {
            if let Some(v) = small_op(op, *x, *y)? {
                return Ok(v);
            }
        }
        self.binary_op(op, &a, &b)
    }

    #[inline(never)]
    fn eval_cold(&mut self, f: &mut Frame, e: &Expr) -> PyResult<Value> {
        match e {
            Expr::Cell(i) => {
                let v = f.cells[*i as usize].borrow().clone();
                if let Value::Unbound = v {
                    return Err(self.unbound_cell(f, *i));
                }
                Ok(v)
            }
            Expr::ClassName(name, slot) => {
                if let Some(v) = f.ns.as_ref().and_then(|ns| ns.get(name)) {
                    return Ok(v.clone());
                }
                self.load_global(*slot)
            }
            Expr::CompareChain(first, rest) => {
                let mut left = self.eval(f, first)?;
                for (op, x) in rest {
                    let right = self.eval(f, x)?;
                    if !self.compare(*op, &left, &right)? {
                        return Ok(Value::bool(false));
                    }
                    left = right;
                }
                Ok(Value::bool(true))
            }
            Expr::And(l, r) => {
                let a = self.eval(f, l)?;
                if !self.truthy(&a)? {
                    return Ok(a);
                }
                self.eval(f, r)
            }
            Expr::Or(l, r) => {
                let a = self.eval(f, l)?;
                if self.truthy(&a)? {
                    return Ok(a);
                }
                self.eval(f, r)
            }
            Expr::Unary(op, x) => {
                let v = self.eval(f, x)?;
                self.unary_op(*op, v)
            }
            Expr::IfExp(parts) => {
                let c = self.eval(f, &parts.0)?;
                if self.truthy(&c)? {
                    self.eval(f, &parts.1)
                } else {
                    self.eval(f, &parts.2)
                }
            }
            Expr::Call(c) => {
                let callee = self.eval(f, &c.func)?;
                if !c.has_star && c.kwargs.is_empty() {
                    if let Value::Function(func) = &callee {
                        return self.call_function_exprs(f, func, None, &c.args);
                    }
                }
                let (args, kwargs) = self.eval_args(f, &c.args, &c.kwargs, c.has_star)?;
                self.call_value(&callee, args, kwargs)
            }
            Expr::Attr(obj, name) => {
                let o = self.eval(f, obj)?;
                self.get_attr(&o, name)
            }
            Expr::Index(obj, idx) => {
                let o = self.eval(f, obj)?;
                let i = self.eval(f, idx)?;
                self.get_item(&o, &i)
            }
            Expr::Slice(parts) => {
                let mut part = |x: &Option<Expr>| -> PyResult<Value> {
                    match x {
                        Some(x) => self.eval(f, x),
                        None => Ok(Value::None),
                    }
                };
                let (a, b, c) = (part(&parts.0)?, part(&parts.1)?, part(&parts.2)?);
                Ok(crate::seq::make_slice(a, b, c))
            }
            Expr::List(items) => Ok(Value::list(self.eval_items(f, items)?)),
            Expr::Tuple(items) => Ok(Value::tuple(self.eval_items(f, items)?)),
            Expr::Set(items) => {
                let mut set = crate::dict::SetData::new();
                for v in self.eval_items(f, items)? {
                    set.insert(Key::new(v)?);
                }
                Ok(Value::Set(Rc::new(RefCell::new(set))))
            }
            Expr::Dict(items) => {
                let mut d = crate::dict::Dict::with_capacity(items.len());
                for (k, v) in items {
                    let k = self.eval(f, k)?;
                    let v = self.eval(f, v)?;
                    d.put(Key::new(k)?, v)?;
                }
                Ok(Value::Dict(Rc::new(RefCell::new(d))))
            }
            Expr::Starred(_) => Err(Exc::new(
                ExcType::RuntimeError,
                "can't use starred expression here",
            )),
            Expr::FString(parts) => Ok(Value::Str(PyStr::from(self.fstring(f, parts)?))),
            Expr::Lambda(t) => self.make_function(f, t),
            Expr::Comp(c) => self.comprehension(f, c),
            Expr::Super => self.zero_arg_super(f),
            Expr::Named(target, value) => {
                let v = self.eval(f, value)?;
                self.assign(f, target, v.clone())?;
                Ok(v)
            }
            Expr::Local(_)
            | Expr::Const(_)
            | Expr::Global(_)
            | Expr::BinLocalConst(..)
            | Expr::BinLocals(..)
            | Expr::Bin(..)
            | Expr::CmpLocalConst(..)
            | Expr::CmpLocals(..)
            | Expr::Compare(..)
            | Expr::CallGlobal(..)
            | Expr::MethodCall(_) => self.eval(f, e),
        }
    }

    /// Evaluates display items, expanding `*x`.
    pub fn eval_items(&mut self, f: &mut Frame, items: &[Expr]) -> PyResult<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            if let Expr::Starred(inner) = i {
                let v = self.eval(f, inner)?;
                out.extend(self.collect(&v)?);
            } else {
                out.push(self.eval(f, i)?);
            }
        }
        Ok(out)
    }

    fn fstring(&mut self, f: &mut Frame, parts: &[FPart]) -> PyResult<String> {
        let mut s = String::new();
        for p in parts {
            match p {
                FPart::Lit(l) => crate::mem::push_str(&mut s, l)?,
                FPart::Field { expr, conv, spec } => {
                    let v = self.eval(f, expr)?;
                    let v = match conv {
                        Some('r') | Some('a') => Value::Str(PyStr::from(self.repr(&v)?)),
                        Some('s') => Value::Str(PyStr::from(self.to_str(&v)?)),
                        _ => v,
                    };
                    let spec = self.fstring(f, spec)?;
                    let text = self.format_value(&v, &spec)?;
                    if s.is_empty() {
                        // The text may be huge: take it rather than copy it.
                        s = text;
                    } else {
                        crate::mem::push_str(&mut s, &text)?;
                    }
                }
            }
        }
        Ok(s)
    }

    fn zero_arg_super(&mut self, f: &Frame) -> PyResult<Value> {
        let class = f
            .function()
            .and_then(|func| func.owner.borrow().as_ref().and_then(|w| w.upgrade()))
            .ok_or_else(|| Exc::new(ExcType::RuntimeError, "super(): __class__ cell not found"))?;
        let receiver = match f.locals.first() {
            Some(v) if !matches!(v, Value::Unbound) => v.clone(),
            _ => return Err(Exc::new(ExcType::RuntimeError, "super(): no arguments")),
        };
        Ok(Value::Super(Rc::new(SuperObj {
            after: class,
            receiver,
        })))
    }

    fn comprehension(&mut self, f: &mut Frame, c: &Comp) -> PyResult<Value> {
        let mut out = CompOut::new(c.kind);
        self.comp_level(f, c, 0, &mut out)?;
        Ok(out.finish())
    }

    fn comp_level(
        &mut self,
        f: &mut Frame,
        c: &Comp,
        level: usize,
        out: &mut CompOut,
    ) -> PyResult<()> {
        let Some(g) = c.generators.get(level) else {
            let elt = self.eval(f, &c.elt)?;
            return match &c.value {
                Some(v) => {
                    let v = self.eval(f, v)?;
                    out.push_pair(elt, v)
                }
                None => out.push(elt),
            };
        };
        let iterable = self.eval(f, &g.iter)?;
        let mut it = self.iterate(&iterable)?;
        'items: while let Some(v) = self.next_item(&mut it)? {
            self.assign(f, &g.target, v)?;
            for cond in &g.ifs {
                let c = self.eval(f, cond)?;
                if !self.truthy(&c)? {
                    continue 'items;
                }
            }
            self.comp_level(f, c, level + 1, out)?;
        }
        Ok(())
    }

    // ----- assignment -----

    pub fn assign(&mut self, f: &mut Frame, t: &Target, v: Value) -> PyResult<()> {
        match t {
            Target::Local(slot) => f.locals[*slot as usize] = v,
            Target::Cell(i) => *f.cells[*i as usize].borrow_mut() = v,
            Target::Global(slot) => self.globals[*slot as usize] = v,
            Target::ClassNs(name) => {
                if let Some(ns) = f.ns.as_mut() {
                    ns.insert(name.clone(), v);
                }
            }
            Target::Attr(obj, name) => {
                let o = self.eval(f, obj)?;
                self.set_attr(&o, name, v)?;
            }
            Target::Item(obj, idx) => {
                let o = self.eval(f, obj)?;
                let i = self.eval(f, idx)?;
                self.set_item(&o, i, v)?;
            }
            Target::Unpack(targets, star) => {
                let items = self.unpack(v, targets.len(), *star)?;
                for (t, v) in targets.iter().zip(items) {
                    self.assign(f, t, v)?;
                }
            }
        }
        Ok(())
    }

    /// Splits an iterable into `n` values for `a, b = …` (`star`: the
    /// position that takes the rest as a list).
    fn unpack(&mut self, v: Value, n: usize, star: Option<usize>) -> PyResult<Vec<Value>> {
        if !self.is_iterable(&v) {
            return Err(Exc::type_error(format!(
                "cannot unpack non-iterable {} object",
                v.type_name()
            )));
        }
        let items = self.collect(&v)?;
        match star {
            None => {
                if items.len() > n {
                    return Err(Exc::value_error(format!(
                        "too many values to unpack (expected {n})"
                    )));
                }
                if items.len() < n {
                    return Err(Exc::value_error(format!(
                        "not enough values to unpack (expected {n}, got {})",
                        items.len()
                    )));
                }
                Ok(items)
            }
            Some(s) => {
                if items.len() < n - 1 {
                    return Err(Exc::value_error(format!(
                        "not enough values to unpack (expected at least {}, got {})",
                        n - 1,
                        items.len()
                    )));
                }
                let after = n - 1 - s;
                let mut items = items;
                let tail = items.split_off(items.len() - after);
                let middle = items.split_off(s);
                items.push(Value::list(middle));
                items.extend(tail);
                Ok(items)
            }
        }
    }

    pub fn delete(&mut self, f: &mut Frame, t: &Target) -> PyResult<()> {
        match t {
            Target::Local(slot) => {
                if let Value::Unbound = f.locals[*slot as usize] {
                    return Err(self.unbound_local(f, *slot));
                }
                f.locals[*slot as usize] = Value::Unbound;
            }
            Target::Cell(i) => *f.cells[*i as usize].borrow_mut() = Value::Unbound,
            Target::Global(slot) => {
                if let Value::Unbound = self.globals[*slot as usize] {
                    return Err(Exc::name_error(&self.global_names[*slot as usize]));
                }
                self.globals[*slot as usize] = Value::Unbound;
            }
            Target::ClassNs(name) => {
                if let Some(ns) = f.ns.as_mut() {
                    ns.remove(name).ok_or_else(|| Exc::name_error(name))?;
                }
            }
            Target::Attr(obj, name) => {
                let o = self.eval(f, obj)?;
                self.del_attr(&o, name)?;
            }
            Target::Item(obj, idx) => {
                let o = self.eval(f, obj)?;
                let i = self.eval(f, idx)?;
                self.del_item(&o, &i)?;
            }
            Target::Unpack(targets, _) => {
                for t in targets {
                    self.delete(f, t)?;
                }
            }
        }
        Ok(())
    }

    pub fn aug_assign(&mut self, f: &mut Frame, t: &Target, op: BinOp, e: &Expr) -> PyResult<()> {
        match t {
            Target::Attr(obj, name) => {
                let o = self.eval(f, obj)?;
                let cur = self.get_attr(&o, name)?;
                let rhs = self.eval(f, e)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.set_attr(&o, name, v)
            }
            Target::Item(obj, idx) => {
                let o = self.eval(f, obj)?;
                let i = self.eval(f, idx)?;
                let cur = self.get_item(&o, &i)?;
                let rhs = self.eval(f, e)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.set_item(&o, i, v)
            }
            Target::Local(slot) => {
                let cur = self.eval(f, &Expr::Local(*slot))?;
                let rhs = self.eval(f, e)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.assign(f, t, v)
            }
            _ => {
                let cur = match t {
                    Target::Cell(i) => self.eval(f, &Expr::Cell(*i))?,
                    Target::Global(g) => self.load_global(*g)?,
                    Target::ClassNs(n) => match f.ns.as_ref().and_then(|ns| ns.get(n)) {
                        Some(v) => v.clone(),
                        None => return Err(Exc::name_error(n)),
                    },
                    _ => return Err(Exc::type_error("illegal augmented assignment target")),
                };
                let rhs = self.eval(f, e)?;
                let v = self.inplace_op(op, cur, rhs)?;
                self.assign(f, t, v)
            }
        }
    }

    // ----- operators -----

    /// `a op= b`: lists extend in place, everything else is `a op b`.
    pub fn inplace_op(&mut self, op: BinOp, a: Value, b: Value) -> PyResult<Value> {
        if let (BinOp::Add, Value::List(l)) = (op, &a) {
            let items = self.collect(&b)?;
            l.borrow_mut().extend(items);
            return Ok(a);
        }
        if let Value::Instance(_) = &a {
            let name = format!("__i{}", &dunder(op)[2..]);
            if let Some(r) = self.call_special(&a, &name, vec![b.clone()])? {
                return Ok(r);
            }
        }
        self.binary_op(op, &a, &b)
    }

    pub fn binary_op(&mut self, op: BinOp, a: &Value, b: &Value) -> PyResult<Value> {
        if let Some(r) = ops::binary(op, a, b) {
            return r;
        }
        if let (BinOp::Mod, Value::Str(fmt)) = (op, a) {
            return Ok(Value::Str(PyStr::from(self.percent_format(fmt, b)?)));
        }
        if matches!(a, Value::Instance(_)) {
            if let Some(r) = self.call_special(a, dunder(op), vec![b.clone()])? {
                if !is_not_implemented(&r) {
                    return Ok(r);
                }
            }
        }
        if matches!(b, Value::Instance(_)) {
            let name = format!("__r{}", &dunder(op)[2..]);
            if let Some(r) = self.call_special(b, &name, vec![a.clone()])? {
                if !is_not_implemented(&r) {
                    return Ok(r);
                }
            }
        }
        Err(ops::binary_type_error(op, a, b))
    }

    pub fn unary_op(&mut self, op: UnaryOp, v: Value) -> PyResult<Value> {
        match (op, &v) {
            (UnaryOp::Not, _) => Ok(Value::bool(!self.truthy(&v)?)),
            (UnaryOp::Neg, Value::Int(i)) if *i != i64::MIN => Ok(Value::Int(-i)),
            (UnaryOp::Neg, Value::Float(x)) => Ok(Value::float(-x.get())),
            (UnaryOp::Neg, Value::Bool(_) | Value::Int(_) | Value::BigInt(_)) => {
                ops::binary(BinOp::Sub, &Value::Int(0), &v).unwrap_or(Ok(Value::None))
            }
            (UnaryOp::Pos, Value::Int(_) | Value::BigInt(_) | Value::Float(_)) => Ok(v),
            (UnaryOp::Pos, Value::Bool(b)) => Ok(Value::Int(*b as i64)),
            (UnaryOp::Invert, Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) => {
                ops::binary(BinOp::Sub, &Value::Int(-1), &v).unwrap_or(Ok(Value::None))
            }
            (_, Value::Instance(_)) => {
                let name = match op {
                    UnaryOp::Neg => "__neg__",
                    UnaryOp::Pos => "__pos__",
                    _ => "__invert__",
                };
                match self.call_special(&v, name, Vec::new())? {
                    Some(r) => Ok(r),
                    None => Err(unary_error(op, &v)),
                }
            }
            _ => Err(unary_error(op, &v)),
        }
    }

    pub fn compare(&mut self, op: CmpOp, a: &Value, b: &Value) -> PyResult<bool> {
        match op {
            CmpOp::Is => Ok(a.is(b)),
            CmpOp::IsNot => Ok(!a.is(b)),
            CmpOp::Eq => self.eq(a, b),
            CmpOp::NotEq => Ok(!self.eq(a, b)?),
            CmpOp::In => self.contains(b, a),
            CmpOp::NotIn => Ok(!self.contains(b, a)?),
            _ => {
                if let Some(r) = ops::order(op, a, b, self.nesting_budget()) {
                    return r;
                }
                let (name, reflected) = match op {
                    CmpOp::Lt => ("__lt__", "__gt__"),
                    CmpOp::LtE => ("__le__", "__ge__"),
                    CmpOp::Gt => ("__gt__", "__lt__"),
                    _ => ("__ge__", "__le__"),
                };
                for (x, y, n) in [(a, b, name), (b, a, reflected)] {
                    if matches!(x, Value::Instance(_)) {
                        if let Some(r) = self.call_special(x, n, vec![y.clone()])? {
                            if !is_not_implemented(&r) {
                                return self.truthy(&r);
                            }
                        }
                    }
                }
                Err(ops::order_type_error(op, a, b))
            }
        }
    }

    /// How many levels of nested containers a comparison may walk: what
    /// the recursion limit leaves.
    fn nesting_budget(&self) -> u32 {
        self.recursion_limit.saturating_sub(self.depth)
    }

    /// `a == b`, consulting `__eq__` of user classes.
    pub fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        for (x, y) in [(a, b), (b, a)] {
            if matches!(x, Value::Instance(_)) {
                if let Some(r) = self.call_special(x, "__eq__", vec![y.clone()])? {
                    if !is_not_implemented(&r) {
                        return self.truthy(&r);
                    }
                }
            }
        }
        ops::eq(a, b, self.nesting_budget())
    }

    pub fn contains(&mut self, container: &Value, item: &Value) -> PyResult<bool> {
        if let Value::Instance(_) = container {
            if let Some(r) = self.call_special(container, "__contains__", vec![item.clone()])? {
                return self.truthy(&r);
            }
        }
        if let (Value::List(_) | Value::Tuple(_), Value::Instance(_)) = (container, item) {
            for x in self.collect(container)? {
                if x.is(item) || self.eq(&x, item)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        match ops::contains(container, item, self.nesting_budget()) {
            Some(r) => r,
            None => Err(Exc::type_error(format!(
                "argument of type '{}' is not iterable",
                container.type_name()
            ))),
        }
    }

    /// Python truthiness, consulting `__bool__` / `__len__` of user classes.
    #[inline]
    pub fn truthy(&mut self, v: &Value) -> PyResult<bool> {
        match v {
            Value::Bool(b) => Ok(b.get()),
            Value::Instance(_) => {
                if let Some(r) = self.call_special(v, "__bool__", Vec::new())? {
                    return Ok(r.truthy());
                }
                if let Some(r) = self.call_special(v, "__len__", Vec::new())? {
                    return Ok(r.truthy());
                }
                Ok(true)
            }
            _ => Ok(v.truthy()),
        }
    }
}

fn dunder(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "__add__",
        BinOp::Sub => "__sub__",
        BinOp::Mul => "__mul__",
        BinOp::Div => "__truediv__",
        BinOp::FloorDiv => "__floordiv__",
        BinOp::Mod => "__mod__",
        BinOp::Pow => "__pow__",
        BinOp::LShift => "__lshift__",
        BinOp::RShift => "__rshift__",
        BinOp::BitAnd => "__and__",
        BinOp::BitOr => "__or__",
        BinOp::BitXor => "__xor__",
        BinOp::MatMul => "__matmul__",
    }
}

fn is_not_implemented(v: &Value) -> bool {
    matches!(v, Value::Str(s) if &**s == "\0NotImplemented")
}

fn unary_error(op: UnaryOp, v: &Value) -> Exc {
    let sym = match op {
        UnaryOp::Neg => "-",
        UnaryOp::Pos => "+",
        UnaryOp::Invert => "~",
        UnaryOp::Not => "not",
    };
    Exc::type_error(format!(
        "bad operand type for unary {sym}: '{}'",
        v.type_name()
    ))
}

/// Accumulates a comprehension's result.
enum CompOut {
    List(Vec<Value>),
    Set(crate::dict::SetData),
    Dict(crate::dict::Dict),
}

impl CompOut {
    fn new(kind: CompKind) -> CompOut {
        match kind {
            CompKind::List => CompOut::List(Vec::new()),
            CompKind::Set => CompOut::Set(Default::default()),
            CompKind::Dict => CompOut::Dict(Default::default()),
        }
    }

    fn push(&mut self, v: Value) -> PyResult<()> {
        match self {
            CompOut::List(l) => crate::mem::push(l, v)?,
            CompOut::Set(s) => {
                s.add(Key::new(v)?)?;
            }
            CompOut::Dict(_) => {}
        }
        Ok(())
    }

    fn push_pair(&mut self, k: Value, v: Value) -> PyResult<()> {
        if let CompOut::Dict(d) = self {
            d.put(Key::new(k)?, v)?;
        }
        Ok(())
    }

    fn finish(self) -> Value {
        match self {
            CompOut::List(l) => Value::list(l),
            CompOut::Set(s) => Value::Set(Rc::new(RefCell::new(s))),
            CompOut::Dict(d) => Value::Dict(Rc::new(RefCell::new(d))),
        }
    }
}
