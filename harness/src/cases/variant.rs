//! The axes a case runs along: how perf unwinds ([`Unwind`]) and which
//! interpreter runs it ([`Variant`]: a [`Build`] and a [`Trampoline`]).

use serde::Deserialize;
use std::fmt;

/// How perf unwinds the native stack.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Unwind {
    /// Frame pointers: `perf record -g`.
    #[default]
    Fp,
    /// DWARF CFI: `perf record --call-graph dwarf`.
    Dwarf,
    /// The jitdump workflow (SPEC §7): `perf record -k 1 --call-graph
    /// dwarf`, then `perf inject --jit`, and `perf script` on the result.
    Jit,
}

impl Unwind {
    /// The `perf record` arguments that select this unwinding; `max_stack`
    /// raises perf's default of 127 native frames per frame-pointer chain.
    pub fn record_args(self, max_stack: Option<usize>) -> Vec<String> {
        let args: Vec<String> = match (self, max_stack) {
            (Unwind::Fp, None) => vec!["-g".into()],
            (Unwind::Fp, Some(depth)) => vec!["--call-graph".into(), format!("fp,{depth}")],
            (Unwind::Dwarf, _) => vec!["--call-graph".into(), "dwarf".into()],
            (Unwind::Jit, _) => perf_script::JIT_RECORD_ARGS.map(String::from).to_vec(),
        };
        args
    }

    pub fn name(self) -> &'static str {
        match self {
            Unwind::Fp => "fp",
            Unwind::Dwarf => "dwarf",
            Unwind::Jit => "jit",
        }
    }
}

/// Which interpreter binary runs the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Build {
    /// Rust and C compiled with frame pointers (SPEC §8).
    Fp,
    /// The control build: frame pointers omitted in Rust and in C.
    NoFp,
}

/// The trampoline implementation the interpreter is told to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trampoline {
    C,
    Rust,
}

impl Trampoline {
    /// The value of `MINIPY_TRAMPOLINE` / `-X trampoline=`.
    pub fn name(self) -> &'static str {
        match self {
            Trampoline::C => "c",
            Trampoline::Rust => "rust",
        }
    }
}

/// One interpreter variant: a build and a trampoline implementation.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    #[serde(rename = "c")]
    C,
    #[serde(rename = "rust")]
    Rust,
    #[serde(rename = "nofp-c")]
    NoFpC,
    #[serde(rename = "nofp-rust")]
    NoFpRust,
}

impl Variant {
    pub const ALL: [Variant; 4] = [Variant::C, Variant::Rust, Variant::NoFpC, Variant::NoFpRust];

    pub fn build(self) -> Build {
        match self {
            Variant::C | Variant::Rust => Build::Fp,
            Variant::NoFpC | Variant::NoFpRust => Build::NoFp,
        }
    }

    pub fn trampoline(self) -> Trampoline {
        match self {
            Variant::C | Variant::NoFpC => Trampoline::C,
            Variant::Rust | Variant::NoFpRust => Trampoline::Rust,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Variant::C => "c",
            Variant::Rust => "rust",
            Variant::NoFpC => "nofp-c",
            Variant::NoFpRust => "nofp-rust",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
