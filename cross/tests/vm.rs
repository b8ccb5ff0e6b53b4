//! The emulated machine end to end: a boot, runs that bring files, output
//! and exit status back (each in a fresh folder), staged files at /stage,
//! a guest that stops answering, and a kernel panic. Needs the machine's
//! assets in the cache (`cargo run -p cross -- vm setup`) and
//! qemu-system-aarch64; says why it skipped otherwise. One test, so that
//! two machines never compete for the CPUs.

use cross::vm::{Assets, MachineConfig, Vm};
use std::path::Path;
use std::time::Duration;

/// A failure keeps the machine's console log and names it in the error;
/// the test removes that folder again.
fn remove_kept_log(message: &str) {
    let Some(at) = message.find("(console log: ") else {
        panic!("the error names no console log: {message}");
    };
    let path = message[at + 14..].trim_end_matches(')');
    let log = Path::new(path);
    assert!(log.is_file(), "{path} is not a file");
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}

#[test]
fn the_machine_runs_scripts_brings_results_back_and_reports_failures() {
    let assets = match Assets::cached() {
        Ok(Some(assets)) => assets,
        Ok(None) => {
            eprintln!("skipped: no machine assets in the cache (cargo run -p cross -- vm setup)");
            return;
        }
        Err(e) => panic!("{e:#}"),
    };
    if !cross::command::on_path("qemu-system-aarch64") {
        eprintln!(
            "skipped: qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)"
        );
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let stage = work.path().join("stage");
    std::fs::create_dir(&stage).unwrap();
    std::fs::write(stage.join("hello.sh"), "echo hello from the stage\n").unwrap();

    let mut vm = Vm::boot(&assets, Some(&stage), &MachineConfig::default())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let minute = Duration::from_secs(60);
    let first = work.path().join("first");
    let run = vm
        .run(
            "uname -m > arch\nsh /stage/hello.sh > said\necho out; echo err >&2\nexit 3\n",
            &first,
            minute,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(run.status, 3);
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("out\n", "err\n")
    );
    let read = |dir: &Path, name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(read(&first, "arch"), "aarch64\n");
    assert_eq!(read(&first, "said"), "hello from the stage\n");

    // Each run starts in an empty folder, and its results never reuse one.
    let second = work.path().join("second");
    let run = vm
        .run(
            "[ -e arch ] && echo stale > state || echo fresh > state\n",
            &second,
            minute,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(
        (run.status, read(&second, "state")),
        (0, "fresh\n".to_owned())
    );
    let again = vm.run("true\n", &second, minute).unwrap_err();
    assert!(again.to_string().contains("exists already"), "{again:#}");

    // A guest that does not answer in time is an error, and stops the machine.
    let hung = vm
        .run(
            "sleep 600\n",
            &work.path().join("hung"),
            Duration::from_secs(3),
        )
        .unwrap_err();
    let message = format!("{hung:#}");
    assert!(message.contains("did not finish within 3 s"), "{message}");
    remove_kept_log(&message);
    let after = vm
        .run("true\n", &work.path().join("after"), minute)
        .unwrap_err();
    assert!(
        after.to_string().contains("stopped by an earlier failure"),
        "{after:#}"
    );
    drop(vm);

    // A kernel that cannot start /init panics: the error says so.
    let broken = MachineConfig {
        kernel_args: vec!["rdinit=/nonexistent".to_owned()],
        ..MachineConfig::default()
    };
    let panic = Vm::boot(&assets, None, &broken)
        .err()
        .expect("a boot without /init");
    let message = format!("{panic:#}");
    assert!(
        message.contains("the guest kernel panicked: Kernel panic"),
        "{message}"
    );
    remove_kept_log(&message);
}
