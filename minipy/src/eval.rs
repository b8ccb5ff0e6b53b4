//! The eval function — the one native function every script call enters
//! (directly, or through the callee's perf trampoline) — and statement
//! execution. Exceptions travel as `Err(Exc)` values, and a Rust panic is
//! caught and turned into a `SystemError`: nothing unwinds out of the
//! `extern "C"` boundary.

use crate::code::{Block, Expr, Stmt, StmtKind, Target, TryStmt};
use crate::errors::{internal_error, Exc, PyResult, TbEntry};
use crate::interp::{Flow, Frame, Interp};
use crate::object::{ExcType, Instance};
use crate::value::Value;
use std::ffi::c_void;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

/// `trampoline_api::EvalFn`: runs the body of `frame` (a `*mut Frame`) in
/// `state` (a `*mut Interp`). Returns null on success (the result is in
/// `frame.ret`) or an exception from [`Exc::into_raw`].
///
/// # Safety
/// `state` and `frame` must be valid, exclusive pointers for the call.
#[inline(never)]
pub unsafe extern "C" fn eval(
    state: *mut c_void,
    frame: *mut c_void,
    _arg: *mut c_void,
) -> *mut c_void {
    let interp = &mut *(state as *mut Interp);
    let frame = &mut *(frame as *mut Frame);
    let code = frame.code();
    // A panic unwinding out of this `extern "C"` function would abort the
    // process: it becomes a Python `SystemError` here instead. Costs
    // nothing until something panics.
    let body = AssertUnwindSafe(|| interp.exec_statements(frame, &code.body));
    let result = std::panic::catch_unwind(body).unwrap_or_else(|p| Err(internal_error(p)));
    match result {
        Ok(_) => std::ptr::null_mut(),
        Err(mut e) => {
            e.0.tb.push(TbEntry {
                filename: code.filename.clone(),
                line: frame.line,
                name: code.name.clone(),
            });
            e.into_raw()
        }
    }
}

/// The traceback line of frame `f` at `line`.
fn frame_entry(f: &Frame, line: u32) -> TbEntry {
    let code = f.code();
    TbEntry {
        filename: code.filename.clone(),
        line,
        name: code.name.clone(),
    }
}

impl Interp {
    pub fn exec_block(&mut self, f: &mut Frame, body: &[Stmt]) -> PyResult<Flow> {
        self.exec_statements(f, body)
    }

    /// The statement loop, inlined both into `exec_block` (nested blocks)
    /// and into `eval` (a body's top level), so that a script call costs
    /// one native frame fewer.
    #[inline(always)]
    fn exec_statements(&mut self, f: &mut Frame, body: &[Stmt]) -> PyResult<Flow> {
        for s in body {
            f.line = s.line;
            let flow = self.exec_stmt(f, s)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// The statements every loop and call runs; the rest are in `exec_cold`
    /// so this function (inlined into `exec_block`) stays small.
    #[inline(always)]
    fn exec_stmt(&mut self, f: &mut Frame, s: &Stmt) -> PyResult<Flow> {
        match &s.kind {
            StmtKind::AssignLocal(slot, e) => {
                let v = self.eval_fast(f, e)?;
                Value::store(&mut f.locals[*slot as usize], v);
            }
            StmtKind::Return(e) => {
                let v = self.eval_fast(f, e)?;
                Value::store(&mut f.ret, v);
                return Ok(Flow::Return);
            }
            StmtKind::Expr(e) => {
                self.eval(f, e)?;
            }
            StmtKind::AugLocal(slot, op, e) => {
                let rhs = self.eval_fast(f, e)?;
                let slot = *slot as usize;
                if let (Value::Int(a), Value::Int(b)) = (&f.locals[slot], &rhs) {
                    if let Some(v) = crate::num::quick_op(*op, *a, *b) {
                        // Both old value and operand are ints: nothing to drop.
                        std::mem::forget(std::mem::replace(&mut f.locals[slot], v));
                        std::mem::forget(rhs);
                        return Ok(Flow::Normal);
                    }
                }
                self.aug_local_slow(f, slot, *op, rhs)?;
            }
            StmtKind::If(cond, body, orelse) => {
                let c = self.eval(f, cond)?;
                let branch = if let Value::Bool(b) = c {
                    b.get()
                } else {
                    self.truthy(&c)?
                };
                return self.exec_block(f, if branch { body } else { orelse });
            }
            StmtKind::Pass => {}
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            _ => return self.exec_cold(f, s),
        }
        Ok(Flow::Normal)
    }

    #[inline(never)]
    fn aug_local_slow(
        &mut self,
        f: &mut Frame,
        slot: usize,
        op: crate::ast::BinOp,
        rhs: Value,
    ) -> PyResult<()> {
        let cur = std::mem::replace(&mut f.locals[slot], Value::Unbound);
        if let Value::Unbound = cur {
            return Err(self.unbound_local(f, slot as u32));
        }
        if let (Value::Int(a), Value::Int(b)) = (&cur, &rhs) {
            if let Some(v) = crate::num::small_op(op, *a, *b)? {
                f.locals[slot] = v;
                return Ok(());
            }
        }
        let r = self.inplace_op(op, cur.clone(), rhs);
        f.locals[slot] = match r {
            Ok(v) => v,
            Err(e) => {
                f.locals[slot] = cur;
                return Err(e);
            }
        };
        Ok(())
    }

    #[inline(never)]
    fn exec_cold(&mut self, f: &mut Frame, s: &Stmt) -> PyResult<Flow> {
        match &s.kind {
            StmtKind::AssignLocal(..)
            | StmtKind::Return(_)
            | StmtKind::Expr(_)
            | StmtKind::AugLocal(..)
            | StmtKind::If(..)
            | StmtKind::Pass
            | StmtKind::Break
            | StmtKind::Continue => return self.exec_stmt(f, s),
            StmtKind::Assign(t, e) => {
                let v = self.eval(f, e)?;
                self.assign(f, t, v)?;
            }
            StmtKind::AssignMany(ts, e) => {
                let v = self.eval(f, e)?;
                for t in ts {
                    self.assign(f, t, v.clone())?;
                }
            }
            StmtKind::AugAssign(t, op, e) => self.aug_assign(f, t, *op, e)?,
            StmtKind::While(cond, body, orelse) => {
                loop {
                    f.line = s.line;
                    crate::interrupt::check()?;
                    let c = self.eval(f, cond)?;
                    if !self.truthy(&c)? {
                        break;
                    }
                    match self.exec_block(f, body)? {
                        Flow::Break => return Ok(Flow::Normal),
                        Flow::Return => return Ok(Flow::Return),
                        _ => {}
                    }
                }
                return self.exec_block(f, orelse);
            }
            StmtKind::For(target, iter, body, orelse) => {
                return self.exec_for(f, target, iter, body, orelse)
            }
            StmtKind::Raise(exc, cause) => {
                return Err(self.raise(f, exc.as_ref(), cause.as_ref())?)
            }
            StmtKind::Try(t) => return self.exec_try(f, t),
            StmtKind::Assert(test, msg) => {
                let v = self.eval(f, test)?;
                if !self.truthy(&v)? {
                    let args = match msg {
                        Some(m) => vec![self.eval(f, m)?],
                        None => Vec::new(),
                    };
                    return Err(Exc::with_args(ExcType::AssertionError, args));
                }
            }
            StmtKind::Def(template, target) => {
                let func = self.make_function(f, template)?;
                self.assign(f, target, func)?;
            }
            StmtKind::Class(template, target) => {
                let class = self.make_class(f, template)?;
                self.assign(f, target, class)?;
            }
            StmtKind::Import(items) => {
                for (module, target) in items {
                    let m = self.import(module)?;
                    self.assign(f, target, m)?;
                }
            }
            StmtKind::ImportFrom(module, names) => {
                let m = self.import(module)?;
                for (name, target) in names {
                    let v = self.get_attr(&m, name).map_err(|_| {
                        Exc::new(
                            ExcType::ImportError,
                            format!(
                                "cannot import name '{name}' from '{module}' (unknown location)"
                            ),
                        )
                    })?;
                    self.assign(f, target, v)?;
                }
            }
            StmtKind::Delete(targets) => {
                for t in targets {
                    self.delete(f, t)?;
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn exec_for(
        &mut self,
        f: &mut Frame,
        target: &Target,
        iter: &Expr,
        body: &Block,
        orelse: &Block,
    ) -> PyResult<Flow> {
        let iterable = self.eval(f, iter)?;
        if let Value::Range(r) = &iterable {
            // The hot loop: no iterator object, ints written straight into the slot.
            let r = **r;
            let n = r.len();
            let mut i = 0;
            while i < n {
                crate::interrupt::check()?;
                let v = Value::Int(r.get(i));
                match target {
                    Target::Local(slot) => Value::store(&mut f.locals[*slot as usize], v),
                    t => self.assign(f, t, v)?,
                }
                match self.exec_block(f, body)? {
                    Flow::Break => return Ok(Flow::Normal),
                    Flow::Return => return Ok(Flow::Return),
                    _ => {}
                }
                i += 1;
            }
            return self.exec_block(f, orelse);
        }
        let mut it = self.iterate(&iterable)?;
        while let Some(v) = self.next_item(&mut it)? {
            crate::interrupt::check()?;
            self.assign(f, target, v)?;
            match self.exec_block(f, body)? {
                Flow::Break => return Ok(Flow::Normal),
                Flow::Return => return Ok(Flow::Return),
                _ => {}
            }
        }
        self.exec_block(f, orelse)
    }

    fn exec_try(&mut self, f: &mut Frame, t: &TryStmt) -> PyResult<Flow> {
        let result = match self.exec_block(f, &t.body) {
            Ok(Flow::Normal) => self.exec_block(f, &t.orelse),
            Ok(flow) => Ok(flow),
            Err(exc) => self.handle(f, t, exc),
        };
        if t.finalbody.is_empty() {
            return result;
        }
        // `finally` runs whatever happened; its own break/return/raise wins.
        let saved_line = f.line;
        match self.exec_block(f, &t.finalbody) {
            Ok(Flow::Normal) => {
                f.line = saved_line;
                result
            }
            Ok(flow) => Ok(flow),
            Err(mut e) => {
                if let Err(mut prev) = result {
                    if e.0.context.is_none() && !Rc::ptr_eq(&e.0.value, &prev.0.value) {
                        prev.0.tb.push(frame_entry(f, saved_line));
                        e.0.context = Some(prev);
                    }
                }
                Err(e)
            }
        }
    }

    /// Finds the `except` clause for `exc` and runs it.
    fn handle(&mut self, f: &mut Frame, t: &TryStmt, exc: Exc) -> PyResult<Flow> {
        let raised_at = f.line;
        for h in &t.handlers {
            let matched = match &h.typ {
                None => true,
                Some(typ) => {
                    let typ = self.eval(f, typ)?;
                    self.exception_matches(&exc.0.value, &typ)?
                }
            };
            if !matched {
                continue;
            }
            f.line = h.line;
            if let Some(target) = &h.target {
                self.assign(f, target, Value::Instance(exc.0.value.clone()))?;
            }
            self.handled.push(exc);
            let r = self.exec_block(f, &h.body);
            let handled = self.handled.pop();
            if let Some(target) = &h.target {
                // Python deletes the `as` name when the handler ends.
                let _ = self.delete(f, target);
            }
            return match r {
                Err(mut e) => {
                    if let Some(mut h) = handled {
                        if e.0.context.is_none() && !Rc::ptr_eq(&e.0.value, &h.0.value) {
                            // The handled exception got as far as this frame.
                            h.0.tb.push(frame_entry(f, raised_at));
                            e.0.context = Some(h);
                        }
                    }
                    Err(e)
                }
                ok => ok,
            };
        }
        Err(exc)
    }

    /// `isinstance(exc, typ)` for an `except` clause (a class or a tuple of classes).
    pub fn exception_matches(&mut self, exc: &Rc<Instance>, typ: &Value) -> PyResult<bool> {
        self.exception_matches_within(exc, typ, self.recursion_limit)
    }

    /// `exception_matches` with nested tuples at most `depth` levels deep.
    fn exception_matches_within(
        &mut self,
        exc: &Rc<Instance>,
        typ: &Value,
        depth: u32,
    ) -> PyResult<bool> {
        match typ {
            Value::Class(c) if c.exc_type().is_some() => Ok(exc.class.is_subclass_of(c)),
            Value::Tuple(_) if depth == 0 => Err(Interp::recursion_error()),
            Value::Tuple(items) => {
                for i in items.iter() {
                    if self.exception_matches_within(exc, i, depth - 1)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(Exc::type_error(
                "catching classes that do not inherit from BaseException is not allowed",
            )),
        }
    }

    /// Builds the exception a `raise` statement throws.
    fn raise(&mut self, f: &mut Frame, exc: Option<&Expr>, cause: Option<&Expr>) -> PyResult<Exc> {
        let Some(exc) = exc else {
            return match self.handled.last() {
                Some(e) => {
                    let mut e = e.clone();
                    e.0.context = None;
                    Ok(e)
                }
                None => Ok(Exc::new(
                    ExcType::RuntimeError,
                    "No active exception to reraise",
                )),
            };
        };
        let v = self.eval(f, exc)?;
        let mut e = self.make_exception(v)?;
        if let Some(c) = cause {
            let c = self.eval(f, c)?;
            e.0.cause = if matches!(c, Value::None) {
                None
            } else {
                Some(self.make_exception(c)?)
            };
            // `raise ... from ...` hides the implicit context when printed.
            e.0.suppress_context = true;
        }
        Ok(e)
    }

    /// An exception instance from a raised value (a class is instantiated).
    pub fn make_exception(&mut self, v: Value) -> PyResult<Exc> {
        match v {
            Value::Instance(i) if i.class.exc_type().is_some() => Ok(Exc::from_instance(i)),
            Value::Class(c) if c.exc_type().is_some() => {
                match self.call_value(&Value::Class(c), Vec::new(), Vec::new())? {
                    Value::Instance(i) => Ok(Exc::from_instance(i)),
                    _ => Err(Exc::type_error("exceptions must derive from BaseException")),
                }
            }
            _ => Err(Exc::type_error("exceptions must derive from BaseException")),
        }
    }

    pub fn unbound_local(&self, f: &Frame, slot: u32) -> Exc {
        let name = f
            .code()
            .local_names
            .get(slot as usize)
            .map(|n| n.to_string())
            .unwrap_or_default();
        Exc::new(
            ExcType::UnboundLocalError,
            format!(
                "cannot access local variable '{name}' where it is not associated with a value"
            ),
        )
    }

    pub fn unbound_cell(&self, f: &Frame, cell: u32) -> Exc {
        let code = f.code();
        let name = code
            .cell_names
            .get(cell as usize)
            .map(|n| n.to_string())
            .unwrap_or_default();
        if (cell as usize) < code.ncells {
            Exc::new(
                ExcType::UnboundLocalError,
                format!(
                    "cannot access local variable '{name}' where it is not associated with a value"
                ),
            )
        } else {
            Exc::new(
                ExcType::NameError,
                format!("cannot access free variable '{name}' where it is not associated with a value in enclosing scope"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::builtins::BuiltinDef;
    use crate::call::Kwargs;
    use crate::errors::PyResult;
    use crate::interp::Interp;
    use crate::perf::{Implementation, PerfState};
    use crate::value::Value;
    use std::rc::Rc;

    fn boom(_: &mut Interp, _: Vec<Value>, _: Kwargs) -> PyResult<Value> {
        panic!("deliberate test panic")
    }

    static BOOM: BuiltinDef = BuiltinDef {
        name: "boom",
        func: boom,
    };

    /// A panic below `eval` must not cross its `extern "C"` boundary (that
    /// aborts the process): it comes back as a Python `SystemError`, and
    /// the interpreter stays usable.
    #[test]
    fn a_panic_under_eval_becomes_a_system_error() {
        let src = "def f():\n    return boom()\ntry:\n    f()\nexcept Exception as e:\n    caught = e\nx = f()\n";
        let module = crate::parser::parse_module(src).expect("parses");
        let compiled =
            crate::compile::compile_module(&module, Rc::from("/t.py")).expect("compiles");
        let mut interp = Interp::new(
            PerfState::new(Implementation::Rust, false),
            Vec::new(),
            Rc::from("/t.py"),
            Rc::from(src),
        );
        interp.init_globals(compiled.global_names);
        interp.set_global("boom", Value::Builtin(&BOOM));
        let err = interp
            .run_body(&compiled.code, Vec::new(), None)
            .expect_err("the second call raises");
        assert_eq!(&*err.0.value.class.name, "SystemError");
        let line = interp.exception_line(&err);
        assert!(
            line.starts_with("SystemError: internal error in minipy: deliberate test panic"),
            "{line}"
        );
        assert_eq!(interp.depth, 0);
        let report = interp.format_exception(&err);
        assert!(report.contains("line 2, in f\n"), "{report}");
    }
}
