//! The environment under which cargo builds for aarch64 and runs what it
//! built under qemu-user: the cross linker and C compiler, the runner, the
//! compiler when it is not the host's, and a target folder of its own.

use crate::rust::{Rust, TARGET};
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

/// Where Debian's `libc6-arm64-cross` keeps the aarch64 loader and C
/// library; qemu-user finds dynamically linked programs' libraries there.
pub const QEMU_LD_PREFIX: &str = "/usr/aarch64-linux-gnu";

/// The variables, in the order they are printed.
#[derive(Debug, Clone)]
pub struct CargoEnv {
    vars: Vec<(&'static str, OsString)>,
}

impl CargoEnv {
    pub fn new(rust: &Rust, target_dir: &Path) -> CargoEnv {
        let mut vars: Vec<(&'static str, OsString)> = vec![
            ("CARGO_BUILD_TARGET", TARGET.into()),
            ("CARGO_TARGET_DIR", target_dir.into()),
            (
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
                "aarch64-linux-gnu-gcc".into(),
            ),
            (
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER",
                format!("qemu-aarch64-static -L {QEMU_LD_PREFIX}").into(),
            ),
            (
                "CC_aarch64_unknown_linux_gnu",
                "aarch64-linux-gnu-gcc".into(),
            ),
            (
                "AR_aarch64_unknown_linux_gnu",
                "aarch64-linux-gnu-ar".into(),
            ),
            // Programs started by the kernel through binfmt_misc (a test
            // that runs an aarch64 example) find their libraries too.
            ("QEMU_LD_PREFIX", QEMU_LD_PREFIX.into()),
        ];
        if let Some((rustc, rustdoc)) = rust.programs() {
            vars.push(("RUSTC", rustc.into()));
            vars.push(("RUSTDOC", rustdoc.into()));
        }
        CargoEnv { vars }
    }

    pub fn apply(&self, cmd: &mut Command) {
        for (key, value) in &self.vars {
            cmd.env(key, value);
        }
    }

    pub fn get(&self, key: &str) -> Option<&OsString> {
        self.vars.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// `export KEY='value'` lines for `eval "$(cross env)"`.
    pub fn shell_exports(&self) -> String {
        self.vars
            .iter()
            .map(|(key, value)| {
                let value = value.to_string_lossy().replace('\'', r"'\''");
                format!("export {key}='{value}'\n")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust::Version;

    #[test]
    fn a_debian_compiler_is_named_and_the_host_one_is_not() {
        let debian = Rust::Debian {
            root: "/c/rustc-web-1".into(),
            version: Version(1, 96, 0),
        };
        let env = CargoEnv::new(&debian, Path::new("/w/target/aarch64"));
        assert_eq!(env.get("RUSTC").unwrap(), "/c/rustc-web-1/bin/rustc");
        let exports = env.shell_exports();
        assert!(
            exports.contains("export CARGO_TARGET_DIR='/w/target/aarch64'\n"),
            "{exports}"
        );
        assert!(exports.contains(
            "export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER='qemu-aarch64-static -L /usr/aarch64-linux-gnu'\n"
        ));
        let host = CargoEnv::new(
            &Rust::Host {
                version: Version(1, 95, 0),
            },
            Path::new("/t"),
        );
        assert!(host.get("RUSTC").is_none());
    }
}
