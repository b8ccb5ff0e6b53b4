//! The axes a case runs along: how perf unwinds ([`Unwind`]) and which of
//! minipy's variants run it ([`Variant`], named in `case.toml`; what each one
//! is lives in [`crate::runtime::minipy`]).

use perf_script::CallGraph;
use serde::Deserialize;
use std::fmt;

/// How perf unwinds the native stack.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Unwind {
    /// Frame pointers: `perf record -g`.
    #[default]
    Fp,
    /// DWARF CFI: `perf record --call-graph dwarf`.
    Dwarf,
    /// The jitdump workflow (contract §7): `perf record -k 1 --call-graph
    /// dwarf`, then `perf inject --jit`, and `perf script` on the result.
    Jit,
}

impl Unwind {
    /// perf's call graph for this unwinding; `max_stack` raises perf's
    /// default of 127 native frames per frame-pointer chain.
    pub fn call_graph(self, max_stack: Option<usize>) -> CallGraph {
        match self {
            Unwind::Fp => CallGraph::Fp { max_stack },
            Unwind::Dwarf => CallGraph::Dwarf,
            Unwind::Jit => CallGraph::Jit,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Unwind::Fp => "fp",
            Unwind::Dwarf => "dwarf",
            Unwind::Jit => "jit",
        }
    }
}

/// One of minipy's variants: a build (with frame pointers, or the control
/// build without) and a trampoline implementation.
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

    pub fn name(self) -> &'static str {
        match self {
            Variant::C => "c",
            Variant::Rust => "rust",
            Variant::NoFpC => "nofp-c",
            Variant::NoFpRust => "nofp-rust",
        }
    }

    /// Parses a variant's name, for the command line.
    pub fn parse(text: &str) -> Result<Variant, String> {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
                format!("unknown variant `{text}` (one of {})", names.join(", "))
            })
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
