//! Is the other side still there? Three signals, any of which means "gone":
//!
//! 1. its *closed* flag in the header (set when its end drops);
//! 2. its process has exited: a pidfd (`pidfd_open(2)`, opened once when the peer's
//!    pid is first seen) polls readable — zombies included, and immune to pid reuse
//!    from then on; without pidfds (Linux < 5.3), `kill(pid, 0)` says `ESRCH`;
//! 3. the kernel's attach count (`shm_nattch`, from `IPC_STAT`) is below 2: the kernel
//!    detaches a segment from a process that exits or `exec`s, however it dies. This
//!    needs no pid at all, so it also covers a pid the peer lied about or one from
//!    another pid namespace. (A count inflated by forked children that inherited the
//!    attachment only delays this signal; the pidfd still sees the exit.)
//!
//! The pid in the header is peer-written, hence untrusted: a bogus one can at worst
//! make signal 2 blind (an `ESRCH` when first opening the pidfd is ignored; signal 3
//! remains) or, if it names another live process, report the channel gone when that
//! process exits — no more than the peer could do by closing its end.
//!
//! No `unsafe` here: the pidfd is polled with the core's safe `sys::poll` over a
//! slice of `PollFd`s.

use std::os::fd::{AsFd, OwnedFd};

use linker_tools::sys::{self, Errno, Pid, PollFd, PollFlags, Signal};

use super::layout::{OFF_CONSUMER_CLOSED, OFF_OPENER_PID, OFF_PRODUCER_CLOSED};
use super::raw::Region;

linker_tools::sys! {
    /// `membarrier(2)`.
    fn membarrier(cmd: i32, flags: u32, cpu: i32) -> Result<i32> = membarrier;
    /// `pidfd_open(2)`: a descriptor for process `pid`.
    fn pidfd_open(pid: Pid, flags: u32) -> Result<OwnedFd> = pidfd_open;
}

const MEMBARRIER_CMD_QUERY: i32 = 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: i32 = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: i32 = 1 << 4;

/// Asymmetric fences between processes (`membarrier(2)`), decided once per process:
/// `(sleepers may issue the heavy fence, this process registered for it)`.
fn membarrier_state() -> (bool, bool) {
    static STATE: std::sync::OnceLock<(bool, bool)> = std::sync::OnceLock::new();
    *STATE.get_or_init(|| {
        let Ok(mask) = membarrier(MEMBARRIER_CMD_QUERY, 0, 0) else {
            return (false, false);
        };
        let global = mask & MEMBARRIER_CMD_GLOBAL_EXPEDITED != 0;
        let registered = global
            && mask & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED != 0
            && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0).is_ok();
        (global, registered)
    })
}

/// Whether this process's fast paths may use a compiler fence instead of a full one:
/// it is registered, so a sleeping peer's [`heavy_fence`] reaches it.
#[inline]
pub(crate) fn light_fences() -> bool {
    membarrier_state().1
}

/// The sleeper's half of the asymmetric fence: every CPU running a registered process
/// executes a full barrier before this returns (or the plain SeqCst fence if the
/// kernel has no `membarrier`). Always paired with a SeqCst fence by the caller.
pub(crate) fn heavy_fence() {
    if membarrier_state().0 {
        let _ = membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
    }
}

/// What the last check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// Nobody has opened the other end yet.
    NotConnected,
    /// The peer is there.
    Alive,
    /// The peer is gone; the sentence says how.
    Gone(String),
}

/// Watches the other side of one endpoint.
pub(crate) struct Watch {
    /// Whether this side is the producer (the peer is then the consumer).
    producer: bool,
    /// Whether this side created the channel (and so learns the peer's pid late).
    creator: bool,
    connected: bool,
    /// The peer's pid came from this process (`expect`), not from the header.
    expected: bool,
    pid: Option<Pid>,
    pidfd: Option<OwnedFd>,
}

impl Watch {
    /// A watch for the creator, before anyone opened the other end.
    pub(crate) fn for_creator(producer: bool) -> Watch {
        Watch {
            producer,
            creator: true,
            connected: false,
            expected: false,
            pid: None,
            pidfd: None,
        }
    }

    /// The creator knows which process will open the other end (it spawned it): watch
    /// that one, so its death is noticed even before it connects.
    pub(crate) fn expect(&mut self, pid: Pid) {
        if !self.connected && !self.expected {
            self.expected = true;
            self.watch_pid(pid.as_raw());
        }
    }

    /// A watch for the opener, whose peer (the creator) is `pid` as read at open.
    pub(crate) fn for_opener(producer: bool, pid: i32) -> Watch {
        let mut w = Watch {
            producer,
            creator: false,
            connected: true,
            expected: false,
            pid: None,
            pidfd: None,
        };
        w.watch_pid(pid);
        w
    }

    /// The peer's pid, as it declared it (once connected).
    pub(crate) fn pid(&self) -> Option<Pid> {
        self.pid
    }

    /// Whether the peer has said it closed: one load, cheap enough for every call.
    #[inline]
    pub(crate) fn closed(&self, region: &Region) -> bool {
        let off = if self.producer {
            OFF_CONSUMER_CLOSED
        } else {
            OFF_PRODUCER_CLOSED
        };
        region
            .u32_at(off)
            .load(core::sync::atomic::Ordering::Acquire)
            != 0
    }

    fn watch_pid(&mut self, raw: i32) {
        if raw <= 0 {
            return;
        }
        let pid = Pid::from_raw(raw);
        self.pid = Some(pid);
        // ESRCH here may mean "already exited" or "not in our pid namespace": leave
        // the pid signal off and let the attach count decide.
        self.pidfd = pidfd_open(pid, 0).ok();
    }

    /// Whether the watched pid has exited (pidfd readable, or `ESRCH` without one).
    fn exited(&self) -> bool {
        if let Some(fd) = &self.pidfd {
            let mut p = [PollFd::new(fd.as_fd(), PollFlags::IN)];
            // Timeout 0: never blocks.
            matches!(sys::poll(&mut p, 0), Ok(n) if n > 0 && p[0].revents().contains(PollFlags::IN))
        } else if let Some(pid) = self.pid {
            sys::kill(pid, Signal::NONE) == Err(Errno::ESRCH)
        } else {
            false
        }
    }

    /// The full check: flag, process, attach count (two or three system calls).
    pub(crate) fn check(&mut self, region: &Region) -> Liveness {
        let peer = if self.producer { "receiver" } else { "sender" };
        if self.closed(region) {
            return Liveness::Gone(format!("the channel's {peer} closed its end"));
        }
        if !self.connected {
            let pid = region
                .u32_at(OFF_OPENER_PID)
                .load(core::sync::atomic::Ordering::Acquire);
            if pid == 0 {
                if self.expected && self.exited() {
                    let p = self.pid.map(|p| p.as_raw()).unwrap_or(0);
                    return Liveness::Gone(format!(
                        "the process expected to open the channel's {peer} end (pid {p}) \
                         exited before it did"
                    ));
                }
                return Liveness::NotConnected;
            }
            self.connected = true;
            if !self.expected {
                self.watch_pid(pid as i32);
            }
            if self.creator {
                // Both sides are attached now: from here on the kernel destroys the
                // segment when the last one goes, crash or not. (The opener did this
                // already; doing it again covers an opener that did not.)
                let _ = region.attachment().mark_removed();
            }
        }
        let who = match self.pid {
            Some(p) => format!("{peer} (pid {p})"),
            None => peer.to_string(),
        };
        if self.exited() {
            return Liveness::Gone(format!("the channel's {who} exited"));
        }
        if let Ok(info) = region.attachment().stat() {
            if info.nattch < 2 {
                return Liveness::Gone(format!(
                    "the channel's {who} detached from the segment (the kernel counts {} \
                     attachment{}): it exited, was killed or exec'd",
                    info.nattch,
                    if info.nattch == 1 { "" } else { "s" }
                ));
            }
        }
        Liveness::Alive
    }
}
