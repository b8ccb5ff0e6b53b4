//! `harness doctor`: the machine's findings (perf, permissions, the event,
//! the kernel's limits, the architecture, the frame pointers of the built
//! interpreters), or with `--python` whether perf will show that Python's
//! functions, answered from probe runs.

use crate::doctor;
use crate::error::{Error, Status};
use std::path::Path;

pub fn doctor(root: &Path, python: Option<&str>) -> Result<Status, Error> {
    if let Some(given) = python {
        return doctor::python::run(root, given);
    }
    let findings = doctor::diagnose(root, Path::new("perf"));
    for finding in &findings {
        println!("{finding}");
    }
    Ok(Status::from_failures(findings.iter().any(|f| !f.ok)))
}
