//! Running the programs cross relies on (apt-get, dpkg-deb, cargo, tar,
//! readelf, qemu) so that a failure is one line: the command, its exit
//! status and the last line it printed to stderr, or which package is
//! missing when the program is not installed.

use anyhow::{anyhow, Result};
use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `cmd` with its output captured; its stdout on success.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = captured(cmd)?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd` with its output captured and fails unless it exits 0.
pub fn captured(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(cmd, e))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(anyhow!(
            "`{}` failed ({}){}",
            describe(cmd),
            out.status,
            telling_line(&out.stderr)
                .or_else(|| telling_line(&out.stdout))
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        ))
    }
}

/// Runs `cmd` with the terminal as its output (cargo shows its own
/// progress) and fails unless it exits 0.
pub fn streamed(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| spawn_error(cmd, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(anyhow!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Whether `program` is found on `PATH` (or is an existing path).
pub fn on_path(program: &str) -> bool {
    find(program).is_some()
}

/// The full path of `program` on `PATH`.
pub fn find(program: &str) -> Option<std::path::PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| program.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn spawn_error(cmd: &Command, e: std::io::Error) -> anyhow::Error {
    let program = cmd.get_program().to_string_lossy();
    if e.kind() == ErrorKind::NotFound {
        anyhow!("{program} is not installed (or not on PATH)")
    } else {
        anyhow!("cannot run {program}: {e}")
    }
}

/// The command line, shortened to keep an error on one readable line.
pub fn describe(cmd: &Command) -> String {
    let words: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect();
    let line = words.join(" ");
    if line.chars().count() > 200 {
        let short: String = line.chars().take(197).collect();
        format!("{short}...")
    } else {
        line
    }
}

fn quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The line that says what went wrong: the first error line (rustc, gcc
/// and apt print the cause first and a summary last), else the last line.
fn telling_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let lines = || text.lines().map(str::trim).filter(|l| !l.is_empty());
    let is_error = |l: &&str| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("error") || lower.starts_with("e: ") || lower.starts_with("fatal")
    };
    lines()
        .find(is_error)
        .or_else(|| lines().next_back())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_command_and_its_last_error_line() {
        let err = output(Command::new("sh").args(["-c", "echo one >&2; echo two >&2; exit 3"]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`sh -c 'echo one >&2; echo two >&2; exit 3'` failed (exit status: 3): two"
        );
        let err = output(Command::new("sh").args([
            "-c",
            "echo 'error: linking failed' >&2; echo 'error: aborting' >&2; exit 1",
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.ends_with("failed (exit status: 1): error: linking failed"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_program_says_so() {
        let err = output(&mut Command::new("no-such-program-xyz")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no-such-program-xyz is not installed (or not on PATH)"
        );
        assert!(!on_path("no-such-program-xyz"));
        assert!(on_path("sh"));
    }
}
