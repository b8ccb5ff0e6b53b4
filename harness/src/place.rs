//! Where a case runs: here ([`Local`]), or in an emulated aarch64 machine
//! ([`aarch64::Machine`]). A place turns one case on one runtime into a
//! [`Recording`]; everything after (observing, judging, reporting) happens
//! here on the host, by the same code for every place.

pub mod aarch64;

use crate::cases::Case;
use crate::profile::{self, ProfileError, Recording};
use crate::runtime::Runtime;
use perf_script::Perf;

/// A place where cases run under perf.
pub trait Place: Sync {
    /// The architecture the runs sample on (`x86_64`, `aarch64`): it picks
    /// per-architecture snapshots.
    fn arch(&self) -> &'static str;

    /// Runs `case` on `runtime` once under perf.
    fn record(&self, case: &Case, runtime: &dyn Runtime) -> Result<Recording, ProfileError>;

    /// How many runs may go at once (`wanted` is what the user asked for).
    fn jobs(&self, wanted: usize) -> usize {
        wanted
    }
}

/// This machine, with the `perf` of `PATH`.
pub struct Local {
    pub perf: Perf,
}

impl Place for Local {
    fn arch(&self) -> &'static str {
        std::env::consts::ARCH
    }

    fn record(&self, case: &Case, runtime: &dyn Runtime) -> Result<Recording, ProfileError> {
        profile::profile(case, runtime, &self.perf, false).map(|p| p.recording)
    }
}
