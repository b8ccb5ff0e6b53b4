//! The built-in modules a script can import: `sys` (argv, exit, the perf
//! trampoline API of SPEC §4, recursion limit, stdout/stderr), `os`
//! (getpid, fork, waitpid, _exit, environ) and a small `time`.

use crate::builtins::BuiltinDef;
use crate::call::Kwargs;
use crate::dict::{Dict, Key};
use crate::errors::{Exc, PyResult};
use crate::interp::{Interp, MAX_RECURSION_LIMIT};
use crate::object::{ExcType, Module};
use crate::value::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use trampoline_api::Backend;

impl Interp {
    /// `import name`: the module object, made once and cached.
    pub fn import(&mut self, name: &str) -> PyResult<Value> {
        if let Some(m) = self.modules.get(name) {
            return Ok(m.clone());
        }
        let m = match name {
            "sys" => self.make_sys(),
            "os" => make_os(),
            "time" => make_module("time", &[&TIME, &PERF_COUNTER, &SLEEP], Vec::new()),
            _ => {
                return Err(Exc::new(
                    ExcType::ModuleNotFoundError,
                    format!("No module named '{name}'"),
                ));
            }
        };
        self.modules.insert(Rc::from(name), m.clone());
        Ok(m)
    }

    fn make_sys(&self) -> Value {
        let argv = Value::list(self.argv.iter().map(|a| Value::str(a)).collect());
        let stdout = make_module("sys.stdout", &[&STDOUT_WRITE, &STDOUT_FLUSH], Vec::new());
        let stderr = make_module("sys.stderr", &[&STDERR_WRITE, &STDERR_FLUSH], Vec::new());
        make_module(
            "sys",
            &[
                &EXIT,
                &ACTIVATE,
                &DEACTIVATE,
                &IS_ACTIVE,
                &GETRECURSIONLIMIT,
                &SETRECURSIONLIMIT,
            ],
            vec![
                ("argv", argv),
                ("stdout", stdout),
                ("stderr", stderr),
                ("platform", Value::str("linux")),
                ("maxsize", Value::Int(i64::MAX)),
                ("version", Value::str("3.12.1 (minipy)")),
                (
                    "executable",
                    Value::str(
                        &std::env::current_exe()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                    ),
                ),
            ],
        )
    }
}

fn make_module(name: &str, functions: &[&'static BuiltinDef], values: Vec<(&str, Value)>) -> Value {
    let mut attrs = HashMap::new();
    for f in functions {
        attrs.insert(Rc::from(f.name), Value::Builtin(f));
    }
    for (k, v) in values {
        attrs.insert(Rc::from(k), v);
    }
    attrs.insert(Rc::from("__name__"), Value::str(name));
    Value::Module(Rc::new(Module {
        name: Rc::from(name),
        attrs: RefCell::new(attrs),
    }))
}

fn no_args(qualified: &str, args: &[Value], kwargs: &Kwargs) -> PyResult<()> {
    if !kwargs.is_empty() {
        return Err(Exc::type_error(format!(
            "{qualified}() takes no keyword arguments"
        )));
    }
    if !args.is_empty() {
        return Err(Exc::type_error(format!(
            "{qualified}() takes no arguments ({} given)",
            args.len()
        )));
    }
    Ok(())
}

static EXIT: BuiltinDef = BuiltinDef {
    name: "exit",
    func: sys_exit,
};
static ACTIVATE: BuiltinDef = BuiltinDef {
    name: "activate_stack_trampoline",
    func: sys_activate,
};
static DEACTIVATE: BuiltinDef = BuiltinDef {
    name: "deactivate_stack_trampoline",
    func: sys_deactivate,
};
static IS_ACTIVE: BuiltinDef = BuiltinDef {
    name: "is_stack_trampoline_active",
    func: sys_is_active,
};
static GETRECURSIONLIMIT: BuiltinDef = BuiltinDef {
    name: "getrecursionlimit",
    func: sys_getrecursionlimit,
};
static SETRECURSIONLIMIT: BuiltinDef = BuiltinDef {
    name: "setrecursionlimit",
    func: sys_setrecursionlimit,
};
static STDOUT_WRITE: BuiltinDef = BuiltinDef {
    name: "write",
    func: stdout_write,
};
static STDOUT_FLUSH: BuiltinDef = BuiltinDef {
    name: "flush",
    func: stdout_flush,
};
static STDERR_WRITE: BuiltinDef = BuiltinDef {
    name: "write",
    func: stderr_write,
};
static STDERR_FLUSH: BuiltinDef = BuiltinDef {
    name: "flush",
    func: stderr_flush,
};

fn sys_exit(_: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    if !kwargs.is_empty() {
        return Err(Exc::type_error("exit() takes no keyword arguments"));
    }
    if args.len() > 1 {
        return Err(Exc::type_error(format!(
            "exit expected at most 1 argument, got {}",
            args.len()
        )));
    }
    Err(Exc::with_args(ExcType::SystemExit, args))
}

fn sys_activate(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    if !kwargs.is_empty() {
        return Err(Exc::type_error(
            "sys.activate_stack_trampoline() takes no keyword arguments",
        ));
    }
    if args.len() != 1 {
        return Err(Exc::type_error(format!(
            "sys.activate_stack_trampoline() takes exactly one argument ({} given)",
            args.len()
        )));
    }
    let backend = match &args[0] {
        Value::Str(s) => match &**s {
            "perf" => Backend::PerfMap,
            "perf_jit" => Backend::JitDump,
            other => return Err(Exc::value_error(format!("invalid backend: {other}"))),
        },
        other => {
            return Err(Exc::type_error(format!(
                "activate_stack_trampoline() argument must be str, not {}",
                other.type_name()
            )))
        }
    };
    interp.perf.activate(backend);
    Ok(Value::None)
}

fn sys_deactivate(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_args("sys.deactivate_stack_trampoline", &args, &kwargs)?;
    interp.perf.deactivate();
    Ok(Value::None)
}

fn sys_is_active(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_args("sys.is_stack_trampoline_active", &args, &kwargs)?;
    Ok(Value::bool(interp.perf.is_active()))
}

fn sys_getrecursionlimit(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_args("sys.getrecursionlimit", &args, &kwargs)?;
    Ok(Value::Int(interp.recursion_limit as i64))
}

fn sys_setrecursionlimit(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let [Value::Int(n)] = args.as_slice() else {
        return Err(Exc::type_error(
            "setrecursionlimit() takes exactly one integer argument",
        ));
    };
    if *n < 1 {
        return Err(Exc::value_error(
            "recursion limit must be greater or equal than 1",
        ));
    }
    // The interpreter thread's stack is sized for MAX_RECURSION_LIMIT frames.
    interp.recursion_limit = (*n).min(MAX_RECURSION_LIMIT as i64) as u32;
    Ok(Value::None)
}

fn text_arg(args: &[Value]) -> PyResult<String> {
    match args {
        [Value::Str(s)] => Ok(s.to_string()),
        [other] => Err(Exc::type_error(format!(
            "write() argument must be str, not {}",
            other.type_name()
        ))),
        _ => Err(Exc::type_error(format!(
            "write() takes exactly one argument ({} given)",
            args.len()
        ))),
    }
}

fn stdout_write(interp: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let s = text_arg(&args)?;
    interp.out.write_str(&s)?;
    Ok(Value::Int(s.chars().count() as i64))
}

fn stdout_flush(interp: &mut Interp, _: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    interp.out.flush()?;
    Ok(Value::None)
}

fn stderr_write(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let s = text_arg(&args)?;
    crate::output::write_stderr(&s);
    Ok(Value::Int(s.chars().count() as i64))
}

fn stderr_flush(_: &mut Interp, _: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    Ok(Value::None)
}

// ----- os -----

static GETPID: BuiltinDef = BuiltinDef {
    name: "getpid",
    func: os_getpid,
};
static GETPPID: BuiltinDef = BuiltinDef {
    name: "getppid",
    func: os_getppid,
};
static FORK: BuiltinDef = BuiltinDef {
    name: "fork",
    func: os_fork,
};
static WAITPID: BuiltinDef = BuiltinDef {
    name: "waitpid",
    func: os_waitpid,
};
static EXIT_NOW: BuiltinDef = BuiltinDef {
    name: "_exit",
    func: os_exit_now,
};
static WEXITSTATUS: BuiltinDef = BuiltinDef {
    name: "WEXITSTATUS",
    func: os_wexitstatus,
};
static WIFEXITED: BuiltinDef = BuiltinDef {
    name: "WIFEXITED",
    func: os_wifexited,
};
static WIFSIGNALED: BuiltinDef = BuiltinDef {
    name: "WIFSIGNALED",
    func: os_wifsignaled,
};
static WTERMSIG: BuiltinDef = BuiltinDef {
    name: "WTERMSIG",
    func: os_wtermsig,
};

fn make_os() -> Value {
    let mut environ = Dict::new();
    for (k, v) in std::env::vars_os() {
        environ.insert(
            Key(Value::str(&k.to_string_lossy())),
            Value::str(&v.to_string_lossy()),
        );
    }
    make_module(
        "os",
        &[
            &GETPID,
            &GETPPID,
            &FORK,
            &WAITPID,
            &EXIT_NOW,
            &WEXITSTATUS,
            &WIFEXITED,
            &WIFSIGNALED,
            &WTERMSIG,
        ],
        vec![
            ("environ", Value::Dict(Rc::new(RefCell::new(environ)))),
            ("WNOHANG", Value::Int(libc::WNOHANG as i64)),
            ("sep", Value::str("/")),
            ("name", Value::str("posix")),
        ],
    )
}

fn os_error(what: &str) -> Exc {
    let _ = what;
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    crate::errors::os_error(errno)
}

fn os_getpid(_: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_args("getpid", &args, &kwargs)?;
    Ok(Value::Int(std::process::id() as i64))
}

fn os_getppid(_: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_args("getppid", &args, &kwargs)?;
    // SAFETY: getppid cannot fail.
    Ok(Value::Int(unsafe { libc::getppid() } as i64))
}

fn os_fork(interp: &mut Interp, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    no_args("fork", &args, &kwargs)?;
    // SAFETY: the interpreter is single-threaded (the launcher thread only
    // waits), so the child may go on running Rust code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(os_error("fork"));
    }
    if pid == 0 {
        interp.perf.after_fork_child();
    }
    Ok(Value::Int(pid as i64))
}

fn os_waitpid(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let [Value::Int(pid), Value::Int(options)] = args.as_slice() else {
        return Err(Exc::type_error(format!(
            "waitpid expected 2 arguments, got {}",
            args.len()
        )));
    };
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into a valid int.
        let r = unsafe { libc::waitpid(*pid as libc::pid_t, &mut status, *options as i32) };
        if r >= 0 {
            return Ok(Value::tuple(vec![
                Value::Int(r as i64),
                Value::Int(status as i64),
            ]));
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return Err(os_error("waitpid"));
        }
        crate::interrupt::check()?;
    }
}

fn os_exit_now(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let [Value::Int(code)] = args.as_slice() else {
        return Err(Exc::type_error(
            "_exit() takes exactly one integer argument",
        ));
    };
    // Like CPython: no cleanup, stdout buffers are not flushed.
    // SAFETY: ends the process.
    unsafe { libc::_exit(*code as i32) }
}

fn status_arg(args: &[Value]) -> PyResult<i32> {
    match args {
        [Value::Int(s)] => Ok(*s as i32),
        _ => Err(Exc::type_error("an integer status is required")),
    }
}

fn os_wexitstatus(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(libc::WEXITSTATUS(status_arg(&args)?) as i64))
}

fn os_wifexited(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    Ok(Value::bool(libc::WIFEXITED(status_arg(&args)?)))
}

fn os_wifsignaled(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    Ok(Value::bool(libc::WIFSIGNALED(status_arg(&args)?)))
}

fn os_wtermsig(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    Ok(Value::Int(libc::WTERMSIG(status_arg(&args)?) as i64))
}

// ----- time -----

static TIME: BuiltinDef = BuiltinDef {
    name: "time",
    func: time_time,
};
static PERF_COUNTER: BuiltinDef = BuiltinDef {
    name: "perf_counter",
    func: time_perf_counter,
};
static SLEEP: BuiltinDef = BuiltinDef {
    name: "sleep",
    func: time_sleep,
};

fn time_time(_: &mut Interp, _: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Value::float(d.as_secs_f64()))
}

fn time_perf_counter(_: &mut Interp, _: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    Ok(Value::float(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9))
}

fn time_sleep(_: &mut Interp, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let secs = match args.as_slice() {
        [v] => crate::num::as_f64(v).unwrap_or(Err(Exc::type_error(
            "'str' object cannot be interpreted as an integer",
        )))?,
        _ => return Err(Exc::type_error("sleep() takes exactly one argument")),
    };
    if secs < 0.0 {
        return Err(Exc::value_error("sleep length must be non-negative"));
    }
    if secs.is_nan() {
        return Err(Exc::value_error("Invalid value NaN (not a number)"));
    }
    // CPython keeps time in i64 nanoseconds.
    let too_large = || Exc::overflow("timestamp too large to convert to C _PyTime_t");
    if secs * 1e9 >= i64::MAX as f64 {
        return Err(too_large());
    }
    let total = std::time::Duration::try_from_secs_f64(secs).map_err(|_| too_large())?;
    // Until a deadline, so that Ctrl-C (which cuts nanosleep short)
    // raises at once.
    let end = std::time::Instant::now()
        .checked_add(total)
        .ok_or_else(too_large)?;
    loop {
        crate::interrupt::check()?;
        let now = std::time::Instant::now();
        if now >= end {
            return Ok(Value::None);
        }
        let left = end - now;
        let ts = libc::timespec {
            tv_sec: left.as_secs().min(i32::MAX as u64) as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: nanosleep with a valid timespec; EINTR just ends the step.
        unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
    }
}
