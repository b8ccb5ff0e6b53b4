//! Perf support state (SPEC §4–6): which backend is active, the trampoline
//! sets (created lazily on first activation, one per backend, through
//! `Box<dyn Trampolines>` so the C or the Rust implementation is picked at
//! run time), the per-code stub cache, and what happens after `fork`.
//!
//! Activation never fails the script: an error is one line on stderr and
//! the trampoline stays inactive.

use crate::code::{Code, StubSlot};
use crate::output::write_stderr;
use trampoline_api::{Backend, Options, Stub, Trampolines};

/// Which trampoline implementation makes the stubs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    C,
    Rust,
}

impl Implementation {
    pub fn parse(s: &str) -> Option<Implementation> {
        match s {
            "c" => Some(Implementation::C),
            "rust" => Some(Implementation::Rust),
            _ => None,
        }
    }

    fn create(self, options: Options) -> Result<Box<dyn Trampolines>, trampoline_api::Error> {
        Ok(match self {
            Implementation::C => Box::new(trampoline_c::CTrampolines::create(options)?),
            Implementation::Rust => Box::new(trampoline_rs::RustTrampolines::create(options)?),
        })
    }
}

/// The slot of a backend in per-backend arrays.
pub fn backend_index(b: Backend) -> usize {
    match b {
        Backend::PerfMap => 0,
        Backend::JitDump => 1,
    }
}

/// The name `sys.activate_stack_trampoline` takes for a backend.
pub fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::PerfMap => "perf",
        Backend::JitDump => "perf_jit",
    }
}

pub struct PerfState {
    active: Option<Backend>,
    implementation: Implementation,
    persist_after_fork: bool,
    sets: [Option<Box<dyn Trampolines>>; 2],
    generation: u32,
}

impl PerfState {
    pub fn new(implementation: Implementation, persist_after_fork: bool) -> PerfState {
        PerfState {
            active: None,
            implementation,
            persist_after_fork,
            sets: [None, None],
            generation: 0,
        }
    }

    #[inline(always)]
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    pub fn active_backend(&self) -> Option<Backend> {
        self.active
    }

    /// Turns support on for `backend` (a no-op if it is already the active
    /// one). Creates the backend's set, and with it its file, on first use.
    pub fn activate(&mut self, backend: Backend) {
        if self.active == Some(backend) {
            return;
        }
        let i = backend_index(backend);
        if self.sets[i].is_none() {
            let options = Options {
                backend,
                persist_after_fork: self.persist_after_fork,
            };
            match self.implementation.create(options) {
                Ok(set) => self.sets[i] = Some(set),
                Err(e) => {
                    write_stderr(&format!(
                        "minipy: perf trampoline ({}) not activated: {e}\n",
                        backend_name(backend)
                    ));
                    self.active = None;
                    return;
                }
            }
        }
        self.active = Some(backend);
    }

    pub fn deactivate(&mut self) {
        self.active = None;
    }

    /// The stub to enter `code` through, made on first use; `None` when
    /// support is off or the stub could not be made (then call directly).
    /// Runs on every call while support is on: the cached case is inline.
    #[inline(always)]
    pub fn stub_for(&mut self, code: &Code) -> Option<Stub> {
        let backend = self.active?;
        let i = backend_index(backend);
        if let StubSlot::Ready(stub, g) = code.stubs[i].get() {
            if g == self.generation {
                return Some(stub);
            }
        }
        self.stub_not_cached(code, i)
    }

    #[cold]
    #[inline(never)]
    fn stub_not_cached(&mut self, code: &Code, i: usize) -> Option<Stub> {
        match code.stubs[i].get() {
            StubSlot::Failed(g) if g == self.generation => None,
            _ => self.make_stub(code, i),
        }
    }

    fn make_stub(&mut self, code: &Code, i: usize) -> Option<Stub> {
        let set = self.sets[i].as_ref()?;
        let name = format!("py::{}:{}", code.qualname, code.filename);
        match set.compile(&name) {
            Ok(stub) => {
                code.stubs[i].set(StubSlot::Ready(stub, self.generation));
                Some(stub)
            }
            Err(e) => {
                write_stderr(&format!(
                    "minipy: no trampoline for {name}, calling it directly: {e}\n"
                ));
                code.stubs[i].set(StubSlot::Failed(self.generation));
                None
            }
        }
    }

    /// In a forked child: switch every set to the child's own file. Without
    /// persist-after-fork the child's map starts empty, so cached stubs are
    /// forgotten and each function gets a new, named stub on its next call
    /// (the old stubs stay mapped: frames on the stack return through them).
    pub fn after_fork_child(&mut self) {
        for set in self.sets.iter().flatten() {
            if let Err(e) = set.after_fork_child() {
                write_stderr(&format!("minipy: perf map not reopened after fork: {e}\n"));
            }
        }
        if !self.persist_after_fork {
            self.generation = self.generation.wrapping_add(1);
        }
    }
}
