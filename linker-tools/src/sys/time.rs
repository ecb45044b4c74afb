//! The time calls — `clock_gettime`, `gettimeofday`, `time`, `getcpu` — through the
//! vDSO when it exports them, through the system call otherwise.
//!
//! # How a call is routed
//!
//! Each call has one slot: an atomic pointer to the function it calls. A slot starts
//! at a *first-call trampoline* that asks the [`VdsoResolver`] for the vDSO function
//! (`__vdso_clock_gettime@LINUX_2.6`, ...), stores it — or, when the vDSO lacks it, the
//! system-call fallback of the same signature — and finishes the call through it.
//! From then on a call is one relaxed load and one indirect call: no lock, no branch on
//! the slot's state. Relaxed suffices because a slot's value is a code address in the
//! vDSO or in this crate, mapped before `main` and never unmapped; no other data is
//! published with it.
//!
//! vDSO functions return `0` or `-errno`, as the kernel does. A clock the vDSO rejects
//! with `ENOSYS` or `EINVAL` is asked again of the system call (on x86_64 the vDSO
//! already does that itself for the clocks it does not serve, so the errno is always
//! the kernel's own).
//!
//! # Where the vDSO functions come from
//!
//! From the core's own lookup, [`sys::vdso`](super::vdso): an allocation-free,
//! lock-free walk of the vDSO image's hash and version tables. `sys` depends on
//! nothing else in the workspace. [`set_vdso_routing`] can turn the vDSO off or name
//! another [`VdsoResolver`].
//!
//! Routing a call the first time allocates nothing, takes no lock and makes no system
//! call, so the first call of each function may come from a signal handler.
//! ([`set_vdso_routing`] itself serializes its writers with a lock and is not
//! async-signal-safe.)
//!
//! # Safety
//!
//! A slot only ever holds one of three functions, each with the slot's C signature:
//! the trampoline and the system-call fallback of this module, or an address a
//! [`VdsoResolver`] vouched for (its constructor is `unsafe` and states that
//! contract). Every transmute of a loaded slot back to its signature relies on that.

use std::ffi::{c_int, c_long, c_void};
use std::ptr::{self, NonNull};
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};

use super::calls::unchecked;
use super::types::{ClockId, Timespec, Timeval};
use super::{Errno, decode, vdso};

/// What `getcpu(2)` reports: the CPU the calling thread ran on and its NUMA node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct CpuNode {
    /// The CPU number.
    pub cpu: u32,
    /// The NUMA node of that CPU.
    pub node: u32,
}

/// One of the time calls that can go through the vDSO.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TimeCall {
    /// [`clock_gettime`].
    ClockGettime,
    /// [`gettimeofday`].
    Gettimeofday,
    /// [`time()`](time).
    Time,
    /// [`getcpu`].
    Getcpu,
}

impl TimeCall {
    /// Every routed call.
    pub const ALL: [TimeCall; 4] = [
        TimeCall::ClockGettime,
        TimeCall::Gettimeofday,
        TimeCall::Time,
        TimeCall::Getcpu,
    ];

    /// The vDSO symbol that serves it (`__vdso_clock_gettime`, ...).
    pub const fn vdso_symbol(self) -> &'static str {
        match self {
            TimeCall::ClockGettime => "__vdso_clock_gettime",
            TimeCall::Gettimeofday => "__vdso_gettimeofday",
            TimeCall::Time => "__vdso_time",
            TimeCall::Getcpu => "__vdso_getcpu",
        }
    }

    /// The symbol version of the x86_64 vDSO's exports.
    pub const VDSO_VERSION: &'static str = "LINUX_2.6";

    fn slot(self) -> &'static Slot {
        &SLOTS[self as usize]
    }

    /// The function the slot holds before its first call.
    fn trampoline(self) -> *mut () {
        match self {
            TimeCall::ClockGettime => first_clock_gettime as ClockGettimeFn as *mut (),
            TimeCall::Gettimeofday => first_gettimeofday as GettimeofdayFn as *mut (),
            TimeCall::Time => first_time as TimeFn as *mut (),
            TimeCall::Getcpu => first_getcpu as GetcpuFn as *mut (),
        }
    }

    /// The system-call fallback, with the vDSO function's signature.
    fn fallback(self) -> *mut () {
        match self {
            TimeCall::ClockGettime => syscall_clock_gettime as ClockGettimeFn as *mut (),
            TimeCall::Gettimeofday => syscall_gettimeofday as GettimeofdayFn as *mut (),
            TimeCall::Time => syscall_time as TimeFn as *mut (),
            TimeCall::Getcpu => syscall_getcpu as GetcpuFn as *mut (),
        }
    }
}

/// Where a time call currently goes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TimeSource {
    /// The vDSO function: no system call.
    Vdso,
    /// The system call.
    Syscall,
}

/// Finds a vDSO function: given a symbol name and version, its runtime address.
///
/// Built with the `unsafe` [`VdsoResolver::new`], whose caller vouches for the
/// addresses it returns.
#[derive(Clone, Copy, Debug)]
pub struct VdsoResolver(LookupFn);

impl VdsoResolver {
    /// Wraps a lookup function.
    ///
    /// # Safety
    ///
    /// For every (name, version) of [`TimeCall::vdso_symbol`] and
    /// [`TimeCall::VDSO_VERSION`], `lookup` must return `None` or the address of a
    /// function with that vDSO symbol's C signature and the kernel's contract (`0` or
    /// `-errno`), callable from any thread for the rest of the process:
    ///
    /// ```text
    /// int  __vdso_clock_gettime(clockid_t, struct __kernel_timespec *);
    /// int  __vdso_gettimeofday(struct __kernel_old_timeval *, struct timezone *);
    /// long __vdso_time(__kernel_old_time_t *);
    /// long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused);
    /// ```
    pub const unsafe fn new(
        lookup: fn(name: &str, version: &str) -> Option<NonNull<c_void>>,
    ) -> Self {
        VdsoResolver(lookup)
    }
}

/// Where the time calls get their vDSO functions; see [`set_vdso_routing`].
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub enum VdsoRouting {
    /// The process's own vDSO, found by [`sys::vdso`](super::vdso) (the default).
    #[default]
    Default,
    /// No vDSO: every time call is a system call.
    Syscall,
    /// Functions found by this resolver.
    Resolver(VdsoResolver),
}

/// Chooses where the time calls get their vDSO functions, and forgets what they found
/// so far: the next call of each asks again.
///
/// Calls already running when this returns may finish through the old routing; every
/// later call uses the new one.
///
/// ```
/// use linker_tools::sys::{self, TimeCall, TimeSource, VdsoRouting};
/// sys::set_vdso_routing(VdsoRouting::Syscall);
/// assert_eq!(sys::time_source(TimeCall::ClockGettime), TimeSource::Syscall);
/// sys::set_vdso_routing(VdsoRouting::Default);
/// assert_eq!(sys::time_source(TimeCall::ClockGettime), TimeSource::Vdso);
/// ```
pub fn set_vdso_routing(routing: VdsoRouting) {
    let _writer = WRITER.lock().unwrap_or_else(|p| p.into_inner());
    // Odd while the routing changes: a first call meanwhile stores nothing.
    GENERATION.fetch_add(1, SeqCst);
    let (mode, resolver) = match routing {
        VdsoRouting::Default => (MODE_DEFAULT, ptr::null_mut()),
        VdsoRouting::Syscall => (MODE_SYSCALL, ptr::null_mut()),
        VdsoRouting::Resolver(r) => (MODE_RESOLVER, r.0 as *mut ()),
    };
    RESOLVER.store(resolver, SeqCst);
    MODE.store(mode, SeqCst);
    for call in TimeCall::ALL {
        let slot = call.slot();
        slot.f.store(call.trampoline(), SeqCst);
        slot.source.store(UNKNOWN, SeqCst);
    }
    GENERATION.fetch_add(1, SeqCst);
}

/// Where `call` goes: the vDSO or the system call (looked up now if it was not yet).
pub fn time_source(call: TimeCall) -> TimeSource {
    if call.slot().f.load(SeqCst) == call.trampoline() {
        route(call);
    }
    match call.slot().source.load(Relaxed) {
        VDSO => TimeSource::Vdso,
        _ => TimeSource::Syscall,
    }
}

type ClockGettimeFn = unsafe extern "C" fn(c_int, *mut Timespec) -> c_int;
type GettimeofdayFn = unsafe extern "C" fn(*mut Timeval, *mut c_void) -> c_int;
type TimeFn = unsafe extern "C" fn(*mut i64) -> c_long;
type GetcpuFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut c_void) -> c_long;

const UNKNOWN: u8 = 0;
const SYSCALL: u8 = 1;
const VDSO: u8 = 2;

struct Slot {
    /// The function the call goes to (see the module's `# Safety`).
    f: AtomicPtr<()>,
    /// `UNKNOWN`, `SYSCALL` or `VDSO`: for [`time_source`] and the error path only.
    source: AtomicU8,
}

/// Indexed by `TimeCall as usize`.
static SLOTS: [Slot; 4] = [
    Slot {
        f: AtomicPtr::new(first_clock_gettime as ClockGettimeFn as *mut ()),
        source: AtomicU8::new(UNKNOWN),
    },
    Slot {
        f: AtomicPtr::new(first_gettimeofday as GettimeofdayFn as *mut ()),
        source: AtomicU8::new(UNKNOWN),
    },
    Slot {
        f: AtomicPtr::new(first_time as TimeFn as *mut ()),
        source: AtomicU8::new(UNKNOWN),
    },
    Slot {
        f: AtomicPtr::new(first_getcpu as GetcpuFn as *mut ()),
        source: AtomicU8::new(UNKNOWN),
    },
];

/// The routing chosen with [`set_vdso_routing`]: a mode and, for `MODE_RESOLVER`, the
/// resolver's lookup function.
static MODE: AtomicU8 = AtomicU8::new(MODE_DEFAULT);
static RESOLVER: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());
const MODE_DEFAULT: u8 = 0;
const MODE_SYSCALL: u8 = 1;
const MODE_RESOLVER: u8 = 2;
/// Bumped twice by every [`set_vdso_routing`] (odd while it runs), so that a first
/// call that raced with it never leaves behind what the old routing found.
static GENERATION: AtomicUsize = AtomicUsize::new(0);
/// Serializes the writers of the routing (never taken by a call).
static WRITER: Mutex<()> = Mutex::new(());

/// A vDSO lookup: symbol name and version to address.
type LookupFn = fn(&str, &str) -> Option<NonNull<c_void>>;

/// The lookup of the routing in force: `None` for no vDSO.
fn lookup_for(mode: u8, resolver: *mut ()) -> Option<LookupFn> {
    match mode {
        MODE_SYSCALL => None,
        MODE_RESOLVER if !resolver.is_null() => {
            // SAFETY: RESOLVER holds only the lookup of a `VdsoResolver` (stored by
            // `set_vdso_routing` from `r.0`), a `fn(&str, &str) -> Option<NonNull<c_void>>`.
            Some(unsafe { std::mem::transmute::<*mut (), LookupFn>(resolver) })
        }
        _ => Some(vdso::function),
    }
}

/// Fills `call`'s slot if it still holds the trampoline; returns the function to call.
///
/// Lock-free and allocation-free: the lookup is the core's own (or the resolver the
/// user installed), and the slot is published with one compare-and-swap. If the
/// routing changes meanwhile, the slot goes back to the trampoline and this call is
/// answered through what it found, as a call already running may be.
#[cold]
#[inline(never)]
fn route(call: TimeCall) -> *mut () {
    let slot = call.slot();
    let trampoline = call.trampoline();
    let generation = GENERATION.load(SeqCst);
    if generation % 2 == 1 {
        // The routing is being changed right now: answer through the system call
        // and leave the slot for a later call to fill.
        return call.fallback();
    }
    let lookup = lookup_for(MODE.load(SeqCst), RESOLVER.load(SeqCst));
    let found = lookup.and_then(|f| f(call.vdso_symbol(), TimeCall::VDSO_VERSION));
    let (f, source) = match found {
        Some(addr) => (addr.as_ptr().cast::<()>(), VDSO),
        None => (call.fallback(), SYSCALL),
    };
    if GENERATION.load(SeqCst) != generation {
        return f;
    }
    match slot.f.compare_exchange(trampoline, f, SeqCst, SeqCst) {
        Ok(_) => {
            slot.source.store(source, SeqCst);
            if GENERATION.load(SeqCst) != generation {
                // Routed with the old routing after `set_vdso_routing` reset the slot:
                // put the trampoline back so the next call asks the new routing.
                if slot
                    .f
                    .compare_exchange(f, trampoline, SeqCst, SeqCst)
                    .is_ok()
                {
                    slot.source.store(UNKNOWN, SeqCst);
                }
            }
            f
        }
        // Another thread filled the slot first: use what it stored.
        Err(current) if current != trampoline => current,
        Err(_) => f,
    }
}

/// A slot's value as its function type.
macro_rules! as_fn {
    ($f:expr, $ty:ty) => {{
        let f: *mut () = $f;
        // SAFETY: slots hold only functions of their call's signature (module `# Safety`).
        unsafe { std::mem::transmute::<*mut (), $ty>(f) }
    }};
}

/// Loads a slot as its function type: the hot path's one relaxed load.
macro_rules! load {
    ($call:expr, $ty:ty) => {
        as_fn!($call.slot().f.load(Relaxed), $ty)
    };
}

/// Reads one field the vDSO just stored, with a load of its own width.
///
/// Copying the whole struct lets the compiler merge the fields into one wide load that
/// spans the vDSO's two narrower stores; the CPU cannot forward such a load from its
/// store buffer and stalls until the stores retire (about 5 ns, a fifth of a
/// `clock_gettime`, measured with `benches/vdso.rs`). A volatile read is never merged.
#[inline(always)]
fn fresh<T: Copy>(field: &T) -> T {
    // SAFETY: a reference is valid and aligned for reads of `T`.
    unsafe { ptr::read_volatile(field) }
}

/// A vDSO-style result (`0` or `-errno`) as `Result`.
#[inline(always)]
fn check(r: c_long) -> Result<(), Errno> {
    decode(r as isize as usize).map(drop)
}

/// Whether a vDSO failure should be asked again of the system call.
#[cold]
#[inline(never)]
fn retry_with_syscall(call: TimeCall, err: Errno) -> bool {
    (err == Errno::ENOSYS || (err == Errno::EINVAL && call == TimeCall::ClockGettime))
        && call.slot().source.load(Relaxed) == VDSO
}

/// `clock_gettime(2)`: the current time of `clock`, through the vDSO when it has
/// `__vdso_clock_gettime` (no system call for the clocks it serves).
///
/// Errors: `EINVAL` for a clock the kernel does not know.
///
/// ```
/// use linker_tools::sys::{self, ClockId};
/// let a = sys::clock_gettime(ClockId::MONOTONIC)?;
/// let b = sys::clock_gettime(ClockId::MONOTONIC)?;
/// assert!(a <= b);
/// assert_eq!(sys::clock_gettime(ClockId::from_raw(100)), Err(sys::Errno::EINVAL));
/// # Ok::<(), sys::Errno>(())
/// ```
///
/// See `clock_gettime(2)`, `vdso(7)`.
#[inline]
pub fn clock_gettime(clock: ClockId) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    let f = load!(TimeCall::ClockGettime, ClockGettimeFn);
    // SAFETY: `ts` is a valid, writable Timespec.
    let r = unsafe { f(clock.as_raw(), &mut ts) };
    if r == 0 {
        return Ok(Timespec {
            tv_sec: fresh(&ts.tv_sec),
            tv_nsec: fresh(&ts.tv_nsec),
        });
    }
    clock_gettime_failed(clock, r)
}

#[cold]
#[inline(never)]
fn clock_gettime_failed(clock: ClockId, r: c_int) -> Result<Timespec, Errno> {
    let err = check(r.into()).err().unwrap_or(Errno::EINVAL);
    if !retry_with_syscall(TimeCall::ClockGettime, err) {
        return Err(err);
    }
    let mut ts = Timespec::default();
    // SAFETY: `ts` is a valid, writable Timespec.
    unsafe { unchecked::clock_gettime(clock, &mut ts)? };
    Ok(ts)
}

/// `gettimeofday(2)`: the wall-clock time in microseconds, through the vDSO when it has
/// `__vdso_gettimeofday`. The obsolete time-zone argument is always null.
///
/// See `gettimeofday(2)`, `vdso(7)`.
#[inline]
pub fn gettimeofday() -> Result<Timeval, Errno> {
    let mut tv = Timeval::default();
    let f = load!(TimeCall::Gettimeofday, GettimeofdayFn);
    // SAFETY: `tv` is a valid, writable Timeval; a null time zone is allowed.
    let r = unsafe { f(&mut tv, ptr::null_mut()) };
    if r == 0 {
        return Ok(Timeval {
            tv_sec: fresh(&tv.tv_sec),
            tv_usec: fresh(&tv.tv_usec),
        });
    }
    gettimeofday_failed(r)
}

#[cold]
#[inline(never)]
fn gettimeofday_failed(r: c_int) -> Result<Timeval, Errno> {
    let err = check(r.into()).err().unwrap_or(Errno::EINVAL);
    if !retry_with_syscall(TimeCall::Gettimeofday, err) {
        return Err(err);
    }
    let mut tv = Timeval::default();
    // SAFETY: `tv` is a valid, writable Timeval; a null time zone is allowed.
    unsafe { unchecked::gettimeofday(&mut tv, ptr::null_mut())? };
    Ok(tv)
}

/// `time(2)`: whole seconds since the Epoch, through the vDSO when it has
/// `__vdso_time`. Cannot fail.
///
/// See `time(2)`, `vdso(7)`.
#[inline]
pub fn time() -> i64 {
    let f = load!(TimeCall::Time, TimeFn);
    // SAFETY: a null pointer asks only for the return value.
    unsafe { f(ptr::null_mut()) }
}

/// `getcpu(2)`: the CPU the calling thread is running on and its NUMA node, through
/// the vDSO when it has `__vdso_getcpu`. The answer may be stale as soon as it is
/// returned, unless the thread is pinned to one CPU.
///
/// See `getcpu(2)`, `sched_getcpu(3)`.
#[doc(alias = "sched_getcpu")]
#[inline]
pub fn getcpu() -> Result<CpuNode, Errno> {
    let mut out = CpuNode::default();
    let f = load!(TimeCall::Getcpu, GetcpuFn);
    // SAFETY: both pointers are valid, writable u32s; the cache argument is unused.
    let r = unsafe { f(&mut out.cpu, &mut out.node, ptr::null_mut()) };
    if r == 0 {
        return Ok(CpuNode {
            cpu: fresh(&out.cpu),
            node: fresh(&out.node),
        });
    }
    getcpu_failed(r)
}

#[cold]
#[inline(never)]
fn getcpu_failed(r: c_long) -> Result<CpuNode, Errno> {
    let err = check(r).err().unwrap_or(Errno::EINVAL);
    if !retry_with_syscall(TimeCall::Getcpu, err) {
        return Err(err);
    }
    let mut out = CpuNode::default();
    // SAFETY: both pointers are valid, writable u32s; the cache argument is unused.
    unsafe { unchecked::getcpu(&mut out.cpu, &mut out.node, ptr::null_mut())? };
    Ok(out)
}

/// `0` or `-errno`, as the vDSO returns.
fn status(r: Result<(), Errno>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => -e.raw(),
    }
}

// The system-call fallbacks, shaped like the vDSO functions they replace.

unsafe extern "C" fn syscall_clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int {
    // SAFETY: the callers (the public functions of this module) pass a writable Timespec.
    status(unsafe { unchecked::clock_gettime(ClockId::from_raw(clock), ts) })
}

unsafe extern "C" fn syscall_gettimeofday(tv: *mut Timeval, tz: *mut c_void) -> c_int {
    // SAFETY: the callers pass a writable Timeval and a null time zone.
    status(unsafe { unchecked::gettimeofday(tv, tz) })
}

unsafe extern "C" fn syscall_time(t: *mut i64) -> c_long {
    // SAFETY: the callers pass null or a writable i64.
    match unsafe { unchecked::time(t) } {
        // `time_t` is signed: the register's bits are the value.
        Ok(secs) => secs as c_long,
        Err(e) => -c_long::from(e.raw()),
    }
}

unsafe extern "C" fn syscall_getcpu(cpu: *mut u32, node: *mut u32, cache: *mut c_void) -> c_long {
    // SAFETY: the callers pass writable u32s (or null) and an unused cache pointer.
    status(unsafe { unchecked::getcpu(cpu, node, cache) }).into()
}

// The first-call trampolines: fill the slot, then call what it now holds.

unsafe extern "C" fn first_clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int {
    let f = as_fn!(route(TimeCall::ClockGettime), ClockGettimeFn);
    // SAFETY: forwarded from our caller, which passed the arguments for this signature.
    unsafe { f(clock, ts) }
}

unsafe extern "C" fn first_gettimeofday(tv: *mut Timeval, tz: *mut c_void) -> c_int {
    let f = as_fn!(route(TimeCall::Gettimeofday), GettimeofdayFn);
    // SAFETY: forwarded from our caller.
    unsafe { f(tv, tz) }
}

unsafe extern "C" fn first_time(t: *mut i64) -> c_long {
    let f = as_fn!(route(TimeCall::Time), TimeFn);
    // SAFETY: forwarded from our caller.
    unsafe { f(t) }
}

unsafe extern "C" fn first_getcpu(cpu: *mut u32, node: *mut u32, cache: *mut c_void) -> c_long {
    let f = as_fn!(route(TimeCall::Getcpu), GetcpuFn);
    // SAFETY: forwarded from our caller.
    unsafe { f(cpu, node, cache) }
}
