//! `harness list`: the cases, their unwinding, the minipy variants that run
//! them, and what each proves.

use crate::error::{Error, Status};
use crate::session::select;
use std::path::Path;

pub fn list(root: &Path) -> Result<Status, Error> {
    for case in select(root, &[])? {
        let variants: Vec<&str> = case.variants.iter().map(|v| v.name()).collect();
        println!(
            "{:<28} {:<5} {:<22} {}",
            case.name,
            case.unwind.name(),
            variants.join(","),
            case.description
        );
    }
    Ok(Status::Passed)
}
