//! Keeps `snapshots/` honest: every snapshot file is one insta can read and
//! belongs to a case of `cases/`.
//!
//! This test target of the `harness` crate lives here, beside the snapshots,
//! on purpose: `cargo insta review` / `accept` look for `.snap.new` files in
//! the folders of a package's targets, and this target makes this folder one
//! of them.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn every_snapshot_belongs_to_a_case_and_parses() {
    let cases = harness::cases::load_all(root()).expect("cases/ is valid");
    let orphans = harness::snapshot::orphans(root(), &cases);
    assert!(orphans.is_empty(), "snapshots without a case: {orphans:?}");
    for entry in std::fs::read_dir(root().join(harness::snapshot::SNAPSHOT_DIR)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "snap") {
            let text = harness::snapshot::stored_text(&path);
            assert!(
                text.is_some_and(|t| t.starts_with("command: minipy")),
                "{} is not a harness snapshot",
                path.display()
            );
        }
    }
}
