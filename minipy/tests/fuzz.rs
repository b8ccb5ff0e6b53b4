//! A seeded fuzz test that cannot rot (issue 9, item 6): a few thousand
//! inputs — mutations of the case scripts and of `tests/py`, random format
//! specs, huge sizes, deep nesting, NUL bytes, invalid UTF-8 and odd line
//! ends — each run as a separate `minipy` process (so an abort or a signal
//! is seen) under an address-space limit and a timeout. Every run must end
//! with exit 0, or exit 1 and one exception line last on stderr; never a
//! panic, a signal or a hang. A mutated script may loop forever: one still
//! running at the timeout is sent SIGINT and must then end cleanly with
//! `KeyboardInterrupt`; only one that does not is a hang.
//!
//! The inputs are a pure function of the seed, so a failure reproduces:
//! `MINIPY_FUZZ_SEED=<n> MINIPY_FUZZ_CASES=<n> cargo test -p minipy --test
//! fuzz` runs another seed or more inputs; a failing input is written to
//! the report (a folder in `MINIPY_FUZZ_KEEP` keeps them all), and
//! `MINIPY_TEST_BINARY=<path>` tries another build of minipy;
//! `MINIPY_FUZZ_ONLY=<i>,<j>` runs only those inputs.

mod common;

use common::{run_guarded, Guard, Guarded};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const DEFAULT_SEED: u64 = 0x6d69_6e69_7079;
const DEFAULT_CASES: usize = 3000;

/// Sizes a script may ask for: small, around the 16-bit and 32-bit edges
/// of formatting code, and far beyond any memory.
const SIZES: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "255",
    "65535",
    "65536",
    "70000",
    "10**6",
    "2**31 - 1",
    "2**31",
    "2**32",
    "10**7",
    "10**10",
    "2**62",
    "2**63",
    "2**64",
    "-2**62",
    "10**100000",
];

/// Width and precision digits written into a format spec.
const SPEC_NUMBERS: &[&str] = &[
    "",
    "0",
    "1",
    "5",
    "17",
    "65535",
    "65536",
    "70000",
    "1000000",
    "2147483647",
    "2147483648",
    "4611686018427387904",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "-7",
    "255",
    "2**100",
    "-2**70",
    "True",
    "0.1",
    "-1.5",
    "1e300",
    "5e-324",
    "-0.0",
    "1/3",
    "float('nan')",
    "float('-inf')",
    "'abc'",
    "''",
    "'é'",
    "None",
    "[1, 2]",
];

/// Fragments spliced into seed scripts.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "=",
    "==",
    ":=",
    "**",
    "*",
    "\n",
    "\r",
    "\r\n",
    "    ",
    "\t",
    "\0",
    "\u{ff}",
    "\\",
    "'",
    "\"",
    "'''",
    "#",
    "@",
    "%",
    "f'{",
    "}'",
    "lambda x: ",
    "def f(",
    "class K:",
    "if ",
    "else:",
    "elif ",
    "while 0:",
    "for i in ",
    "in",
    "not ",
    "and ",
    "or ",
    "return ",
    "yield ",
    "try:",
    "except:",
    "finally:",
    "raise ",
    "import ",
    "from ",
    "global x",
    "nonlocal x",
    "del ",
    "pass",
    "break",
    "continue",
    "None",
    "0x",
    "1e",
    "1_0",
    "9999999999999999999999",
    "10**100000",
    "2**62",
    "-2**63",
    "[0]*10**10",
    "'a'*2**62",
    "{:.70000f}",
    "%.65536g",
    "...",
    "->",
];

/// Where the case and test scripts are.
fn seed_scripts() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<PathBuf> = vec![root.join("tests/py"), root.join("../cases/scripts")];
    if let Ok(entries) = std::fs::read_dir(root.join("../cases")) {
        dirs.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
    }
    let mut seeds = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "py") {
                continue;
            }
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            // A mutated fork could multiply processes; leave those out.
            if String::from_utf8_lossy(&text).contains("fork") {
                continue;
            }
            seeds.push((path.display().to_string(), text));
        }
    }
    seeds.sort();
    seeds.dedup_by(|a, b| a.0 == b.0);
    seeds
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

/// A random format spec `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
fn random_spec(rng: &mut fastrand::Rng) -> String {
    let mut s = String::new();
    if rng.bool() {
        if rng.bool() {
            s.push(['*', ' ', '0', 'x', 'é', '='][rng.usize(..6)]);
        }
        s.push(['<', '>', '^', '='][rng.usize(..4)]);
    }
    if rng.u8(..4) == 0 {
        s.push(['+', '-', ' '][rng.usize(..3)]);
    }
    if rng.u8(..4) == 0 {
        s.push('#');
    }
    if rng.u8(..4) == 0 {
        s.push('0');
    }
    s.push_str(pick(rng, SPEC_NUMBERS));
    if rng.u8(..5) == 0 {
        s.push([',', '_'][rng.usize(..2)]);
    }
    if rng.bool() {
        s.push('.');
        s.push_str(pick(rng, SPEC_NUMBERS));
    }
    if rng.u8(..5) != 0 {
        s.push(
            "bcdeEfFgGnosxX%r"[rng.usize(..16)..]
                .chars()
                .next()
                .unwrap_or('f'),
        );
    }
    s
}

/// One formatting expression: `format()`, an f-string, `str.format` or `%`.
fn format_case(rng: &mut fastrand::Rng) -> String {
    let v = pick(rng, VALUES);
    let spec = random_spec(rng);
    match rng.u8(..4) {
        0 => format!("print(len(format({v}, '{spec}')))\n"),
        1 => format!("x = {v}\nprint(len(f'{{x:{spec}}}'))\n"),
        2 => format!("print(len('{{:{spec}}}'.format({v})))\n"),
        _ => {
            let flags: String = (0..rng.usize(..3))
                .map(|_| ['-', '+', ' ', '#', '0'][rng.usize(..5)])
                .collect();
            let width = pick(rng, SPEC_NUMBERS);
            let prec = if rng.bool() {
                format!(".{}", pick(rng, SPEC_NUMBERS))
            } else {
                String::new()
            };
            let conv = "sdiouxXeEfFgGcr%"[rng.usize(..16)..]
                .chars()
                .next()
                .unwrap_or('d');
            format!("print(len('%{flags}{width}{prec}{conv}' % ({v},)))\n")
        }
    }
}

/// An expression asking for a huge (or negative, or merely odd) size.
fn size_case(rng: &mut fastrand::Rng) -> String {
    let n = pick(rng, SIZES);
    let body = match rng.u8(..15) {
        14 => format!("x = ('ab' * 1000).replace('b', 'x' * ({n}))"),
        0 => format!("x = 'ab' * ({n})"),
        1 => format!("x = [0] * ({n})"),
        2 => format!("x = (0, 1) * ({n})"),
        3 => format!("x = ({n}) * [None]"),
        4 => format!("x = 'a'.ljust({n})"),
        5 => format!("x = 'a'.rjust({n}, '*')"),
        6 => format!("x = 'abc'.center({n})"),
        7 => format!("x = '-1'.zfill({n})"),
        8 => format!("x = f'{{1:>{{{n}}}}}'"),
        9 => format!("x = list(range({n}))"),
        10 => format!("x = ' '.join(['a'] * ({n}))"),
        11 => format!("x = range({n})\nprint(len(x))"),
        12 => format!("x = 2 ** ({n})"),
        _ => format!("x = 1 << ({n})"),
    };
    format!("{body}\nprint(type(x).__name__)\n")
}

/// Deep nesting, in the source or built at run time.
fn nesting_case(rng: &mut fastrand::Rng) -> String {
    let n = [100, 1000, 3000, 10_000, 100_000][rng.usize(..5)];
    match rng.u8(..9) {
        0 => format!("x = {}1{}\nprint(x)\n", "(".repeat(n), ")".repeat(n)),
        1 => format!("x = {}{}\nprint(len(x))\n", "[".repeat(n), "]".repeat(n)),
        2 => {
            let mut s = String::new();
            for depth in 0..n.min(3000) {
                s.push_str(&" ".repeat(depth));
                s.push_str("if True:\n");
            }
            s.push_str(&" ".repeat(n.min(3000)));
            s.push_str("print('deep')\n");
            s
        }
        3 => format!("x = {}1\nprint(x)\n", "-".repeat(n)),
        4 => format!("x = {}True\nprint(x)\n", "not ".repeat(n)),
        5 => format!("x = 1{}\nprint(x)\n", " + 1".repeat(n)),
        6 => format!(
            "x = {{{}}}\n",
            "1: {".repeat(n.min(5000)) + &"}".repeat(n.min(5000))
        ),
        7 => format!(
            "x = f'{}{}'\n",
            "{f'".repeat(n.min(200)),
            "'}".repeat(n.min(200))
        ),
        _ => format!("l = []\nfor i in range({n}):\n    l = [l]\nprint(len(repr(l)) > 0)\n"),
    }
}

/// Source bytes and encodings CPython refuses or must read alike.
fn bytes_case(rng: &mut fastrand::Rng) -> Vec<u8> {
    let base: &[u8] = b"x = 1\nif x:\n    print('a')\n# comment\nprint(x + 1)\n";
    let mut v = base.to_vec();
    match rng.u8(..6) {
        0 => v.insert(rng.usize(..=v.len()), 0),
        1 => v.insert(rng.usize(..=v.len()), 0xff),
        2 => v.insert(
            rng.usize(..=v.len()),
            [0xc3, 0xe2, 0xed, 0x80][rng.usize(..4)],
        ),
        3 => {
            v = base
                .iter()
                .map(|&b| if b == b'\n' { b'\r' } else { b })
                .collect()
        }
        4 => {
            v = Vec::new();
            for &b in base {
                if b == b'\n' {
                    v.extend_from_slice(b"\r\n");
                } else {
                    v.push(b);
                }
            }
        }
        _ => {
            let mut long = b"x = ".to_vec();
            long.extend(std::iter::repeat_n(b'1', 1 << 20));
            long.extend_from_slice(if rng.bool() { b" +\n" } else { b"\n" });
            v = long;
        }
    }
    v
}

/// A seed script with one to three random edits.
fn mutated(rng: &mut fastrand::Rng, seeds: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut v = seeds[rng.usize(..seeds.len())].1.clone();
    for _ in 0..rng.usize(1..=3) {
        let len = v.len();
        if len == 0 {
            break;
        }
        let at = rng.usize(..len);
        match rng.u8(..6) {
            0 => {
                let end = (at + rng.usize(1..20)).min(len);
                v.drain(at..end);
            }
            1 => {
                let tok = pick(rng, TOKENS).as_bytes().to_vec();
                v.splice(at..at, tok);
            }
            2 => {
                // Duplicate the line around `at`.
                let start = v[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = v[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |p| at + p + 1);
                let line = v[start..end].to_vec();
                v.splice(start..start, line);
            }
            3 => {
                let other = &seeds[rng.usize(..seeds.len())].1;
                if !other.is_empty() {
                    let from = rng.usize(..other.len());
                    let end = (from + rng.usize(1..80)).min(other.len());
                    v.splice(at..at, other[from..end].to_vec());
                }
            }
            4 => v[at] = rng.u8(..),
            _ => v.truncate(at),
        }
    }
    v
}

/// Inputs that once crashed or hung minipy (the reliability probe's
/// D1–D3), kept so that the fuzz test always tries them.
fn known_cases() -> Vec<Vec<u8>> {
    let deep = 3_000_000;
    [
        "print(len(f'{1.0:.1000000f}'))\n".to_string(),
        "print(len('{:.70000f}'.format(1.0)))\n".to_string(),
        "print(len(format(1.5, '.65536e')))\n".to_string(),
        "print(len('%.65536g' % 1.0))\n".to_string(),
        "print(len('{:+.65535e}'.format(0.1)))\n".to_string(),
        "x = 'a'.ljust(2**62)\n".to_string(),
        "x = f'{1:>{2**62}}'\n".to_string(),
        "l = [0] * 10**9\n".to_string(),
        "l = list(range(10**9))\n".to_string(),
        "x = ' '.join(['a' * 1000] * 10**7)\n".to_string(),
        format!(
            "a = []\nb = []\nfor i in range({deep}):\n    a = [a]\n    b = [b]\nprint(a == b)\n"
        ),
        format!("a = []\nfor i in range({deep}):\n    a = [a]\na = None\nprint('ok')\n"),
        format!("t = ()\nfor i in range({deep}):\n    t = (t,)\nprint(hash(t) == hash(t))\n"),
        "x = 10**100000\nprint(x % 7)\n".to_string(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

/// What is wrong with a finished run, if anything.
fn verdict(run: &Guarded) -> Option<String> {
    if run.timed_out {
        return Some("hung: still running after SIGINT".into());
    }
    if run.interrupted {
        // A mutation may loop forever; the interpreter must then still
        // answer Ctrl-C as CPython does.
        let clean = run.signal == Some(libc::SIGINT)
            && run.stderr.ends_with("\nKeyboardInterrupt\n")
            && run
                .stderr
                .starts_with("Traceback (most recent call last):\n");
        return (!clean).then(|| "ran past the timeout and SIGINT did not end it cleanly".into());
    }
    if let Some(sig) = run.signal {
        return Some(format!("killed by signal {sig}"));
    }
    if [
        "panicked",
        "RUST_BACKTRACE",
        "SystemError",
        "internal error",
    ]
    .iter()
    .any(|w| run.stderr.contains(w))
    {
        return Some("a panic or an internal error".into());
    }
    match run.status {
        Some(0) => None,
        Some(1) => {
            let last = run.stderr.lines().last().unwrap_or("");
            let name = last.split(':').next().unwrap_or("");
            let is_exception_line = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && (name.ends_with("Error")
                    || name.ends_with("Exception")
                    || name == "KeyboardInterrupt"
                    || name == "StopIteration");
            let exception_lines = run
                .stderr
                .lines()
                .filter(|l| {
                    let n = l.split(':').next().unwrap_or("");
                    !l.starts_with(' ') && n.ends_with("Error") && !n.contains(' ')
                })
                .count();
            let starts_right = run
                .stderr
                .starts_with("Traceback (most recent call last):\n")
                || run.stderr.starts_with("  File \"")
                || last.starts_with("SyntaxError: Non-UTF-8 code");
            if !is_exception_line {
                Some(format!("exit 1 without an exception line last: {last:?}"))
            } else if !starts_right {
                Some("exit 1 without a traceback or a syntax error report".into())
            } else if exception_lines == 0 {
                Some("no exception line".into())
            } else {
                None
            }
        }
        other => Some(format!("exit status {other:?}")),
    }
}

#[test]
fn fuzzed_inputs_end_cleanly() {
    if let Some(why) = perf_script::user_mode_emulation() {
        // It runs natively on the arm CI job.
        eprintln!(
            "skipped: the fuzz test's bounds need RLIMIT_AS (not enforced under qemu-user) and native speed: {why}"
        );
        return;
    }
    let seed = std::env::var("MINIPY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let cases = std::env::var("MINIPY_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let seeds = seed_scripts();
    assert!(seeds.len() >= 8, "seed scripts not found: {}", seeds.len());

    // Generate every input first (a pure function of the seed), then run.
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut inputs: Vec<(&str, Vec<u8>)> =
        known_cases().into_iter().map(|v| ("known", v)).collect();
    while inputs.len() < cases {
        inputs.push(match rng.u8(..10) {
            0..=3 => ("mutated", mutated(&mut rng, &seeds)),
            4..=5 => ("format", format_case(&mut rng).into_bytes()),
            6..=7 => ("size", size_case(&mut rng).into_bytes()),
            8 => ("nesting", nesting_case(&mut rng).into_bytes()),
            _ => ("bytes", bytes_case(&mut rng)),
        });
    }

    // MINIPY_FUZZ_ONLY=3,17 runs just those inputs (to reproduce one).
    if let Ok(only) = std::env::var("MINIPY_FUZZ_ONLY") {
        let wanted: Vec<usize> = only
            .split(',')
            .filter_map(|i| i.trim().parse().ok())
            .collect();
        for (i, input) in inputs.iter_mut().enumerate() {
            if !wanted.contains(&i) {
                *input = ("skipped", b"pass\n".to_vec());
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let keep = std::env::var_os("MINIPY_FUZZ_KEEP").map(PathBuf::from);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let times = Mutex::new(Vec::new());
    let guard = Guard {
        // 1 GiB of it is the interpreter thread's stack reservation.
        address_space: Some(3 << 30),
        // Legitimate inputs take at most a few seconds in a debug build;
        // one still running then is interrupted (see `verdict`).
        timeout: Duration::from_secs(5),
        grace: Duration::from_secs(10),
    };
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|s| {
        for w in 0..workers {
            let (inputs, next, failures, times, dir) =
                (&inputs, &next, &failures, &times, dir.path());
            let keep = keep.clone();
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((family, src)) = inputs.get(i) else {
                    break;
                };
                let script = dir.join(format!("w{w}.py"));
                std::fs::write(&script, src).expect("write input");
                if let Some(k) = &keep {
                    let _ = std::fs::create_dir_all(k);
                    let _ = std::fs::write(k.join(format!("{i:05}.py")), src);
                }
                let run = run_guarded(&script, &["20"], guard);
                times
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((run.elapsed, i));
                if let Some(why) = verdict(&run) {
                    failures.lock().unwrap_or_else(|e| e.into_inner()).push((
                        i,
                        format!("{family}: {why}"),
                        String::from_utf8_lossy(&src[..src.len().min(600)]).into_owned(),
                        run.describe(),
                    ));
                }
            });
        }
    });
    let mut times = times.into_inner().unwrap_or_else(|e| e.into_inner());
    times.sort();
    let total: Duration = times.iter().map(|t| t.0).sum();
    let slowest: Vec<String> = times
        .iter()
        .rev()
        .take(8)
        .map(|(d, i)| format!("{i}: {:.2}s", d.as_secs_f64()))
        .collect();
    eprintln!(
        "fuzz: {:.1}s of child time; slowest inputs {}",
        total.as_secs_f64(),
        slowest.join(", ")
    );
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by_key(|f| f.0);
    let mut kinds = std::collections::BTreeMap::new();
    for f in &failures {
        *kinds.entry(f.1.clone()).or_insert(0) += 1;
    }
    let report: Vec<String> = failures
        .iter()
        .take(12)
        .map(|(i, why, src, run)| format!("--- input {i} (seed {seed}): {why}\n{src:?}\n{run}\n"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed: {kinds:?}\n{}",
        failures.len(),
        inputs.len(),
        report.join("\n")
    );
    eprintln!(
        "fuzz: {} inputs, seed {seed}, all ended cleanly",
        inputs.len()
    );
}
