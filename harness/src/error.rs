//! One error type for whatever stops a command before it can give its
//! verdicts, and the exit status of every ending, mapped in one place:
//! 0 all passed, 1 a case failed (or a doctor finding is a problem), 2 the
//! environment or the input cannot run the command (the message says the
//! fix), 130 interrupted.

use crate::cases::CaseError;
use perf_script::PerfError;
use std::process::ExitCode;

/// How a command ended; the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: everything passed.
    Passed = 0,
    /// 1: a case (or a doctor finding) failed.
    Failed = 1,
    /// 2: the environment or the input cannot run the command at all.
    Environment = 2,
    /// 130: interrupted (Ctrl-C), as a shell reports SIGINT.
    Interrupted = 130,
}

impl Status {
    /// 0 when nothing failed, else 1.
    pub fn from_failures(failed: bool) -> Status {
        if failed {
            Status::Failed
        } else {
            Status::Passed
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

/// Why a command could not run; shown as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed `case.toml`: `<file>:<line>: <what is wrong>`.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// perf is missing, may not sample, or failed.
    #[error(transparent)]
    Perf(#[from] PerfError),
    /// Anything else the environment or the input lacks, with the fix.
    #[error("{0}")]
    Environment(String),
    #[error("interrupted: the runs were stopped and their files removed")]
    Interrupted,
}

impl Error {
    /// The exit status this error ends the command with.
    pub fn status(&self) -> Status {
        match self {
            Error::Interrupted | Error::Perf(PerfError::Cancelled { .. }) => Status::Interrupted,
            _ => Status::Environment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_knows_its_exit_status() {
        assert_eq!(Error::Environment("x".into()).status(), Status::Environment);
        assert_eq!(
            Error::Perf(PerfError::NotFound).status(),
            Status::Environment
        );
        assert_eq!(Error::Interrupted.status(), Status::Interrupted);
        assert_eq!(Status::from_failures(true), Status::Failed);
        assert_eq!(Status::Interrupted as u8, 130);
    }
}
