//! Calls: binding arguments to parameters (CPython's error messages),
//! making function and class objects, and entering a frame — through the
//! function's perf trampoline while support is active, else by a direct
//! call of `eval`. That choice is made per call, at the moment it begins.

use crate::code::{ClassTemplate, Code, CodeKind, Expr, FuncTemplate, MethodCallExpr};
use crate::errors::{Exc, PyResult};
use crate::eval::eval;
use crate::interp::{Frame, Interp};
use crate::locals::Locals;
use crate::object::{Class, ClassKind, ExcType, Function, Instance, Method, NativeMethod};
use crate::value::{PyStr, Str, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::rc::Rc;

pub type Kwargs = Vec<(Str, Value)>;

impl Interp {
    /// Runs `frame` in a new native eval activation. This is the only place
    /// that enters `eval`.
    #[inline(always)]
    pub fn enter(&mut self, frame: &mut Frame) -> PyResult<()> {
        if self.depth >= self.recursion_limit || crate::interrupt::pending() {
            return Err(self.call_refused());
        }
        self.depth += 1;
        let stub = if self.perf.is_active() {
            self.perf.stub_for(frame.code())
        } else {
            None
        };
        let state = self as *mut Interp as *mut c_void;
        let fp = frame as *mut Frame as *mut c_void;
        // SAFETY: `state` and `frame` are exclusive for the call; a stub
        // only forwards its three arguments to `eval`.
        let r = unsafe {
            match stub {
                Some(stub) => stub.call(state, fp, std::ptr::null_mut(), eval),
                None => eval(state, fp, std::ptr::null_mut()),
            }
        };
        self.depth -= 1;
        if r.is_null() {
            Ok(())
        } else {
            // SAFETY: a non-null result of `eval` is always an `Exc::into_raw`.
            Err(unsafe { Exc::from_raw(r) })
        }
    }

    /// Why `enter` cannot make a call: a pending Ctrl-C or the recursion
    /// limit.
    #[cold]
    #[inline(never)]
    fn call_refused(&self) -> Exc {
        crate::interrupt::take().unwrap_or_else(Interp::recursion_error)
    }

    /// `f(args)` for a global `f`: no evaluation of the callee expression.
    #[inline(never)]
    pub fn call_global(&mut self, f: &mut Frame, slot: u32, args: &[Expr]) -> PyResult<Value> {
        if let Value::Function(func) = &self.globals[slot as usize] {
            // Held for the call: the callee may rebind the global.
            let func = func.clone();
            return self.call_function_exprs(f, &func, None, args);
        }
        let callee = self.load_global(slot)?;
        if let Value::Function(func) = &callee {
            return self.call_function_exprs(f, func, None, args);
        }
        let (args, kwargs) = self.eval_args(f, args, &[], false)?;
        self.call_value(&callee, args, kwargs)
    }

    /// Calls `func` with arguments evaluated straight into its new locals
    /// (the fast path: no intermediate argument vector). Inlined into its
    /// few callers so a script call costs as few native frames as possible.
    #[inline(always)]
    pub fn call_function_exprs(
        &mut self,
        f: &mut Frame,
        func: &Rc<Function>,
        receiver: Option<Value>,
        args: &[Expr],
    ) -> PyResult<Value> {
        let code = &*func.code;
        let first = receiver.is_some() as usize;
        let given = args.len() + first;
        if code.vararg || given > code.nargs {
            return self.call_function_collected(f, func, receiver, args);
        }
        // The callee's slots are taken before its arguments are evaluated:
        // calls made while evaluating them take (and give back) slots above.
        let mut locals = self.locals_stack.take(code.nlocals);
        if let Some(r) = receiver {
            locals[0] = r;
        }
        for (slot, a) in locals[first..].iter_mut().zip(args) {
            match self.eval_fast(f, a) {
                // The slot holds `Unbound` (nothing to drop): just write.
                Ok(v) => std::mem::forget(std::mem::replace(slot, v)),
                Err(e) => {
                    self.locals_stack.give(locals);
                    return Err(e);
                }
            }
        }
        if given != code.nargs {
            if let Err(e) = fill_defaults(func, &mut locals, given) {
                self.locals_stack.give(locals);
                return Err(e);
            }
        }
        self.run_function(func, locals)
    }

    /// `call_function_exprs` for `*args` functions and too many arguments:
    /// evaluates the arguments into a vector and binds them.
    #[inline(never)]
    fn call_function_collected(
        &mut self,
        f: &mut Frame,
        func: &Rc<Function>,
        receiver: Option<Value>,
        args: &[Expr],
    ) -> PyResult<Value> {
        let mut positional = Vec::with_capacity(args.len() + 1);
        positional.extend(receiver);
        for a in args {
            positional.push(self.eval(f, a)?);
        }
        let locals = bind_args(func, positional, Vec::new())?;
        let locals = self.pad_locals(locals, func.code.nlocals);
        self.run_function(func, locals)
    }

    /// Runs a function whose locals already hold the bound parameters, and
    /// gives the locals back.
    #[inline(always)]
    pub fn run_function(&mut self, func: &Rc<Function>, locals: Locals) -> PyResult<Value> {
        let code = &*func.code;
        let cells = if code.cell_names.is_empty() {
            Vec::new()
        } else {
            let mut cells: Vec<_> = (0..code.ncells)
                .map(|_| Rc::new(RefCell::new(Value::Unbound)))
                .collect();
            for &(param, cell) in &code.param_cells {
                *cells[cell as usize].borrow_mut() = locals[param as usize].clone();
            }
            cells.extend(func.closure.iter().cloned());
            cells
        };
        let mut frame = Frame {
            locals,
            cells,
            code,
            func: Rc::as_ptr(func),
            ns: None,
            line: code.first_line,
            ret: Value::None,
        };
        let r = self.enter(&mut frame);
        let Frame { locals, ret, .. } = frame;
        self.locals_stack.give(locals);
        r.map(|_| ret)
    }

    /// Runs a module or class body (no parameters) and returns its frame's
    /// class namespace, if any.
    pub fn run_body(
        &mut self,
        code: &Rc<Code>,
        closure: Vec<crate::object::CellRef>,
        ns: Option<HashMap<Str, Value>>,
    ) -> PyResult<Option<HashMap<Str, Value>>> {
        let locals = self.locals_stack.take(code.nlocals);
        let mut cells: Vec<_> = (0..code.ncells)
            .map(|_| Rc::new(RefCell::new(Value::Unbound)))
            .collect();
        cells.extend(closure);
        let mut frame = Frame {
            locals,
            cells,
            code: Rc::as_ptr(code),
            func: std::ptr::null(),
            ns: ns.map(Box::new),
            line: code.first_line,
            ret: Value::None,
        };
        let r = self.enter(&mut frame);
        let Frame { locals, ns, .. } = frame;
        self.locals_stack.give(locals);
        r.map(|_| ns.map(|b| *b))
    }

    /// Calls any callable value.
    pub fn call_value(
        &mut self,
        callee: &Value,
        mut args: Vec<Value>,
        kwargs: Kwargs,
    ) -> PyResult<Value> {
        match callee {
            Value::Function(func) => {
                let locals = bind_args(func, args, kwargs)?;
                let locals = self.pad_locals(locals, func.code.nlocals);
                self.run_function(func, locals)
            }
            Value::Builtin(b) => (b.func)(self, args, kwargs),
            Value::Method(m) => {
                args.insert(0, m.receiver.clone());
                self.call_value(&m.func.clone(), args, kwargs)
            }
            Value::NativeMethod(m) => {
                let m = m.clone();
                self.call_native_method(&m.receiver, &m.name, args, kwargs)
            }
            Value::Class(c) => self.instantiate(c, args, kwargs),
            Value::Instance(_) => match self.lookup_special(callee, "__call__") {
                Some(m) => self.call_value(&m, args, kwargs),
                None => Err(not_callable(callee)),
            },
            _ => Err(not_callable(callee)),
        }
    }

    fn pad_locals(&mut self, bound: Vec<Value>, nlocals: usize) -> Locals {
        let mut locals = self.locals_stack.take(nlocals.max(bound.len()));
        for (slot, v) in locals.iter_mut().zip(bound) {
            *slot = v;
        }
        locals
    }

    pub fn eval_args(
        &mut self,
        f: &mut Frame,
        args: &[Expr],
        kwargs: &[(Str, Expr)],
        has_star: bool,
    ) -> PyResult<(Vec<Value>, Kwargs)> {
        let positional = if has_star {
            self.eval_items(f, args)?
        } else {
            let mut v = Vec::with_capacity(args.len());
            for a in args {
                v.push(self.eval(f, a)?);
            }
            v
        };
        let mut kw = Vec::with_capacity(kwargs.len());
        for (n, e) in kwargs {
            kw.push((n.clone(), self.eval(f, e)?));
        }
        Ok((positional, kw))
    }

    /// `obj.name(args)` without making a bound-method object.
    pub fn eval_method_call(&mut self, f: &mut Frame, m: &MethodCallExpr) -> PyResult<Value> {
        let obj = self.eval(f, &m.obj)?;
        let simple = !m.has_star && m.kwargs.is_empty();
        match &obj {
            Value::Instance(inst) => {
                let own = inst.attrs.borrow().get(&*m.name).cloned();
                let callee = match own {
                    Some(v) => v,
                    None => match inst.class.lookup(&m.name) {
                        Some(Value::Function(func)) if simple => {
                            return self.call_function_exprs(f, &func, Some(obj.clone()), &m.args);
                        }
                        Some(v) => bind_class_attr(v, &obj),
                        None => self.get_attr(&obj, &m.name)?,
                    },
                };
                let (args, kwargs) = self.eval_args(f, &m.args, &m.kwargs, m.has_star)?;
                self.call_value(&callee, args, kwargs)
            }
            Value::Module(_) | Value::Class(_) | Value::Super(_) => {
                let callee = self.get_attr(&obj, &m.name)?;
                if let (true, Value::Function(func)) = (simple, &callee) {
                    return self.call_function_exprs(f, func, None, &m.args);
                }
                let (args, kwargs) = self.eval_args(f, &m.args, &m.kwargs, m.has_star)?;
                self.call_value(&callee, args, kwargs)
            }
            _ => {
                let (args, kwargs) = self.eval_args(f, &m.args, &m.kwargs, m.has_star)?;
                self.call_native_method(&obj, &m.name, args, kwargs)
            }
        }
    }

    /// Creates a function object from a `def` or `lambda`.
    pub fn make_function(&mut self, f: &mut Frame, t: &FuncTemplate) -> PyResult<Value> {
        let mut decorators = Vec::with_capacity(t.decorators.len());
        for d in &t.decorators {
            decorators.push(self.eval(f, d)?);
        }
        let mut defaults = Vec::with_capacity(t.defaults.len());
        for d in &t.defaults {
            defaults.push(self.eval(f, d)?);
        }
        let closure = t
            .closure
            .iter()
            .map(|i| f.cells[*i as usize].clone())
            .collect();
        let mut v = Value::Function(Rc::new(Function {
            code: t.code.clone(),
            defaults,
            closure,
            owner: RefCell::new(None),
        }));
        for d in decorators.iter().rev() {
            v = self.call_value(d, vec![v], Vec::new())?;
        }
        Ok(v)
    }

    /// Runs a class body (through `eval`, named like CPython's class code)
    /// and builds the class.
    pub fn make_class(&mut self, f: &mut Frame, t: &ClassTemplate) -> PyResult<Value> {
        let mut decorators = Vec::with_capacity(t.decorators.len());
        for d in &t.decorators {
            decorators.push(self.eval(f, d)?);
        }
        let mut bases = Vec::new();
        for b in &t.bases {
            match self.eval(f, b)? {
                Value::Class(c) => bases.push(c),
                other => {
                    return Err(Exc::type_error(format!(
                        "bases must be types, not {}",
                        other.type_name()
                    )))
                }
            }
        }
        if bases.is_empty() {
            bases.push(crate::object::native_class(
                crate::object::NativeType::Object,
            ));
        }
        let closure = t
            .closure
            .iter()
            .map(|i| f.cells[*i as usize].clone())
            .collect();
        let code = &t.code;
        debug_assert_eq!(code.kind, CodeKind::Class);
        let mut ns = HashMap::new();
        ns.insert(Rc::from("__module__"), Value::str("__main__"));
        ns.insert(
            Rc::from("__qualname__"),
            Value::Str(PyStr::from(&code.qualname)),
        );
        let ns = self.run_body(code, closure, Some(ns))?.unwrap_or_default();
        let class = Rc::new(Class::new(
            code.name.clone(),
            code.qualname.clone(),
            Rc::from("__main__"),
            ClassKind::User,
            &bases,
        ));
        for (k, v) in ns {
            if let Value::Function(func) = &v {
                if func.owner.borrow().is_none() {
                    *func.owner.borrow_mut() = Some(Rc::downgrade(&class));
                }
            }
            class.attrs.borrow_mut().insert(k, v);
        }
        let mut v = Value::Class(class);
        for d in decorators.iter().rev() {
            v = self.call_value(d, vec![v], Vec::new())?;
        }
        Ok(v)
    }

    /// `K(args)`.
    fn instantiate(
        &mut self,
        class: &Rc<Class>,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> PyResult<Value> {
        if let Some(t) = class.native_type() {
            if class.kind != ClassKind::User {
                return crate::builtins::construct(self, t, args, kwargs);
            }
        }
        let inst = Rc::new(Instance::new(class.clone()));
        if class.exc_type().is_some() {
            inst.attrs
                .borrow_mut()
                .insert(Rc::from("args"), Value::tuple(args.clone()));
        }
        let obj = Value::Instance(inst);
        match class.lookup("__init__") {
            Some(init) => {
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(obj.clone());
                full.extend(args);
                let r = self.call_value(&init, full, kwargs)?;
                if !matches!(r, Value::None) {
                    return Err(Exc::type_error(format!(
                        "__init__() should return None, not '{}'",
                        r.type_name()
                    )));
                }
            }
            None => {
                if (!args.is_empty() || !kwargs.is_empty()) && class.exc_type().is_none() {
                    return Err(Exc::type_error(format!(
                        "{}() takes no arguments",
                        class.name
                    )));
                }
            }
        }
        Ok(obj)
    }

    /// Finds a special method on a user instance's class, bound to it.
    pub fn lookup_special(&self, obj: &Value, name: &str) -> Option<Value> {
        let Value::Instance(inst) = obj else {
            return None;
        };
        inst.class.lookup(name).map(|v| bind_class_attr(v, obj))
    }

    /// Calls `obj.<name>(*args)` if the class defines it.
    pub fn call_special(
        &mut self,
        obj: &Value,
        name: &str,
        args: Vec<Value>,
    ) -> PyResult<Option<Value>> {
        match self.lookup_special(obj, name) {
            Some(m) => self.call_value(&m, args, Vec::new()).map(Some),
            None => Ok(None),
        }
    }
}

/// Binds a class attribute fetched through an instance: functions become
/// bound methods, everything else is returned as is.
pub fn bind_class_attr(v: Value, receiver: &Value) -> Value {
    match v {
        Value::Function(_) => Value::Method(Rc::new(Method {
            func: v,
            receiver: receiver.clone(),
        })),
        other => other,
    }
}

pub fn native_method(receiver: &Value, name: &str) -> Value {
    Value::NativeMethod(Rc::new(NativeMethod {
        receiver: receiver.clone(),
        name: Rc::from(name),
    }))
}

fn not_callable(v: &Value) -> Exc {
    Exc::type_error(format!("'{}' object is not callable", v.type_name()))
}

/// Fills parameters `given..` from the defaults, or reports what is missing
/// or too many, in CPython's words.
fn fill_defaults(func: &Function, locals: &mut [Value], given: usize) -> PyResult<()> {
    let code = &*func.code;
    let nparams = code.nargs;
    if given > nparams && !code.vararg {
        return Err(too_many(func, given));
    }
    let first_default = nparams - func.defaults.len();
    let mut missing = Vec::new();
    for (i, slot) in locals.iter_mut().enumerate().take(nparams).skip(given) {
        if !matches!(slot, Value::Unbound) {
            continue;
        }
        if i >= first_default {
            *slot = func.defaults[i - first_default].clone();
        } else {
            missing.push(code.param_names[i].clone());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing_args(code, &missing))
    }
}

fn too_many(func: &Function, given: usize) -> Exc {
    let code = &*func.code;
    let n = code.nargs;
    let takes = if func.defaults.is_empty() {
        format!("{n} positional argument{}", if n == 1 { "" } else { "s" })
    } else {
        format!(
            "from {} to {n} positional arguments",
            n - func.defaults.len()
        )
    };
    let were = if given == 1 { "was" } else { "were" };
    Exc::type_error(format!(
        "{}() takes {takes} but {given} {were} given",
        code.qualname
    ))
}

fn missing_args(code: &Code, missing: &[Str]) -> Exc {
    let quoted: Vec<String> = missing.iter().map(|n| format!("'{n}'")).collect();
    let list = match quoted.len() {
        1 => quoted[0].clone(),
        2 => format!("{} and {}", quoted[0], quoted[1]),
        _ => format!(
            "{}, and {}",
            quoted[..quoted.len() - 1].join(", "),
            quoted[quoted.len() - 1]
        ),
    };
    let s = if missing.len() == 1 { "" } else { "s" };
    Exc::type_error(format!(
        "{}() missing {} required positional argument{s}: {list}",
        code.qualname,
        missing.len()
    ))
}

/// Binds positional and keyword arguments to a function's parameters.
pub fn bind_args(func: &Function, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Vec<Value>> {
    let code = &*func.code;
    let nparams = code.nargs;
    let given = args.len();
    if given > nparams && !code.vararg {
        return Err(too_many(func, given));
    }
    let mut locals = args;
    let extra = if locals.len() > nparams {
        locals.split_off(nparams)
    } else {
        Vec::new()
    };
    locals.resize(nparams, Value::Unbound);
    if code.vararg {
        locals.push(Value::tuple(extra));
    }
    for (name, v) in kwargs {
        match code.param_names[..nparams].iter().position(|p| *p == name) {
            None => {
                return Err(Exc::type_error(format!(
                    "{}() got an unexpected keyword argument '{name}'",
                    code.qualname
                )))
            }
            Some(i) => {
                if !matches!(locals[i], Value::Unbound) {
                    return Err(Exc::type_error(format!(
                        "{}() got multiple values for argument '{name}'",
                        code.qualname
                    )));
                }
                locals[i] = v;
            }
        }
    }
    fill_defaults(func, &mut locals, given.min(nparams))?;
    Ok(locals)
}

/// `TypeError` for a built-in called with the wrong number of arguments.
pub fn arity_error(name: &str, expected: &str, given: usize) -> Exc {
    Exc::type_error(format!("{name}() takes {expected} ({given} given)"))
}

pub fn exc_type_of(e: &Exc) -> Option<ExcType> {
    e.0.value.class.exc_type()
}
