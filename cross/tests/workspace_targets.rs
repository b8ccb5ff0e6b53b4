//! Cargo puts every crate's examples into one `target/<profile>/examples/`
//! folder (and every binary into `target/<profile>/`): two crates with an
//! example of the same name overwrite each other's, and a test that runs
//! `examples/<name>` may run the other crate's program (cargo only warns
//! "output filename collision"). The cross build runs those examples under
//! emulation and in the emulated machine, so the names must be unique.

use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn no_two_crates_build_an_example_or_binary_of_the_same_name() {
    let out = Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(cross::paths::workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // (kind, name) -> the crates that build it.
    let mut owners: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let crate_name = package["name"].as_str().expect("name");
        for target in package["targets"].as_array().expect("targets") {
            let name = target["name"].as_str().expect("target name");
            for kind in target["kind"].as_array().expect("kinds") {
                let kind = kind.as_str().expect("kind");
                if kind == "example" || kind == "bin" {
                    owners
                        .entry((kind.to_owned(), name.to_owned()))
                        .or_default()
                        .push(crate_name.to_owned());
                }
            }
        }
    }
    let shared: Vec<String> = owners
        .iter()
        .filter(|(_, crates)| crates.len() > 1)
        .map(|((kind, name), crates)| format!("{kind} `{name}` in {}", crates.join(" and ")))
        .collect();
    assert!(owners.len() > 2, "too few targets found: {owners:?}");
    assert!(
        shared.is_empty(),
        "output names collide: {}",
        shared.join("; ")
    );
}
