//! The cases with honest peers: streaming between processes, SIGKILL at random
//! points, clean and unclean exits, connecting, timeouts, idle CPU, zero-copy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shm::channel::{self, Address, Options, Receiver, Sender};
use shm::{ErrorKind, Id, Segment};

use crate::Case;
use crate::support::{self, Rng, clock_seed, fresh_key, make_message, spawn, track, verify, wait};

pub(crate) const ALL: &[Case] = &[
    ("stream_ten_million_messages", stream_ten_million_messages),
    ("stream_zero_copy_to_child", stream_zero_copy_to_child),
    ("wraparound_with_threads", wraparound_with_threads),
    (
        "sigkill_sender_at_random_points",
        sigkill_sender_at_random_points,
    ),
    (
        "sigkill_receiver_at_random_points",
        sigkill_receiver_at_random_points,
    ),
    (
        "clean_and_unclean_exit_deliver_everything",
        clean_and_unclean_exit_deliver_everything,
    ),
    (
        "expected_peer_dying_before_connecting",
        expected_peer_dying_before_connecting,
    ),
    ("connect_by_key_path_and_id", connect_by_key_path_and_id),
    ("refused_connections", refused_connections),
    ("timeouts_and_try_forms", timeouts_and_try_forms),
    ("waiting_side_uses_no_cpu", waiting_side_uses_no_cpu),
    ("zero_copy_closures", zero_copy_closures),
];

/// Messages in the big stream.
const STREAM: u64 = 10_000_000;
/// SIGKILL runs per direction.
const KILL_RUNS_SENDER: u32 = 32;
const KILL_RUNS_RECEIVER: u32 = 12;
/// The promise: a dead peer is reported within this long.
const GONE_WITHIN: Duration = Duration::from_millis(100);

// ---- peers --------------------------------------------------------------------------

/// `send ID COUNT SEED PACE PROGRESS_ID END`: opens the sending end of channel `ID`,
/// sends messages `0..COUNT` of stream `SEED` (`PACE`: fast, mixed, slow), recording
/// in segment `PROGRESS_ID` (or `-`) how many it attempted (word 0, before each send)
/// and completed (word 8, after), then `END`s: `drop` (closes) or `exit` (exits
/// without closing).
pub(crate) fn peer_send(args: &[String]) -> u8 {
    let [id, count, seed, pace, progress, end] = args else {
        eprintln!("send: bad arguments {args:?}");
        return 2;
    };
    let id = Id::from_raw(id.parse().unwrap());
    let count: u64 = count.parse().unwrap();
    let seed: u64 = seed.parse().unwrap();
    let progress = (progress != "-").then(|| {
        Segment::from_id(Id::from_raw(progress.parse().unwrap()))
            .attach()
            .expect("attach the progress segment")
    });
    let mut tx = match Options::new().open_sender(&Address::Id(id)) {
        Ok(tx) => tx,
        Err(e) => {
            eprintln!("send: open: {e}");
            return 3;
        }
    };
    let max = tx.max_message();
    let mut rng = Rng::new(seed ^ 0x5eed);
    let mut buf = Vec::new();
    for seq in 0..count {
        match pace.as_str() {
            "slow" => std::thread::sleep(Duration::from_micros(rng.range(0, 500))),
            "mixed" if rng.next() % 64 == 0 => {
                std::thread::sleep(Duration::from_micros(rng.range(0, 2000)))
            }
            _ => {}
        }
        make_message(seq, seed, max, &mut buf);
        if let Some(p) = &progress {
            p.atomic_u64(0).unwrap().store(seq + 1, Ordering::SeqCst);
        }
        if let Err(e) = tx.send(&buf) {
            eprintln!("send: message {seq}: {e}");
            return 4;
        }
        if let Some(p) = &progress {
            p.atomic_u64(8).unwrap().store(seq + 1, Ordering::SeqCst);
        }
    }
    if end == "exit" {
        // Leave without closing: the receiver must find out from the kernel.
        std::mem::forget(tx);
        std::process::exit(0);
    }
    0
}

/// `recv ID COUNT SEED`: opens the receiving end of channel `ID`, receives messages
/// `0..COUNT` of stream `SEED` in place (`recv_with`), checking each, then expects
/// `PeerGone` (unless `COUNT` is `max`: then it receives until killed).
pub(crate) fn peer_recv(args: &[String]) -> u8 {
    let [id, count, seed] = args else {
        eprintln!("recv: bad arguments {args:?}");
        return 2;
    };
    let id = Id::from_raw(id.parse().unwrap());
    let count: u64 = count.parse().unwrap();
    let seed: u64 = seed.parse().unwrap();
    let mut rx = match Options::new().open_receiver(&Address::Id(id)) {
        Ok(rx) => rx,
        Err(e) => {
            eprintln!("recv: open: {e}");
            return 3;
        }
    };
    let max = rx.max_message();
    let mut buf = Vec::new();
    for seq in 0..count {
        let got = rx.recv_with(|m| {
            // Parse the header in place, then copy the rest out.
            let head: [u8; 16] = m.read_array(0).map_err(|e| e.to_string())?;
            if u64::from_le_bytes(head[..8].try_into().unwrap()) != seq {
                return Err(format!("message {seq}: wrong sequence number in place"));
            }
            m.copy_into(&mut buf);
            Ok(())
        });
        match got {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("recv: {e}");
                return 4;
            }
            Err(e) => {
                eprintln!("recv: message {seq}: {e}");
                return 5;
            }
        }
        if let Err(e) = verify(seq, seed, max, &buf) {
            eprintln!("recv: {e}");
            return 6;
        }
    }
    match rx.recv() {
        Err(e) if e.kind() == ErrorKind::PeerGone => 0,
        other => {
            eprintln!("recv: after {count} messages expected PeerGone, got {other:?}");
            7
        }
    }
}

// ---- streaming ----------------------------------------------------------------------

fn stream_ten_million_messages() {
    let seed = clock_seed();
    let mut rx = Options::new()
        .create_receiver(&Address::Private)
        .expect("create");
    track(rx.id());
    let mut child = spawn(
        "send",
        &[
            rx.id().as_raw().to_string(),
            STREAM.to_string(),
            seed.to_string(),
            "fast".into(),
            "-".into(),
            "drop".into(),
        ],
    );
    rx.expect_peer(shm::Pid::from_raw(child.id() as i32));
    let max = rx.max_message();
    let start = Instant::now();
    let mut buf = Vec::new();
    let mut bytes = 0u64;
    for seq in 0..STREAM {
        if let Err(e) = rx.recv_into(&mut buf) {
            let _ = child.kill();
            panic!("message {seq} (seed {seed}): {e}");
        }
        if let Err(e) = verify(seq, seed, max, &buf) {
            let _ = child.kill();
            panic!("seed {seed}: {e}");
        }
        bytes += buf.len() as u64;
    }
    let elapsed = start.elapsed();
    let end = rx.recv();
    assert_eq!(
        end.as_ref().map_err(|e| e.kind()),
        Err(ErrorKind::PeerGone),
        "after the stream: {end:?}"
    );
    assert!(wait(&mut child, Duration::from_secs(10)).success());
    println!(
        "    {STREAM} messages ({:.1} MB, seed {seed}) in {elapsed:.2?}: {:.1} M msg/s, none lost, duplicated, reordered or corrupted",
        bytes as f64 / 1e6,
        STREAM as f64 / elapsed.as_secs_f64() / 1e6
    );
}

fn stream_zero_copy_to_child() {
    let seed = clock_seed();
    let n = 1_000_000u64;
    let mut tx = Options::new()
        .capacity(64 * 1024)
        .create_sender(&Address::Private)
        .expect("create");
    track(tx.id());
    let mut child = spawn(
        "recv",
        &[
            tx.id().as_raw().to_string(),
            n.to_string(),
            seed.to_string(),
        ],
    );
    tx.expect_peer(shm::Pid::from_raw(child.id() as i32));
    let max = tx.max_message();
    let mut buf = Vec::new();
    for seq in 0..n {
        make_message(seq, seed, max, &mut buf);
        // Written in place: the header first, then the body, through the view.
        tx.send_with(buf.len(), |w| {
            w.write_at(0, &buf[..16]).unwrap();
            w.write_at(16, &buf[16..]).unwrap();
        })
        .unwrap_or_else(|e| panic!("message {seq}: {e}"));
    }
    drop(tx);
    let status = wait(&mut child, Duration::from_secs(20));
    assert!(status.success(), "receiver child failed: {status:?}");
}

/// A 4 KiB ring and messages up to its maximum: padding records at nearly every lap.
fn wraparound_with_threads() {
    let opts = Options::new().capacity(4096);
    let (mut tx, mut rx) = channel::pair(&opts).unwrap();
    track(tx.id());
    let max = tx.max_message();
    let seed = clock_seed();
    let n = 200_000u64;
    let sender = std::thread::spawn(move || {
        let mut rng = Rng::new(seed);
        let mut buf = Vec::new();
        for seq in 0..n {
            let len = rng.range(16, max as u64) as usize;
            buf.clear();
            buf.extend_from_slice(&seq.to_le_bytes());
            buf.resize(len, (seq % 251) as u8);
            tx.send(&buf).unwrap();
        }
    });
    let mut rng = Rng::new(seed);
    let mut buf = Vec::new();
    for seq in 0..n {
        let len = rng.range(16, max as u64) as usize;
        rx.recv_into(&mut buf).unwrap();
        assert_eq!(buf.len(), len, "message {seq}");
        assert_eq!(u64::from_le_bytes(buf[..8].try_into().unwrap()), seq);
        assert!(buf[8..].iter().all(|&b| b == (seq % 251) as u8));
    }
    sender.join().unwrap();
    assert_eq!(rx.recv().unwrap_err().kind(), ErrorKind::PeerGone);
}

// ---- peer death ---------------------------------------------------------------------

/// A killer thread: sleeps `delay`, notes the time, SIGKILLs `pid`.
fn killer(pid: u32, delay: Duration) -> (std::thread::JoinHandle<()>, Arc<Mutex<Option<Instant>>>) {
    let at = Arc::new(Mutex::new(None));
    let at2 = at.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(delay);
        *at2.lock().unwrap() = Some(Instant::now());
        // SAFETY: kill(2) on our own child; no memory involved.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    (h, at)
}

fn sigkill_sender_at_random_points() {
    let seed = clock_seed();
    let mut rng = Rng::new(seed);
    let mut worst = Duration::ZERO;
    let mut before_connect = 0;
    let mut total = 0u64;
    for run in 0..KILL_RUNS_SENDER {
        let cap = [4096usize, 64 * 1024, 256 * 1024][run as usize % 3];
        let pace = ["fast", "mixed", "slow"][(run as usize / 3) % 3];
        let stream = rng.next();
        let progress = Segment::create_private_attached(4096).unwrap();
        track(progress.id());
        let mut rx = Options::new()
            .capacity(cap)
            .create_receiver(&Address::Private)
            .unwrap();
        track(rx.id());
        let mut child = spawn(
            "send",
            &[
                rx.id().as_raw().to_string(),
                u64::MAX.to_string(),
                stream.to_string(),
                pace.into(),
                progress.id().as_raw().to_string(),
                "drop".into(),
            ],
        );
        rx.expect_peer(shm::Pid::from_raw(child.id() as i32));
        // A quarter of the kills land during start-up (exec, open), the rest anywhere
        // in the first 60 ms of streaming.
        let delay = if run % 4 == 0 {
            Duration::from_micros(rng.range(0, 3_000))
        } else {
            Duration::from_micros(rng.range(0, 60_000))
        };
        let (k, killed_at) = killer(child.id(), delay);
        let max = rx.max_message();
        let mut buf = Vec::new();
        let mut received = 0u64;
        let gone_at = loop {
            match rx.recv_into(&mut buf) {
                Ok(_) => {
                    if let Err(e) = verify(received, stream, max, &buf) {
                        let _ = child.kill();
                        panic!("run {run} (seed {seed}): {e}");
                    }
                    received += 1;
                }
                Err(e) if e.kind() == ErrorKind::PeerGone => break Instant::now(),
                Err(e) => {
                    let _ = child.kill();
                    panic!("run {run} (seed {seed}): unexpected {e}");
                }
            }
        };
        k.join().unwrap();
        let killed = killed_at.lock().unwrap().expect("the killer ran");
        assert!(
            gone_at >= killed,
            "run {run}: PeerGone before the kill (a live sender reported dead)"
        );
        let latency = gone_at - killed;
        worst = worst.max(latency);
        assert!(
            latency <= GONE_WITHIN,
            "run {run} (seed {seed}): PeerGone {latency:?} after SIGKILL"
        );
        let _ = wait(&mut child, Duration::from_secs(5));
        let attempted = progress.atomic_u64(0).unwrap().load(Ordering::SeqCst);
        let done = progress.atomic_u64(8).unwrap().load(Ordering::SeqCst);
        assert!(
            done <= received && received <= attempted,
            "run {run} (seed {seed}): received {received} messages, but the sender had \
             completed {done} sends and attempted {attempted}"
        );
        if attempted == 0 {
            before_connect += 1;
        }
        total += received;
    }
    println!(
        "    {KILL_RUNS_SENDER} SIGKILLed senders (seed {seed}; {before_connect} before their first send): \
         each receiver got exactly the committed prefix ({total} messages in all), then PeerGone \
         at most {worst:?} after the kill"
    );
}

fn sigkill_receiver_at_random_points() {
    let seed = clock_seed();
    let mut rng = Rng::new(seed);
    let mut worst = Duration::ZERO;
    for run in 0..KILL_RUNS_RECEIVER {
        let cap = [4096usize, 256 * 1024][run as usize % 2];
        let stream = rng.next();
        let mut tx = Options::new()
            .capacity(cap)
            .create_sender(&Address::Private)
            .unwrap();
        track(tx.id());
        let mut child = spawn(
            "recv",
            &[
                tx.id().as_raw().to_string(),
                u64::MAX.to_string(),
                stream.to_string(),
            ],
        );
        tx.expect_peer(shm::Pid::from_raw(child.id() as i32));
        let (k, killed_at) = killer(child.id(), Duration::from_micros(rng.range(0, 60_000)));
        let max = tx.max_message();
        let mut buf = Vec::new();
        let mut seq = 0u64;
        let gone_at = loop {
            make_message(seq, stream, max, &mut buf);
            match tx.send(&buf) {
                Ok(()) => seq += 1,
                Err(e) if e.kind() == ErrorKind::PeerGone => break Instant::now(),
                Err(e) => panic!("run {run} (seed {seed}): unexpected {e}"),
            }
        };
        k.join().unwrap();
        let killed = killed_at.lock().unwrap().expect("the killer ran");
        assert!(gone_at >= killed, "run {run}: PeerGone before the kill");
        let latency = gone_at - killed;
        worst = worst.max(latency);
        assert!(
            latency <= GONE_WITHIN,
            "run {run} (seed {seed}): PeerGone {latency:?} after SIGKILL"
        );
        let _ = wait(&mut child, Duration::from_secs(5));
    }
    println!(
        "    {KILL_RUNS_RECEIVER} SIGKILLed receivers (seed {seed}): the sender got PeerGone at most {worst:?} after the kill"
    );
}

fn clean_and_unclean_exit_deliver_everything() {
    for end in ["drop", "exit"] {
        let seed = clock_seed();
        let n = 2000u64;
        let mut rx = Options::new()
            .capacity(8 << 20)
            .create_receiver(&Address::Private)
            .unwrap();
        track(rx.id());
        let mut child = spawn(
            "send",
            &[
                rx.id().as_raw().to_string(),
                n.to_string(),
                seed.to_string(),
                "fast".into(),
                "-".into(),
                end.into(),
            ],
        );
        // Let the sender finish and go before reading anything (the ring holds the
        // whole stream): all n must still come, then PeerGone.
        assert!(wait(&mut child, Duration::from_secs(10)).success());
        let max = rx.max_message();
        let mut buf = Vec::new();
        let mut got = 0;
        loop {
            match rx.recv_into(&mut buf) {
                Ok(_) => {
                    verify(got, seed, max, &buf).unwrap();
                    got += 1;
                }
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::PeerGone, "{end}: {e}");
                    break;
                }
            }
        }
        assert_eq!(got, n, "{end}: every committed message arrives");
        // And the segment is already marked removed: it dies with our attachment.
        assert!(Segment::from_id(rx.id()).stat().unwrap().is_removed());
    }
}

fn expected_peer_dying_before_connecting() {
    let mut rx = Options::new().create_receiver(&Address::Private).unwrap();
    track(rx.id());
    // A peer that exits before opening anything (bad arguments).
    let mut child = spawn("send", &["nonsense".into()]);
    rx.expect_peer(shm::Pid::from_raw(child.id() as i32));
    let t = Instant::now();
    let e = rx.recv().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PeerGone, "{e}");
    assert!(e.to_string().contains("before it did"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    let _ = wait(&mut child, Duration::from_secs(5));
}

// ---- connecting ---------------------------------------------------------------------

fn connect_by_key_path_and_id() {
    // By key: after both ends attach, the key is free and the segment marked removed.
    let key = fresh_key();
    let mut tx = Sender::create(&Address::Key(key)).unwrap();
    track(tx.id());
    let mut rx = Receiver::open(&Address::Key(key)).unwrap();
    let info = Segment::from_id(tx.id()).stat().unwrap();
    assert!(info.is_removed(), "marked removed once both are attached");
    assert_eq!(info.nattch, 2);
    assert_eq!(Segment::open(key).unwrap_err().kind(), ErrorKind::NotFound);
    tx.send(b"by key").unwrap();
    assert_eq!(rx.recv().unwrap(), b"by key");
    assert_eq!(
        rx.peer_pid(),
        Some(shm::Pid::from_raw(std::process::id() as i32))
    );

    // By path (ftok), receiver created first.
    let path = std::env::temp_dir().join(format!("shm-channel-test-{}", std::process::id()));
    std::fs::write(&path, b"x").unwrap();
    let at = Address::Path(path.clone(), b'C');
    let key = shm::Key::ftok(&path, b'C').unwrap();
    let mut rx2 = Receiver::create(&at).unwrap();
    track(rx2.id());
    let mut tx2 = Sender::open(&at).unwrap();
    tx2.send(b"by path").unwrap();
    assert_eq!(rx2.recv().unwrap(), b"by path");
    assert_eq!(Segment::open(key).unwrap_err().kind(), ErrorKind::NotFound);
    std::fs::remove_file(&path).unwrap();

    // By id, with a huge ring.
    let opts = Options::new().capacity(1 << 24);
    let (mut tx3, mut rx3) = channel::pair(&opts).unwrap();
    track(tx3.id());
    let big = vec![0xabu8; tx3.max_message()];
    tx3.send(&big).unwrap();
    assert_eq!(rx3.recv().unwrap(), big);
}

fn refused_connections() {
    let opts = Options::new().connect_timeout(Duration::from_millis(20));
    let tx = opts.create_sender(&Address::Private).unwrap();
    track(tx.id());
    // Wrong role.
    let e = opts.open_sender(&Address::Id(tx.id())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Incompatible, "{e}");
    // Third endpoint.
    let _rx = opts.open_receiver(&Address::Id(tx.id())).unwrap();
    let e = opts.open_receiver(&Address::Id(tx.id())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    // Not a channel.
    let plain = Segment::create_private(8192).unwrap().remove_on_drop();
    track(plain.id());
    let e = opts.open_receiver(&Address::Id(plain.id())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Incompatible, "{e}");
    // Address kinds that make no sense.
    assert_eq!(
        opts.create_sender(&Address::Id(tx.id()))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        opts.open_sender(&Address::Private).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        opts.clone()
            .capacity(5000)
            .create_sender(&Address::Private)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidSize
    );
    // An existing key is not taken over.
    let key = fresh_key();
    let first = Sender::create(&Address::Key(key)).unwrap();
    track(first.id());
    assert_eq!(
        Sender::create(&Address::Key(key)).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    // A creator that goes before anyone connects removes the segment.
    let id = first.id();
    drop(first);
    assert_eq!(
        Receiver::open(&Address::Id(id)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

// ---- waiting ------------------------------------------------------------------------

fn timeouts_and_try_forms() {
    let (mut tx, mut rx) = channel::pair(&Options::new().capacity(4096)).unwrap();
    track(tx.id());
    assert_eq!(rx.try_recv().unwrap_err().kind(), ErrorKind::WouldBlock);
    let t = Instant::now();
    let e = rx.recv_timeout(Duration::from_millis(50)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(50) && took < Duration::from_millis(250),
        "{took:?}"
    );

    let e = tx.send(&vec![0; tx.max_message() + 1]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MessageTooLarge, "{e}");
    let mut sent = 0;
    while tx.try_send(&[7; 100]).is_ok() {
        sent += 1;
    }
    assert!(sent > 30, "a 4 KiB ring holds {sent} 100-byte messages");
    assert_eq!(
        tx.try_send(&[7; 100]).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    let t = Instant::now();
    let e = tx
        .send_timeout(&[7; 100], Duration::from_millis(30))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    assert!(t.elapsed() >= Duration::from_millis(30));
    for _ in 0..sent {
        assert_eq!(rx.try_recv().unwrap(), [7; 100]);
    }
    assert_eq!(rx.try_recv().unwrap_err().kind(), ErrorKind::WouldBlock);
    let big = vec![1u8; tx.max_message()];
    tx.send(&big).unwrap();
    assert_eq!(rx.recv().unwrap(), big);

    // A receiver that closed is reported to the sender at once.
    drop(rx);
    assert_eq!(tx.try_send(b"x").unwrap_err().kind(), ErrorKind::PeerGone);
    assert_eq!(tx.send(b"x").unwrap_err().kind(), ErrorKind::PeerGone);
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill in.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn waiting_side_uses_no_cpu() {
    let (mut tx, mut rx) = channel::pair(&Options::new()).unwrap();
    track(tx.id());
    let nap = Duration::from_millis(400);
    let h = std::thread::spawn(move || {
        std::thread::sleep(nap);
        tx.send(b"late").unwrap();
        tx
    });
    let (cpu0, t0) = (thread_cpu_time(), Instant::now());
    assert_eq!(rx.recv().unwrap(), b"late");
    let (cpu, wall) = (thread_cpu_time() - cpu0, t0.elapsed());
    let _tx = h.join().unwrap();
    assert!(wall >= nap);
    assert!(
        cpu < wall / 10,
        "a receiver blocked for {wall:?} used {cpu:?} of CPU"
    );
    println!("    blocked {wall:.0?} in recv using {cpu:.1?} of CPU");
}

fn zero_copy_closures() {
    let (mut tx, mut rx) = channel::pair(&Options::new().capacity(8192)).unwrap();
    track(tx.id());
    let n = tx
        .send_with(100, |w| {
            assert_eq!(w.len(), 100);
            w.fill(0, 100, 0xee).unwrap();
            w.write_at(0, b"head").unwrap();
            assert_eq!(
                w.write_at(98, b"xyz").unwrap_err().kind(),
                ErrorKind::OutOfBounds
            );
            w.truncate(60);
            w.len()
        })
        .unwrap();
    assert_eq!(n, 60);
    // A panicking writer sends nothing (the expected panics stay quiet).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_with(10, |_| panic!("writer fails")).unwrap();
    }));
    assert!(r.is_err());
    tx.send(b"after").unwrap();
    // A panicking reader leaves the message in place.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rx.recv_with(|_| panic!("reader fails")).unwrap();
    }));
    std::panic::set_hook(hook);
    assert!(r.is_err());
    let first = rx
        .recv_with(|m| {
            assert_eq!(m.len(), 60);
            assert_eq!(&m.read_array::<4>(0).unwrap(), b"head");
            let mut tail = [0u8; 56];
            m.read_at(4, &mut tail).unwrap();
            assert!(tail.iter().all(|&b| b == 0xee));
            assert_eq!(
                m.read_at(59, &mut [0; 2]).unwrap_err().kind(),
                ErrorKind::OutOfBounds
            );
            m.to_vec()
        })
        .unwrap();
    assert_eq!(&first[..4], b"head");
    assert_eq!(rx.recv().unwrap(), b"after");
    let counter = AtomicU64::new(0);
    assert_eq!(
        rx.try_recv_with(|_| counter.fetch_add(1, Ordering::Relaxed))
            .unwrap_err()
            .kind(),
        ErrorKind::WouldBlock
    );
    assert_eq!(counter.load(Ordering::Relaxed), 0);
    let _ = support::mix(0);
}
