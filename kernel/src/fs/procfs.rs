//! /proc: generated on every read from the kernel's live state. `/proc/<pid>` exists
//! for every process (running or a zombie) and holds exe, cwd, cmdline, comm, status,
//! stat, maps, mounts, mountinfo, fd/ (one link per open descriptor) and task/ (one
//! directory per thread, with its stat, status and comm); /proc/self links to the
//! caller's. A process's files are generated in its context
//! (`process::fork::in_process`: its page tables and state), so the same code serves
//! `/proc/self` and `/proc/<other>`. A read generates the file again and keeps only the
//! bytes it asked for (`Window`): no kernel buffer ever holds a whole file, whose
//! length a program controls (maps of a process with 65530 mappings). At the top: cpuinfo, meminfo, mounts, stat (CPU time
//! in USER_HZ ticks), uptime, version.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt::{self, Write};
use rumprun_vfs::{
    DirEntry, Errno, FileSystem, FileType, Inode, InodeRef, Stat, StatFs, Timespec, VfsResult,
};

const PROC_SUPER_MAGIC: u64 = 0x9fa0;

/// A process's pid (0 for the files at the top).
type Pid = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Root,
    SelfLink,
    PidDir(Pid),
    FdDir(Pid),
    Exe(Pid),
    Cwd(Pid),
    Fd(Pid, u64),
    File(Pid, ProcFile),
    TaskDir(Pid),
    Task(Pid, u32),
    TaskFile(Pid, u32, ProcFile),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProcFile {
    CpuInfo,
    MemInfo,
    Mounts,
    Uptime,
    Version,
    Cmdline,
    Status,
    Stat,
    Maps,
    CpuStat,
    MountInfo,
    Comm,
}

const ROOT_FILES: [(&str, ProcFile); 6] = [
    ("cpuinfo", ProcFile::CpuInfo),
    ("meminfo", ProcFile::MemInfo),
    ("mounts", ProcFile::Mounts),
    ("stat", ProcFile::CpuStat),
    ("uptime", ProcFile::Uptime),
    ("version", ProcFile::Version),
];
const PID_FILES: [(&str, ProcFile); 7] = [
    ("cmdline", ProcFile::Cmdline),
    ("comm", ProcFile::Comm),
    ("status", ProcFile::Status),
    ("stat", ProcFile::Stat),
    ("maps", ProcFile::Maps),
    ("mounts", ProcFile::Mounts),
    ("mountinfo", ProcFile::MountInfo),
];
const TASK_FILES: [(&str, ProcFile); 3] = [
    ("comm", ProcFile::Comm),
    ("status", ProcFile::Status),
    ("stat", ProcFile::Stat),
];

pub struct ProcFs {
    root: InodeRef,
}

impl ProcFs {
    pub fn new(dev: u64) -> Arc<ProcFs> {
        Arc::new(ProcFs {
            root: node(dev, Kind::Root),
        })
    }
}

impl FileSystem for ProcFs {
    fn root(&self) -> InodeRef {
        self.root.clone()
    }
    fn name(&self) -> &'static str {
        "proc"
    }
}

struct ProcNode {
    dev: u64,
    kind: Kind,
}

fn node(dev: u64, kind: Kind) -> InodeRef {
    Arc::new(ProcNode { dev, kind })
}

impl ProcNode {
    fn ino(&self) -> u64 {
        let per_pid = |pid: Pid, n: u64| ((pid as u64) << 16) + n;
        match self.kind {
            Kind::Root => 1,
            Kind::SelfLink => 2,
            Kind::PidDir(p) => per_pid(p, 3),
            Kind::FdDir(p) => per_pid(p, 4),
            Kind::Exe(p) => per_pid(p, 5),
            Kind::Cwd(p) => per_pid(p, 6),
            Kind::TaskDir(p) => per_pid(p, 7),
            Kind::File(p, f) => per_pid(p, 10 + f as u64),
            Kind::Fd(p, n) => per_pid(p, 1000 + n),
            // Thread ids are unique across processes.
            Kind::Task(_, t) => 1 << 40 | t as u64,
            Kind::TaskFile(_, t, f) => 1 << 41 | (t as u64) << 8 | f as u64,
        }
    }

    fn file_type(&self) -> FileType {
        match self.kind {
            Kind::Root | Kind::PidDir(_) | Kind::FdDir(_) | Kind::TaskDir(_) | Kind::Task(..) => {
                FileType::Directory
            }
            Kind::SelfLink | Kind::Exe(_) | Kind::Cwd(_) | Kind::Fd(..) => FileType::Symlink,
            Kind::File(..) | Kind::TaskFile(..) => FileType::Regular,
        }
    }

    /// The directory's children: (name, kind).
    fn children(&self) -> Vec<(String, Kind)> {
        match self.kind {
            Kind::Root => {
                let mut v = vec![(String::from("self"), Kind::SelfLink)];
                let mut pids: Vec<Pid> = crate::process::all().map(|p| p.pid()).collect();
                pids.sort_unstable();
                v.extend(pids.into_iter().map(|p| (format!("{p}"), Kind::PidDir(p))));
                v.extend(
                    ROOT_FILES
                        .iter()
                        .map(|(n, f)| (String::from(*n), Kind::File(0, *f))),
                );
                v
            }
            Kind::PidDir(p) => {
                let mut v = vec![
                    (String::from("exe"), Kind::Exe(p)),
                    (String::from("cwd"), Kind::Cwd(p)),
                    (String::from("fd"), Kind::FdDir(p)),
                    (String::from("task"), Kind::TaskDir(p)),
                ];
                v.extend(
                    PID_FILES
                        .iter()
                        .map(|(n, f)| (String::from(*n), Kind::File(p, *f))),
                );
                v
            }
            Kind::FdDir(p) => in_process(p, crate::fd::list)
                .unwrap_or_default()
                .into_iter()
                .map(|(fd, _)| (format!("{fd}"), Kind::Fd(p, fd)))
                .collect(),
            Kind::TaskDir(p) => in_process(p, crate::process::thread_ids)
                .unwrap_or_default()
                .into_iter()
                .map(|t| (format!("{t}"), Kind::Task(p, t)))
                .collect(),
            Kind::Task(p, t) => TASK_FILES
                .iter()
                .map(|(n, f)| (String::from(*n), Kind::TaskFile(p, t, *f)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Inode for ProcNode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let t = Timespec::from_nanos(crate::time::realtime_ns_cheap());
        let (mode, nlink) = match self.file_type() {
            FileType::Directory => (0o040555, 2),
            FileType::Symlink => (0o120777, 1),
            _ => (0o100444, 1),
        };
        Stat {
            dev: self.dev,
            ino: self.ino(),
            mode,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            size: 0,
            blksize: 1024,
            blocks: 0,
            atime: t,
            mtime: t,
            ctime: t,
            btime: t,
        }
    }

    fn statfs(&self) -> StatFs {
        StatFs {
            fs_type: PROC_SUPER_MAGIC,
            bsize: 4096,
            blocks: 0,
            bfree: 0,
            bavail: 0,
            files: 0,
            ffree: 0,
            fsid: [0, 0],
            namelen: 255,
            frsize: 4096,
            flags: 1, // ST_RDONLY
        }
    }

    fn is_read_only(&self) -> bool {
        true
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> VfsResult<usize> {
        let mut w = Window {
            skip: offset,
            buf,
            filled: 0,
        };
        // A full window ends the generation early (fmt::Error): not an error.
        match self.kind {
            Kind::File(0, f) => _ = generate(f, None, &mut w),
            Kind::File(p, f) => {
                in_process(p, || _ = generate(f, None, &mut w)).ok_or(Errno::ENOENT)?
            }
            Kind::TaskFile(p, t, f) => {
                in_process(p, || _ = generate(f, Some(t), &mut w)).ok_or(Errno::ENOENT)?
            }
            _ if self.file_type() == FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        Ok(w.filled)
    }

    fn readlink(&self) -> VfsResult<Vec<u8>> {
        match self.kind {
            Kind::SelfLink => Ok(own_pid().into_bytes()),
            Kind::Exe(p) => {
                in_process(p, || crate::process::exe_path().into_bytes()).ok_or(Errno::ENOENT)
            }
            Kind::Cwd(p) => {
                in_process(p, || super::vfs().path_of(&super::cwd())).ok_or(Errno::ENOENT)?
            }
            Kind::Fd(p, n) => in_process(p, || crate::fd::describe(n))
                .ok_or(Errno::ENOENT)?
                .map(String::into_bytes)
                .map_err(|_| Errno::ENOENT),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lookup(&self, name: &[u8]) -> VfsResult<InodeRef> {
        if self.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.children()
            .into_iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, k)| node(self.dev, k))
            .ok_or(Errno::ENOENT)
    }

    fn parent(&self) -> VfsResult<InodeRef> {
        Ok(match self.kind {
            Kind::Root | Kind::PidDir(_) | Kind::SelfLink => node(self.dev, Kind::Root),
            Kind::FdDir(p) | Kind::TaskDir(p) => node(self.dev, Kind::PidDir(p)),
            Kind::Task(p, _) => node(self.dev, Kind::TaskDir(p)),
            _ => return Err(Errno::ENOTDIR),
        })
    }

    fn read_dir(&self, cookie: u64) -> VfsResult<Option<DirEntry>> {
        if self.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let entry = |ino, kind, name: &[u8]| DirEntry {
            ino,
            kind,
            name: name.to_vec(),
            next: cookie + 1,
        };
        Ok(match cookie {
            0 => Some(entry(self.ino(), FileType::Directory, b".")),
            1 => Some(entry(self.parent()?.stat().ino, FileType::Directory, b"..")),
            n => self
                .children()
                .into_iter()
                .nth(n as usize - 2)
                .map(|(name, k)| {
                    let child = ProcNode {
                        dev: self.dev,
                        kind: k,
                    };
                    entry(child.ino(), child.file_type(), name.as_bytes())
                }),
        })
    }

    fn is_empty_dir(&self) -> VfsResult<bool> {
        Ok(self.children().is_empty())
    }
}

/// The part of a generated file one read wants: the text before `skip` is counted and
/// dropped, what follows fills `buf`, and writing stops (`fmt::Error`) once `buf` is
/// full. So a file is generated piece by piece, however long the program made it (a
/// process's maps), with no kernel buffer of its length: such a buffer once ended the
/// VM when the kernel heap could not grow that much.
struct Window<'a> {
    skip: u64,
    buf: &'a mut [u8],
    filled: usize,
}

impl Window<'_> {
    /// Passes over `len` bytes that lie wholly before the window without their text
    /// (true), or does nothing (false): the caller then writes them.
    fn skip_over(&mut self, len: u64) -> bool {
        if self.skip < len {
            return false;
        }
        self.skip -= len;
        true
    }

    fn put(&mut self, bytes: &[u8]) -> fmt::Result {
        let dropped = self.skip.min(bytes.len() as u64) as usize;
        self.skip -= dropped as u64;
        let bytes = &bytes[dropped..];
        let n = bytes.len().min(self.buf.len() - self.filled);
        self.buf[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
        self.filled += n;
        if self.filled == self.buf.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

impl fmt::Write for Window<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes())
    }
}

/// Hex digits `{:08x}` prints for `v`.
fn hex_width(v: u64) -> u64 {
    (u64::from(64 - v.leading_zeros()).div_ceil(4)).max(8)
}

/// Writes file `f` of the program, or of its thread `task`, through the window `w`.
fn generate(f: ProcFile, task: Option<u32>, w: &mut Window) -> fmt::Result {
    let pid = own_pid();
    let id = task.map_or_else(|| pid.clone(), |t| format!("{t}"));
    let text = match f {
        ProcFile::CpuInfo => cpuinfo(),
        ProcFile::MemInfo => meminfo(),
        ProcFile::Mounts => {
            for (path, fstype) in super::vfs().mounts() {
                let p = String::from_utf8_lossy(&path);
                writeln!(w, "{fstype} {p} {fstype} rw 0 0")?;
            }
            return Ok(());
        }
        ProcFile::Uptime => {
            let ns = crate::time::monotonic_ns();
            format!(
                "{}.{:02} 0.00\n",
                ns / 1_000_000_000,
                (ns % 1_000_000_000) / 10_000_000
            )
        }
        ProcFile::Version => {
            String::from("Linux version 6.1.0-rumprun (rumprun) #1 rumprun unikernel\n")
        }
        ProcFile::Cmdline => {
            for a in crate::process::argv() {
                w.put(a.as_bytes())?;
                w.put(&[0])?;
            }
            return Ok(());
        }
        ProcFile::Status => {
            let (free, total) = crate::mm::frames::stats();
            let (state, ppid, _, _) = identity();
            format!(
                "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{pid}\nPid:\t{id}\nPPid:\t{ppid}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t{}\nVmRSS:\t{} kB\nSigQ:\t0/0\n",
                short_name(),
                super::umask(),
                match state {
                    'Z' => "Z (zombie)",
                    'T' => "T (stopped)",
                    _ => "R (running)",
                },
                crate::process::thread_count(),
                (total - free) * 4,
            )
        }
        ProcFile::Stat => {
            let (state, ppid, pgid, sid) = identity();
            format!(
                "{id} ({}) {state} {ppid} {pgid} {sid} 0 -1 0 0 0 0 0 {} 0 0 0 20 0 {} 0 0 0 0\n",
                short_name(),
                crate::process::cpu_ns() / 10_000_000,
                crate::process::thread_count(),
            )
        }
        ProcFile::Comm => format!("{}\n", short_name()),
        ProcFile::CpuStat => cpu_stat(),
        ProcFile::MountInfo => mountinfo(),
        ProcFile::Maps => {
            let mut out = Ok(());
            crate::mm::address_space::for_each_area(|start, end, prot| {
                // "{start}-{end} rwxp 00000000 00:00 0\n": lines before the window
                // are only counted (a read costs no formatting of them).
                if w.skip_over(hex_width(start) + hex_width(end) + 24) {
                    return true;
                }
                let r = if prot & 1 != 0 { 'r' } else { '-' };
                let wr = if prot & 2 != 0 { 'w' } else { '-' };
                let x = if prot & 4 != 0 { 'x' } else { '-' };
                out = writeln!(w, "{start:08x}-{end:08x} {r}{wr}{x}p 00000000 00:00 0");
                out.is_ok()
            });
            return out;
        }
    };
    w.write_str(&text)
}

fn short_name() -> String {
    let exe = crate::process::exe_path();
    let base = exe.rsplit('/').next().unwrap_or("");
    String::from(&base[..base.len().min(15)])
}

fn cpuinfo() -> String {
    use crate::arch::cpu::cpuid;
    let v = cpuid(0, 0);
    let mut vendor = Vec::new();
    for r in [v.ebx, v.edx, v.ecx] {
        vendor.extend_from_slice(&r.to_le_bytes());
    }
    let mut brand = Vec::new();
    if cpuid(0x8000_0000, 0).eax >= 0x8000_0004 {
        for leaf in 0x8000_0002..=0x8000_0004u32 {
            let r = cpuid(leaf, 0);
            for x in [r.eax, r.ebx, r.ecx, r.edx] {
                brand.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
    let brand = String::from_utf8_lossy(&brand)
        .trim_matches(char::from(0))
        .trim()
        .into();
    let f = cpuid(1, 0);
    let mut flags = String::new();
    for (bit, name) in [
        (0, "fpu"),
        (4, "tsc"),
        (5, "msr"),
        (9, "apic"),
        (15, "cmov"),
        (23, "mmx"),
        (25, "sse"),
        (26, "sse2"),
    ] {
        if f.edx & (1 << bit) != 0 {
            flags += name;
            flags.push(' ');
        }
    }
    for (bit, name) in [
        (0, "pni"),
        (9, "ssse3"),
        (19, "sse4_1"),
        (20, "sse4_2"),
        (23, "popcnt"),
        (30, "rdrand"),
    ] {
        if f.ecx & (1 << bit) != 0 {
            flags += name;
            flags.push(' ');
        }
    }
    let brand: String = brand;
    let cpus = crate::sched::cpus();
    (0..cpus)
        .map(|n| {
            format!(
                "processor\t: {n}\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\nmodel name\t: {}\ncpu MHz\t\t: {}\nphysical id\t: 0\nsiblings\t: {cpus}\ncore id\t\t: {n}\ncpu cores\t: {cpus}\napicid\t\t: {}\nflags\t\t: {}\n\n",
                String::from_utf8_lossy(&vendor),
                (f.eax >> 8) & 0xf,
                (f.eax >> 4) & 0xf,
                brand,
                crate::time::tsc_hz() / 1_000_000,
                crate::arch::percpu::apic_id_of(n).unwrap_or(n),
                flags.trim_end()
            )
        })
        .collect()
}

/// /proc/stat: each CPU's time split into user (the time it ran threads: the
/// kernel's share is not told apart) and idle, in USER_HZ (100 Hz) ticks; the `cpu`
/// line sums them.
fn cpu_stat() -> String {
    const NS_PER_TICK: u64 = 10_000_000;
    let up = crate::time::monotonic_ns();
    let cpus = crate::sched::cpus();
    let busy: Vec<u64> = (0..cpus)
        .map(|c| crate::sched::cpu_busy_ns(c).min(up))
        .collect();
    let line = |name: &str, busy: u64, up: u64| {
        format!(
            "{name} {} 0 0 {} 0 0 0 0 0 0\n",
            busy / NS_PER_TICK,
            (up - busy) / NS_PER_TICK
        )
    };
    let mut text = line("cpu ", busy.iter().sum(), up * cpus as u64);
    for (c, &b) in busy.iter().enumerate() {
        text += &line(&format!("cpu{c}"), b, up);
    }
    let boot = (crate::time::realtime_ns() - up) / 1_000_000_000;
    let procs = crate::process::running().count();
    text + &format!(
        "intr 0\nctxt 0\nbtime {boot}\nprocesses {procs}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
    )
}

/// /proc/self/mountinfo: one line per mount, as Linux writes them (what `df` and
/// libmount read).
fn mountinfo() -> String {
    let vfs = super::vfs();
    let mut s = String::new();
    for (i, (path, fstype)) in vfs.mounts().into_iter().enumerate() {
        let dev = vfs.lookup(&vfs.root(), &path).map_or(0, |n| n.stat().dev);
        let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & !0xff));
        let p = String::from_utf8_lossy(&path);
        let parent = if i == 0 { 1 } else { 20 };
        s += &format!(
            "{} {parent} {major}:{minor} / {p} rw,relatime shared:{} - {fstype} {fstype} rw\n",
            20 + i,
            i + 1
        );
    }
    s
}

fn meminfo() -> String {
    let (free, total) = crate::mm::frames::stats();
    let (total_kb, free_kb) = (total * 4, free * 4);
    format!(
        "MemTotal:       {total_kb:8} kB\nMemFree:        {free_kb:8} kB\nMemAvailable:   {free_kb:8} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
    )
}

/// The running process's state letter (R, T when stopped, Z for a zombie), parent,
/// group and session.
fn identity() -> (char, u32, u32, u32) {
    use core::sync::atomic::Ordering;
    let p = crate::process::current();
    (
        if !p.is_running() {
            'Z'
        } else if p.signals.stopped().is_some() {
            'T'
        } else {
            'R'
        },
        p.ppid.load(Ordering::Relaxed),
        p.pgid.load(Ordering::Relaxed),
        p.sid.load(Ordering::Relaxed),
    )
}

/// Runs `f` as process `pid` (its address space and state), `None` when there is no
/// such process.
fn in_process<R>(pid: Pid, f: impl FnOnce() -> R) -> Option<R> {
    let p = crate::process::find(pid)?;
    Some(crate::process::fork::in_process(p, f))
}

/// The open file a `/proc/PID/fd/N` link stands for, if `node` is one (Linux's "magic
/// links": opening one opens that file again, whatever its link text says).
pub fn fd_link_target(node: &InodeRef) -> Option<Arc<crate::fd::OpenFile>> {
    let n = node.as_any().downcast_ref::<ProcNode>()?;
    match n.kind {
        Kind::Fd(p, fd) => in_process(p, || crate::fd::get(fd).ok()).flatten(),
        _ => None,
    }
}

/// The process a `/proc/PID` directory stands for, if `node` is one (Linux takes an
/// open one as a pidfd in pidfd_send_signal).
pub fn pid_dir_of(node: &InodeRef) -> Option<Pid> {
    match node.as_any().downcast_ref::<ProcNode>()?.kind {
        Kind::PidDir(p) => Some(p),
        _ => None,
    }
}

/// The running program's pid, as /proc names its directory.
fn own_pid() -> String {
    format!("{}", crate::process::current().pid())
}
