//! Where the installed files are: the install root (`$RUMPRUN_DESTDIR`, else the parent
//! of the directory holding this executable), the default config file and the kernels.

use std::path::{Path, PathBuf};

/// The default configs, built in for when no installed file is found next to the
/// executable (e.g. running from the build tree).
pub const BUILTIN_CONF: &str = include_str!("../../../app-tools/rumprun-bake.conf");

/// Where a config file comes from.
pub enum ConfSource {
    File(PathBuf),
    Builtin,
}

/// The install root and whether it came from `RUMPRUN_DESTDIR`.
pub struct Install {
    root: Option<PathBuf>,
    from_env: bool,
}

fn env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Install {
    /// Finds the root. Never fails: without a usable executable path there is no root,
    /// and the built-in configs are used.
    pub fn find() -> Self {
        if let Some(root) = env("RUMPRUN_DESTDIR") {
            return Install {
                root: Some(root),
                from_env: true,
            };
        }
        let root = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf));
        Install {
            root,
            from_env: false,
        }
    }

    /// The default config file: `<root>/etc/rumprun-bake.conf`. If it is missing and
    /// the root was not given by `RUMPRUN_DESTDIR`, the built-in copy.
    pub fn default_conf(&self) -> ConfSource {
        match &self.root {
            Some(root) => {
                let path = root.join("etc/rumprun-bake.conf");
                if self.from_env || path.exists() {
                    ConfSource::File(path)
                } else {
                    ConfSource::Builtin
                }
            }
            None => ConfSource::Builtin,
        }
    }

    /// The kernel for `platform`: `$RUMPRUN_KERNEL`, else
    /// `<root>/lib/rumprun-x86_64/<platform>/kernel.elf`.
    pub fn kernel(&self, platform: &str) -> Option<PathBuf> {
        if let Some(k) = env("RUMPRUN_KERNEL") {
            return Some(k);
        }
        let root = self.root.as_ref()?;
        Some(root.join(format!("lib/rumprun-x86_64/{platform}/kernel.elf")))
    }
}
