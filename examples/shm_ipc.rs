//! Two processes talking through a System V shared-memory segment.
//!
//! The parent creates a private segment with `Segment::create_private_attached` — so
//! the kernel destroys it when the last process detaches, even if one of them
//! crashes — writes a request into it, and starts a second copy of this program with
//! the segment id in an environment variable. The child attaches by id, reads the
//! request, writes a reply, and flips a flag; the parent waits for the flag (a
//! shared atomic) and prints what happened.
//!
//! ```text
//! cargo run --example shm_ipc
//! ```
//!
//! Layout of the segment (all offsets in bytes):
//!
//! | offset | what |
//! |---|---|
//! | 0 | `state: AtomicU32` — 0 empty, 1 request ready, 2 reply ready |
//! | 8 | request length (`u32`), request bytes from 12 |
//! | 2048 | reply length (`u32`), reply bytes from 2052 |

use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use shm::{Attachment, Id, Segment};

const CHILD_ENV: &str = "SHM_IPC_SEGMENT_ID";
const SIZE: usize = 4096;
const STATE: usize = 0;
const REQUEST: usize = 8;
const REPLY: usize = 2048;
const REQUEST_READY: u32 = 1;
const REPLY_READY: u32 = 2;

fn main() -> ExitCode {
    let result = match std::env::var(CHILD_ENV) {
        Ok(id) => child(&id),
        Err(_) => parent(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shm_ipc: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn parent() -> Result<()> {
    let map = Segment::create_private_attached(SIZE)?;
    let id = map.id();
    println!(
        "parent {}: created segment id {id} ({SIZE} bytes), already marked for removal",
        std::process::id()
    );

    let request = b"what is the answer?";
    write_message(&map, REQUEST, request)?;
    map.atomic_u32(STATE)?
        .store(REQUEST_READY, Ordering::Release);
    println!(
        "parent: wrote request {:?}",
        String::from_utf8_lossy(request)
    );

    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .env(CHILD_ENV, id.as_raw().to_string())
        .spawn()?;
    println!("parent: spawned child {}", child.id());

    let state = map.atomic_u32(STATE)?;
    wait_for(
        || state.load(Ordering::Acquire) == REPLY_READY,
        "the child's reply",
    )?;
    let reply = read_message(&map, REPLY)?;
    println!(
        "parent: child replied {:?}",
        String::from_utf8_lossy(&reply)
    );

    let info = map.stat()?;
    println!(
        "parent: segment id {id}: size {}, nattch {}, creator pid {}, last attach/detach by pid {}, removed: {}",
        info.size,
        info.nattch,
        info.cpid,
        info.lpid,
        info.is_removed()
    );

    let status = child.wait()?;
    if !status.success() {
        return Err(format!("child failed: {status}").into());
    }
    map.detach()?;
    let gone = Segment::from_id(id).stat().is_err();
    println!(
        "parent: detached; segment id {id} {}",
        if gone { "is gone" } else { "still exists!" }
    );
    if !gone {
        return Err(format!("segment id {id} was left behind").into());
    }
    Ok(())
}

fn child(id: &str) -> Result<()> {
    let id = Id::from_raw(id.parse()?);
    let map = Segment::from_id(id).attach()?;
    let state = map.atomic_u32(STATE)?;
    wait_for(
        || state.load(Ordering::Acquire) == REQUEST_READY,
        "the parent's request",
    )?;
    let request = read_message(&map, REQUEST)?;
    println!(
        "child {}: attached segment id {id}, read request {:?}",
        std::process::id(),
        String::from_utf8_lossy(&request)
    );
    let reply = b"42";
    write_message(&map, REPLY, reply)?;
    state.store(REPLY_READY, Ordering::Release);
    println!("child: wrote reply {:?}", String::from_utf8_lossy(reply));
    // The attachment detaches when `map` drops.
    Ok(())
}

fn write_message(map: &Attachment, at: usize, msg: &[u8]) -> shm::Result<()> {
    map.write_volatile(at, msg.len() as u32)?;
    map.write_at(at + 4, msg)
}

/// Reads a length-prefixed message, trusting nothing: the length is checked against
/// the segment before use (the bounds check would catch it anyway).
fn read_message(map: &Attachment, at: usize) -> Result<Vec<u8>> {
    let len = map.read_volatile::<u32>(at)? as usize;
    if len > 1024 {
        return Err(format!("peer wrote an implausible length {len}").into());
    }
    let mut buf = vec![0u8; len];
    map.read_at(at + 4, &mut buf)?;
    Ok(buf)
}

fn wait_for(mut ready: impl FnMut() -> bool, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}
