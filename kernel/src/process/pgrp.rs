//! Process groups as job control sees them (POSIX, `man 7 credentials`, Linux's
//! `will_become_orphaned_pgrp` and `kill_orphaned_pgrp`): the members of a group,
//! whether a group is *orphaned* (no member has a parent in another group of the same
//! session, the parent a job-control shell would be), signals to a whole group, and
//! the rule that a group left orphaned while a member is stopped gets SIGHUP and then
//! SIGCONT (nothing else could ever continue it).
//!
//! Two rumprun specifics: a program started by the rc list (no parent) counts as held
//! by the launcher, as a program a shell starts is held by the shell (so that its own
//! group is not orphaned and SIGTSTP stops it, as on Linux from a shell); a process
//! adopted by pid 1 after its parent ended does not count pid 1 as its group's holder
//! (Linux's rule for init: pid 1 here is an ordinary program, but an orphan's new
//! parent is no job-control shell).

use super::{all, find, Process};
use crate::signal::{self, SigInfo};
use core::sync::atomic::Ordering;

/// The processes of group `pgid` that have not ended.
fn members(pgid: u32) -> impl Iterator<Item = &'static Process> {
    all().filter(move |q| q.is_running() && q.pgid.load(Ordering::Relaxed) == pgid)
}

/// True when `q` keeps its group from being orphaned: its parent (or the launcher,
/// for an rc program) is in another group of its session.
fn holds_group(q: &Process) -> bool {
    let ppid = q.ppid.load(Ordering::Relaxed);
    if ppid == 0 {
        return q.from_rc.load(Ordering::Relaxed);
    }
    if q.adopted.load(Ordering::Relaxed) {
        return false;
    }
    find(ppid).filter(|p| p.is_running()).is_some_and(|p| {
        p.pgid.load(Ordering::Relaxed) != q.pgid.load(Ordering::Relaxed)
            && p.sid.load(Ordering::Relaxed) == q.sid.load(Ordering::Relaxed)
    })
}

/// True when process group `pgid` is orphaned (every running member's parent is in
/// the group itself or in another session).
pub fn is_orphaned(pgid: u32) -> bool {
    !members(pgid).any(holds_group)
}

/// True when a member of group `pgid` is stopped.
fn has_stopped(pgid: u32) -> bool {
    members(pgid).any(|q| q.signals.stopped().is_some())
}

/// Sends `sig` from the kernel to every running member of group `pgid`.
pub fn send(pgid: u32, sig: i32) {
    for q in members(pgid) {
        signal::state::send_to(
            q,
            SigInfo {
                signo: sig,
                code: signal::SI_KERNEL,
                ..SigInfo::default()
            },
        );
    }
}

/// `gone` has ended (it is no longer running) and its `children` have been given to
/// their new parent; `parent` is its own, if running: each group it held that is orphaned now, with a stopped member,
/// gets SIGHUP and SIGCONT. Those are its own group (when its parent is in another
/// group of its session) and its children's groups (when in its session but not its
/// group).
pub fn process_ended(gone: &Process, parent: Option<&Process>, children: &[&'static Process]) {
    let own = gone.pgid.load(Ordering::Relaxed);
    let sid = gone.sid.load(Ordering::Relaxed);
    let mut groups: alloc::vec::Vec<u32> = alloc::vec::Vec::new();
    let held_own = !gone.adopted.load(Ordering::Relaxed)
        && match parent {
            Some(p) => {
                p.pgid.load(Ordering::Relaxed) != own && p.sid.load(Ordering::Relaxed) == sid
            }
            None => gone.from_rc.load(Ordering::Relaxed),
        };
    if held_own {
        groups.push(own);
    }
    for q in children.iter().filter(|q| q.is_running()) {
        let g = q.pgid.load(Ordering::Relaxed);
        if g != own && q.sid.load(Ordering::Relaxed) == sid && !groups.contains(&g) {
            groups.push(g);
        }
    }
    for g in groups {
        if has_stopped(g) && is_orphaned(g) {
            send(g, signal::SIGHUP);
            send(g, signal::SIGCONT);
        }
    }
}
