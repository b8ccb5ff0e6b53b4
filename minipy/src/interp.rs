//! The interpreter state shared by every frame (`Interp`) and one running
//! body (`Frame`). Frames live on the native stack of the code that calls
//! them and reach `eval` by raw pointer; their local slots come from the
//! [`LocalsStack`], so a call allocates nothing.

use crate::code::Code;
use crate::errors::{Exc, PyResult};
use crate::locals::{Locals, LocalsStack};
use crate::object::{CellRef, ExcType, Function};
use crate::output::Output;
use crate::perf::PerfState;
use crate::value::{Str, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// CPython's default `sys.getrecursionlimit()`.
pub const DEFAULT_RECURSION_LIMIT: u32 = 1000;
/// The most `sys.setrecursionlimit` accepts: what the interpreter thread's
/// stack is sized for.
pub const MAX_RECURSION_LIMIT: u32 = 20_000;

/// How control leaves a statement. A full word wide so that `PyResult<Flow>`
/// (word-sized tag plus word-sized payload) comes back in two registers
/// instead of through memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Flow {
    Normal,
    Break,
    Continue,
    Return,
}

pub struct Frame {
    pub locals: Locals,
    pub cells: Vec<CellRef>,
    pub code: *const Code,
    /// The function being run, or null for a module or class body.
    pub func: *const Function,
    /// The namespace of a class body being run.
    pub ns: Option<Box<HashMap<Str, Value>>>,
    pub line: u32,
    pub ret: Value,
}

impl Frame {
    /// The code being run. Not tied to the borrow of the frame, so the
    /// body can be walked while the frame is mutated.
    pub fn code<'a>(&self) -> &'a Code {
        // SAFETY: a frame's code is kept alive by whoever made the frame
        // (the function object or the module) for longer than the frame.
        unsafe { &*self.code }
    }

    pub fn function(&self) -> Option<&Function> {
        // SAFETY: as for `code`: the caller holds the function.
        unsafe { self.func.as_ref() }
    }
}

pub struct Interp {
    pub globals: Vec<Value>,
    pub global_names: Vec<Str>,
    /// The built-in each global slot falls back to while it is unbound.
    pub builtin_fallback: Vec<Value>,
    pub depth: u32,
    pub recursion_limit: u32,
    pub perf: PerfState,
    pub out: Output,
    /// A flush of `out` at exit failed (the exit status becomes 120).
    pub stdout_failed: bool,
    /// Exceptions being handled by `except` blocks, innermost last.
    pub handled: Vec<Exc>,
    /// Where every frame's local slots live.
    pub locals_stack: LocalsStack,
    pub modules: HashMap<Str, Value>,
    pub argv: Vec<String>,
    pub script_path: Str,
    pub source: Rc<str>,
    /// Nesting of `repr` calls, bounded like a recursion.
    pub repr_depth: u32,
    /// Containers whose repr is being built (to print `[...]` for cycles).
    pub repr_stack: Vec<usize>,
}

impl Interp {
    pub fn new(perf: PerfState, argv: Vec<String>, script_path: Str, source: Rc<str>) -> Interp {
        Interp {
            globals: Vec::new(),
            global_names: Vec::new(),
            builtin_fallback: Vec::new(),
            depth: 0,
            recursion_limit: DEFAULT_RECURSION_LIMIT,
            perf,
            out: Output::stdout(),
            stdout_failed: false,
            handled: Vec::new(),
            locals_stack: LocalsStack::default(),
            modules: HashMap::new(),
            argv,
            script_path,
            source,
            repr_depth: 0,
            repr_stack: Vec::new(),
        }
    }

    /// Sets up the global slots of the compiled module.
    pub fn init_globals(&mut self, names: Vec<Str>) {
        self.builtin_fallback = names
            .iter()
            .map(|n| crate::builtins::lookup(n).unwrap_or(Value::Unbound))
            .collect();
        self.globals = vec![Value::Unbound; names.len()];
        self.global_names = names;
    }

    pub fn set_global(&mut self, name: &str, v: Value) {
        if let Some(i) = self.global_names.iter().position(|n| &**n == name) {
            self.globals[i] = v;
        }
    }

    #[inline]
    pub fn load_global(&self, slot: u32) -> PyResult<Value> {
        let v = &self.globals[slot as usize];
        if !matches!(v, Value::Unbound) {
            return Ok(v.clone());
        }
        let b = &self.builtin_fallback[slot as usize];
        if !matches!(b, Value::Unbound) {
            return Ok(b.clone());
        }
        Err(Exc::name_error(&self.global_names[slot as usize]))
    }

    pub fn recursion_error() -> Exc {
        Exc::new(ExcType::RecursionError, "maximum recursion depth exceeded")
    }
}
