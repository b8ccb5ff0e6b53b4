//! minipy: a small but honest interpreter for a subset of Python, built to
//! be profiled with Linux `perf` the way CPython is with `-X perf`
//! (`../shared/SPEC.md` §4–6). Every call of a script function — and the
//! module and class bodies — enters the one native eval function
//! ([`eval::eval`]), through that function's trampoline while perf support
//! is active, so perf names each frame `py::<qualname>:<file>`.
//!
//! Pipeline: [`source`] (bytes to text) → [`lexer`] → [`parser`] ([`ast`]) → [`scope`] + [`compile`]
//! (names resolved to slots; [`code`]) → evaluation ([`eval`] for
//! statements, [`expr`] for expressions, [`call`] for calls, [`locals`]
//! for the frames' slots) over [`value`]s. Around it: operators ([`ops`], [`num`]), attribute and item
//! access ([`attr`], [`seq`]), iteration ([`iter`]), text ([`format`]),
//! built-ins ([`builtins`], [`methods`], [`modules`]), errors
//! ([`errors`], [`traceback`]), fallible allocation ([`mem`]), freeing deep data ([`release`]), Ctrl-C ([`interrupt`]), perf state ([`perf`]), the command line
//! ([`cli`], [`run`]).
//!
//! Dependencies: `trampoline-api` (the shared trampoline contract) with its
//! two implementations `trampoline-c` and `trampoline-rs`, picked at run
//! time; `libc` for `fork`/`waitpid`/`_exit` and raw writes; `num-bigint`,
//! `num-integer`, `num-traits` for arbitrary-precision ints; `indexmap` for
//! insertion-ordered dicts and sets.

pub mod ast;
pub mod attr;
pub mod builtins;
pub mod call;
pub mod cli;
pub mod code;
pub mod compile;
pub mod dict;
pub mod errors;
pub mod eval;
pub mod expr;
pub mod format;
pub mod interp;
pub mod interrupt;
pub mod iter;
pub mod lexer;
pub mod locals;
pub mod mem;
pub mod methods;
pub mod modules;
pub mod num;
pub mod object;
pub mod ops;
pub mod output;
pub mod parser;
pub mod perf;
pub mod release;
pub mod run;
pub mod scope;
pub mod seq;
pub mod source;
pub mod traceback;
pub mod value;
