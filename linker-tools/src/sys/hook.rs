//! The observer hook: see every blocking system call made through the core.
//!
//! Go's `syscall.Syscall` tells the runtime scheduler when a goroutine enters and
//! leaves the kernel (`entersyscall`/`exitsyscall`), while `RawSyscall` does not. The
//! same split exists here: wrappers declared with [`sys!`](crate::sys!) (blocking
//! calls) run the installed [`Observer`] before and after the call; wrappers declared
//! with [`sysnb!`](crate::sysnb!) (raw calls) never look at it.
//!
//! With no observer installed, the hook costs one relaxed atomic load and a
//! predicted branch. With one installed, the observer's [`enter`](Observer::enter) and
//! [`exit`](Observer::exit) run on the calling thread, around the call; `exit` gets the
//! result and the time the call took.
//!
//! An observer that itself makes blocking calls through the core does not observe
//! them (no recursion): while an observer callback runs on a thread, that thread's
//! calls skip the hook.
//!
//! ```
//! use linker_tools::sys::{self, hook::{self, Call, Observer}};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::Duration;
//!
//! struct Count(AtomicUsize);
//! impl Observer for Count {
//!     fn exit(&self, _call: &Call<'_>, _result: Result<usize, sys::Errno>, _took: Duration) {
//!         self.0.fetch_add(1, Ordering::Relaxed);
//!     }
//! }
//! static COUNT: Count = Count(AtomicUsize::new(0));
//!
//! hook::set_observer(&COUNT);
//! let (r, _w) = sys::pipe2(sys::OFlags::CLOEXEC).unwrap(); // pipe2: blocking flavour, observed
//! sys::close(r).unwrap();                                  // observed
//! let _ = sys::getpid();                                   // raw flavour: never observed
//! hook::clear_observer();
//! assert!(COUNT.0.load(Ordering::Relaxed) >= 2);
//! ```

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicPtr, Ordering, fence};
use std::time::{Duration, Instant};

use super::{Errno, Nr};

/// A system call about to be made, or just made, by a blocking wrapper.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Call<'a> {
    /// The system call number: a [`Sysno`](super::Sysno) of our table (`call.nr.sysno()`)
    /// or, for a wrapper declared by number, any number.
    pub nr: Nr,
    /// The argument registers in order (`rdi, rsi, rdx, r10, r8, r9`), as many as the
    /// call takes.
    pub args: &'a [usize],
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.nr)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a:#x}")?;
        }
        f.write_str(")")
    }
}

/// Receives every blocking system call made through the core.
///
/// Both methods run on the thread making the call; they must be cheap and must not
/// panic (a panic unwinds out of the wrapper). Calls the observer makes itself through
/// the core are not observed.
pub trait Observer: Send + Sync {
    /// Runs just before the call enters the kernel.
    fn enter(&self, call: &Call<'_>) {
        let _ = call;
    }

    /// Runs just after the call returns, with its decoded result and the wall-clock
    /// time it took (measured only while an observer is installed).
    fn exit(&self, call: &Call<'_>, result: Result<usize, Errno>, took: Duration) {
        let _ = (call, result, took);
    }
}

/// The installed observer: null, or a leaked `Box<&'static dyn Observer>`.
static OBSERVER: AtomicPtr<&'static dyn Observer> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// Set while an observer callback runs on this thread.
    static IN_OBSERVER: Cell<bool> = const { Cell::new(false) };
}

/// Installs `observer` for every thread and returns the one it replaces.
///
/// Calls already inside their hooks finish with the observer they started with.
/// Each installation leaks one pointer-sized box (16 bytes), so that a concurrent call
/// can never see a freed observer; install observers once, not in a loop.
pub fn set_observer(observer: &'static dyn Observer) -> Option<&'static dyn Observer> {
    let new = Box::into_raw(Box::new(observer));
    let old = OBSERVER.swap(new, Ordering::AcqRel);
    // SAFETY: a non-null value was stored by this function from `Box::into_raw` and is
    // never freed, so it is valid for reads forever.
    unsafe { old.as_ref().copied() }
}

/// Removes the installed observer, if any, and returns it.
pub fn clear_observer() -> Option<&'static dyn Observer> {
    let old = OBSERVER.swap(std::ptr::null_mut(), Ordering::AcqRel);
    // SAFETY: as in `set_observer`: non-null values are leaked boxes, never freed.
    unsafe { old.as_ref().copied() }
}

/// The installed observer, if any.
pub fn observer() -> Option<&'static dyn Observer> {
    let p = OBSERVER.load(Ordering::Acquire);
    // SAFETY: as in `set_observer`: non-null values are leaked boxes, never freed.
    unsafe { p.as_ref().copied() }
}

/// Runs the system call `call` (Go's `Syscall`): the observer's hooks around it if one
/// is installed, nothing else if not.
///
/// `args` are the argument registers for the observer; `call` makes the system call
/// itself. The wrappers [`sys!`](crate::sys!) declares do not call this function:
/// they test [`installed`] themselves so that, with no observer, not even the
/// argument array is built.
#[inline(always)]
pub fn observe<F>(nr: impl Into<Nr>, args: &[usize], call: F) -> Result<usize, Errno>
where
    F: FnOnce() -> Result<usize, Errno>,
{
    match installed() {
        None => call(),
        Some(observer) => observe_with(observer, nr.into(), args, call),
    }
}

/// The observer slot as one relaxed load: `None` when no observer is installed.
///
/// This is the whole cost of the hook on the fast path. Pass a `Some` on to
/// [`observe_with`].
#[inline(always)]
pub fn installed() -> Option<Installed> {
    let p = OBSERVER.load(Ordering::Relaxed);
    if p.is_null() {
        None
    } else {
        Some(Installed(p))
    }
}

/// An observer found installed by [`installed`]; opaque.
#[derive(Clone, Copy)]
pub struct Installed(*mut &'static dyn Observer);

/// The slow path of [`observe`]: runs `call` between the hooks of the observer that
/// [`installed`] found.
#[cold]
#[inline(never)]
pub fn observe_with<F>(
    installed: Installed,
    nr: Nr,
    args: &[usize],
    call: F,
) -> Result<usize, Errno>
where
    F: FnOnce() -> Result<usize, Errno>,
{
    // Pairs with the release half of the swap in `set_observer`, so the observer the
    // pointer leads to is fully visible.
    fence(Ordering::Acquire);
    // SAFETY: `Installed` only holds a non-null value read from `OBSERVER`, which is a
    // box leaked by `set_observer` and never freed.
    let obs: &'static dyn Observer = unsafe { *installed.0 };
    if IN_OBSERVER.with(Cell::get) {
        return call();
    }
    let info = Call { nr, args };
    with_guard(|| obs.enter(&info));
    let start = Instant::now();
    let result = call();
    let took = start.elapsed();
    with_guard(|| obs.exit(&info, result, took));
    result
}

fn with_guard(f: impl FnOnce()) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_OBSERVER.with(|c| c.set(false));
        }
    }
    IN_OBSERVER.with(|c| c.set(true));
    let _reset = Reset;
    f();
}
