//! What the C implementation promises beyond the shared conformance suite:
//! the exact template, slot alignment, the C1 name rule, close versus
//! teardown, a fork child that never calls `after_fork_child`, and memory
//! failure as an error. The jitdump backend has its own file (`jitdump.rs`).

use std::ffi::c_void;
use trampoline_api::conformance::{
    fork_gated, rusty_fork::rusty_fork_test, user_mode_emulation, MapWatch,
};
use trampoline_api::{perf_map_path, sanitize_name, Error, Options, Stub, Trampolines};
use trampoline_c::{built_with_cet, template_bytes, CTrampolines};

unsafe extern "C" fn add_one(_: *mut c_void, _: *mut c_void, arg: *mut c_void) -> *mut c_void {
    (arg as usize).wrapping_add(1) as *mut c_void
}

fn call_add_one(stub: &Stub, value: usize) -> usize {
    let null = std::ptr::null_mut();
    unsafe { stub.call(null, null, value as *mut c_void, add_one) as usize }
}

fn create() -> CTrampolines {
    CTrampolines::create(Options::default()).unwrap_or_else(|e| panic!("create failed: {e}"))
}

/// (start, end) of every mapping of this process.
fn mappings() -> Vec<(usize, usize)> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    maps.lines()
        .filter_map(|l| {
            let (a, b) = l.split_whitespace().next()?.split_once('-')?;
            Some((
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
            ))
        })
        .collect()
}

fn is_mapped(addr: usize) -> bool {
    mappings().iter().any(|&(a, b)| a <= addr && addr < b)
}

/// Whether this process has a descriptor open on its own perf map.
fn map_file_is_open() -> bool {
    let map = perf_map_path(std::process::id());
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .any(|target| target == map)
}

#[test]
fn template_is_the_documented_stub() {
    let bytes = template_bytes();
    #[cfg(target_arch = "x86_64")]
    {
        // push %rbp; mov %rsp,%rbp; call *%rcx; pop %rbp; ret
        let stub = [0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3];
        let expected = if built_with_cet() {
            [&[0xf3, 0x0f, 0x1e, 0xfa][..], &stub[..]].concat()
        } else {
            stub.to_vec()
        };
        assert_eq!(bytes, expected);
    }
    #[cfg(target_arch = "aarch64")]
    {
        // stp x29,x30,[sp,#-16]!; mov x29,sp; blr x3; ldp x29,x30,[sp],#16; ret
        let words: [u32; 5] = [0xa9bf7bfd, 0x910003fd, 0xd63f0060, 0xa8c17bfd, 0xd65f03c0];
        let expected: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert!(!built_with_cet());
        assert_eq!(bytes, expected);
    }
}

rusty_fork_test! {
    #[test]
    fn stubs_sit_on_16_byte_boundaries_and_the_map_names_their_code_size() {
        let watch = MapWatch::this_process();
        let set = create();
        assert_eq!(set.implementation(), "c");
        assert_eq!(set.output_path(), perf_map_path(std::process::id()));
        let stubs: Vec<Stub> =
            (0..100).map(|i| set.compile(&format!("py::f{i}")).unwrap()).collect();
        for (stub, entry) in stubs.iter().zip(watch.entries()) {
            assert_eq!(stub.addr() % 16, 0, "{stub:?} is not 16-byte aligned");
            assert_eq!(stub.size(), template_bytes().len());
            assert_eq!((entry.start, entry.size), (stub.addr(), stub.size()));
            let code = unsafe { std::slice::from_raw_parts(stub.addr() as *const u8, stub.size()) };
            assert_eq!(code, template_bytes(), "{stub:?} is not a copy of the template");
        }
    }

    #[test]
    fn c1_controls_are_replaced_exactly_as_sanitize_name_does() {
        let watch = MapWatch::this_process();
        let set = create();
        // U+0085 and U+009F are C1 controls (C2 85, C2 9F); U+00A0 (C2 A0)
        // and é (C3 A9) are not; DEL and TAB are.
        let name = "py::a\u{85}b\u{9f}c\u{a0}d\u{e9}e\u{7f}f\tg";
        set.compile(name).unwrap();
        set.write_entry(0x1000, 0x10, name).unwrap();
        let names: Vec<String> = watch.entries().into_iter().map(|e| e.name).collect();
        assert_eq!(names, [sanitize_name(name), sanitize_name(name)]);
        assert_eq!(names[0], "py::a?b?c\u{a0}d\u{e9}e?f?g");
    }

    #[test]
    fn drop_closes_the_file_and_keeps_stubs_callable() {
        let _watch = MapWatch::this_process();
        let set = create();
        let stub = set.compile("py::survivor").unwrap();
        assert!(map_file_is_open());
        drop(set);
        assert!(!map_file_is_open(), "the map file is still open after drop");
        assert_eq!(call_add_one(&stub, 6), 7);
    }

    #[test]
    fn teardown_unmaps_every_arena_and_closes_the_file() {
        let _watch = MapWatch::this_process();
        let set = Box::new(create());
        // More stubs than one 64 KiB arena holds, so several arenas exist.
        let stubs: Vec<Stub> =
            (0..10_000).map(|i| set.compile(&format!("py::t{i}")).unwrap()).collect();
        let (first, last) = (stubs[0].addr(), stubs[stubs.len() - 1].addr());
        assert!(is_mapped(first) && is_mapped(last));
        unsafe { set.teardown() };
        assert!(!is_mapped(first) && !is_mapped(last), "an arena is still mapped after teardown");
        assert!(!map_file_is_open(), "the map file is still open after teardown");
    }

    #[test]
    fn fork_child_that_skips_after_fork_child_still_writes_its_own_map() {
        let parent_watch = MapWatch::this_process();
        let set = create();
        set.compile("py::parent_function").unwrap();
        let (_, child_watch) = fork_gated(MapWatch::for_pid, || {
            set.compile("py::child_function").is_ok()
                && set.output_path() == perf_map_path(std::process::id())
        });
        let parent: Vec<String> = parent_watch.entries().into_iter().map(|e| e.name).collect();
        let child: Vec<String> = child_watch.entries().into_iter().map(|e| e.name).collect();
        assert_eq!(parent, ["py::parent_function"], "the child wrote into the parent's map");
        assert_eq!(child, ["py::child_function"]);
    }

    #[test]
    fn memory_failure_is_an_error_and_not_fatal() {
        if let Some(why) = user_mode_emulation() {
            eprintln!("skipped: qemu-user does not enforce RLIMIT_AS on the program: {why}");
            return;
        }
        let _watch = MapWatch::this_process();
        let set = create();
        let first = set.compile("py::before_the_limit").unwrap();
        // Cap the address space at what is mapped now (plus less than one
        // arena), so the next arena cannot be mapped. Nothing below may
        // allocate until the limit is lifted again.
        let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut old) }, 0);
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().next().unwrap().parse().unwrap();
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
        let capped = libc::rlimit { rlim_cur: pages * page + 16 * 1024, rlim_max: old.rlim_max };
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &capped) }, 0);
        let mut made = 0usize;
        let mut failure = None;
        while made < 100_000 {
            match set.compile("py::under_the_limit") {
                Ok(_) => made += 1,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &old) }, 0);

        match failure {
            Some(Error::Memory(e)) => assert_eq!(e.raw_os_error(), Some(libc::ENOMEM), "{e}"),
            Some(other) => panic!("expected a memory error, got: {other}"),
            None => panic!("{made} stubs made under the address-space cap without a failure"),
        }
        // The set is still usable: old stubs run, new ones can be made.
        assert_eq!(call_add_one(&first, 1), 2);
        let later = set.compile("py::after_the_limit").expect("compile after the limit is lifted");
        assert_eq!(call_add_one(&later, 41), 42);
    }
}
