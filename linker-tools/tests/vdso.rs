//! The time calls routed through the vDSO: they agree with the C library, fail like
//! it, and really make no system call (checked with `strace` on a child process).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::process::Command;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use linker_tools::sys::{self, ClockId, Errno, TimeCall, TimeSource, Timespec, VdsoRouting};
use linker_tools::{process, vdso};

/// Tests that change the routing hold this, and so do those that assert it.
static ROUTING: Mutex<()> = Mutex::new(());

fn routing() -> MutexGuard<'static, ()> {
    ROUTING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Per-process and per-thread CPU clocks, as glibc's `MAKE_PROCESS_CPUCLOCK` builds them.
fn cpu_clock(pid: i32, thread: bool) -> i32 {
    ((!pid) << 3) | 2 | if thread { 4 } else { 0 }
}

/// Every clock id worth asking: the valid ones, unknown ones, CPU clocks.
fn clock_ids() -> Vec<i32> {
    // SAFETY: getpid cannot fail.
    let pid = unsafe { libc::getpid() };
    let mut ids: Vec<i32> = (0..=16).collect();
    ids.extend([
        100,
        i32::MAX,
        -1,
        i32::MIN,
        cpu_clock(0, false),
        cpu_clock(0, true),
        cpu_clock(pid, false),
        cpu_clock(1 << 23, false),
    ]);
    ids
}

fn libc_clock(id: i32) -> Result<Timespec, Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(id, &mut ts) } == 0 {
        Ok(Timespec {
            tv_sec: ts.tv_sec,
            tv_nsec: ts.tv_nsec,
        })
    } else {
        Err(Errno::from_io_error(&std::io::Error::last_os_error()).unwrap())
    }
}

/// Clocks that never go back within one thread: libc, ours, libc must be ordered.
fn ordered(id: i32) -> bool {
    matches!(id, 1 | 2 | 3 | 4 | 6 | 7) || id < 0
}

fn check_every_clock(route: &str) {
    for id in clock_ids() {
        let before = libc_clock(id);
        let ours = sys::clock_gettime(ClockId::from_raw(id));
        let after = libc_clock(id);
        // The alarm clocks (8, 9) depend on an RTC: whatever libc says, we must too.
        assert_eq!(
            ours.map(drop),
            before.map(drop),
            "{route}: clock {id}: ours {ours:?}, libc {before:?}"
        );
        let (Ok(a), Ok(b), Ok(c)) = (before, ours, after) else {
            continue;
        };
        assert!((0..1_000_000_000).contains(&b.tv_nsec), "{route}: {b:?}");
        if ordered(id) {
            assert!(
                a <= b && b <= c,
                "{route}: clock {id} went backwards: {a:?} {b:?} {c:?}"
            );
        } else {
            // Wall clocks can be stepped; they still agree within a second.
            assert!(
                (b.tv_sec - a.tv_sec).abs() <= 1,
                "{route}: clock {id}: {a:?} {b:?}"
            );
        }
    }
}

fn check_gettimeofday_and_time(route: &str) {
    // SAFETY: a null argument asks only for the return value.
    let t0 = unsafe { libc::time(std::ptr::null_mut()) };
    let ours = sys::time();
    // SAFETY: as above.
    let t1 = unsafe { libc::time(std::ptr::null_mut()) };
    assert!(t0 <= ours && ours <= t1, "{route}: time {t0} {ours} {t1}");

    let libc_tv = || {
        let mut tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: `tv` is a valid, writable timeval; the time zone is null.
        let r = unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
        assert_eq!(r, 0);
        tv.tv_sec * 1_000_000 + tv.tv_usec
    };
    let a = libc_tv();
    let tv = sys::gettimeofday().unwrap();
    let b = libc_tv();
    let ours = tv.tv_sec * 1_000_000 + tv.tv_usec;
    assert!((0..1_000_000).contains(&tv.tv_usec), "{route}: {tv:?}");
    // The wall clock may be stepped between the reads; allow a second of slack.
    assert!(
        a - 1_000_000 <= ours && ours <= b + 1_000_000,
        "{route}: gettimeofday {a} {ours} {b}"
    );
}

/// Pins the calling thread to each allowed CPU in turn (at most 8) and checks that
/// `getcpu` reports it, as `sched_getcpu` and the raw system call do.
fn check_getcpu(route: &str) {
    // SAFETY: cpu_set_t is plain old data; all zeroes is the empty set.
    let mut saved: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `saved` is a valid, writable cpu_set_t of `size` bytes.
    assert_eq!(unsafe { libc::sched_getaffinity(0, size, &mut saved) }, 0);
    let allowed: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `c` is below CPU_SETSIZE.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &saved) })
        .take(8)
        .collect();
    assert!(!allowed.is_empty());
    for &cpu in &allowed {
        // SAFETY: as above.
        let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `cpu` is below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut one) };
        // SAFETY: `one` is a valid cpu_set_t; pid 0 is this thread.
        assert_eq!(unsafe { libc::sched_setaffinity(0, size, &one) }, 0);
        let ours = sys::getcpu().unwrap();
        // SAFETY: sched_getcpu has no preconditions.
        let libc_cpu = unsafe { libc::sched_getcpu() };
        let (mut kcpu, mut knode) = (0u32, 0u32);
        // SAFETY: both pointers are valid, writable u32s; the cache is null.
        let r = unsafe {
            libc::syscall(
                libc::SYS_getcpu,
                &mut kcpu as *mut u32,
                &mut knode as *mut u32,
                std::ptr::null_mut::<libc::c_void>(),
            )
        };
        assert_eq!(r, 0);
        assert_eq!(ours.cpu as usize, cpu, "{route}: pinned to {cpu}: {ours:?}");
        assert_eq!(libc_cpu as usize, cpu);
        assert_eq!((ours.cpu, ours.node), (kcpu, knode), "{route}");
    }
    // SAFETY: `saved` is the affinity this thread had.
    assert_eq!(unsafe { libc::sched_setaffinity(0, size, &saved) }, 0);
}

#[test]
fn every_time_call_goes_through_the_vdso() {
    let _g = routing();
    sys::set_vdso_routing(VdsoRouting::Default);
    for call in TimeCall::ALL {
        assert_eq!(sys::time_source(call), TimeSource::Vdso, "{call:?}");
    }
}

#[test]
fn vdso_functions_are_what_the_dynamic_linker_gives() {
    // The dynamic linker loaded the vDSO as `linux-vdso.so.1`: dlvsym finds its symbols.
    let module = process::modules()
        .into_iter()
        .find(|m| m.is_vdso)
        .expect("vDSO module");
    assert_eq!(module.bias, vdso::bias().unwrap() as u64);
    // SAFETY: the name is NUL-terminated; RTLD_NOLOAD only looks up a loaded object.
    let handle = unsafe {
        libc::dlopen(
            c"linux-vdso.so.1".as_ptr(),
            libc::RTLD_NOLOAD | libc::RTLD_LAZY,
        )
    };
    assert!(
        !handle.is_null(),
        "glibc registers the vDSO as linux-vdso.so.1"
    );
    for call in TimeCall::ALL {
        let name = std::ffi::CString::new(call.vdso_symbol()).unwrap();
        // SAFETY: `handle` is live; both strings are NUL-terminated.
        let theirs = unsafe { libc::dlvsym(handle, name.as_ptr(), c"LINUX_2.6".as_ptr()) };
        let ours = vdso::function(call.vdso_symbol(), TimeCall::VDSO_VERSION).unwrap();
        assert_eq!(ours.as_ptr(), theirs, "{call:?}");
        assert!(module.contains(ours.as_ptr() as u64));
    }
    // SAFETY: `handle` came from dlopen and is closed once.
    unsafe { libc::dlclose(handle) };
    assert!(vdso::function("__vdso_clock_gettime", "LINUX_0.0").is_none());
    assert!(vdso::function("__vdso_no_such_function", "LINUX_2.6").is_none());
}

#[test]
fn vdso_route_agrees_with_libc() {
    let _g = routing();
    sys::set_vdso_routing(VdsoRouting::Default);
    assert_eq!(sys::time_source(TimeCall::ClockGettime), TimeSource::Vdso);
    check_every_clock("vDSO");
    check_gettimeofday_and_time("vDSO");
    check_getcpu("vDSO");
}

#[test]
fn syscall_route_agrees_with_libc() {
    let _g = routing();
    sys::set_vdso_routing(VdsoRouting::Syscall);
    for call in TimeCall::ALL {
        assert_eq!(sys::time_source(call), TimeSource::Syscall, "{call:?}");
    }
    check_every_clock("syscall");
    check_gettimeofday_and_time("syscall");
    check_getcpu("syscall");
    sys::set_vdso_routing(VdsoRouting::Default);
}

/// A resolver that finds nothing for some calls: those fall back to the system call.
#[test]
fn a_missing_vdso_symbol_falls_back_to_the_syscall() {
    fn only_time(name: &str, version: &str) -> Option<std::ptr::NonNull<std::ffi::c_void>> {
        (name == "__vdso_time").then(|| vdso::function(name, version))?
    }
    let _g = routing();
    // SAFETY: `only_time` returns what `vdso::function` returns, or None.
    let resolver = unsafe { sys::VdsoResolver::new(only_time) };
    sys::set_vdso_routing(VdsoRouting::Resolver(resolver));
    assert_eq!(sys::time_source(TimeCall::Time), TimeSource::Vdso);
    assert_eq!(
        sys::time_source(TimeCall::ClockGettime),
        TimeSource::Syscall
    );
    check_every_clock("partial");
    check_gettimeofday_and_time("partial");
    sys::set_vdso_routing(VdsoRouting::Default);
}

#[test]
fn routing_is_safe_to_change_while_other_threads_call() {
    let _g = routing();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut last = Timespec::default();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = sys::clock_gettime(ClockId::MONOTONIC).unwrap();
                    assert!(now >= last);
                    last = now;
                    sys::getcpu().unwrap();
                }
            });
        }
        for i in 0..200 {
            sys::set_vdso_routing(if i % 2 == 0 {
                VdsoRouting::Syscall
            } else {
                VdsoRouting::Default
            });
            std::thread::yield_now();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    sys::set_vdso_routing(VdsoRouting::Default);
    assert_eq!(sys::time_source(TimeCall::ClockGettime), TimeSource::Vdso);
}

const CHILD: &str = "LINKNAME_VDSO_STRACE_CHILD";
/// Raw `clock_gettime(CLOCK_TAI)` system calls the child makes: strace must see these.
const CONTROL_CALLS: usize = 5;
const ROUTED_CALLS: usize = 1000;

/// What `strace -f -o FILE` wrote: the names of the traced calls, one per line.
fn traced_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            // "PID name(args) = ret", or "name(args) = ret" without -f.
            let l = l.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
            let name = &l[..l.find('(')?];
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| l.to_owned())
        })
        .collect()
}

/// The proof that the routed calls make no system call: run them in a child under
/// `strace` and count. A few raw `clock_gettime(CLOCK_TAI)` calls show strace sees
/// what it should.
#[test]
fn strace_sees_no_system_call_from_routed_time_calls() {
    if std::env::var_os(CHILD).is_some() {
        for _ in 0..CONTROL_CALLS {
            let mut ts = Timespec::default();
            // SAFETY: `ts` is a valid, writable Timespec.
            unsafe { sys::unchecked::clock_gettime(ClockId::TAI, &mut ts) }.unwrap();
        }
        for _ in 0..ROUTED_CALLS {
            for clock in [ClockId::MONOTONIC, ClockId::REALTIME, ClockId::BOOTTIME] {
                sys::clock_gettime(clock).unwrap();
            }
            sys::gettimeofday().unwrap();
            std::hint::black_box(sys::time());
            sys::getcpu().unwrap();
        }
        return;
    }
    let log = std::env::temp_dir().join(format!("linkname-vdso-strace-{}.log", std::process::id()));
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=clock_gettime,gettimeofday,time,getcpu",
            "-o",
        ])
        .arg(&log)
        .arg(&exe)
        .args([
            "--exact",
            "strace_sees_no_system_call_from_routed_time_calls",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CHILD, "1")
        .stdout(std::process::Stdio::null())
        .status();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("the traced child failed ({s}); strace wrote:\n{text}"),
        Err(e) => panic!("strace is the oracle of this test and could not run ({e}): install it"),
    }
    let calls = traced_calls(&text);
    let control = calls
        .iter()
        .filter(|l| l.starts_with("clock_gettime(CLOCK_TAI"))
        .count();
    assert_eq!(
        control, CONTROL_CALLS,
        "strace must see the raw control calls:\n{text}"
    );
    let others: Vec<&String> = calls
        .iter()
        .filter(|l| !l.starts_with("clock_gettime(CLOCK_TAI"))
        .collect();
    assert!(
        others.is_empty(),
        "{} routed time calls made system calls:\n{}",
        others.len(),
        others
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Counts the allocations a thread makes while its `COUNTING` flag is set.
struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS_COUNTED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to the system allocator unchanged; the bookkeeping
// touches only a `const`-initialised thread-local and an atomic, neither of which
// allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS_COUNTED.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded from our caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from our caller.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const SIGNAL_CHILD: &str = "LINKNAME_VDSO_SIGNAL_CHILD";

/// What the handler saw: seconds of each call (or -1 for an error), and the sources.
static IN_HANDLER: [AtomicI64; 6] = [const { AtomicI64::new(-2) }; 6];

extern "C" fn first_time_calls(_sig: libc::c_int) {
    COUNTING.with(|c| c.set(true));
    let results = [
        sys::clock_gettime(ClockId::MONOTONIC).map_or(-1, |t| t.tv_sec),
        sys::clock_gettime(ClockId::REALTIME).map_or(-1, |t| t.tv_sec),
        sys::gettimeofday().map_or(-1, |t| t.tv_sec),
        sys::time(),
        sys::getcpu().map_or(-1, |c| i64::from(c.cpu)),
        i64::from(sys::time_source(TimeCall::ClockGettime) == TimeSource::Vdso),
    ];
    COUNTING.with(|c| c.set(false));
    for (slot, value) in IN_HANDLER.iter().zip(results) {
        slot.store(value, Ordering::Relaxed);
    }
}

/// The first time call of a fresh process, made from inside a signal handler: the
/// core routes it without allocating or locking, through the vDSO, and it answers
/// what libc answers.
#[test]
fn first_time_calls_from_a_signal_handler() {
    if std::env::var_os(SIGNAL_CHILD).is_some() {
        // SAFETY: a zeroed sigaction with a plain handler and an empty mask is valid;
        // `first_time_calls` only makes our time calls and stores atomics.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = first_time_calls as extern "C" fn(libc::c_int) as usize;
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &act, std::ptr::null_mut()),
                0
            );
            assert_eq!(libc::raise(libc::SIGUSR1), 0);
        }
        let got: Vec<i64> = IN_HANDLER
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect();
        let mono = libc_clock(libc::CLOCK_MONOTONIC).unwrap().tv_sec;
        let real = libc_clock(libc::CLOCK_REALTIME).unwrap().tv_sec;
        assert!(
            got[0] >= 0 && got[0] <= mono,
            "monotonic {got:?} vs libc {mono}"
        );
        for (i, what) in [
            (1, "clock_gettime(REALTIME)"),
            (2, "gettimeofday"),
            (3, "time"),
        ] {
            assert!(
                got[i] >= 0 && (real - got[i]).abs() <= 1,
                "{what} in the handler: {got:?} vs libc {real}"
            );
        }
        assert!(got[4] >= 0, "getcpu in the handler: {got:?}");
        assert_eq!(got[5], 1, "the handler's calls went through the vDSO");
        assert_eq!(
            ALLOCATIONS_COUNTED.load(Ordering::Relaxed),
            0,
            "the first time calls allocated inside the signal handler"
        );
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "first_time_calls_from_a_signal_handler",
            "--test-threads=1",
        ])
        .env(SIGNAL_CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the child failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

/// The core's allocation-free lookup and the ELF index agree on every defined symbol
/// of the vDSO, and both refuse what is not there.
#[test]
fn core_lookup_agrees_with_the_elf_index_on_every_symbol() {
    let index = vdso::index().unwrap();
    let bias = vdso::bias().unwrap();
    let mut checked = 0;
    for sym in index.symbols() {
        let visible = matches!(
            sym.binding(),
            linker_tools::elf::Binding::Global | linker_tools::elf::Binding::Weak
        ) && matches!(
            sym.visibility(),
            linker_tools::elf::Visibility::Default | linker_tools::elf::Visibility::Protected
        );
        if !sym.is_defined() || !visible || sym.name().is_empty() {
            continue;
        }
        let version = sym.version().map_or("LINUX_2.6", |v| v.name);
        let core = sys::vdso::symbol(sym.name(), version)
            .unwrap_or_else(|| panic!("the core does not find {}@{version}", sym.name()));
        assert_eq!(
            core.address,
            bias.wrapping_add(sym.address() as usize),
            "{}",
            sym.name()
        );
        assert_eq!(core.size, sym.size(), "{}", sym.name());
        if sym.kind() == linker_tools::elf::Kind::Func {
            assert_eq!(
                sys::vdso::function(sym.name(), version),
                vdso::function(sym.name(), version),
                "{}",
                sym.name()
            );
            checked += 1;
        }
        assert!(sys::vdso::symbol(sym.name(), "LINUX_0.0").is_none() || sym.version().is_none());
    }
    assert!(
        checked >= 4,
        "the x86_64 vDSO exports at least the four time functions"
    );
    assert!(sys::vdso::symbol("__vdso_no_such_function", "LINUX_2.6").is_none());
    assert_eq!(
        sys::vdso::base().map(|b| b.as_ptr() as usize),
        vdso::base(),
        "both read AT_SYSINFO_EHDR"
    );
}
