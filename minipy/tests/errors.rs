//! Bad input and run-time errors: CPython's reports and exit statuses, and
//! no broken perf map whatever happens.

mod common;

use common::{map_entries, minipy, run_args, run_source};

fn stderr_of(src: &str) -> (i32, String, String) {
    let run = run_source(src, &[], &[], &[]);
    let path = run.script.display().to_string();
    (
        run.status,
        run.stderr.replace(&path, "<path>"),
        run.stdout.clone(),
    )
}

#[test]
fn syntax_error_is_located_with_a_caret() {
    let (status, err, _) = stderr_of("x = 1\ny = (1,\n");
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "  File \"<path>\", line 2\n    y = (1,\n        ^\nSyntaxError: '(' was never closed\n"
    );
    let (status, err, _) = stderr_of("if True\n    pass\n");
    assert_eq!(status, 1);
    assert_eq!(
        err,
        "  File \"<path>\", line 1\n    if True\n           ^\nSyntaxError: expected ':'\n"
    );
    let (_, err, _) = stderr_of("def f():\nreturn 1\n");
    assert!(
        err.ends_with(
            "IndentationError: expected an indented block after function definition on line 1\n"
        ),
        "{err}"
    );
    let (_, err, _) = stderr_of("x = = 1\n");
    assert!(
        err.ends_with("    x = = 1\n        ^\nSyntaxError: invalid syntax\n"),
        "{err}"
    );
}

#[test]
fn uncaught_exception_prints_a_traceback_and_exits_1() {
    let src = "def f(x):\n    return g(x)\n\ndef g(y):\n    raise ValueError('bad ' + str(y))\n\nprint('before')\nf(3)\n";
    let (status, err, out) = stderr_of(src);
    assert_eq!((status, out.as_str()), (1, "before\n"));
    let want = "Traceback (most recent call last):\n  File \"<path>\", line 8, in <module>\n    f(3)\n  File \"<path>\", line 2, in f\n    return g(x)\n  File \"<path>\", line 5, in g\n    raise ValueError('bad ' + str(y))\nValueError: bad 3\n";
    assert_eq!(err, want);
}

#[test]
fn exception_raised_while_handling_shows_both() {
    let (status, err, _) =
        stderr_of("try:\n    1 / 0\nexcept ZeroDivisionError:\n    raise ValueError('second')\n");
    assert_eq!(status, 1);
    assert!(
        err.starts_with(
            "Traceback (most recent call last):\n  File \"<path>\", line 2, in <module>\n"
        ),
        "{err}"
    );
    assert!(err.contains("ZeroDivisionError: division by zero\n\nDuring handling of the above exception, another exception occurred:\n\n"), "{err}");
    assert!(err.ends_with("ValueError: second\n"), "{err}");
}

#[test]
fn deep_recursion_is_a_recursion_error_not_a_crash() {
    let (status, err, _) = stderr_of("def f(n):\n    return f(n + 1)\nf(0)\n");
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("  [Previous line repeated "), "{err}");
    assert!(
        err.ends_with("RecursionError: maximum recursion depth exceeded\n"),
        "{err}"
    );
    let src = "import sys\nsys.setrecursionlimit(1000000)\ndef f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(15000))\ntry:\n    f(10**6)\nexcept RecursionError as e:\n    print(e)\n";
    let run = run_source(src, &[], &[], &[]);
    assert_eq!(
        (run.status, run.stdout.as_str()),
        (0, "15000\nmaximum recursion depth exceeded\n"),
        "{}",
        run.describe()
    );
}

#[test]
fn runtime_errors_carry_cpython_messages() {
    let cases = [
        ("print(1 / 0)", "ZeroDivisionError: division by zero"),
        ("print(1 // 0)", "ZeroDivisionError: integer division or modulo by zero"),
        ("print(x)", "NameError: name 'x' is not defined"),
        ("def f(x): pass\nf(1, 2)", "TypeError: f() takes 1 positional argument but 2 were given"),
        ("def f(x): pass\nf()", "TypeError: f() missing 1 required positional argument: 'x'"),
        ("def h(a, b, c): pass\nh()", "TypeError: h() missing 3 required positional arguments: 'a', 'b', and 'c'"),
        ("class K:\n    def m(self): pass\nK().m(1)", "TypeError: K.m() takes 1 positional argument but 2 were given"),
        ("def f():\n    print(u)\n    u = 1\nf()", "UnboundLocalError: cannot access local variable 'u' where it is not associated with a value"),
        ("[][0]", "IndexError: list index out of range"),
        ("{}['k']", "KeyError: 'k'"),
        ("None.x", "AttributeError: 'NoneType' object has no attribute 'x'"),
        ("1 + 'a'", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
        ("int('x')", "ValueError: invalid literal for int() with base 10: 'x'"),
        ("float(2 ** 2000)", "OverflowError: int too large to convert to float"),
        ("assert 1 == 2, 'no'", "AssertionError: no"),
        ("import nosuchmodule", "ModuleNotFoundError: No module named 'nosuchmodule'"),
        ("class E(Exception): pass\nraise E('custom')", "E: custom"),
    ];
    for (src, want) in cases {
        let (status, err, _) = stderr_of(&format!("{src}\n"));
        assert_eq!(status, 1, "{src}");
        assert_eq!(err.lines().last(), Some(want), "{src}\n{err}");
        assert!(
            err.starts_with("Traceback (most recent call last):\n"),
            "{src}\n{err}"
        );
    }
}

#[test]
fn ints_are_arbitrary_precision() {
    let run = run_source(
        "print(2 ** 100, 9223372036854775807 + 1, -(2 ** 63) - 1, (2 ** 64) // 7)\n",
        &[],
        &[],
        &[],
    );
    assert_eq!(
        run.stdout,
        "1267650600228229401496703205376 9223372036854775808 -9223372036854775809 2635249153387078802\n"
    );
}

#[test]
fn missing_script_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.py");
    let run = run_args(
        &[&missing.display().to_string()],
        &[],
        None,
        missing.clone(),
    );
    assert_eq!(run.status, 2);
    assert_eq!(
        run.stderr,
        format!(
            "minipy: can't open file '{}': [Errno 2] No such file or directory\n",
            missing.display()
        )
    );
}

#[test]
fn bad_command_lines_exit_2() {
    let script = common::seed_script("seed.py");
    let path = script.display().to_string();
    for (args, env, needle) in [
        (
            vec!["-X", "trampoline=zig", path.as_str()],
            vec![],
            "invalid -X trampoline value 'zig'",
        ),
        (
            vec![path.as_str()],
            vec![("MINIPY_TRAMPOLINE", "zig")],
            "invalid MINIPY_TRAMPOLINE value 'zig'",
        ),
        (vec![], vec![], "no script given"),
        (vec!["-q", path.as_str()], vec![], "unknown option -q"),
    ] {
        let run = run_args(&args, &env, None, script.clone());
        assert_eq!(run.status, 2, "{args:?}: {}", run.describe());
        assert!(
            run.stderr.starts_with(&format!("minipy: {needle}")),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
    let _ = minipy();
}

#[test]
fn errors_leave_a_well_formed_map() {
    let src = "import sys\ndef f(n):\n    if n == 0:\n        raise ValueError('x')\n    return f(n - 1)\nfor i in range(3):\n    try:\n        f(i)\n    except ValueError:\n        pass\ndef g(n):\n    return g(n + 1)\ntry:\n    g(0)\nexcept RecursionError:\n    pass\nsys.activate_stack_trampoline('perf')\nf(2)\n";
    for implementation in ["rust", "c"] {
        let t = format!("trampoline={implementation}");
        let run = run_source(src, &["perf", &t], &[], &[]);
        assert_eq!(run.status, 1, "{}", run.describe());
        assert!(run.stderr.ends_with("ValueError: x\n"), "{}", run.stderr);
        let entries = map_entries(&run.map_path());
        let names: Vec<&str> = entries
            .iter()
            .map(|e| e.name.split(':').nth(2).unwrap_or(""))
            .collect();
        assert_eq!(names, ["<module>", "f", "g"], "{implementation}");
    }
}
