//! The program: reads the command line and the script, compiles it, runs
//! the module body through `eval` (so it is named `py::<module>` under
//! perf), and turns the outcome into Python's exit status. Runs on a
//! thread with a large stack so deep recursion ends in `RecursionError`,
//! never in a native stack overflow.

use crate::cli::{parse_args, perf_config};
use crate::compile::compile_module;
use crate::interp::Interp;
use crate::object::ExcType;
use crate::output::write_stderr;
use crate::parser::parse_module;
use crate::perf::PerfState;
use crate::traceback::format_syntax_error;
use crate::value::Value;
use std::rc::Rc;

/// Stack of the interpreter thread: room for `MAX_RECURSION_LIMIT` script
/// frames even in a debug build (pages are only touched when used).
const STACK_SIZE: usize = 1 << 30;

/// Entry point of the `minipy` binary; never returns.
pub fn main() -> ! {
    crate::errors::install_panic_hook();
    crate::interrupt::install();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let thread = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let code = run(args);
            // Exit from this thread: in a forked child it is the only thread.
            std::process::exit(code)
        });
    match thread {
        Ok(handle) => {
            crate::interrupt::block_in_this_thread();
            // Only a panic outside every `eval` (those become SystemError)
            // gets here.
            if let Err(payload) = handle.join() {
                write_stderr(&format!(
                    "minipy: internal error: {}\n",
                    crate::errors::panic_message(&*payload)
                ));
            }
            std::process::exit(70)
        }
        Err(e) => {
            write_stderr(&format!(
                "minipy: cannot start the interpreter thread: {e}\n"
            ));
            std::process::exit(1)
        }
    }
}

/// Runs one invocation and returns the exit status.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    if crate::cli::wants_help(&args) {
        let _ = crate::output::write_all(1, crate::cli::HELP.as_bytes());
        return 0;
    }
    let inv = match parse_args(&args) {
        Ok(inv) => inv,
        Err(e) => {
            write_stderr(&format!("minipy: {e}\n"));
            return 2;
        }
    };
    let config = match perf_config(&inv.xopts, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            write_stderr(&format!("minipy: {e}\n"));
            return 2;
        }
    };
    // Opened by its bytes; named (tracebacks, `__file__`) lossily.
    let path = std::path::absolute(&inv.script).unwrap_or_else(|_| inv.script.clone());
    let path_text = path.display().to_string();
    let source = match std::fs::read(&path) {
        Ok(bytes) => match crate::source::decode(&bytes, &path_text) {
            Ok(text) => text,
            Err(report) => {
                write_stderr(&report);
                return 1;
            }
        },
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(0);
            let reason = e.to_string();
            let reason = reason
                .split(" (os error")
                .next()
                .unwrap_or(&reason)
                .to_string();
            write_stderr(&format!(
                "minipy: can't open file '{path_text}': [Errno {errno}] {reason}\n"
            ));
            return 2;
        }
    };
    let filename: Rc<str> = Rc::from(path_text.as_str());
    let compiled = parse_module(&source).and_then(|m| compile_module(&m, filename.clone()));
    let compiled = match compiled {
        Ok(c) => c,
        Err(e) => {
            write_stderr(&format_syntax_error(&path_text, &source, &e));
            return 1;
        }
    };
    let mut argv = vec![inv.script.to_string_lossy().into_owned()];
    argv.extend(inv.args);
    let perf = PerfState::new(config.implementation, config.persist_after_fork);
    let mut interp = Interp::new(perf, argv, filename.clone(), Rc::from(source.as_str()));
    interp.init_globals(compiled.global_names);
    interp.set_global("__name__", Value::str("__main__"));
    interp.set_global("__file__", Value::Str(crate::value::PyStr::from(&filename)));
    if let Some(backend) = config.backend {
        interp.perf.activate(backend);
    }
    let result = interp.run_body(&compiled.code, Vec::new(), None);
    let status = match result {
        Ok(_) => 0,
        Err(exc) if exc.is(ExcType::SystemExit) => system_exit_status(&mut interp, &exc.args()),
        Err(exc) => {
            let report = interp.format_exception(&exc);
            // Like CPython: pending stdout first, then the traceback.
            flush_stdout(&mut interp);
            write_stderr(&report);
            if exc.is(ExcType::KeyboardInterrupt) {
                crate::interrupt::exit_by_sigint();
            }
            1
        }
    };
    if flush_stdout(&mut interp) {
        status
    } else {
        // CPython's status when stdout cannot be flushed at exit.
        120
    }
}

/// Flushes `sys.stdout` at the end; a failure (a closed pipe) is reported
/// as CPython reports it. Returns whether every flush so far succeeded.
fn flush_stdout(interp: &mut Interp) -> bool {
    if let Err(e) = interp.out.flush() {
        interp.stdout_failed = true;
        let line = interp.exception_line(&e);
        write_stderr(&format!(
            "Exception ignored in: <_io.TextIOWrapper name='<stdout>' mode='w' encoding='utf-8'>\n{line}\n"
        ));
    }
    !interp.stdout_failed
}

/// `sys.exit(arg)`: None → 0, an int → itself, anything else is printed.
fn system_exit_status(interp: &mut Interp, args: &[Value]) -> i32 {
    match args {
        [] | [Value::None] => 0,
        [Value::Int(n)] => *n as i32,
        [Value::Bool(b)] => *b as i32,
        [other] => {
            let text = interp.to_str(other).unwrap_or_default();
            flush_stdout(interp);
            write_stderr(&format!("{text}\n"));
            1
        }
        more => {
            let text = interp
                .repr(&Value::tuple(more.to_vec()))
                .unwrap_or_default();
            flush_stdout(interp);
            write_stderr(&format!("{text}\n"));
            1
        }
    }
}
