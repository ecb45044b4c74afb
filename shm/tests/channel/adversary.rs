//! The peer is hostile: it writes anything into the header and the ring, at any time.
//! This side may only ever return data or one of the channel's errors, within its
//! timeout, without panicking and without touching memory outside the segment (the
//! ring ends at the segment's last page, so a stray access past it would fault).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use shm::channel::{self, Options};
use shm::{Attachment, ErrorKind, Id, Segment};

use crate::Case;
use crate::support::{Rng, clock_seed, spawn, track, wait};

pub(crate) const ALL: &[Case] = &[
    (
        "adversarial_scribbles_proptest",
        adversarial_scribbles_proptest,
    ),
    (
        "adversarial_concurrent_scribbler_process",
        adversarial_concurrent_scribbler_process,
    ),
    ("forged_headers_are_refused", forged_headers_are_refused),
];

/// Proptest cases (each a sequence of up to 60 operations).
const CASES: u32 = 1000;
/// How late past its timeout a call may return on a busy machine.
const SLACK: Duration = Duration::from_millis(250);

/// Every header field's offset, as the layout documents it.
const HEADER_FIELDS: &[(usize, usize)] = &[
    (0, 8),
    (8, 4),
    (12, 4),
    (16, 8),
    (24, 8),
    (32, 4),
    (128, 4),
    (132, 4),
    (256, 8),
    (384, 4),
    (388, 4),
    (512, 4),
    (516, 4),
    (640, 4),
    (644, 4),
];
const HEADER: usize = 4096;

#[derive(Clone, Debug)]
enum Op {
    TrySend(usize),
    SendTimeout(usize, u8),
    SendWith(usize),
    TryRecv,
    RecvTimeout(u8),
    RecvWith,
    /// Scribble `value` into header field `field % len` (width per the field).
    Header(usize, u64),
    /// Scribble `value` at ring word `word` (mod the ring).
    Ring(usize, u64),
    /// Scribble a well-formed-looking commit word (right tag, chosen length) at ring
    /// word `word`.
    ForgedCommit(usize, u32),
}

fn interesting() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(u32::MAX as u64),
        Just(0x8000_0000_0000_0000),
        Just(4096),
        Just(1 << 40),
        any::<u64>(),
        (0u64..10_000),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..2500).prop_map(Op::TrySend),
        2 => (0usize..2500, 0u8..4).prop_map(|(l, t)| Op::SendTimeout(l, t)),
        2 => (0usize..2500).prop_map(Op::SendWith),
        4 => Just(Op::TryRecv),
        2 => (0u8..4).prop_map(Op::RecvTimeout),
        2 => Just(Op::RecvWith),
        1 => (any::<usize>(), interesting()).prop_map(|(f, v)| Op::Header(f, v)),
        1 => (any::<usize>(), interesting()).prop_map(|(w, v)| Op::Ring(w, v)),
        1 => (any::<usize>(), prop_oneof![Just(u32::MAX), 0u32..5000, any::<u32>()])
            .prop_map(|(w, l)| Op::ForgedCommit(w, l)),
    ]
}

fn tag(pos: u64) -> u64 {
    u64::from(0x8000_0000 | ((pos >> 3) as u32 & 0x7fff_ffff))
}

fn scribble(map: &Attachment, cap: usize, op: &Op) {
    match *op {
        Op::Header(f, v) => {
            let (off, width) = HEADER_FIELDS[f % HEADER_FIELDS.len()];
            if width == 8 {
                map.write_volatile::<u64>(off, v).unwrap();
            } else {
                map.write_volatile::<u32>(off, v as u32).unwrap();
            }
        }
        Op::Ring(w, v) => {
            let off = HEADER + w.wrapping_mul(8) % cap;
            map.write_volatile::<u64>(off, v).unwrap();
        }
        Op::ForgedCommit(w, len) => {
            // A position in one of the first four laps, at its ring offset.
            let pos = (w.wrapping_mul(8) % (4 * cap)) as u64;
            map.write_volatile::<u64>(HEADER + pos as usize % cap, tag(pos) << 32 | u64::from(len))
                .unwrap();
        }
        _ => unreachable!(),
    }
}

fn allowed(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Corrupt
            | ErrorKind::WouldBlock
            | ErrorKind::TimedOut
            | ErrorKind::PeerGone
            | ErrorKind::MessageTooLarge
    )
}

fn payload(n: u64, len: usize) -> Vec<u8> {
    let mut v = vec![(n % 251) as u8; len];
    if len >= 8 {
        v[..8].copy_from_slice(&n.to_le_bytes());
    }
    v
}

/// Runs `ops` against an in-process pair while "the peer" (raw writes through a
/// third attachment) scribbles; checks the model until the first scribble and the
/// allowed outcomes always.
fn run_ops(ops: &[Op]) -> Result<(), TestCaseError> {
    let opts = Options::new()
        .capacity(4096)
        .spin(Duration::from_micros(5))
        .liveness_interval(Duration::from_millis(2));
    let (mut tx, mut rx) = channel::pair(&opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
    track(tx.id());
    let map = Segment::from_id(tx.id()).attach().unwrap();
    let cap = tx.capacity();
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    let mut scribbled = false;
    let mut n = 0u64;
    for op in ops {
        let t = Instant::now();
        let (limit, outcome): (Duration, Result<Option<Vec<u8>>, shm::Error>) = match *op {
            Op::TrySend(len) => {
                let m = payload(n, len);
                (
                    Duration::ZERO,
                    tx.try_send(&m).map(|()| {
                        model.push_back(m);
                        None
                    }),
                )
            }
            Op::SendTimeout(len, ms) => {
                let m = payload(n, len);
                let to = Duration::from_millis(u64::from(ms));
                (
                    to,
                    tx.send_timeout(&m, to).map(|()| {
                        model.push_back(m);
                        None
                    }),
                )
            }
            Op::SendWith(len) => {
                let m = payload(n, len);
                let r = tx.try_send_with(len, |w| w.write_at(0, &m).is_ok());
                (
                    Duration::ZERO,
                    match r {
                        Ok(true) => {
                            model.push_back(m);
                            Ok(None)
                        }
                        Ok(false) => return Err(TestCaseError::fail("write_at failed in range")),
                        Err(e) => Err(e),
                    },
                )
            }
            Op::TryRecv => (Duration::ZERO, rx.try_recv().map(Some)),
            Op::RecvTimeout(ms) => {
                let to = Duration::from_millis(u64::from(ms));
                (to, rx.recv_timeout(to).map(Some))
            }
            Op::RecvWith => (Duration::ZERO, rx.try_recv_with(|m| m.to_vec()).map(Some)),
            Op::Header(..) | Op::Ring(..) | Op::ForgedCommit(..) => {
                scribble(&map, cap, op);
                scribbled = true;
                continue;
            }
        };
        n += 1;
        let took = t.elapsed();
        prop_assert!(took <= limit + SLACK, "{op:?} took {took:?}");
        match outcome {
            Ok(Some(data)) if !scribbled => {
                let want = model.pop_front();
                prop_assert_eq!(Some(data), want, "{:?}: honest channel, wrong message", op);
            }
            Ok(_) => {}
            Err(e) => {
                prop_assert!(allowed(e.kind()), "{op:?}: {e}");
                if !scribbled {
                    // Without a hostile write, only these are possible.
                    prop_assert!(
                        matches!(
                            e.kind(),
                            ErrorKind::WouldBlock
                                | ErrorKind::TimedOut
                                | ErrorKind::MessageTooLarge
                        ),
                        "{op:?} on an honest channel: {e}"
                    );
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut {
                        if let Op::TryRecv | Op::RecvTimeout(_) | Op::RecvWith = op {
                            prop_assert!(
                                model.is_empty(),
                                "{op:?}: empty, but {} queued",
                                model.len()
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn adversarial_scribbles_proptest() {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let t = Instant::now();
    let result = runner.run(&proptest::collection::vec(op(), 1..60), |ops| run_ops(&ops));
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "    {CASES} proptest cases (op sequences with header/ring scribbles) in {:.1?}",
        t.elapsed()
    );
}

/// `scribble ID SEED MILLIS`: attaches segment `ID` and writes random values at
/// random places for `MILLIS` ms.
pub(crate) fn peer_scribble(args: &[String]) -> u8 {
    let [id, seed, ms] = args else {
        eprintln!("scribble: bad arguments {args:?}");
        return 2;
    };
    let id = Id::from_raw(id.parse().unwrap());
    let mut rng = Rng::new(seed.parse().unwrap());
    let until = Instant::now() + Duration::from_millis(ms.parse().unwrap());
    let map = match Segment::from_id(id).attach() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("scribble: attach: {e}");
            return 3;
        }
    };
    let ring = map.len() - HEADER;
    while Instant::now() < until {
        for _ in 0..64 {
            let v = match rng.next() % 6 {
                0 => 0,
                1 => u64::MAX,
                2 => rng.next() % 5000,
                3 => {
                    let pos = (rng.next() as usize % ring) as u64 & !7;
                    tag(pos) << 32 | (rng.next() % 3000)
                }
                _ => rng.next(),
            };
            if rng.next() % 3 == 0 {
                let (off, width) = HEADER_FIELDS[rng.next() as usize % HEADER_FIELDS.len()];
                if width == 8 {
                    let _ = map.write_volatile::<u64>(off, v);
                } else {
                    let _ = map.write_volatile::<u32>(off, v as u32);
                }
            } else {
                let off = HEADER + ((rng.next() as usize % ring) & !7);
                let _ = map.write_volatile::<u64>(off, v);
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next() % 200));
    }
    0
}

fn adversarial_concurrent_scribbler_process() {
    let seed = clock_seed();
    let mut rng = Rng::new(seed);
    let mut outcomes = [0u32; 4]; // data, corrupt, peer gone, other allowed
    let rounds = 6;
    for round in 0..rounds {
        let opts = Options::new()
            .capacity(4096 << (round % 3))
            .spin(Duration::from_micros(5))
            .liveness_interval(Duration::from_millis(5));
        let (tx, rx) = channel::pair(&opts).unwrap();
        track(tx.id());
        let mut child = spawn(
            "scribble",
            &[
                tx.id().as_raw().to_string(),
                rng.next().to_string(),
                "300".into(),
            ],
        );
        // Sender and receiver in two threads, both facing the scribbler.
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let sender = std::thread::spawn(move || {
            let mut tx = tx;
            let mut rng = Rng::new(seed ^ 1);
            let mut worst = Duration::ZERO;
            while !stop2.load(Ordering::Relaxed) {
                let len = rng.range(0, tx.max_message() as u64) as usize;
                let to = Duration::from_millis(rng.range(0, 5));
                let t = Instant::now();
                let r = catch_unwind(AssertUnwindSafe(|| tx.send_timeout(&vec![0x5a; len], to)));
                worst = worst.max(t.elapsed().saturating_sub(to));
                match r {
                    Err(_) => return Err("send panicked".to_string()),
                    Ok(Err(e)) if !allowed(e.kind()) => return Err(format!("send: {e}")),
                    Ok(Err(e))
                        if e.kind() == ErrorKind::Corrupt || e.kind() == ErrorKind::PeerGone =>
                    {
                        std::thread::sleep(Duration::from_millis(1))
                    }
                    Ok(_) => {}
                }
            }
            Ok(worst)
        });
        let mut rx = rx;
        let until = Instant::now() + Duration::from_millis(350);
        let mut worst = Duration::ZERO;
        while Instant::now() < until {
            let to = Duration::from_millis(rng.range(0, 5));
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| rx.recv_timeout(to)));
            worst = worst.max(t.elapsed().saturating_sub(to));
            match r {
                Err(_) => panic!("recv panicked (seed {seed})"),
                Ok(Ok(_)) => outcomes[0] += 1,
                Ok(Err(e)) => {
                    assert!(allowed(e.kind()), "recv (seed {seed}): {e}");
                    match e.kind() {
                        ErrorKind::Corrupt => {
                            outcomes[1] += 1;
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        ErrorKind::PeerGone => {
                            outcomes[2] += 1;
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        _ => outcomes[3] += 1,
                    }
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let sworst = sender
            .join()
            .unwrap()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(
            worst <= SLACK && sworst <= SLACK,
            "past the timeout by {worst:?} / {sworst:?}"
        );
        assert!(wait(&mut child, Duration::from_secs(5)).success());
    }
    println!(
        "    {rounds} rounds against a scribbling process (seed {seed}): {} messages, {} Corrupt, {} PeerGone, {} timeouts/would-block; never a panic or a late return",
        outcomes[0], outcomes[1], outcomes[2], outcomes[3]
    );
}

fn forged_headers_are_refused() {
    let opts = Options::new().connect_timeout(Duration::from_millis(5));
    let forge = |edit: &dyn Fn(&Attachment)| {
        let seg = Segment::create_private(HEADER + 4096)
            .unwrap()
            .remove_on_drop();
        track(seg.id());
        let map = seg.attach().unwrap();
        map.write_volatile::<u64>(0, u64::from_le_bytes(*b"LNKCHAN\x01"))
            .unwrap();
        map.write_volatile::<u32>(8, 1).unwrap();
        map.write_volatile::<u32>(12, 4096).unwrap();
        map.write_volatile::<u64>(16, 4096).unwrap();
        map.write_volatile::<u64>(24, 4096 / 2 - 16).unwrap();
        map.write_volatile::<u32>(32, 1).unwrap(); // creator is the sender
        edit(&map);
        let r = opts.open_receiver(&shm::channel::Address::Id(seg.id()));
        r.map(|_| ()).map_err(|e| e.kind())
    };
    assert_eq!(forge(&|_| {}), Ok(()), "the well-formed header opens");
    type Edit<'a> = &'a dyn Fn(&Attachment);
    let bad: &[(&str, Edit<'_>)] = &[
        ("magic", &|m| m.write_volatile::<u64>(0, 7).unwrap()),
        ("version", &|m| m.write_volatile::<u32>(8, 2).unwrap()),
        ("header size", &|m| m.write_volatile::<u32>(12, 64).unwrap()),
        ("ring larger than the segment", &|m| {
            m.write_volatile::<u64>(16, 1 << 20).unwrap()
        }),
        ("ring not a power of two", &|m| {
            m.write_volatile::<u64>(16, 3000).unwrap()
        }),
        ("ring of 2^63", &|m| {
            m.write_volatile::<u64>(16, 1 << 63).unwrap()
        }),
        ("max message", &|m| {
            m.write_volatile::<u64>(24, 4096).unwrap()
        }),
        ("role", &|m| m.write_volatile::<u32>(32, 2).unwrap()),
        ("role garbage", &|m| {
            m.write_volatile::<u32>(32, 77).unwrap()
        }),
    ];
    for (what, edit) in bad {
        assert_eq!(forge(*edit), Err(ErrorKind::Incompatible), "{what}");
    }
    // An opener slot already taken.
    assert_eq!(
        forge(&|m| m.write_volatile::<u32>(132, 1).unwrap()),
        Err(ErrorKind::AlreadyExists)
    );
}
