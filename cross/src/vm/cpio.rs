//! Writing the kernel's initramfs format: a "newc" cpio archive (the only
//! format the kernel unpacks). It is small enough to write here, which
//! spares the host a `cpio` package and lets the archive hold a device node
//! (`/dev/console`) without root. Archives may be concatenated: the kernel
//! unpacks one after the other, which is how a run's staged files are added
//! to the cached base.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// A cpio archive being written; [`Cpio::finish`] ends it.
pub struct Cpio<W: Write> {
    out: W,
    written: u64,
    next_inode: u32,
}

impl<W: Write> Cpio<W> {
    pub fn new(out: W) -> Cpio<W> {
        Cpio {
            out,
            written: 0,
            next_inode: 1,
        }
    }

    pub fn dir(&mut self, path: &str) -> Result<()> {
        self.entry(path, S_IFDIR | 0o755, 0, &[])
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> Result<()> {
        self.entry(path, S_IFREG | (mode & 0o7777), 0, data)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> Result<()> {
        self.entry(path, S_IFLNK | 0o777, 0, target.as_bytes())
    }

    pub fn char_device(&mut self, path: &str, mode: u32, major: u32, minor: u32) -> Result<()> {
        self.entry(path, S_IFCHR | (mode & 0o7777), (major << 8) | minor, &[])
    }

    /// Adds the folder `source` (files, folders, symlinks; permissions
    /// kept) under `at` in the archive.
    pub fn tree(&mut self, source: &Path, at: &str) -> Result<()> {
        self.dir(at)?;
        let mut entries: Vec<_> = std::fs::read_dir(source)
            .with_context(|| format!("cannot read {}", source.display()))?
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("cannot read {}", source.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                bail!("{} is not a UTF-8 name", path.display());
            };
            let inside = format!("{at}/{name}");
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                self.symlink(&inside, &target.to_string_lossy())?;
            } else if meta.is_dir() {
                self.tree(&path, &inside)?;
            } else if meta.is_file() {
                let data = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                self.file(&inside, meta.permissions().mode(), &data)?;
            } else {
                bail!(
                    "{} is neither a file, a folder nor a symlink",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// Writes the trailer and hands the writer back.
    pub fn finish(mut self) -> Result<W> {
        self.entry("TRAILER!!!", 0, 0, &[])?;
        self.out.flush().context("cannot write the archive")?;
        Ok(self.out)
    }

    fn entry(&mut self, path: &str, mode: u32, rdev: u32, data: &[u8]) -> Result<()> {
        let name = path.trim_start_matches('/');
        let name = if name.is_empty() { "." } else { name };
        let inode = self.next_inode;
        self.next_inode += 1;
        let nlink = if mode & S_IFDIR == S_IFDIR { 2 } else { 1 };
        let fields = [
            inode,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            u32::try_from(data.len()).with_context(|| format!("{path} is over 4 GiB"))?,
            0, // dev major
            0, // dev minor
            rdev >> 8,
            rdev & 0xff,
            name.len() as u32 + 1,
            0, // check
        ];
        let mut header = String::from("070701");
        for field in fields {
            header.push_str(&format!("{field:08x}"));
        }
        let mut bytes = header.into_bytes();
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        pad(&mut bytes, self.written);
        bytes.extend_from_slice(data);
        pad(&mut bytes, self.written);
        self.out
            .write_all(&bytes)
            .context("cannot write the archive")?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

/// Pads `bytes` (to be written at offset `at`) to a multiple of 4.
fn pad(bytes: &mut Vec<u8>, at: u64) {
    while !(at + bytes.len() as u64).is_multiple_of(4) {
        bytes.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_the_newc_layout() {
        let mut cpio = Cpio::new(Vec::new());
        cpio.file("/a", 0o755, b"hello").unwrap();
        cpio.char_device("/dev/console", 0o600, 5, 1).unwrap();
        let bytes = cpio.finish().unwrap();
        let text = String::from_utf8_lossy(&bytes);
        // magic, inode 1, mode 0100755, ..., size 5, ..., namesize 2 ("a\0").
        assert!(text.starts_with(
            "07070100000001000081ed0000000000000000000000010000000000000005000000000000000000000000000000000000000200000000a\0"
        ), "{text:?}");
        // 110 header bytes + "a\0" = 112, already aligned; then the data padded to 120.
        assert_eq!(&bytes[112..117], b"hello");
        assert_eq!(bytes[117..120], [0, 0, 0]);
        // The device node carries rdev 5:1.
        assert_eq!(&bytes[120 + 78..120 + 94], b"0000000500000001");
        assert!(text.contains("TRAILER!!!\0"));
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn a_tree_keeps_modes_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/tool"), b"#!").unwrap();
        std::fs::set_permissions(
            dir.path().join("bin/tool"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        std::os::unix::fs::symlink("bin/tool", dir.path().join("link")).unwrap();
        let mut cpio = Cpio::new(Vec::new());
        cpio.tree(dir.path(), "/stage").unwrap();
        let text = String::from_utf8_lossy(&cpio.finish().unwrap()).into_owned();
        for name in ["stage\0", "stage/bin\0", "stage/bin/tool\0", "stage/link\0"] {
            assert!(text.contains(name), "{name} missing");
        }
        assert!(text.contains("000081e8"), "mode 0100750 kept"); // 0o100750
        assert!(text.contains("0000a1ff"), "symlink mode"); // 0o120777
    }
}
