//! The conformance suite of the trampoline contract, written once and run
//! against every implementation with [`conformance_tests!`](crate::conformance_tests).
//!
//! Each test runs in a process of its own (rusty-fork), because the map file
//! is `/tmp/perf-<pid>.map`: two tests in one process would share it. Each
//! test removes the map files it created, and only those.

use crate::{perf_map_path, MapEntry, Options, Stub, Trampolines};
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use rusty_fork;

mod fork;
pub use fork::fork_gated;
mod walk;
pub use walk::{frame_pointer, run_chain, spin_chain, Chain};

mod dump;
pub use dump::{
    concurrent_compiles_write_whole_records, dump_describes_every_stub, dump_marker_is_mapped,
    fork_child_writes_its_own_dump, symlink_at_dump_path_is_refused, write_entry_adds_a_code_load,
    DumpWatch,
};

mod output_file;
pub use output_file::{
    failed_write_leaves_whole_entries_and_stops,
    fork_child_refused_its_file_never_writes_the_parents, full_tmp_leaves_whole_entries_and_stops,
    output_path, planted_file_is_refused, read_only_tmp_is_an_open_error, Planted,
};

mod perf_jit;
pub use perf_jit::check_chain_example_under_perf_jit;

mod unreadable;
pub use unreadable::{unreadable_code_is_efault, Reading};

/// Whether the test runs under qemu-user, where some checks cannot mean
/// anything (the reason to print when skipping them).
pub use perf_script::user_mode_emulation;

/// Expands to the whole suite as `#[test]`s for the implementation `$imp`,
/// each in its own process.
#[macro_export]
macro_rules! conformance_tests {
    ($imp:ty) => {
        // rusty_fork_test! calls itself by its bare name, so it must be in scope.
        use $crate::conformance::rusty_fork::rusty_fork_test;
        $crate::conformance::rusty_fork::rusty_fork_test! {
            #[test]
            fn stub_passes_arguments_and_result() {
                $crate::conformance::stub_passes_arguments_and_result::<$imp>();
            }
            #[test]
            fn frame_pointer_walk_names_the_chain() {
                $crate::conformance::frame_pointer_walk_names_the_chain::<$imp>();
            }
            #[test]
            fn map_lines_are_well_formed_and_never_writable_and_executable() {
                $crate::conformance::map_lines_are_well_formed_and_never_wx::<$imp>();
            }
            #[test]
            fn twenty_thousand_stubs_are_distinct_and_callable() {
                $crate::conformance::many_stubs_are_distinct_and_callable::<$imp>(20_000);
            }
            #[test]
            fn concurrent_compiles_write_whole_lines() {
                $crate::conformance::concurrent_compiles_write_whole_lines::<$imp>(8, 1_000);
            }
            #[test]
            fn fork_child_writes_a_fresh_map_of_its_own() {
                $crate::conformance::fork_child_writes_its_own_map::<$imp>(false);
            }
            #[test]
            fn fork_child_with_persist_starts_with_parent_entries() {
                $crate::conformance::fork_child_writes_its_own_map::<$imp>(true);
            }
            #[test]
            fn symlink_at_map_path_is_refused() {
                $crate::conformance::symlink_at_map_path_is_refused::<$imp>();
            }
            #[test]
            fn control_characters_never_split_a_line() {
                $crate::conformance::control_characters_never_split_a_line::<$imp>();
            }
            #[test]
            fn write_entry_adds_a_whole_line() {
                $crate::conformance::write_entry_adds_a_whole_line::<$imp>();
            }
            #[test]
            fn failed_map_write_leaves_whole_lines_and_stops() {
                $crate::conformance::failed_write_leaves_whole_entries_and_stops::<$imp>(
                    $crate::Backend::PerfMap,
                );
            }
            #[test]
            fn full_tmp_leaves_whole_map_lines_and_stops() {
                $crate::conformance::full_tmp_leaves_whole_entries_and_stops::<$imp>(
                    $crate::Backend::PerfMap,
                );
            }
            #[test]
            fn fork_child_refused_its_map_never_writes_the_parents() {
                $crate::conformance::fork_child_refused_its_file_never_writes_the_parents::<$imp>(
                    $crate::Backend::PerfMap,
                );
            }
            #[test]
            fn read_only_tmp_is_one_open_error_for_the_map() {
                $crate::conformance::read_only_tmp_is_an_open_error::<$imp>(
                    $crate::Backend::PerfMap,
                );
            }
            #[test]
            fn map_of_another_user_is_refused() {
                $crate::conformance::planted_file_is_refused::<$imp>(
                    $crate::Backend::PerfMap,
                    $crate::conformance::Planted::OtherUsersFile,
                );
            }
            #[test]
            fn map_open_to_others_is_refused() {
                $crate::conformance::planted_file_is_refused::<$imp>(
                    $crate::Backend::PerfMap,
                    $crate::conformance::Planted::OpenToOthers,
                );
            }
            #[test]
            fn hard_link_at_map_path_is_refused() {
                $crate::conformance::planted_file_is_refused::<$imp>(
                    $crate::Backend::PerfMap,
                    $crate::conformance::Planted::HardLink,
                );
            }
            #[test]
            fn fifo_at_map_path_is_refused() {
                $crate::conformance::planted_file_is_refused::<$imp>(
                    $crate::Backend::PerfMap,
                    $crate::conformance::Planted::Fifo,
                );
            }
        }
    };
}

/// A file a test may create: removed on drop unless it already existed (a
/// stale file of a dead process with our pid is kept).
pub struct TestFile {
    path: PathBuf,
    existed: bool,
}

impl TestFile {
    pub fn new(path: PathBuf) -> TestFile {
        TestFile {
            existed: std::fs::symlink_metadata(&path).is_ok(),
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes, which must be readable.
    pub fn read(&self) -> Vec<u8> {
        std::fs::read(&self.path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.path.display()))
    }
}

impl Drop for TestFile {
    fn drop(&mut self) {
        if !self.existed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// This process's map file, watched from the moment the test starts: it
/// reads only what was appended since, and removes the file on drop if the
/// test created it.
pub struct MapWatch {
    file: TestFile,
    start: u64,
}

impl MapWatch {
    pub fn for_pid(pid: u32) -> MapWatch {
        let file = TestFile::new(perf_map_path(pid));
        let start = std::fs::symlink_metadata(file.path()).map_or(0, |m| m.len());
        MapWatch { file, start }
    }

    pub fn this_process() -> MapWatch {
        MapWatch::for_pid(std::process::id())
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The raw text appended since the watch began.
    pub fn text(&self) -> String {
        let bytes = self.file.read();
        String::from_utf8(bytes[self.start as usize..].to_vec()).expect("map file is UTF-8")
    }

    /// Every line appended since the watch began, each required to be a
    /// well-formed map line.
    pub fn entries(&self) -> Vec<MapEntry> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "map ends with a partial line: {text:?}"
        );
        text.lines()
            .map(|l| MapEntry::parse(l).unwrap_or_else(|| panic!("malformed map line {l:?}")))
            .collect()
    }

    pub fn name_at(&self, addr: usize) -> Option<String> {
        self.entries()
            .into_iter()
            .find(|e| e.contains(addr))
            .map(|e| e.name)
    }
}

fn create<T: Trampolines>(options: Options) -> T {
    T::create(options).unwrap_or_else(|e| panic!("create ({:?}) failed: {e}", options.backend))
}

fn compile<T: Trampolines + ?Sized>(set: &T, name: &str) -> Stub {
    set.compile(name)
        .unwrap_or_else(|e| panic!("compile({name:?}) failed: {e}"))
}

unsafe extern "C" fn mix(state: *mut c_void, frame: *mut c_void, arg: *mut c_void) -> *mut c_void {
    let (s, f, a) = (state as usize, frame as usize, arg as usize);
    (s.rotate_left(7) ^ f.rotate_left(19) ^ a.wrapping_mul(31)) as *mut c_void
}

unsafe extern "C" fn add_one(_: *mut c_void, _: *mut c_void, arg: *mut c_void) -> *mut c_void {
    (arg as usize).wrapping_add(1) as *mut c_void
}

/// Test 1: all three arguments arrive and the result comes back unchanged.
pub fn stub_passes_arguments_and_result<T: Trampolines>() {
    let _watch = MapWatch::this_process();
    let set = create::<T>(Options::default());
    let stub = compile(&set, "py::mix");
    let cases: [(usize, usize, usize); 4] = [
        (0, 0, 0),
        (1, 2, 3),
        (usize::MAX, 0x5555_5555, 0xdead_beef),
        (0x1000, usize::MAX - 7, 42),
    ];
    for (s, f, a) in cases {
        let (s, f, a) = (s as *mut c_void, f as *mut c_void, a as *mut c_void);
        let expected = unsafe { mix(s, f, a) };
        let got = unsafe { stub.call(s, f, a, mix) };
        assert_eq!(
            got, expected,
            "stub changed arguments or result for {s:?} {f:?} {a:?}"
        );
    }
}

/// Test 2: inside `foo`, a frame-pointer walk finds exactly foo, bar, baz.
pub fn frame_pointer_walk_names_the_chain<T: Trampolines>() {
    let watch = MapWatch::this_process();
    let set = create::<T>(Options::default());
    let chain = Chain::new(&set, ["py::baz", "py::bar", "py::foo"]);
    let return_addresses = run_chain(&chain);
    let names: Vec<String> = return_addresses
        .iter()
        .filter_map(|&a| watch.name_at(a))
        .collect();
    assert_eq!(
        names,
        ["py::foo", "py::bar", "py::baz"],
        "walk found {return_addresses:x?}"
    );
}

/// The mappings of this process: (start, end, perms).
fn self_mappings() -> Vec<(usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    maps.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (range, perms) = (it.next()?, it.next()?);
            let (a, b) = range.split_once('-')?;
            Some((
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
                perms.to_string(),
            ))
        })
        .collect()
}

fn writable_and_executable() -> Vec<String> {
    self_mappings()
        .into_iter()
        .filter(|(_, _, p)| p.contains('w') && p.contains('x'))
        .map(|(a, b, p)| format!("{a:x}-{b:x} {p}"))
        .collect()
}

/// Test 3: well-formed lines, every range inside an `r-xp` mapping, and no
/// writable+executable mapping at any moment a watcher thread looks.
pub fn map_lines_are_well_formed_and_never_wx<T: Trampolines>() {
    let watch = MapWatch::this_process();
    let stop = Arc::new(AtomicBool::new(false));
    let seen_wx = Arc::new(Mutex::new(Vec::new()));
    let watcher = {
        let (stop, seen_wx) = (stop.clone(), seen_wx.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                seen_wx.lock().unwrap().extend(writable_and_executable());
            }
        })
    };
    let set = create::<T>(Options::default());
    for i in 0..10_000 {
        compile(&set, &format!("py::f{i}:/src/x.py"));
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let seen_wx = seen_wx.lock().unwrap();
    assert!(
        seen_wx.is_empty(),
        "writable and executable mappings seen: {:?}",
        &seen_wx[..seen_wx.len().min(5)]
    );

    let mappings = self_mappings();
    let entries = watch.entries();
    assert_eq!(entries.len(), 10_000);
    for line in watch.text().lines() {
        let (start, rest) = line.split_once(' ').unwrap();
        let (size, name) = rest.split_once(' ').unwrap();
        assert!(
            !start.starts_with("0x") && !size.starts_with("0x"),
            "0x in {line:?}"
        );
        assert!(
            name.starts_with("py::") && !name[4..].starts_with(char::is_whitespace),
            "{line:?}"
        );
    }
    for e in entries {
        let inside = mappings
            .iter()
            .any(|(a, b, p)| *a <= e.start && e.start + e.size <= *b && p == "r-xp");
        assert!(inside, "{e} is not inside an r-xp mapping");
    }
}

/// Test 4: many stubs over several arenas, distinct, disjoint and callable.
pub fn many_stubs_are_distinct_and_callable<T: Trampolines>(count: usize) {
    let watch = MapWatch::this_process();
    let set = create::<T>(Options::default());
    let mut stubs: Vec<Stub> = (0..count)
        .map(|i| compile(&set, &format!("py::s{i}")))
        .collect();
    for (i, stub) in stubs.iter().enumerate() {
        let got = unsafe {
            stub.call(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                i as *mut c_void,
                add_one,
            )
        };
        assert_eq!(got as usize, i + 1, "stub {i} at {stub:?}");
    }
    stubs.sort_by_key(|s| s.addr());
    for pair in stubs.windows(2) {
        assert!(
            pair[0].addr() + pair[0].size() <= pair[1].addr(),
            "{:?} overlaps {:?}",
            pair[0],
            pair[1]
        );
    }
    assert_eq!(watch.entries().len(), count);
}

/// Test 5: concurrent compiles, every line whole, none lost.
pub fn concurrent_compiles_write_whole_lines<T: Trampolines + 'static>(
    threads: usize,
    each: usize,
) {
    let watch = MapWatch::this_process();
    let set = Arc::new(create::<T>(Options::default()));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let set = set.clone();
            std::thread::spawn(move || {
                for i in 0..each {
                    compile(&*set, &format!("py::thread{t}_function{i}:/src/threads.py"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("compiling thread panicked");
    }
    let mut names: Vec<String> = watch.entries().into_iter().map(|e| e.name).collect();
    names.sort();
    let mut expected: Vec<String> = (0..threads)
        .flat_map(|t| (0..each).map(move |i| format!("py::thread{t}_function{i}:/src/threads.py")))
        .collect();
    expected.sort();
    assert_eq!(names.len(), threads * each);
    assert!(
        names == expected,
        "lines were lost, duplicated or interleaved"
    );
}

/// Test 6: the child writes `/tmp/perf-<childpid>.map` only, inherited
/// stubs still work, and persist-after-fork copies the parent's entries.
pub fn fork_child_writes_its_own_map<T: Trampolines>(persist: bool) {
    let parent_watch = MapWatch::this_process();
    let set = create::<T>(Options {
        persist_after_fork: persist,
        ..Options::default()
    });
    let inherited = compile(&set, "py::parent_function");
    // The mapping that holds the parent's stubs when the child is forked.
    let inherited_mapping = self_mappings()
        .into_iter()
        .find(|(a, b, _)| (*a..*b).contains(&inherited.addr()))
        .map(|(a, b, _)| a..b)
        .expect("the stub lies in a mapping");

    // The parent names a function after the fork but before the child
    // switches files: the child must not copy it (it is not mapped there).
    let (_, child_watch) = fork_gated(
        |pid| {
            compile(&set, "py::parent_after_fork");
            MapWatch::for_pid(pid)
        },
        || {
            set.after_fork_child().expect("after_fork_child");
            assert_eq!(set.output_path(), perf_map_path(std::process::id()));
            let null = std::ptr::null_mut();
            let got = unsafe { inherited.call(null, null, 41 as *mut c_void, add_one) };
            assert_eq!(got as usize, 42, "the inherited stub");
            set.compile("py::child_function")
                .expect("compile in the child");
            true
        },
    );

    let parent_names: Vec<String> = parent_watch.entries().into_iter().map(|e| e.name).collect();
    assert_eq!(
        parent_names,
        ["py::parent_function", "py::parent_after_fork"],
        "child wrote into the parent's map"
    );
    let child = child_watch.entries();
    let child_names: Vec<&str> = child.iter().map(|e| e.name.as_str()).collect();
    if persist {
        assert_eq!(
            child_names,
            ["py::parent_function", "py::child_function"],
            "the child's map must copy the parent's entries as they were at the fork"
        );
        assert_eq!(
            (child[0].start, child[0].size),
            (inherited.addr(), inherited.size())
        );
    } else {
        assert_eq!(child_names, ["py::child_function"]);
    }
    // perf names the memory the child inherited from the parent's map, so
    // the child's own stubs must live in memory it mapped itself.
    let child_stub = child.last().expect("the child's stub").start;
    assert!(
        !inherited_mapping.contains(&child_stub),
        "the child's stub {child_stub:#x} lies in memory inherited from the parent ({inherited_mapping:x?})"
    );
}

/// Test 7a: a symlink at the map path is refused and its target untouched.
pub fn symlink_at_map_path_is_refused<T: Trampolines>() {
    refuses_symlink_at::<T>(Options::default(), perf_map_path(std::process::id()));
}

/// Plants a symlink at `path` (the file `options` make the set open) and
/// requires `create` to refuse it, writing nothing through it.
fn refuses_symlink_at<T: Trampolines>(options: Options, path: PathBuf) {
    assert!(
        std::fs::symlink_metadata(&path).is_err(),
        "{} already exists",
        path.display()
    );
    let target =
        std::env::temp_dir().join(format!("trampoline-symlink-target-{}", std::process::id()));
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let result = T::create(options);
    let _ = std::fs::remove_file(&path);
    let content = std::fs::read_to_string(&target).unwrap();
    let _ = std::fs::remove_file(&target);
    match result {
        Err(crate::Error::Symlink { path: p }) => assert_eq!(p, path),
        Err(other) => panic!("expected a symlink error, got: {other}"),
        Ok(_) => panic!("a symlink at {} was accepted", path.display()),
    }
    assert_eq!(
        content, "precious\n",
        "the symlink's target was written or truncated"
    );
}

/// Test 7b: control characters in a name are replaced, never written raw.
pub fn control_characters_never_split_a_line<T: Trampolines>() {
    let watch = MapWatch::this_process();
    let set = create::<T>(Options::default());
    compile(&set, "py::evil\nfake 1 py::injected\r\0end");
    let entries = watch.entries();
    assert_eq!(entries.len(), 1, "name split the line: {:?}", watch.text());
    assert_eq!(entries[0].name, "py::evil?fake 1 py::injected??end");
}

/// `write_entry` lines are whole and exactly as given.
pub fn write_entry_adds_a_whole_line<T: Trampolines>() {
    let watch = MapWatch::this_process();
    let set = create::<T>(Options::default());
    set.write_entry(0xabc000, 0x40, "jit::loop_17").unwrap();
    set.write_entry(0xabd000, 0x8, "py::bad\nname").unwrap();
    assert_eq!(
        watch.text(),
        "abc000 40 jit::loop_17\nabd000 8 py::bad?name\n"
    );
}

/// An example of the crate under test (`chain_c`, `chain_rs`: each crate
/// names its own, so one crate's test never runs the other's), as `cargo
/// test` builds it (`target/<profile>/examples/<name>`, beside `deps/`).
pub fn example_binary(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().expect("current_exe");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    profile_dir.join("examples").join(name)
}

/// Runs the `chain` example under `perf record -e cpu-clock -F 9999 -g` and
/// requires `py::foo`, `py::bar`, `py::baz` in that order on most samples.
/// Prints why and returns when perf is missing or may not sample here; fails
/// when it got too few samples to judge.
pub fn check_chain_example_under_perf(example: &Path) {
    assert!(
        example.exists(),
        "{} is missing: run `cargo test --workspace`, which builds the examples",
        example.display()
    );
    let perf = Path::new("perf");
    if let Err(why) = perf_script::can_sample(perf) {
        println!("skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("chain-under-perf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("perf.data");
    let perf = perf_script::Perf::new(perf);
    let workload = perf_script::Workload::command(&[example.to_str().unwrap()]);
    let recorded = perf.record(
        &data,
        perf_script::CallGraph::Fp { max_stack: None },
        &workload,
    );
    let samples = recorded.and_then(|_| perf.script(&data));
    let _ = std::fs::remove_dir_all(&dir);
    let samples = samples.unwrap_or_else(|e| panic!("{e}"));
    // The example leaves its map for perf script to read; the map is ours to remove.
    let pids: std::collections::BTreeSet<u32> = samples.iter().map(|s| s.pid).collect();
    for pid in pids {
        let _ = std::fs::remove_file(perf_map_path(pid));
    }
    assert!(
        samples.len() >= 100,
        "only {} samples: too few to judge",
        samples.len()
    );
    let full = samples
        .iter()
        .filter(|s| s.py_frames() == ["py::foo", "py::bar", "py::baz"])
        .count();
    assert!(
        full * 2 > samples.len(),
        "only {full} of {} samples show py::foo > py::bar > py::baz",
        samples.len()
    );
}
