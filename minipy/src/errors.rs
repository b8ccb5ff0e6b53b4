//! Python exceptions as they travel through the interpreter: a boxed value
//! (`Exc`) returned in `Err`, never a Rust panic. Carries the exception
//! instance, the traceback collected while it propagates (innermost first),
//! and the chained exceptions (`__context__`, `__cause__`).

use crate::object::{exc_class, ExcType, Instance};
use crate::value::{Str, Value};
use std::rc::Rc;

/// One traceback line: `File "<filename>", line N, in <name>`.
#[derive(Debug, Clone)]
pub struct TbEntry {
    pub filename: Str,
    pub line: u32,
    pub name: Str,
}

#[derive(Debug, Clone)]
pub struct ExcInner {
    pub value: Rc<Instance>,
    /// Innermost frame first (the order in which frames were left).
    pub tb: Vec<TbEntry>,
    pub context: Option<Exc>,
    pub cause: Option<Exc>,
    /// Set by `raise ... from ...`: the context is not printed.
    pub suppress_context: bool,
}

/// An exception in flight. One pointer wide so `Result<Value, Exc>` stays small.
#[derive(Debug, Clone)]
pub struct Exc(pub Box<ExcInner>);

pub type PyResult<T> = Result<T, Exc>;

impl Exc {
    /// A built-in exception with one string argument.
    pub fn new(t: ExcType, msg: impl Into<String>) -> Exc {
        let msg: String = msg.into();
        Exc::with_args(t, vec![Value::str(&msg)])
    }

    pub fn with_args(t: ExcType, args: Vec<Value>) -> Exc {
        let inst = Instance::new(exc_class(t));
        inst.attrs
            .borrow_mut()
            .insert(Rc::from("args"), Value::tuple(args));
        Exc::from_instance(Rc::new(inst))
    }

    pub fn from_instance(value: Rc<Instance>) -> Exc {
        Exc(Box::new(ExcInner {
            value,
            tb: Vec::new(),
            context: None,
            cause: None,
            suppress_context: false,
        }))
    }

    pub fn type_error(msg: impl Into<String>) -> Exc {
        Exc::new(ExcType::TypeError, msg)
    }

    pub fn value_error(msg: impl Into<String>) -> Exc {
        Exc::new(ExcType::ValueError, msg)
    }

    pub fn zero_division(msg: &str) -> Exc {
        Exc::new(ExcType::ZeroDivisionError, msg)
    }

    pub fn overflow(msg: &str) -> Exc {
        Exc::new(ExcType::OverflowError, msg)
    }

    pub fn index_error(msg: &str) -> Exc {
        Exc::new(ExcType::IndexError, msg)
    }

    pub fn attribute_error(type_name: &str, attr: &str) -> Exc {
        Exc::new(
            ExcType::AttributeError,
            format!("'{type_name}' object has no attribute '{attr}'"),
        )
    }

    pub fn name_error(name: &str) -> Exc {
        Exc::new(ExcType::NameError, format!("name '{name}' is not defined"))
    }

    /// Whether the exception is an instance of the built-in type `t`.
    pub fn is(&self, t: ExcType) -> bool {
        self.0.value.class.is_subclass_of(&exc_class(t))
    }

    pub fn args(&self) -> Vec<Value> {
        exc_args(&self.0.value)
    }

    /// Hands the exception across the C ABI of `eval` as a raw pointer.
    pub fn into_raw(self) -> *mut std::ffi::c_void {
        Box::into_raw(self.0) as *mut std::ffi::c_void
    }

    /// # Safety
    /// `p` must come from [`Exc::into_raw`] and be used once.
    pub unsafe fn from_raw(p: *mut std::ffi::c_void) -> Exc {
        Exc(Box::from_raw(p as *mut ExcInner))
    }
}

thread_local! {
    /// What the panic hook saw of the last panic on this thread: its location.
    static LAST_PANIC_LOCATION: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

/// Replaces the default panic report (message plus backtrace on stderr)
/// with a note of where the panic happened: a panic under `eval` becomes
/// a `SystemError` ([`internal_error`]), one elsewhere is reported by the
/// program in one line. Called once by the `minipy` binary.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        LAST_PANIC_LOCATION.with(|l| *l.borrow_mut() = location);
    }));
}

/// The text of a caught panic: its message, and where it happened when
/// the panic hook recorded that.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    match LAST_PANIC_LOCATION.with(|l| l.borrow_mut().take()) {
        Some(at) => format!("{msg} (at {at})"),
        None => msg,
    }
}

/// The `SystemError` a panic caught at the `eval` boundary becomes: a bug
/// in minipy, reported as CPython reports its own internal errors.
pub fn internal_error(payload: Box<dyn std::any::Any + Send>) -> Exc {
    Exc::new(
        ExcType::SystemError,
        format!(
            "internal error in minipy: {}; please report it",
            panic_message(&*payload)
        ),
    )
}

/// The `OSError` (or the subclass CPython picks for it) of a failed
/// system call's `errno`: `[Errno 32] Broken pipe`.
pub fn os_error(errno: i32) -> Exc {
    let t = match errno {
        libc::EPIPE => ExcType::BrokenPipeError,
        libc::ECHILD => ExcType::ChildProcessError,
        _ => ExcType::OSError,
    };
    let msg = std::io::Error::from_raw_os_error(errno).to_string();
    let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
    Exc::with_args(t, vec![Value::Int(errno as i64), Value::str(&msg)])
}

/// `MemoryError` (no message), for an allocation the script asked for
/// that cannot be made.
pub fn memory_error() -> Exc {
    Exc::with_args(ExcType::MemoryError, Vec::new())
}

/// The `args` tuple of an exception instance (empty if it has none).
pub fn exc_args(inst: &Instance) -> Vec<Value> {
    match inst.attrs.borrow().get("args") {
        Some(Value::Tuple(t)) => t.to_vec(),
        _ => Vec::new(),
    }
}
