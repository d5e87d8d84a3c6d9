//! Shared helpers of the integration tests: a VFS on a tmpfs with a settable clock.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use rumprun_vfs::flags::*;
use rumprun_vfs::*;

pub struct Env {
    pub vfs: Vfs,
    pub root: InodeRef,
    pub time: Arc<AtomicI64>,
}

impl Env {
    pub fn new() -> Env {
        Env::with_options(TmpfsOptions::default())
    }

    pub fn with_options(opts: TmpfsOptions) -> Env {
        let time = Arc::new(AtomicI64::new(1000));
        let fs = Tmpfs::with_options(makedev(0, 1), clock(&time), opts);
        let vfs = Vfs::new(fs);
        let root = vfs.root();
        Env { vfs, root, time }
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        clock(&self.time)
    }

    pub fn set_time(&self, sec: i64) {
        self.time.store(sec, Ordering::SeqCst);
    }

    pub fn mkdir(&self, p: &str) -> Result<InodeRef, Errno> {
        self.vfs.mkdir(&self.root, p.as_bytes(), 0o755, Cred::ROOT)
    }

    pub fn create(&self, p: &str) -> Result<InodeRef, Errno> {
        self.vfs.open(
            &self.root,
            p.as_bytes(),
            O_CREAT | O_WRONLY,
            0o644,
            Cred::ROOT,
        )
    }

    pub fn open(&self, p: &str, flags: u32) -> Result<InodeRef, Errno> {
        self.vfs
            .open(&self.root, p.as_bytes(), flags, 0o644, Cred::ROOT)
    }

    pub fn write_file(&self, p: &str, data: &[u8]) -> InodeRef {
        let f = self.open(p, O_CREAT | O_WRONLY | O_TRUNC).unwrap();
        assert_eq!(Vfs::write_at(&f, 0, data).unwrap(), data.len());
        f
    }

    pub fn read_file(&self, p: &str) -> Result<Vec<u8>, Errno> {
        let f = self.open(p, O_RDONLY)?;
        let size = f.stat().size as usize;
        let mut buf = vec![0; size];
        assert_eq!(Vfs::read_at(&f, 0, &mut buf)?, size);
        Ok(buf)
    }

    pub fn symlink(&self, target: &str, p: &str) -> Result<InodeRef, Errno> {
        self.vfs
            .symlink(target.as_bytes(), &self.root, p.as_bytes(), Cred::ROOT)
    }

    pub fn stat(&self, p: &str) -> Result<Stat, Errno> {
        self.vfs.stat(&self.root, p.as_bytes(), true)
    }

    pub fn lstat(&self, p: &str) -> Result<Stat, Errno> {
        self.vfs.stat(&self.root, p.as_bytes(), false)
    }

    pub fn unlink(&self, p: &str) -> Result<(), Errno> {
        self.vfs.unlink(&self.root, p.as_bytes())
    }

    pub fn rmdir(&self, p: &str) -> Result<(), Errno> {
        self.vfs.rmdir(&self.root, p.as_bytes())
    }

    pub fn rename(&self, a: &str, b: &str) -> Result<(), Errno> {
        self.rename2(a, b, 0)
    }

    pub fn rename2(&self, a: &str, b: &str, flags: u32) -> Result<(), Errno> {
        self.vfs
            .rename(&self.root, a.as_bytes(), &self.root, b.as_bytes(), flags)
    }

    pub fn link(&self, a: &str, b: &str) -> Result<(), Errno> {
        self.vfs
            .link(&self.root, a.as_bytes(), &self.root, b.as_bytes(), false)
    }

    pub fn lookup(&self, p: &str) -> Result<InodeRef, Errno> {
        self.vfs.lookup(&self.root, p.as_bytes())
    }

    /// Names in a directory, without `.` and `..`, in listing order.
    pub fn list(&self, p: &str) -> Vec<String> {
        list_dir(&self.lookup(p).unwrap())
    }
}

pub fn list_dir(dir: &InodeRef) -> Vec<String> {
    let mut out = Vec::new();
    let mut cookie = 0;
    while let Some(e) = dir.read_dir(cookie).unwrap() {
        if e.name != b"." && e.name != b".." {
            out.push(String::from_utf8(e.name).unwrap());
        }
        cookie = e.next;
    }
    out
}

pub fn clock(time: &Arc<AtomicI64>) -> Arc<dyn Clock> {
    let t = time.clone();
    Arc::new(move || Timespec {
        sec: t.load(Ordering::SeqCst),
        nsec: 0,
    })
}
