//! Deadlines: one queue, ordered by time (`rumprun_deadline::Queue`, kept in the
//! scheduler's state under its lock), of everything the CPU must wake for. A blocked
//! thread's deadline is its wait's (`sched::block`: sleeps, timed futex waits, and the
//! timerfd, pipe and socket waits of `fd::wait`); the timers of the layers above
//! (interval timers, POSIX timers, the network cards' kick batching) are each a
//! [`Timer`], a `static` of that layer, which it arms with its earliest deadline
//! whenever that changes. The scheduler arms the CPU's timer for the queue's earliest
//! deadline, and when a timer's comes it calls the timer's `expire`, which fires what
//! is due and says when the timer is due next. Nothing walks the threads or asks every
//! timer on a switch: with nothing armed, a look at the queue's first entry is all.
//!
//! A timer may leave its entry earlier than needed (a timer disarmed, a program
//! ended): that costs one early `expire`, which finds nothing due and says when it is
//! next due. What it must not do is move its deadline earlier without arming again.
//! (A CPU-time timer is its program's, armed while it runs: `Owner::cpu_deadline`.)

use super::Tid;

/// A kind of timer the CPU must wake for (a `static`; its address is its key).
pub struct Timer {
    /// Fires what is due at `now` (monotonic ns) and returns when this kind of timer
    /// is next due, if any is armed. Called with no scheduler lock held: firing may
    /// wake threads.
    expire: fn(now: u64) -> Option<u64>,
}

impl Timer {
    pub const fn new(expire: fn(now: u64) -> Option<u64>) -> Self {
        Timer { expire }
    }

    /// Sets when this timer is next due (`None`: nothing armed), and re-arms this CPU's
    /// timer. Called with no scheduler lock held.
    pub fn arm(&'static self, at: Option<u64>) {
        super::set_deadline(Due::Timer(TimerRef(self)), at);
    }

    pub(super) fn expire(&self, now: u64) -> Option<u64> {
        (self.expire)(now)
    }
}

/// A `Timer` compared by its address.
#[derive(Clone, Copy)]
pub(super) struct TimerRef(pub(super) &'static Timer);

impl TimerRef {
    fn addr(self) -> usize {
        core::ptr::from_ref(self.0) as usize
    }
}

impl PartialEq for TimerRef {
    fn eq(&self, other: &Self) -> bool {
        self.addr() == other.addr()
    }
}

impl Eq for TimerRef {}

impl PartialOrd for TimerRef {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TimerRef {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.addr().cmp(&other.addr())
    }
}

/// What a deadline in the queue belongs to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Due {
    /// A blocked thread's wait times out.
    Wait(Tid),
    /// A timer of a layer above.
    Timer(TimerRef),
}

/// The queue's type.
pub(super) type Queue = rumprun_deadline::Queue<Due>;
