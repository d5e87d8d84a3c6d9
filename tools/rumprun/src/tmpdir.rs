//! The launcher's temp dir: a fresh `/tmp/rumprun.XXXXXXXX` or the `-t`/`-T` dir,
//! created with mode 700 (it must not exist yet), removed on drop unless kept.

use std::fs::DirBuilder;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::DirBuilderExt;

use crate::cli::TmpDir;
use crate::error::{io_message, Error};

/// Where fresh temp dirs go.
pub const BASE: &str = "/tmp";

/// A temp dir this run created.
#[derive(Debug)]
pub struct TempDir {
    pub path: String,
    remove: bool,
}

impl TempDir {
    /// Keeps the directory after this run.
    pub fn keep(&mut self) {
        self.remove = false;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn random_suffix() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 8];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !ok {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        bytes = (t ^ ((std::process::id() as u64) << 32)).to_le_bytes();
    }
    bytes
        .iter()
        .map(|b| ALNUM[*b as usize % ALNUM.len()] as char)
        .collect()
}

/// A fresh name `/tmp/rumprun.XXXXXXXX` (not created).
pub fn fresh_name() -> String {
    format!("{BASE}/rumprun.{}", random_suffix())
}

fn make(path: &str) -> std::io::Result<()> {
    DirBuilder::new().mode(0o700).create(path)
}

/// Creates the temp dir chosen on the command line. `remove` says whether an
/// automatic or `-t` dir is removed afterwards (`-T` dirs are always kept).
pub fn create(choice: &TmpDir, remove: bool) -> Result<TempDir, Error> {
    let (path, remove) = match choice {
        TmpDir::Auto => {
            let mut tries = 0;
            loop {
                let p = fresh_name();
                match make(&p) {
                    Ok(()) => break (p, remove),
                    Err(e) if e.kind() == ErrorKind::AlreadyExists && tries < 100 => tries += 1,
                    Err(e) => {
                        return Err(Error::new(format!(
                            "cannot create temp dir {p}: {}",
                            io_message(&e)
                        )))
                    }
                }
            }
        }
        TmpDir::Remove(p) | TmpDir::Keep(p) => {
            match make(p) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    return Err(Error::new(format!("{p} already exists")))
                }
                Err(e) => {
                    return Err(Error::new(format!(
                        "cannot create temp dir {p}: {}",
                        io_message(&e)
                    )))
                }
            }
            (p.clone(), remove && matches!(choice, TmpDir::Remove(_)))
        }
    };
    Ok(TempDir { path, remove })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    #[test]
    fn auto_is_fresh_private_and_removed() {
        let d = create(&TmpDir::Auto, true).unwrap();
        let path = d.path.clone();
        assert!(path.starts_with("/tmp/rumprun.") && path.len() == "/tmp/rumprun.".len() + 8);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(format!("{path}/status"), b"0\n").unwrap();
        drop(d);
        assert!(!Path::new(&path).exists());
    }

    #[test]
    fn explicit_dirs() {
        let base = format!("{BASE}/rumprun-tmpdir-test.{}", std::process::id());
        let d = create(&TmpDir::Remove(base.clone()), true).unwrap();
        assert_eq!(
            create(&TmpDir::Keep(base.clone()), true)
                .unwrap_err()
                .message,
            format!("{base} already exists")
        );
        drop(d);
        assert!(!Path::new(&base).exists());
        drop(create(&TmpDir::Keep(base.clone()), true).unwrap());
        assert!(Path::new(&base).exists());
        std::fs::remove_dir(&base).unwrap();
        let mut d = create(&TmpDir::Auto, true).unwrap();
        d.keep();
        let p = d.path.clone();
        drop(d);
        assert!(Path::new(&p).exists());
        std::fs::remove_dir(&p).unwrap();
    }
}
