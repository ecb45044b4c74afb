//! Oracle tests for the generated tables: [`Sysno`] and [`Errno`] against the C
//! library (`libc::SYS_*`, `libc::E*`, `strerror`) and the machine's kernel
//! headers.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::io;

use linker_tools::sys::{Errno, Sysno};

/// The size of the generated syscall table (Linux 6.18) and its highest number.
const SYSNO_COUNT: usize = 383;
const HIGHEST_SYSNO: u32 = 469;
/// Canonical error numbers (aliases excluded) and names (aliases included).
const ERRNO_COUNT: usize = 131;
const ERRNO_NAME_COUNT: usize = 134;

/// `(Sysno, libc constant, name)` for every `SYS_*` constant libc defines for
/// x86_64 Linux.
macro_rules! libc_syscalls {
    ($($name:ident => $sys:ident,)*) => {
        [$((Sysno::$name, libc::$sys, stringify!($name), stringify!($sys)),)*]
    };
}

static LIBC_SYSCALLS: [(Sysno, libc::c_long, &str, &str); 360] = libc_syscalls!(
    read => SYS_read, write => SYS_write, open => SYS_open, close => SYS_close, stat => SYS_stat,
    fstat => SYS_fstat, lstat => SYS_lstat, poll => SYS_poll, lseek => SYS_lseek, mmap => SYS_mmap,
    mprotect => SYS_mprotect, munmap => SYS_munmap, brk => SYS_brk,
    rt_sigaction => SYS_rt_sigaction, rt_sigprocmask => SYS_rt_sigprocmask,
    rt_sigreturn => SYS_rt_sigreturn, ioctl => SYS_ioctl, pread64 => SYS_pread64,
    pwrite64 => SYS_pwrite64, readv => SYS_readv, writev => SYS_writev, access => SYS_access,
    pipe => SYS_pipe, select => SYS_select, sched_yield => SYS_sched_yield, mremap => SYS_mremap,
    msync => SYS_msync, mincore => SYS_mincore, madvise => SYS_madvise, shmget => SYS_shmget,
    shmat => SYS_shmat, shmctl => SYS_shmctl, dup => SYS_dup, dup2 => SYS_dup2, pause => SYS_pause,
    nanosleep => SYS_nanosleep, getitimer => SYS_getitimer, alarm => SYS_alarm,
    setitimer => SYS_setitimer, getpid => SYS_getpid, sendfile => SYS_sendfile,
    socket => SYS_socket, connect => SYS_connect, accept => SYS_accept, sendto => SYS_sendto,
    recvfrom => SYS_recvfrom, sendmsg => SYS_sendmsg, recvmsg => SYS_recvmsg,
    shutdown => SYS_shutdown, bind => SYS_bind, listen => SYS_listen,
    getsockname => SYS_getsockname, getpeername => SYS_getpeername, socketpair => SYS_socketpair,
    setsockopt => SYS_setsockopt, getsockopt => SYS_getsockopt, clone => SYS_clone,
    fork => SYS_fork, vfork => SYS_vfork, execve => SYS_execve, exit => SYS_exit,
    wait4 => SYS_wait4, kill => SYS_kill, uname => SYS_uname, semget => SYS_semget,
    semop => SYS_semop, semctl => SYS_semctl, shmdt => SYS_shmdt, msgget => SYS_msgget,
    msgsnd => SYS_msgsnd, msgrcv => SYS_msgrcv, msgctl => SYS_msgctl, fcntl => SYS_fcntl,
    flock => SYS_flock, fsync => SYS_fsync, fdatasync => SYS_fdatasync, truncate => SYS_truncate,
    ftruncate => SYS_ftruncate, getdents => SYS_getdents, getcwd => SYS_getcwd, chdir => SYS_chdir,
    fchdir => SYS_fchdir, rename => SYS_rename, mkdir => SYS_mkdir, rmdir => SYS_rmdir,
    creat => SYS_creat, link => SYS_link, unlink => SYS_unlink, symlink => SYS_symlink,
    readlink => SYS_readlink, chmod => SYS_chmod, fchmod => SYS_fchmod, chown => SYS_chown,
    fchown => SYS_fchown, lchown => SYS_lchown, umask => SYS_umask,
    gettimeofday => SYS_gettimeofday, getrlimit => SYS_getrlimit, getrusage => SYS_getrusage,
    sysinfo => SYS_sysinfo, times => SYS_times, ptrace => SYS_ptrace, getuid => SYS_getuid,
    syslog => SYS_syslog, getgid => SYS_getgid, setuid => SYS_setuid, setgid => SYS_setgid,
    geteuid => SYS_geteuid, getegid => SYS_getegid, setpgid => SYS_setpgid, getppid => SYS_getppid,
    getpgrp => SYS_getpgrp, setsid => SYS_setsid, setreuid => SYS_setreuid,
    setregid => SYS_setregid, getgroups => SYS_getgroups, setgroups => SYS_setgroups,
    setresuid => SYS_setresuid, getresuid => SYS_getresuid, setresgid => SYS_setresgid,
    getresgid => SYS_getresgid, getpgid => SYS_getpgid, setfsuid => SYS_setfsuid,
    setfsgid => SYS_setfsgid, getsid => SYS_getsid, capget => SYS_capget, capset => SYS_capset,
    rt_sigpending => SYS_rt_sigpending, rt_sigtimedwait => SYS_rt_sigtimedwait,
    rt_sigqueueinfo => SYS_rt_sigqueueinfo, rt_sigsuspend => SYS_rt_sigsuspend,
    sigaltstack => SYS_sigaltstack, utime => SYS_utime, mknod => SYS_mknod, uselib => SYS_uselib,
    personality => SYS_personality, ustat => SYS_ustat, statfs => SYS_statfs,
    fstatfs => SYS_fstatfs, sysfs => SYS_sysfs, getpriority => SYS_getpriority,
    setpriority => SYS_setpriority, sched_setparam => SYS_sched_setparam,
    sched_getparam => SYS_sched_getparam, sched_setscheduler => SYS_sched_setscheduler,
    sched_getscheduler => SYS_sched_getscheduler,
    sched_get_priority_max => SYS_sched_get_priority_max,
    sched_get_priority_min => SYS_sched_get_priority_min,
    sched_rr_get_interval => SYS_sched_rr_get_interval, mlock => SYS_mlock, munlock => SYS_munlock,
    mlockall => SYS_mlockall, munlockall => SYS_munlockall, vhangup => SYS_vhangup,
    modify_ldt => SYS_modify_ldt, pivot_root => SYS_pivot_root, _sysctl => SYS__sysctl,
    prctl => SYS_prctl, arch_prctl => SYS_arch_prctl, adjtimex => SYS_adjtimex,
    setrlimit => SYS_setrlimit, chroot => SYS_chroot, sync => SYS_sync, acct => SYS_acct,
    settimeofday => SYS_settimeofday, mount => SYS_mount, umount2 => SYS_umount2,
    swapon => SYS_swapon, swapoff => SYS_swapoff, reboot => SYS_reboot,
    sethostname => SYS_sethostname, setdomainname => SYS_setdomainname, iopl => SYS_iopl,
    ioperm => SYS_ioperm, init_module => SYS_init_module, delete_module => SYS_delete_module,
    quotactl => SYS_quotactl, nfsservctl => SYS_nfsservctl, getpmsg => SYS_getpmsg,
    putpmsg => SYS_putpmsg, afs_syscall => SYS_afs_syscall, tuxcall => SYS_tuxcall,
    security => SYS_security, gettid => SYS_gettid, readahead => SYS_readahead,
    setxattr => SYS_setxattr, lsetxattr => SYS_lsetxattr, fsetxattr => SYS_fsetxattr,
    getxattr => SYS_getxattr, lgetxattr => SYS_lgetxattr, fgetxattr => SYS_fgetxattr,
    listxattr => SYS_listxattr, llistxattr => SYS_llistxattr, flistxattr => SYS_flistxattr,
    removexattr => SYS_removexattr, lremovexattr => SYS_lremovexattr,
    fremovexattr => SYS_fremovexattr, tkill => SYS_tkill, time => SYS_time, futex => SYS_futex,
    sched_setaffinity => SYS_sched_setaffinity, sched_getaffinity => SYS_sched_getaffinity,
    set_thread_area => SYS_set_thread_area, io_setup => SYS_io_setup, io_destroy => SYS_io_destroy,
    io_getevents => SYS_io_getevents, io_submit => SYS_io_submit, io_cancel => SYS_io_cancel,
    get_thread_area => SYS_get_thread_area, lookup_dcookie => SYS_lookup_dcookie,
    epoll_create => SYS_epoll_create, epoll_ctl_old => SYS_epoll_ctl_old,
    epoll_wait_old => SYS_epoll_wait_old, remap_file_pages => SYS_remap_file_pages,
    getdents64 => SYS_getdents64, set_tid_address => SYS_set_tid_address,
    restart_syscall => SYS_restart_syscall, semtimedop => SYS_semtimedop,
    fadvise64 => SYS_fadvise64, timer_create => SYS_timer_create,
    timer_settime => SYS_timer_settime, timer_gettime => SYS_timer_gettime,
    timer_getoverrun => SYS_timer_getoverrun, timer_delete => SYS_timer_delete,
    clock_settime => SYS_clock_settime, clock_gettime => SYS_clock_gettime,
    clock_getres => SYS_clock_getres, clock_nanosleep => SYS_clock_nanosleep,
    exit_group => SYS_exit_group, epoll_wait => SYS_epoll_wait, epoll_ctl => SYS_epoll_ctl,
    tgkill => SYS_tgkill, utimes => SYS_utimes, vserver => SYS_vserver, mbind => SYS_mbind,
    set_mempolicy => SYS_set_mempolicy, get_mempolicy => SYS_get_mempolicy, mq_open => SYS_mq_open,
    mq_unlink => SYS_mq_unlink, mq_timedsend => SYS_mq_timedsend,
    mq_timedreceive => SYS_mq_timedreceive, mq_notify => SYS_mq_notify,
    mq_getsetattr => SYS_mq_getsetattr, kexec_load => SYS_kexec_load, waitid => SYS_waitid,
    add_key => SYS_add_key, request_key => SYS_request_key, keyctl => SYS_keyctl,
    ioprio_set => SYS_ioprio_set, ioprio_get => SYS_ioprio_get, inotify_init => SYS_inotify_init,
    inotify_add_watch => SYS_inotify_add_watch, inotify_rm_watch => SYS_inotify_rm_watch,
    migrate_pages => SYS_migrate_pages, openat => SYS_openat, mkdirat => SYS_mkdirat,
    mknodat => SYS_mknodat, fchownat => SYS_fchownat, futimesat => SYS_futimesat,
    newfstatat => SYS_newfstatat, unlinkat => SYS_unlinkat, renameat => SYS_renameat,
    linkat => SYS_linkat, symlinkat => SYS_symlinkat, readlinkat => SYS_readlinkat,
    fchmodat => SYS_fchmodat, faccessat => SYS_faccessat, pselect6 => SYS_pselect6,
    ppoll => SYS_ppoll, unshare => SYS_unshare, set_robust_list => SYS_set_robust_list,
    get_robust_list => SYS_get_robust_list, splice => SYS_splice, tee => SYS_tee,
    sync_file_range => SYS_sync_file_range, vmsplice => SYS_vmsplice, move_pages => SYS_move_pages,
    utimensat => SYS_utimensat, epoll_pwait => SYS_epoll_pwait, signalfd => SYS_signalfd,
    timerfd_create => SYS_timerfd_create, eventfd => SYS_eventfd, fallocate => SYS_fallocate,
    timerfd_settime => SYS_timerfd_settime, timerfd_gettime => SYS_timerfd_gettime,
    accept4 => SYS_accept4, signalfd4 => SYS_signalfd4, eventfd2 => SYS_eventfd2,
    epoll_create1 => SYS_epoll_create1, dup3 => SYS_dup3, pipe2 => SYS_pipe2,
    inotify_init1 => SYS_inotify_init1, preadv => SYS_preadv, pwritev => SYS_pwritev,
    rt_tgsigqueueinfo => SYS_rt_tgsigqueueinfo, perf_event_open => SYS_perf_event_open,
    recvmmsg => SYS_recvmmsg, fanotify_init => SYS_fanotify_init,
    fanotify_mark => SYS_fanotify_mark, prlimit64 => SYS_prlimit64,
    name_to_handle_at => SYS_name_to_handle_at, open_by_handle_at => SYS_open_by_handle_at,
    clock_adjtime => SYS_clock_adjtime, syncfs => SYS_syncfs, sendmmsg => SYS_sendmmsg,
    setns => SYS_setns, getcpu => SYS_getcpu, process_vm_readv => SYS_process_vm_readv,
    process_vm_writev => SYS_process_vm_writev, kcmp => SYS_kcmp, finit_module => SYS_finit_module,
    sched_setattr => SYS_sched_setattr, sched_getattr => SYS_sched_getattr,
    renameat2 => SYS_renameat2, seccomp => SYS_seccomp, getrandom => SYS_getrandom,
    memfd_create => SYS_memfd_create, kexec_file_load => SYS_kexec_file_load, bpf => SYS_bpf,
    execveat => SYS_execveat, userfaultfd => SYS_userfaultfd, membarrier => SYS_membarrier,
    mlock2 => SYS_mlock2, copy_file_range => SYS_copy_file_range, preadv2 => SYS_preadv2,
    pwritev2 => SYS_pwritev2, pkey_mprotect => SYS_pkey_mprotect, pkey_alloc => SYS_pkey_alloc,
    pkey_free => SYS_pkey_free, statx => SYS_statx, rseq => SYS_rseq,
    pidfd_send_signal => SYS_pidfd_send_signal, io_uring_setup => SYS_io_uring_setup,
    io_uring_enter => SYS_io_uring_enter, io_uring_register => SYS_io_uring_register,
    open_tree => SYS_open_tree, move_mount => SYS_move_mount, fsopen => SYS_fsopen,
    fsconfig => SYS_fsconfig, fsmount => SYS_fsmount, fspick => SYS_fspick,
    pidfd_open => SYS_pidfd_open, clone3 => SYS_clone3, close_range => SYS_close_range,
    openat2 => SYS_openat2, pidfd_getfd => SYS_pidfd_getfd, faccessat2 => SYS_faccessat2,
    process_madvise => SYS_process_madvise, epoll_pwait2 => SYS_epoll_pwait2,
    mount_setattr => SYS_mount_setattr, quotactl_fd => SYS_quotactl_fd,
    landlock_create_ruleset => SYS_landlock_create_ruleset,
    landlock_add_rule => SYS_landlock_add_rule,
    landlock_restrict_self => SYS_landlock_restrict_self, memfd_secret => SYS_memfd_secret,
    process_mrelease => SYS_process_mrelease, futex_waitv => SYS_futex_waitv,
    set_mempolicy_home_node => SYS_set_mempolicy_home_node, fchmodat2 => SYS_fchmodat2,
    mseal => SYS_mseal,
);

/// `(name, Errno constant, libc constant)` for every errno constant libc defines
/// for x86_64 Linux (glibc), aliases included.
macro_rules! libc_errnos {
    ($($name:ident,)*) => {
        [$((stringify!($name), Errno::$name, libc::$name),)*]
    };
}

static LIBC_ERRNOS: [(&str, Errno, libc::c_int); ERRNO_NAME_COUNT] = libc_errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    EWOULDBLOCK,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    EDEADLOCK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ECHRNG,
    EL2NSYNC,
    EL3HLT,
    EL3RST,
    ELNRNG,
    EUNATCH,
    ENOCSI,
    EL2HLT,
    EBADE,
    EBADR,
    EXFULL,
    ENOANO,
    EBADRQC,
    EBADSLT,
    EBFONT,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENONET,
    ENOPKG,
    EREMOTE,
    ENOLINK,
    EADV,
    ESRMNT,
    ECOMM,
    EPROTO,
    EMULTIHOP,
    EDOTDOT,
    EBADMSG,
    EOVERFLOW,
    ENOTUNIQ,
    EBADFD,
    EREMCHG,
    ELIBACC,
    ELIBBAD,
    ELIBSCN,
    ELIBMAX,
    ELIBEXEC,
    EILSEQ,
    ERESTART,
    ESTRPIPE,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    ENOTSUP,
    EOPNOTSUPP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EUCLEAN,
    ENOTNAM,
    ENAVAIL,
    EISNAM,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
);

const ALIASES: [(&str, &str); 3] = [
    ("EWOULDBLOCK", "EAGAIN"),
    ("EDEADLOCK", "EDEADLK"),
    ("ENOTSUP", "EOPNOTSUPP"),
];

#[test]
fn sysno_matches_every_libc_sys_constant() {
    for (nr, sys, name, sys_name) in LIBC_SYSCALLS {
        assert_eq!(sys_name, format!("SYS_{name}"), "list typo");
        assert_eq!(i64::from(nr.id()), sys, "Sysno::{name} vs libc::{sys_name}");
        assert_eq!(nr.name(), name);
    }
}

/// `#define __NR_<name> <n>` lines of the machine's UAPI header, if installed.
fn uapi_unistd_64() -> Option<Vec<(String, u32)>> {
    let path = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("skipping: cannot read {path}: {err}");
            return None;
        }
    };
    let defs: Vec<(String, u32)> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            if fields.next()? != "#define" {
                return None;
            }
            let name = fields.next()?.strip_prefix("__NR_")?;
            let nr = fields.next()?.parse().ok()?;
            Some((name.to_owned(), nr))
        })
        .collect();
    assert!(defs.len() > 300, "{path}: only {} __NR_ lines", defs.len());
    Some(defs)
}

#[test]
fn sysno_contains_every_nr_of_the_installed_kernel_header() {
    let Some(defs) = uapi_unistd_64() else { return };
    for (name, nr) in &defs {
        let sysno = Sysno::from_name(name).unwrap_or_else(|| panic!("no Sysno::{name}"));
        assert_eq!(sysno.id(), *nr, "Sysno::{name} vs __NR_{name}");
        assert_eq!(Sysno::new(*nr), Some(sysno));
    }
    // The table only grows: everything newer than the header is above its last
    // number, or one of the x86-only uprobe calls in the 335.. gap.
    let header_max = defs.iter().map(|d| d.1).max().unwrap();
    for nr in Sysno::iter() {
        if !defs.iter().any(|(name, _)| name == nr.name()) {
            assert!(
                nr.id() > header_max || (335..=336).contains(&nr.id()),
                "{nr:?} ({}) is missing from the header but is not newer than it",
                nr.id()
            );
        }
    }
}

#[test]
fn sysno_count_and_order() {
    assert_eq!(Sysno::COUNT, SYSNO_COUNT);
    assert_eq!(Sysno::ALL.len(), SYSNO_COUNT);
    assert_eq!(Sysno::iter().len(), SYSNO_COUNT);
    assert!(
        Sysno::ALL
            .windows(2)
            .all(|w| w[0].id() < w[1].id() && w[0] < w[1])
    );
    assert_eq!(Sysno::ALL.first(), Some(&Sysno::read));
    assert_eq!(Sysno::ALL.last().map(|s| s.id()), Some(HIGHEST_SYSNO));
    assert!(Sysno::iter().eq(Sysno::ALL.iter().copied()));
}

#[test]
fn sysno_round_trips_for_every_entry() {
    for nr in Sysno::iter() {
        let name = nr.name();
        assert_eq!(Sysno::new(nr.id()), Some(nr));
        assert_eq!(Sysno::try_from(nr.id()), Ok(nr));
        assert_eq!(Sysno::from_name(name), Some(nr));
        assert_eq!(name.parse::<Sysno>(), Ok(nr));
        assert_eq!(nr.to_string(), name);
        assert_eq!(format!("{nr:?}"), format!("Sysno::{name}"));
        assert_eq!(u32::from(nr), nr.id());
        assert_eq!(usize::from(nr), nr.id() as usize);
        assert!(
            nr.entry_point().starts_with("sys_"),
            "{nr:?}: {}",
            nr.entry_point()
        );
    }
}

#[test]
fn sysno_rejects_unknown_numbers_and_names() {
    let known: BTreeMap<u32, Sysno> = Sysno::iter().map(|s| (s.id(), s)).collect();
    for nr in 0..2048 {
        assert_eq!(Sysno::new(nr), known.get(&nr).copied(), "{nr}");
    }
    // The gap the kernel reserves, x32's own numbers, and the far end.
    for nr in [
        337,
        386,
        387,
        423,
        HIGHEST_SYSNO + 1,
        512,
        547,
        0x4000_0000,
        u32::MAX,
    ] {
        assert_eq!(Sysno::new(nr), None, "{nr}");
        let err = Sysno::try_from(nr).unwrap_err();
        assert_eq!(err.number(), Some(nr));
        assert_eq!(
            err.to_string(),
            format!("no x86_64 system call numbered {nr}")
        );
    }
    for name in [
        "",
        "foo",
        "READ",
        "sys_read",
        "read ",
        " read",
        "__NR_read",
        "Sysno::read",
    ] {
        assert_eq!(Sysno::from_name(name), None, "{name:?}");
        let err = name.parse::<Sysno>().unwrap_err();
        assert_eq!(err.name(), Some(name));
        assert_eq!(
            err.to_string(),
            format!("no x86_64 system call named `{name}`")
        );
    }
    let err: Box<dyn std::error::Error> = Box::new("foo".parse::<Sysno>().unwrap_err());
    assert_eq!(err.to_string(), "no x86_64 system call named `foo`");
}

#[test]
fn sysno_entry_points_follow_the_kernel_table() {
    let cases = [
        (Sysno::read, "sys_read"),
        (Sysno::stat, "sys_newstat"),
        (Sysno::uname, "sys_newuname"),
        (Sysno::sendfile, "sys_sendfile64"),
        (Sysno::umount2, "sys_umount"),
        (Sysno::_sysctl, "sys_ni_syscall"),
        (Sysno::uselib, "sys_ni_syscall"),
        (Sysno::lookup_dcookie, "sys_ni_syscall"),
        (Sysno::exit_group, "sys_exit_group"),
        (Sysno::uretprobe, "sys_uretprobe"),
        (Sysno::uprobe, "sys_uprobe"),
        (Sysno::mseal, "sys_mseal"),
        (Sysno::file_setattr, "sys_file_setattr"),
    ];
    for (nr, entry) in cases {
        assert_eq!(nr.entry_point(), entry, "{nr:?}");
    }
}

#[test]
fn sysno_knows_the_calls_newer_than_the_installed_headers() {
    let cases = [
        (Sysno::uretprobe, 335),
        (Sysno::uprobe, 336),
        (Sysno::cachestat, 451),
        (Sysno::fchmodat2, 452),
        (Sysno::map_shadow_stack, 453),
        (Sysno::futex_wake, 454),
        (Sysno::futex_wait, 455),
        (Sysno::futex_requeue, 456),
        (Sysno::statmount, 457),
        (Sysno::listmount, 458),
        (Sysno::lsm_get_self_attr, 459),
        (Sysno::lsm_set_self_attr, 460),
        (Sysno::lsm_list_modules, 461),
        (Sysno::mseal, 462),
        (Sysno::setxattrat, 463),
        (Sysno::getxattrat, 464),
        (Sysno::listxattrat, 465),
        (Sysno::removexattrat, 466),
        (Sysno::open_tree_attr, 467),
        (Sysno::file_getattr, 468),
        (Sysno::file_setattr, 469),
    ];
    for (nr, id) in cases {
        assert_eq!(nr.id(), id, "{nr:?}");
    }
}

/// glibc's `strerror` text for `errnum`.
fn libc_strerror(errnum: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes; the XSI
    // `strerror_r` writes at most that many, NUL-terminated.
    let rc = unsafe { libc::strerror_r(errnum, buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(rc, 0, "strerror_r({errnum})");
    CStr::from_bytes_until_nul(&buf)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn errno_matches_every_libc_constant() {
    for (name, errno, value) in LIBC_ERRNOS {
        assert_eq!(errno.raw(), value, "Errno::{name} vs libc::{name}");
        assert_eq!(Errno::from_name(name), Some(errno), "{name}");
        let canonical = ALIASES.iter().find(|a| a.0 == name).map_or(name, |a| a.1);
        assert_eq!(errno.name(), Some(canonical), "{name}");
    }
    for (alias, target) in ALIASES {
        assert_eq!(Errno::from_name(alias), Errno::from_name(target), "{alias}");
    }
    assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
    assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
}

#[test]
fn errno_iter_count_and_order() {
    let all: Vec<Errno> = Errno::iter().collect();
    assert_eq!(all.len(), ERRNO_COUNT);
    assert_eq!(Errno::iter().len(), ERRNO_COUNT);
    assert!(all.windows(2).all(|w| w[0].raw() < w[1].raw()));
    assert_eq!(all.first(), Some(&Errno::EPERM));
    assert_eq!(all.last(), Some(&Errno::EHWPOISON));
    // Every libc constant is in the iteration, and the iteration holds nothing else.
    let mut from_libc: Vec<i32> = LIBC_ERRNOS.iter().map(|e| e.2).collect();
    from_libc.sort_unstable();
    from_libc.dedup();
    assert_eq!(all.iter().map(|e| e.raw()).collect::<Vec<_>>(), from_libc);
}

#[test]
fn errno_names_round_trip() {
    for errno in Errno::iter() {
        let name = errno
            .name()
            .unwrap_or_else(|| panic!("{} has no name", errno.raw()));
        assert_eq!(Errno::from_name(name), Some(errno));
        assert_eq!(Errno::from_raw(errno.raw()), Some(errno));
        assert_eq!(format!("{errno:?}"), format!("Errno::{name}"));
    }
    for name in ["", "E", "eperm", "EPERM ", "EFOO", "EPOLLIN", "ENOTSUPP"] {
        assert_eq!(Errno::from_name(name), None, "{name:?}");
    }
    // Numbers Linux leaves unassigned, and the rest of the window.
    for raw in [41, 58, 134, 512, 4095] {
        let errno = Errno::from_raw(raw).unwrap();
        assert_eq!(errno.name(), None, "{raw}");
        assert_eq!(errno.message(), None, "{raw}");
        assert_eq!(errno.to_string(), format!("Unknown error {raw}"));
        assert_eq!(format!("{errno:?}"), format!("Errno({raw})"));
    }
}

#[test]
fn errno_messages_are_strerror() {
    for errno in Errno::iter() {
        assert_eq!(
            errno.message(),
            Some(libc_strerror(errno.raw()).as_str()),
            "{errno:?}"
        );
    }
    assert_eq!(
        Errno::EAGAIN.message(),
        Some("Resource temporarily unavailable")
    );
}

#[test]
fn errno_display_is_message_and_name() {
    for errno in Errno::iter() {
        let expected = format!("{} ({})", libc_strerror(errno.raw()), errno.name().unwrap());
        assert_eq!(errno.to_string(), expected);
    }
    assert_eq!(
        Errno::ENOENT.to_string(),
        "No such file or directory (ENOENT)"
    );
    assert_eq!(
        Errno::EWOULDBLOCK.to_string(),
        "Resource temporarily unavailable (EAGAIN)"
    );
}

#[test]
fn errno_io_error_round_trip() {
    for errno in Errno::iter() {
        let err = io::Error::from(errno);
        assert_eq!(err.raw_os_error(), Some(errno.raw()));
        assert_eq!(Errno::from_io_error(&err), Some(errno));
        // std formats OS errors with the same strerror text.
        assert!(
            err.to_string().starts_with(errno.message().unwrap()),
            "{err} vs {errno}"
        );
        assert_eq!(Errno::try_from(err).ok(), Some(errno));
        assert_eq!(
            Errno::from_io_error(&io::Error::from_raw_os_error(errno.raw())),
            Some(errno)
        );
    }
    assert_eq!(
        io::Error::from(Errno::ENOENT).kind(),
        io::ErrorKind::NotFound
    );
    let custom = io::Error::other("no errno");
    assert_eq!(Errno::from_io_error(&custom), None);
    assert!(Errno::try_from(custom).is_err());
}
