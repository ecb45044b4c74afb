//! Output helpers: colour, hex, JSON strings, globs.

use std::io::{self, IsTerminal as _, Write};
use std::os::fd::{AsFd as _, BorrowedFd};

use linker_tools::sys;

use crate::args::ColorChoice;

/// Whether to colour: `always`, `never`, or `auto` = stdout is a terminal and `NO_COLOR`
/// is unset (or empty).
pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}

/// ANSI styles, or nothing when colour is off.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    on: bool,
}

impl Style {
    pub(crate) fn new(on: bool) -> Self {
        Style { on }
    }
    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub(crate) fn bold(self, t: &str) -> String {
        self.wrap("1", t)
    }
    pub(crate) fn dim(self, t: &str) -> String {
        self.wrap("2", t)
    }
    pub(crate) fn green(self, t: &str) -> String {
        self.wrap("32", t)
    }
    pub(crate) fn red(self, t: &str) -> String {
        self.wrap("31", t)
    }
    pub(crate) fn yellow(self, t: &str) -> String {
        self.wrap("33", t)
    }
    pub(crate) fn cyan(self, t: &str) -> String {
        self.wrap("36", t)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `v` as `width` lowercase hex digits, zero-padded (wider values print in full).
#[inline]
pub(crate) fn push_hex(buf: &mut Vec<u8>, v: u64, width: usize) {
    let mut tmp = [b'0'; 16];
    let mut x = v;
    let mut i = 16;
    while x != 0 {
        i -= 1;
        tmp[i] = HEX[(x & 0xf) as usize];
        x >>= 4;
    }
    let digits = 16 - i;
    let start = 16 - digits.max(width.min(16));
    buf.extend_from_slice(&tmp[start..]);
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                buf.extend_from_slice(&bytes[start..i]);
                buf.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(esc);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Appends `"key":` and a JSON string or `null`.
pub(crate) fn push_json_opt(buf: &mut Vec<u8>, key: &str, v: Option<&str>) {
    push_json_str(buf, key);
    buf.push(b':');
    match v {
        Some(s) => push_json_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

/// The pipe capacity asked for when stdout is a pipe (Linux's default ceiling,
/// `/proc/sys/fs/pipe-max-size`, for unprivileged users).
const PIPE_SIZE: usize = 1 << 20;

/// Widens the pipe `fd` to [`PIPE_SIZE`] if it is a narrower pipe: with the default 64 KiB
/// a listing of tens of megabytes costs the writer and the reader a context switch each
/// per 64 KiB. Anything else (a file, a terminal, a refusal) is left as it is.
fn grow_pipe(fd: BorrowedFd<'_>) {
    if sys::pipe_size(fd).is_ok_and(|n| n < PIPE_SIZE) {
        let _ = sys::set_pipe_size(fd, PIPE_SIZE);
    }
}

/// A buffered writer to stdout that hands full chunks to the kernel.
pub(crate) struct Sink {
    buf: Vec<u8>,
    out: io::StdoutLock<'static>,
}

impl Sink {
    pub(crate) fn new() -> Self {
        grow_pipe(io::stdout().as_fd());
        Sink {
            buf: Vec::with_capacity(1 << 16),
            out: io::stdout().lock(),
        }
    }

    /// The buffer to append to; call [`Sink::maybe_flush`] after each record.
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    pub(crate) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

/// Shell-style glob: `*` any run, `?` one byte, everything else literal.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) && pattern[p] != b'*'
        {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Parses `0x…` hex or decimal.
pub(crate) fn parse_address(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
        None => s.replace('_', "").parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_padded_and_never_truncated() {
        let mut b = Vec::new();
        push_hex(&mut b, 0x1139, 16);
        assert_eq!(b, b"0000000000001139");
        b.clear();
        push_hex(&mut b, 0x1_0000_0000, 8);
        assert_eq!(b, b"100000000");
        b.clear();
        push_hex(&mut b, 0, 8);
        assert_eq!(b, b"00000000");
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"fx_*", b"fx_private_add"));
        assert!(glob_match(b"*add", b"fx_private_add"));
        assert!(glob_match(b"f?_*a*d", b"fx_private_add"));
        assert!(!glob_match(b"fx_", b"fx_private_add"));
        assert!(glob_match(b"*", b""));
    }

    #[test]
    fn json_strings_escape() {
        let mut b = Vec::new();
        push_json_str(&mut b, "a\"b\\c\u{1}");
        assert_eq!(b, br#""a\"b\\c\u0001""#);
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_address("0x1139"), Some(0x1139));
        assert_eq!(parse_address("4409"), Some(4409));
        assert_eq!(parse_address("zz"), None);
    }
}
