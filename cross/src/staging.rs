//! Building a cache folder so that it is either complete or absent: it is
//! filled under a temporary name beside its final place and renamed into
//! place only when everything in it succeeded. A failure removes the
//! temporary folder; one left by a killed run is removed by the next run
//! (its name carries the pid of the run that made it).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Fills a fresh folder with `fill` and renames it to `dest`. When `dest`
/// already exists (another run finished first) the new folder is dropped
/// and `dest` kept.
pub fn build_dir(dest: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dest
        .parent()
        .with_context(|| format!("{} has no parent folder", dest.display()))?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dest
        .file_name()
        .with_context(|| format!("{} has no file name", dest.display()))?
        .to_string_lossy()
        .into_owned();
    remove_abandoned(parent, &name);
    let temp = tempfile::Builder::new()
        .prefix(&partial_prefix(&name, std::process::id()))
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a temporary folder in {}", parent.display()))?;
    fill(temp.path())?;
    if dest.exists() {
        return Ok(());
    }
    let temp = temp.keep();
    if let Err(e) = std::fs::rename(&temp, dest) {
        let _ = std::fs::remove_dir_all(&temp);
        if !dest.exists() {
            bail!(
                "cannot rename {} to {}: {e}",
                temp.display(),
                dest.display()
            );
        }
    }
    Ok(())
}

fn partial_prefix(name: &str, pid: u32) -> String {
    format!(".partial-{name}-{pid}-")
}

/// Removes temporary folders for `name` whose run is no longer alive.
fn remove_abandoned(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".partial-{name}-");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !alive(pid)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The folders in `parent` whose names start with `prefix`, complete ones
/// only (no temporary folders), sorted by name.
pub fn complete_dirs(parent: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fill_leaves_nothing_and_a_good_one_renames() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("thing");
        let err = build_dir(&dest, |tmp| {
            std::fs::write(tmp.join("half"), "x")?;
            bail!("download failed")
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "download failed");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);

        build_dir(&dest, |tmp| Ok(std::fs::write(tmp.join("whole"), "y")?)).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("whole")).unwrap(), "y");
        assert_eq!(complete_dirs(root.path(), "thi"), [dest]);
    }

    #[test]
    fn folders_of_dead_runs_are_removed_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        // pid_max is at most 2^22, so this pid is never alive.
        let dead = root
            .path()
            .join(format!("{}abc", partial_prefix("thing", 99_999_999)));
        let live = root.path().join(format!(
            "{}abc",
            partial_prefix("thing", std::process::id())
        ));
        std::fs::create_dir(&dead).unwrap();
        std::fs::create_dir(&live).unwrap();
        remove_abandoned(root.path(), "thing");
        assert!(!dead.exists() && live.exists());
        assert!(complete_dirs(root.path(), "thing").is_empty());
    }
}
