//! Rust names printed exactly as binutils 2.40's libiberty (`rust-demangle.c`) prints them
//! for GNU nm `-C`: a fast path that answers most Rust names without calling libiberty.
//!
//! * [`v0`] parses and prints a v0 name (`_R…`) in one pass, straight into the output, and
//!   reproduces libiberty's conventions, quirks included: `::<…>` generics in value paths,
//!   `{closure#N}`/`{shim:NAME#N}`, `<T as Trait>`, `[T; N]`, `(T,)`, `fn(…) -> R`,
//!   `dyn A + B + 'a`, `for<'a>` binders, integer/bool/char constants (wider than 64 bits:
//!   `0x`, the digits but the first, and the `_` terminator), punycode identifiers, the
//!   instantiating crate left out, backrefs, and everything after the first `.` ignored.
//! * [`legacy`] does the same for legacy names (`_ZN…17h<hash>E`, non-verbose: without the
//!   hash), and tells apart the `_ZN` names libiberty's Rust demangler certainly refuses
//!   (nearly every C++ name), so that the caller can go straight to the C++ demangler.
//!
//! Both are exact-or-decline: a name they accept prints byte for byte as libiberty prints
//! it; wherever libiberty would fail, or where its behaviour is odd or unbounded (wrapping
//! overflows, forward backrefs, deep nesting, exponential backref expansion, truncated
//! punycode), they decline and leave `out` untouched, so the caller asks libiberty itself.
//! Input is untrusted: nothing here panics, recursion is bounded, and the work per name is
//! bounded. No allocation beyond the growth of `out`.
//!
//! [`v0_with_rustc_demangle`] and [`legacy_without_libiberty`] are the approximations used
//! only when no libbfd can be loaded.

/// Nesting limit for paths, types and constants. libiberty fails past 1024 nested calls
/// (`RUST_MAX_RECURSION_COUNT`, counted as we count); we decline well before that.
const MAX_DEPTH: u32 = 256;

/// Path, type and constant productions one name may expand to (backrefs re-expand theirs).
const FUEL: u32 = 1 << 16;

/// Demangled bytes one name may print before we decline.
const MAX_OUT: usize = 1 << 20;

/// Code points a punycode identifier may decode to.
const MAX_PUNYCODE: usize = 256;

/// Lifetimes one `for<…>` binder may introduce.
const MAX_BINDER: u64 = 64;

/// Why parsing stopped: libiberty fails here, or we decline (libiberty decides).
#[derive(Debug)]
struct Stop;

/// The outcome of one production.
type Parsed<T = ()> = Result<T, Stop>;

/// [`V0_CHAR`]: a character of a v0 name.
const OK: u8 = 0;

/// `OK` for `[_0-9A-Za-z]`, else 1.
static V0_CHAR: [u8; 256] = {
    let mut t = [1u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b == b'_' || b.is_ascii_alphanumeric() {
            t[c] = OK;
        }
        c += 1;
    }
    t
};

/// The position of the first `_` in `s`, eight bytes at a time.
#[inline]
fn find_underscore(s: &[u8]) -> Option<usize> {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut chunks = s.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ 0x5f5f_5f5f_5f5f_5f5f;
        // The high bit of each byte of `nonzero` is set iff that byte of `x` is not 0.
        let nonzero = ((x & LOW) + LOW) | x;
        let zero = !nonzero & !LOW;
        if zero != 0 {
            return Some(done + (zero.trailing_zeros() / 8) as usize);
        }
        done += 8;
    }
    let rest = chunks.remainder();
    rest.iter().position(|&c| c == b'_').map(|i| done + i)
}

/// The length of the longest prefix of `s` in `[_0-9A-Za-z]`, eight bytes at a time.
fn v0_chars(s: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const fn splat(b: u8) -> u64 {
        0x0101_0101_0101_0101 * b as u64
    }
    let mut chunks = s.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // Per byte, on its low 7 bits (no carry crosses bytes): the high bit of
        // `y + (0x80 - lo)` is set iff `y >= lo`, that of `y + (0x7f - hi)` iff `y > hi`.
        let y = x & !HIGH;
        let folded = y | splat(0x20); // `A-Z` as `a-z`
        let digit = (y + splat(0x80 - b'0')) & !(y + splat(0x7f - b'9'));
        let letter = (folded + splat(0x80 - b'a')) & !(folded + splat(0x7f - b'z'));
        let underscore = (y + splat(0x80 - b'_')) & !(y + splat(0x7f - b'_'));
        let ok = (digit | letter | underscore) & !x & HIGH;
        if ok != HIGH {
            return done + ((!ok & HIGH).trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    let rest = chunks.remainder();
    done + rest
        .iter()
        .position(|&c| V0_CHAR[usize::from(c)] != OK)
        .unwrap_or(rest.len())
}

/// A v0 name (`_R…`) printed as libiberty does; `false` (and `out` untouched) hands it on.
///
/// libiberty checks that the first character after `_R` is an uppercase letter, that the
/// name up to its first `.` is `[_0-9A-Za-z]` (the `.suffix` is ignored), parses one path
/// (printing it as a value path), skips an instantiating-crate path if any is left, and
/// fails unless that reaches the `.` or the end.
pub(super) fn v0(name: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(rest) = name.strip_prefix(b"_R") else {
        return false;
    };
    if !rest.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    // Up to the first `.`, only `[_0-9A-Za-z]`.
    let end = v0_chars(rest);
    let (sym, suffix) = rest.split_at(end);
    // libiberty reads a C string: a NUL would end it (nm never has one; decline).
    if suffix.first().is_some_and(|&c| c != b'.') || suffix.contains(&0) {
        return false;
    }
    let start = out.len();
    let mut buf = [0; BUF + SLACK];
    let mut p = V0 {
        sym,
        pos: 0,
        out,
        start,
        buf: &mut buf,
        buf_len: 0,
        skipping: false,
        depth: 0,
        fuel: FUEL,
        bound_lifetimes: 0,
    };
    if p.symbol().is_ok() {
        p.flush();
        true
    } else {
        p.out.truncate(start);
        false
    }
}

/// [`V0`]'s output buffer: flushed to `out` when full and at the end.
const BUF: usize = 256;

/// Room past [`BUF`] for an identifier copied in one 32-byte move.
const SLACK: usize = 32;

/// One identifier of a v0 name: its ASCII part and its punycode part, if any.
#[derive(Clone, Copy)]
struct Ident<'a> {
    /// Where `ascii` starts in the name.
    start: usize,
    /// The ASCII characters (before the last `_` of a punycode identifier).
    ascii: &'a [u8],
    /// The punycode deltas (after that `_`); `None` without the `u` prefix.
    punycode: Option<&'a [u8]>,
}

impl Ident<'_> {
    /// libiberty's "no name": neither ASCII characters nor punycode.
    fn is_empty(&self) -> bool {
        self.ascii.is_empty() && self.punycode.is_none()
    }
}

/// The v0 parser and printer: libiberty's `struct rust_demangler`, printing into `out`.
struct V0<'a, 'o> {
    /// The name after `_R`, up to its first `.`.
    sym: &'a [u8],
    /// The next character to read.
    pos: usize,
    /// Where the demangled name goes.
    out: &'o mut Vec<u8>,
    /// `out.len()` before this name.
    start: usize,
    /// Output not yet in `out`: small copies here beat `Vec` growth checks and `memcpy`
    /// calls.
    buf: &'o mut [u8; BUF + SLACK],
    /// Bytes used in `buf` (at most [`BUF`]).
    buf_len: usize,
    /// Inside an `impl` path or the instantiating crate: nothing prints and, as in
    /// libiberty, backrefs are not followed and punycode is not decoded.
    skipping: bool,
    /// Nested paths, types and constants (libiberty's `recursion`).
    depth: u32,
    /// Productions left to expand.
    fuel: u32,
    /// Lifetimes bound by the enclosing `for<…>` binders.
    bound_lifetimes: u64,
}

impl<'a> V0<'a, '_> {
    /// The whole name: a path, then maybe the instantiating crate, then the end.
    fn symbol(&mut self) -> Parsed {
        self.path(true)?;
        if self.pos < self.sym.len() {
            self.skipping = true;
            self.path(false)?;
        }
        if self.pos == self.sym.len() {
            Ok(())
        } else {
            Err(Stop)
        }
    }

    // --- reading ---

    /// The next character, if any (libiberty's `peek`, with 0 as `None`).
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.sym.get(self.pos).copied()
    }

    /// Consumes `c` if it comes next.
    #[inline]
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the next character; at the end libiberty fails.
    #[inline]
    fn next(&mut self) -> Parsed<u8> {
        let c = self.peek().ok_or(Stop)?;
        self.pos += 1;
        Ok(c)
    }

    /// A base-62 number ending in `_` (`_` alone is 0, else the digits' value plus one),
    /// with libiberty's wrapping 64-bit arithmetic. Every character of `sym` is
    /// `[_0-9A-Za-z]`, so every one before the `_` is a digit.
    fn integer_62(&mut self) -> Parsed<u64> {
        let mut x: u64 = 0;
        let mut any = false;
        loop {
            let c = self.next()?;
            if c == b'_' {
                return Ok(if any { x.wrapping_add(1) } else { 0 });
            }
            any = true;
            x = x
                .wrapping_mul(62)
                .wrapping_add(u64::from(BASE_62[usize::from(c)]));
        }
    }

    /// Skips a base-62 number whose value does not print (a parse error only at the end).
    #[inline]
    fn skip_integer_62(&mut self) -> Parsed {
        let rest = self.sym.get(self.pos..).unwrap_or_default();
        let n = find_underscore(rest).ok_or(Stop)?;
        self.pos += n + 1;
        Ok(())
    }

    /// `tag` and a base-62 number, plus one; 0 without `tag`.
    fn opt_integer_62(&mut self, tag: u8) -> Parsed<u64> {
        if !self.eat(tag) {
            return Ok(0);
        }
        Ok(self.integer_62()?.wrapping_add(1))
    }

    /// An optional `s` disambiguator.
    #[inline]
    fn disambiguator(&mut self) -> Parsed<u64> {
        self.opt_integer_62(b's')
    }

    /// An optional `s` disambiguator whose value does not print.
    #[inline]
    fn skip_disambiguator(&mut self) -> Parsed {
        if self.eat(b's') {
            self.skip_integer_62()?;
        }
        Ok(())
    }

    /// Lowercase hex digits ending in `_`: their count and (low 64 bits of) value.
    fn hex_nibbles(&mut self) -> Parsed<(usize, u64)> {
        let mut len = 0;
        let mut value: u64 = 0;
        while !self.eat(b'_') {
            let c = self.next()?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => 10 + (c - b'a'),
                _ => return Err(Stop),
            };
            value = (value << 4) | u64::from(d);
            len += 1;
        }
        Ok((len, value))
    }

    /// An identifier: optional `u` (punycode), decimal length, optional `_`, the bytes.
    #[inline(always)]
    fn ident(&mut self) -> Parsed<Ident<'a>> {
        let sym = self.sym;
        let mut pos = self.pos;
        let punycode = sym.get(pos) == Some(&b'u');
        pos += usize::from(punycode);
        let mut len = match sym.get(pos) {
            Some(&c) if c.is_ascii_digit() => usize::from(c - b'0'),
            _ => return Err(Stop),
        };
        pos += 1;
        if len != 0 {
            while let Some(&d) = sym.get(pos) {
                if !d.is_ascii_digit() {
                    break;
                }
                pos += 1;
                // libiberty's length wraps; decline instead (`sym` is far shorter).
                if len > 100_000_000 {
                    return Err(Stop);
                }
                len = len * 10 + usize::from(d - b'0');
            }
        }
        if sym.get(pos) == Some(&b'_') {
            pos += 1;
        }
        let start = pos;
        let bytes = sym.get(start..start + len).ok_or(Stop)?;
        self.pos = start + len;
        if !punycode {
            return Ok(Ident {
                start,
                ascii: bytes,
                punycode: None,
            });
        }
        // The last `_` separates the ASCII characters from the punycode deltas.
        let (ascii, deltas) = match bytes.iter().rposition(|&c| c == b'_') {
            Some(k) => (&bytes[..k], &bytes[k + 1..]),
            None => (&bytes[..0], bytes),
        };
        if deltas.is_empty() {
            return Err(Stop);
        }
        Ok(Ident {
            start,
            ascii,
            punycode: Some(deltas),
        })
    }

    /// A backref's target (its `B` at `tag_at`): `None` while skipping, where libiberty
    /// does not follow backrefs; else the position, strictly backwards or we decline
    /// (libiberty would follow it anywhere).
    fn backref(&mut self, tag_at: usize) -> Parsed<Option<usize>> {
        let target = self.integer_62()?;
        if self.skipping {
            return Ok(None);
        }
        // Only backrefs make output grow faster than the name: check its size here.
        if self.out.len() - self.start + self.buf_len > MAX_OUT {
            return Err(Stop);
        }
        match usize::try_from(target) {
            Ok(t) if t < tag_at => Ok(Some(t)),
            _ => Err(Stop),
        }
    }

    /// Counts one nested production against the depth and fuel limits.
    #[inline(always)]
    fn enter(&mut self) -> Parsed {
        self.depth += 1;
        self.fuel = self.fuel.checked_sub(1).ok_or(Stop)?;
        if self.depth > MAX_DEPTH {
            return Err(Stop);
        }
        Ok(())
    }

    // --- printing ---

    /// Prints `s` unless skipping.
    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        if self.skipping {
            return;
        }
        let end = self.buf_len + s.len();
        if end <= BUF {
            self.buf[self.buf_len..end].copy_from_slice(s);
            self.buf_len = end;
        } else {
            self.put_slow(s);
        }
    }

    /// [`Self::put`] when `buf` is full.
    #[inline(never)]
    fn put_slow(&mut self, s: &[u8]) {
        self.flush();
        if s.len() <= BUF {
            self.buf[..s.len()].copy_from_slice(s);
            self.buf_len = s.len();
        } else {
            self.out.extend_from_slice(s);
        }
    }

    /// Moves `buf` to `out`.
    fn flush(&mut self) {
        self.out.extend_from_slice(&self.buf[..self.buf_len]);
        self.buf_len = 0;
    }

    /// Prints the identifier `sym[start..start + len]` (not while skipping): short ones
    /// in one fixed 32-byte move, of which only `len` bytes count.
    #[inline(always)]
    fn put_ident_bytes(&mut self, start: usize, len: usize) {
        let sym = self.sym;
        let at = self.buf_len;
        if len <= SLACK && at + len <= BUF {
            if let Some(src) = sym.get(start..start + SLACK) {
                self.buf[at..at + SLACK].copy_from_slice(src);
                self.buf_len = at + len;
                return;
            }
        }
        self.put(&sym[start..start + len]);
    }

    /// Prints `x` in decimal.
    fn put_decimal(&mut self, mut x: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        self.put(&buf[i..]);
    }

    /// Prints `x` in lowercase hex, without leading zeros.
    fn put_hex(&mut self, mut x: u64) {
        let mut buf = [0u8; 16];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b"0123456789abcdef"[(x & 15) as usize];
            x >>= 4;
            if x == 0 {
                break;
            }
        }
        self.put(&buf[i..]);
    }

    /// Prints an identifier, decoding its punycode (not while skipping, as libiberty).
    #[inline(always)]
    fn print_ident(&mut self, id: Ident<'_>) -> Parsed {
        if self.skipping {
            return Ok(());
        }
        match id.punycode {
            None => {
                self.put_ident_bytes(id.start, id.ascii.len());
                Ok(())
            }
            Some(deltas) => self.print_punycode(id.ascii, deltas),
        }
    }

    /// RFC 3492 decoding as libiberty does it, printing UTF-8 (surrogates as 3 bytes).
    /// Declines where libiberty would overflow, print nothing (deltas cut short), or
    /// produce code points past U+10FFFF.
    #[inline(never)]
    fn print_punycode(&mut self, ascii: &[u8], deltas: &[u8]) -> Parsed {
        const BASE: u64 = 36;
        const T_MIN: u64 = 1;
        const T_MAX: u64 = 26;
        const SKEW: u64 = 38;
        let mut chars = [0u32; MAX_PUNYCODE];
        if ascii.len() > MAX_PUNYCODE {
            return Err(Stop);
        }
        for (slot, &c) in chars.iter_mut().zip(ascii) {
            *slot = u32::from(c);
        }
        let mut len = ascii.len();
        let (mut damp, mut bias, mut i, mut c) = (700u64, 72u64, 0u64, 0x80u64);
        let mut at = 0;
        while at < deltas.len() {
            let (mut delta, mut w, mut k) = (0u64, 1u64, 0u64);
            loop {
                k += BASE;
                let t = k.saturating_sub(bias).clamp(T_MIN, T_MAX);
                let &d = deltas.get(at).ok_or(Stop)?;
                at += 1;
                let d = match d {
                    b'a'..=b'z' => u64::from(d - b'a'),
                    b'0'..=b'9' => 26 + u64::from(d - b'0'),
                    _ => return Err(Stop),
                };
                delta = d
                    .checked_mul(w)
                    .and_then(|dw| delta.checked_add(dw))
                    .ok_or(Stop)?;
                if d < t {
                    break;
                }
                w = w.checked_mul(BASE - t).ok_or(Stop)?;
            }
            len += 1;
            if len > MAX_PUNYCODE {
                return Err(Stop);
            }
            let n = len as u64;
            i = i.checked_add(delta).ok_or(Stop)?;
            c += i / n;
            if c > 0x10_FFFF {
                return Err(Stop);
            }
            i %= n;
            let at_i = i as usize;
            chars.copy_within(at_i..len - 1, at_i + 1);
            chars[at_i] = c as u32;
            if at == deltas.len() {
                break;
            }
            i += 1;
            delta /= damp;
            damp = 2;
            delta += delta / n;
            k = 0;
            while delta > ((BASE - T_MIN) * T_MAX) / 2 {
                delta /= BASE - T_MIN;
                k += BASE;
            }
            bias = k + ((BASE - T_MIN + 1) * delta) / (delta + SKEW);
        }
        for &c in &chars[..len] {
            let mut buf = [0u8; 4];
            let bytes: &[u8] = if c < 0x80 {
                buf[0] = c as u8;
                &buf[..1]
            } else if c < 0x800 {
                buf[0] = 0xc0 | (c >> 6) as u8;
                buf[1] = 0x80 | (c & 0x3f) as u8;
                &buf[..2]
            } else if c < 0x1_0000 {
                buf[0] = 0xe0 | (c >> 12) as u8;
                buf[1] = 0x80 | ((c >> 6) & 0x3f) as u8;
                buf[2] = 0x80 | (c & 0x3f) as u8;
                &buf[..3]
            } else {
                buf[0] = 0xf0 | (c >> 18) as u8;
                buf[1] = 0x80 | ((c >> 12) & 0x3f) as u8;
                buf[2] = 0x80 | ((c >> 6) & 0x3f) as u8;
                buf[3] = 0x80 | (c & 0x3f) as u8;
                &buf[..4]
            };
            self.put(bytes);
        }
        Ok(())
    }

    /// `'_` for 0, else the `lt`-th innermost bound lifetime: `'a`…`'z`, then `'_26`….
    fn lifetime(&mut self, lt: u64) {
        self.put(b"'");
        if lt == 0 {
            self.put(b"_");
            return;
        }
        let depth = self.bound_lifetimes.wrapping_sub(lt);
        if depth < 26 {
            self.put(&[b'a' + depth as u8]);
        } else {
            self.put(b"_");
            self.put_decimal(depth);
        }
    }

    /// An optional `G` binder: `for<'a, 'b> `, its lifetimes made visible to the caller
    /// (who restores `bound_lifetimes` afterwards).
    fn binder(&mut self) -> Parsed {
        let n = self.opt_integer_62(b'G')?;
        if n == 0 {
            return Ok(());
        }
        if n > MAX_BINDER {
            return Err(Stop);
        }
        self.put(b"for<");
        for i in 0..n {
            if i > 0 {
                self.put(b", ");
            }
            self.bound_lifetimes += 1;
            self.lifetime(1);
        }
        self.put(b"> ");
        Ok(())
    }

    // --- productions ---

    /// A path; `in_value`: generic arguments print as `::<…>`.
    ///
    /// A nested path `N<ns><parent><disambiguator><name>` is mostly a chain of `N`s (one
    /// per segment) before its root: read the chain, then the root, then the segments'
    /// names innermost first, without recursing once per segment.
    fn path(&mut self, in_value: bool) -> Parsed {
        let chain = self.pos;
        let mut n: u32 = 0;
        while self.peek() == Some(b'N') {
            // libiberty recurses once per `N`, with the same limit.
            self.enter()?;
            self.pos += 1;
            let ns = self.next()?;
            if !ns.is_ascii_alphabetic() {
                return Err(Stop);
            }
            n += 1;
        }
        self.path_root(in_value)?;
        for level in (0..n as usize).rev() {
            let ns = self.sym[chain + 2 * level + 1];
            if ns.is_ascii_uppercase() {
                let dis = self.disambiguator()?;
                let name = self.ident()?;
                self.put(b"::{");
                match ns {
                    b'C' => self.put(b"closure"),
                    b'S' => self.put(b"shim"),
                    _ => self.put(&[ns]),
                }
                if !name.is_empty() {
                    self.put(b":");
                    self.print_ident(name)?;
                }
                self.put(b"#");
                self.put_decimal(dis);
                self.put(b"}");
            } else {
                self.skip_disambiguator()?;
                let name = self.ident()?;
                if !name.is_empty() {
                    self.put(b"::");
                    self.print_ident(name)?;
                }
            }
            self.depth -= 1;
        }
        Ok(())
    }

    /// A path that is not `N…`.
    fn path_root(&mut self, in_value: bool) -> Parsed {
        self.enter()?;
        let tag_at = self.pos;
        match self.next()? {
            b'C' => {
                self.skip_disambiguator()?;
                let name = self.ident()?;
                self.print_ident(name)?;
            }
            tag @ (b'M' | b'X' | b'Y') => {
                if tag != b'Y' {
                    // The `impl`'s own path does not print.
                    self.skip_disambiguator()?;
                    let was = self.skipping;
                    self.skipping = true;
                    self.path(in_value)?;
                    self.skipping = was;
                }
                self.put(b"<");
                self.ty()?;
                if tag != b'M' {
                    self.put(b" as ");
                    self.path(false)?;
                }
                self.put(b">");
            }
            b'I' => {
                self.path(in_value)?;
                if in_value {
                    self.put(b"::");
                }
                self.put(b"<");
                self.generic_args()?;
                self.put(b">");
            }
            b'B' => {
                if let Some(target) = self.backref(tag_at)? {
                    let resume = std::mem::replace(&mut self.pos, target);
                    self.path(in_value)?;
                    self.pos = resume;
                }
            }
            _ => return Err(Stop),
        }
        self.depth -= 1;
        Ok(())
    }

    /// Generic arguments up to `E`, comma-separated.
    fn generic_args(&mut self) -> Parsed {
        let mut first = true;
        while !self.eat(b'E') {
            if !first {
                self.put(b", ");
            }
            first = false;
            self.generic_arg()?;
        }
        Ok(())
    }

    /// A lifetime (`L`), a constant (`K`) or a type.
    fn generic_arg(&mut self) -> Parsed {
        if self.eat(b'L') {
            let lt = self.integer_62()?;
            self.lifetime(lt);
            Ok(())
        } else if self.eat(b'K') {
            self.konst()
        } else {
            self.ty()
        }
    }

    /// A type.
    fn ty(&mut self) -> Parsed {
        let tag_at = self.pos;
        let tag = self.next()?;
        if let Some(basic) = basic_type(tag) {
            self.put(basic);
            return Ok(());
        }
        self.enter()?;
        match tag {
            b'R' | b'Q' => {
                self.put(b"&");
                if self.eat(b'L') {
                    let lt = self.integer_62()?;
                    if lt != 0 {
                        self.lifetime(lt);
                        self.put(b" ");
                    }
                }
                if tag == b'Q' {
                    self.put(b"mut ");
                }
                self.ty()?;
            }
            b'P' => {
                self.put(b"*const ");
                self.ty()?;
            }
            b'O' => {
                self.put(b"*mut ");
                self.ty()?;
            }
            b'A' | b'S' => {
                self.put(b"[");
                self.ty()?;
                if tag == b'A' {
                    self.put(b"; ");
                    self.konst()?;
                }
                self.put(b"]");
            }
            b'T' => {
                self.put(b"(");
                let mut n = 0;
                while !self.eat(b'E') {
                    if n > 0 {
                        self.put(b", ");
                    }
                    self.ty()?;
                    n += 1;
                }
                if n == 1 {
                    self.put(b",");
                }
                self.put(b")");
            }
            b'F' => self.fn_type()?,
            b'D' => {
                self.put(b"dyn ");
                let outer = self.bound_lifetimes;
                self.binder()?;
                let mut first = true;
                while !self.eat(b'E') {
                    if !first {
                        self.put(b" + ");
                    }
                    first = false;
                    self.dyn_trait()?;
                }
                self.bound_lifetimes = outer;
                if !self.eat(b'L') {
                    return Err(Stop);
                }
                let lt = self.integer_62()?;
                if lt != 0 {
                    self.put(b" + ");
                    self.lifetime(lt);
                }
            }
            b'B' => {
                if let Some(target) = self.backref(tag_at)? {
                    let resume = std::mem::replace(&mut self.pos, target);
                    self.ty()?;
                    self.pos = resume;
                }
            }
            _ => {
                // A path: read it from its tag.
                self.pos = tag_at;
                self.path(false)?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// A function type after its `F`: `for<'a> unsafe extern "C" fn(A, B) -> R`.
    fn fn_type(&mut self) -> Parsed {
        let outer = self.bound_lifetimes;
        self.binder()?;
        if self.eat(b'U') {
            self.put(b"unsafe ");
        }
        if self.eat(b'K') {
            let abi: &[u8] = if self.eat(b'C') {
                b"C"
            } else {
                let id = self.ident()?;
                if id.ascii.is_empty() || id.punycode.is_some() {
                    return Err(Stop);
                }
                id.ascii
            };
            self.put(b"extern \"");
            // `-` was mangled as `_`. libiberty's loop restarts at index 1 of the rest
            // after each `_` it replaces, so in `a__b` only the first `_` becomes `-`.
            let mut rest = abi;
            let mut i = 0;
            while i < rest.len() {
                if rest[i] == b'_' {
                    self.put(&rest[..i]);
                    self.put(b"-");
                    rest = &rest[i + 1..];
                    i = 1;
                } else {
                    i += 1;
                }
            }
            self.put(rest);
            self.put(b"\" ");
        }
        self.put(b"fn(");
        let mut first = true;
        while !self.eat(b'E') {
            if !first {
                self.put(b", ");
            }
            first = false;
            self.ty()?;
        }
        self.put(b")");
        if !self.eat(b'u') {
            self.put(b" -> ");
            self.ty()?;
        }
        self.bound_lifetimes = outer;
        Ok(())
    }

    /// One trait of a `dyn` type, with its `Assoc = T` bindings inside its `<…>`.
    fn dyn_trait(&mut self) -> Parsed {
        let mut open = self.path_maybe_open_generics()?;
        while self.eat(b'p') {
            self.put(if open { b", " } else { b"<" });
            open = true;
            let name = self.ident()?;
            self.print_ident(name)?;
            self.put(b" = ");
            self.ty()?;
        }
        if open {
            self.put(b">");
        }
        Ok(())
    }

    /// A path whose generic arguments, if it has them, are left open (no `>`): `true` then.
    fn path_maybe_open_generics(&mut self) -> Parsed<bool> {
        self.enter()?;
        let tag_at = self.pos;
        let mut open = false;
        if self.eat(b'B') {
            if let Some(target) = self.backref(tag_at)? {
                let resume = std::mem::replace(&mut self.pos, target);
                open = self.path_maybe_open_generics()?;
                self.pos = resume;
            }
        } else if self.eat(b'I') {
            self.path(false)?;
            self.put(b"<");
            open = true;
            self.generic_args()?;
        } else {
            self.path(false)?;
        }
        self.depth -= 1;
        Ok(open)
    }

    /// A constant (after `K`, or an array length).
    fn konst(&mut self) -> Parsed {
        self.enter()?;
        let tag_at = self.pos;
        if self.eat(b'B') {
            if let Some(target) = self.backref(tag_at)? {
                let resume = std::mem::replace(&mut self.pos, target);
                self.konst()?;
                self.pos = resume;
            }
        } else {
            match self.next()? {
                b'p' => self.put(b"_"),
                b'h' | b't' | b'm' | b'y' | b'o' | b'j' => self.const_uint()?,
                b'a' | b's' | b'l' | b'x' | b'n' | b'i' => {
                    if self.eat(b'n') {
                        self.put(b"-");
                    }
                    self.const_uint()?;
                }
                b'b' => match self.hex_nibbles()? {
                    (1, 0) => self.put(b"false"),
                    (1, 1) => self.put(b"true"),
                    _ => return Err(Stop),
                },
                b'c' => self.const_char()?,
                _ => return Err(Stop),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// An unsigned value: decimal up to 16 hex digits; past that libiberty prints `0x` and
    /// the source text shifted by one (all digits but the first, then the `_`).
    fn const_uint(&mut self) -> Parsed {
        let (len, value) = self.hex_nibbles()?;
        if len > 16 {
            self.put(b"0x");
            let sym = self.sym;
            self.put(&sym[self.pos - len..self.pos]);
        } else if len > 0 {
            self.put_decimal(value);
        } else {
            return Err(Stop);
        }
        Ok(())
    }

    /// A `char` constant, quoted: `\t`, `\r`, `\n`, ASCII `!`…`}` as is, else `\u{hex}`.
    fn const_char(&mut self) -> Parsed {
        let (len, value) = self.hex_nibbles()?;
        if len == 0 || len > 8 {
            return Err(Stop);
        }
        self.put(b"'");
        match value {
            0x09 => self.put(b"\\t"),
            0x0d => self.put(b"\\r"),
            0x0a => self.put(b"\\n"),
            0x21..=0x7d => self.put(&[value as u8]),
            _ => {
                self.put(b"\\u{");
                self.put_hex(value);
                self.put(b"}");
            }
        }
        self.put(b"'");
        Ok(())
    }
}

/// The spelling of a one-letter basic type.
#[inline]
fn basic_type(tag: u8) -> Option<&'static [u8]> {
    let s = BASIC_TYPES[usize::from(tag)];
    (!s.is_empty()).then_some(s)
}

/// [`basic_type`]'s table: empty for other characters.
static BASIC_TYPES: [&[u8]; 256] = {
    let mut t: [&[u8]; 256] = [b""; 256];
    t[b'b' as usize] = b"bool";
    t[b'c' as usize] = b"char";
    t[b'e' as usize] = b"str";
    t[b'u' as usize] = b"()";
    t[b'a' as usize] = b"i8";
    t[b's' as usize] = b"i16";
    t[b'l' as usize] = b"i32";
    t[b'x' as usize] = b"i64";
    t[b'n' as usize] = b"i128";
    t[b'i' as usize] = b"isize";
    t[b'h' as usize] = b"u8";
    t[b't' as usize] = b"u16";
    t[b'm' as usize] = b"u32";
    t[b'y' as usize] = b"u64";
    t[b'o' as usize] = b"u128";
    t[b'j' as usize] = b"usize";
    t[b'f' as usize] = b"f32";
    t[b'd' as usize] = b"f64";
    t[b'z' as usize] = b"!";
    t[b'p' as usize] = b"_";
    t[b'v' as usize] = b"...";
    t
};

/// The value of a base-62 digit (`0-9a-zA-Z`); 0 for other characters.
static BASE_62: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    c = 0;
    while c < 26 {
        t[b'a' as usize + c] = 10 + c as u8;
        t[b'A' as usize + c] = 36 + c as u8;
        c += 1;
    }
    t
};

/// A `_ZN…` name: `Some(true)` printed as libiberty's legacy Rust demangler does;
/// `Some(false)` libiberty's Rust demangler certainly refuses it; `None` unsure.
///
/// libiberty's checks: after `_ZN`, only `[_0-9A-Za-z$.:@]`; an `E` that ends the name or
/// is followed by a `.suffix`; before it `17h` and 16 more characters; the rest a sequence
/// of non-empty `<decimal length><bytes>` identifiers covering it exactly, the last one a
/// hash (`h` and 16 lowercase hex digits, at least 5 distinct). It prints the identifiers
/// but the hash, `::`-separated, with the `$…$` escapes, `..` as `::` and `.` as is.
pub(super) fn legacy(name: &[u8], out: &mut Vec<u8>) -> Option<bool> {
    legacy_after_zn(name.strip_prefix(b"_ZN")?, out)
}

/// [`legacy`] on the name after its `_ZN`.
fn legacy_after_zn(sym: &[u8], out: &mut Vec<u8>) -> Option<bool> {
    if memchr::memchr(0, sym).is_some() {
        return None; // libiberty would read a shorter C string
    }
    // The cheap tests first, as most `_ZN` names are C++: the last `E` that ends the name
    // or precedes a `.` must close a `17h…` hash.
    let len = if sym.last() == Some(&b'E') {
        sym.len()
    } else {
        match memchr::memmem::rfind(sym, b"E.") {
            Some(at) => at + 1,
            None => return Some(false),
        }
    };
    let whole = sym;
    let sym = &sym[..len - 1];
    let len = sym.len();
    if !(len > 19 && &sym[len - 19..len - 16] == b"17h") {
        return Some(false);
    }
    let valid = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.' | b':' | b'@');
    if !whole.iter().all(|&c| valid(c)) {
        return Some(false);
    }
    // First pass: identifiers covering `sym` exactly, the last one the hash.
    let mut at = 0;
    let mut last = &sym[..0];
    while at < len {
        match legacy_ident(sym, &mut at) {
            Ok(id) if !id.is_empty() => last = id,
            Ok(_) | Err(LegacyStop::Refused) => return Some(false),
            Err(LegacyStop::Unsure) => return None,
        }
    }
    if !is_legacy_hash(last) {
        return Some(false);
    }
    // Second pass: print all but the hash (the last 19 bytes, `17h…`).
    let body = &sym[..len - 19];
    let mut at = 0;
    while at < body.len() {
        if at > 0 {
            out.extend_from_slice(b"::");
        }
        let Ok(id) = legacy_ident(body, &mut at) else {
            return None; // unreachable: the first pass parsed these
        };
        print_legacy_ident(id, out);
    }
    Some(true)
}

/// Why [`legacy_ident`] stopped.
enum LegacyStop {
    /// libiberty fails here too.
    Refused,
    /// The length overflows: libiberty's wraps, we do not know where it goes.
    Unsure,
}

/// A legacy identifier, `<decimal length><bytes>`, at `*at` in `sym`.
fn legacy_ident<'s>(sym: &'s [u8], at: &mut usize) -> Result<&'s [u8], LegacyStop> {
    let c = *sym.get(*at).ok_or(LegacyStop::Refused)?;
    *at += 1;
    if !c.is_ascii_digit() {
        return Err(LegacyStop::Refused);
    }
    let mut n = usize::from(c - b'0');
    if c != b'0' {
        while let Some(&d) = sym.get(*at).filter(|d| d.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(d - b'0')))
                .ok_or(LegacyStop::Unsure)?;
            *at += 1;
        }
    }
    let start = *at;
    let end = start.checked_add(n).ok_or(LegacyStop::Unsure)?;
    let id = sym.get(start..end).ok_or(LegacyStop::Refused)?;
    *at = end;
    Ok(id)
}

/// `h` and 16 lowercase hex digits, at least 5 of them distinct.
fn is_legacy_hash(id: &[u8]) -> bool {
    if id.len() != 17 || id[0] != b'h' {
        return false;
    }
    let mut seen = 0u16;
    for &c in &id[1..] {
        let nibble = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return false,
        };
        seen |= 1 << nibble;
    }
    seen.count_ones() >= 5
}

/// One legacy identifier: a leading `_` before `$` dropped, `$…$` escapes decoded (the rest
/// verbatim from an unknown one), `..` as `::`, a lone `.` as is.
fn print_legacy_ident(mut id: &[u8], out: &mut Vec<u8>) {
    if id.len() >= 2 && id[0] == b'_' && id[1] == b'$' {
        id = &id[1..];
    }
    while !id.is_empty() {
        let len;
        if id[0] == b'$' {
            match legacy_escape(id) {
                Some((c, n)) => {
                    out.push(c);
                    len = n;
                }
                None => {
                    out.extend_from_slice(id);
                    return;
                }
            }
        } else if id[0] == b'.' {
            if id.get(1) == Some(&b'.') {
                out.extend_from_slice(b"::");
                len = 2;
            } else {
                out.push(b'.');
                len = 1;
            }
        } else {
            len = id
                .iter()
                .position(|&c| c == b'$' || c == b'.')
                .unwrap_or(id.len());
            out.extend_from_slice(&id[..len]);
        }
        id = &id[len..];
    }
}

/// The character a `$…$` escape at the start of `e` stands for, and the escape's length:
/// `$C$` `,`, `$SP$` `@`, `$BP$` `*`, `$RF$` `&`, `$LT$` `<`, `$GT$` `>`, `$LP$` `(`,
/// `$RP$` `)`, `$uXY$` a printable ASCII character (lowercase hex, 0x20..=0x7f).
fn legacy_escape(e: &[u8]) -> Option<(u8, usize)> {
    if e.len() < 3 || e[0] != b'$' {
        return None;
    }
    let e = &e[1..];
    let len = e.len();
    let hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let (c, escape_len) = if e[0] == b'C' {
        (b',', 1)
    } else if len > 2 {
        match &e[..2] {
            b"SP" => (b'@', 2),
            b"BP" => (b'*', 2),
            b"RF" => (b'&', 2),
            b"LT" => (b'<', 2),
            b"GT" => (b'>', 2),
            b"LP" => (b'(', 2),
            b"RP" => (b')', 2),
            [b'u', _] if len > 3 => {
                let hi = hex(e[1])?;
                let lo = hex(e[2])?;
                if hi > 7 {
                    return None;
                }
                let c = (hi << 4) | lo;
                if c < 0x20 {
                    return None;
                }
                (c, 3)
            }
            _ => (0, 2),
        }
    } else {
        (0, 0)
    };
    if c == 0 || len <= escape_len || e[escape_len] != b'$' {
        return None;
    }
    Some((c, 2 + escape_len))
}

/// Without libbfd: a legacy name after `_ZN` as libiberty prints it (our own [`legacy`]).
pub(super) fn legacy_without_libiberty(rest: &[u8], out: &mut Vec<u8>) -> bool {
    legacy_after_zn(rest, out) == Some(true)
}

/// Without libbfd: a v0 name (`rest` after `_R`) that [`v0`] declined, with
/// `rustc-demangle` (alternate form, no hash), wide constants spelled as libiberty does.
pub(super) fn v0_with_rustc_demangle(name: &[u8], rest: &[u8], out: &mut Vec<u8>) -> bool {
    if !rest.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let end = rest.iter().position(|&c| c == b'.').unwrap_or(rest.len());
    if !rest[..end]
        .iter()
        .all(|&c| c == b'_' || c.is_ascii_alphanumeric())
    {
        return false;
    }
    let Ok(sym) = std::str::from_utf8(&name[..2 + end]) else {
        return false;
    };
    let Ok(d) = rustc_demangle::try_demangle(sym) else {
        return false;
    };
    use std::io::Write as _;
    let start = out.len();
    if write!(out, "{d:#}").is_err() {
        out.truncate(start);
        return false;
    }
    wide_constants_like_libiberty(out, start);
    true
}

/// libiberty prints a v0 integer constant wider than 64 bits as `0x` and its hex digits
/// shifted by one (the first digit dropped, the `_` terminator printed); nm shows that,
/// so we do too. `rustc-demangle` prints `0x` and the digits.
fn wide_constants_like_libiberty(out: &mut Vec<u8>, start: usize) {
    if !out[start..].windows(2).any(|w| w == b"0x") {
        return;
    }
    let mut i = start;
    while i + 2 < out.len() {
        let boundary = i == start || !(out[i - 1].is_ascii_alphanumeric() || out[i - 1] == b'_');
        if boundary && out[i] == b'0' && out[i + 1] == b'x' {
            let digits = out[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if digits > 16 {
                let d0 = i + 2;
                out.remove(d0);
                out.insert(d0 + digits - 1, b'_');
            }
            i += 2 + digits;
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::libiberty;
    use super::*;
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    /// Ours on a `_R`/`_ZN` name: `Some(true)` accepted, `Some(false)` refused (certainly,
    /// for legacy), `None` unsure.
    fn ours(name: &[u8], out: &mut Vec<u8>) -> Option<bool> {
        if name.starts_with(b"_R") {
            if v0(name, out) { Some(true) } else { None }
        } else {
            legacy(name, out)
        }
    }

    fn v0_str(name: &str) -> Option<String> {
        let mut out = b"prefix".to_vec();
        if v0(name.as_bytes(), &mut out) {
            Some(String::from_utf8(out[6..].to_vec()).unwrap())
        } else {
            assert_eq!(out, b"prefix", "{name}: out touched");
            None
        }
    }

    fn legacy_str(name: &str) -> Option<Option<String>> {
        let mut out = b"prefix".to_vec();
        let r = legacy(name.as_bytes(), &mut out);
        if r != Some(true) {
            assert_eq!(out, b"prefix", "{name}: out touched");
        }
        r.map(|ok| ok.then(|| String::from_utf8(out[6..].to_vec()).unwrap()))
    }

    /// Tallies of one oracle run.
    #[derive(Default, Debug)]
    struct Tally {
        names: usize,
        lib_ok: usize,
        ours_ok: usize,
        ours_refused: usize,
        unsure: usize,
        mismatches: usize,
        v0_lib_ok: usize,
        v0_ours_ok: usize,
        legacy_lib_ok: usize,
        legacy_ours_ok: usize,
    }

    /// Compares ours with libiberty on `name`; `None` without libbfd. `declined_too`:
    /// also ask libiberty about v0 names ours declines (for coverage).
    fn check(name: &[u8], t: &mut Tally, declined_too: bool) -> Option<()> {
        let mut mine = Vec::new();
        let r = ours(name, &mut mine);
        let v0_name = name.starts_with(b"_R");
        if v0_name && r.is_none() && !declined_too {
            return Some(());
        }
        let mut lib = Vec::new();
        let lib_ok = libiberty::demangle(name, &mut lib, true)?;
        t.names += 1;
        t.lib_ok += usize::from(lib_ok);
        // What the C++ demangler alone prints: where it differs, libiberty's Rust
        // demangler accepted the name.
        let mut cxx = Vec::new();
        let cxx_ok = if v0_name {
            false
        } else {
            libiberty::demangle(name, &mut cxx, false)?
        };
        let rust_accepted = lib_ok && (cxx_ok != lib_ok || cxx != lib);
        if v0_name {
            t.v0_lib_ok += usize::from(lib_ok);
            t.v0_ours_ok += usize::from(r == Some(true));
        } else if rust_accepted {
            t.legacy_lib_ok += 1;
            t.legacy_ours_ok += usize::from(r == Some(true));
        }
        let bad = match r {
            Some(true) => {
                t.ours_ok += 1;
                !(lib_ok && lib == mine)
            }
            Some(false) => {
                t.ours_refused += 1;
                // Skipping Rust must change nothing.
                !mine.is_empty() || rust_accepted
            }
            None => {
                t.unsure += 1;
                eprintln!("unsure: {}", String::from_utf8_lossy(name));
                !mine.is_empty()
            }
        };
        if bad {
            t.mismatches += 1;
            eprintln!(
                "MISMATCH {}\n  ours {r:?} {}\n  lib  {lib_ok} {}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(&mine),
                String::from_utf8_lossy(&lib)
            );
        }
        Some(())
    }

    /// The names cplus_demangle would get (as `demangle_like_nm` cuts them), `_R`/`_ZN` only.
    fn names_of(data: &[u8], into: &mut HashSet<Vec<u8>>) {
        for table in [crate::elf::Table::Symtab, crate::elf::Table::Dynsym] {
            let Ok(Some(t)) = crate::elf::NmTable::read(data, table) else {
                continue;
            };
            for s in t.symbols() {
                let n = s.name();
                let dots = n.iter().take_while(|&&c| c == b'.' || c == b'$').count();
                let n = &n[dots..];
                let n = &n[..n.iter().position(|&c| c == b'@').unwrap_or(n.len())];
                if n.starts_with(b"_R") || n.starts_with(b"_ZN") {
                    into.insert(n.to_vec());
                }
            }
        }
    }

    fn sysroot() -> Option<PathBuf> {
        let out = std::process::Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    }

    /// The toolchain's `librustc_driver-*.so` and `libstd-*.so`, and for legacy names
    /// this test program and `rustup`, if found.
    fn toolchain_libs() -> Vec<PathBuf> {
        let mut libs: Vec<PathBuf> = std::env::current_exe().into_iter().collect();
        if let Some(path) = std::env::var_os("PATH") {
            libs.extend(
                std::env::split_paths(&path)
                    .map(|d| d.join("rustup"))
                    .find(|p| p.is_file()),
            );
        }
        let Some(root) = sysroot() else {
            return libs;
        };
        for dir in [
            root.join("lib"),
            root.join("lib/rustlib/x86_64-unknown-linux-gnu/lib"),
        ] {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in rd.flatten() {
                let f = e.file_name();
                let f = f.to_string_lossy();
                if (f.starts_with("librustc_driver-") || f.starts_with("libstd-"))
                    && f.ends_with(".so")
                {
                    libs.push(e.path());
                }
            }
        }
        libs
    }

    fn no_libbfd() -> bool {
        if libiberty::demangle(b"_ZN3foo17h0123456789abcdefE", &mut Vec::new(), true).is_none() {
            eprintln!("notice: no libbfd (binutils) to compare with; oracle test skipped");
            return true;
        }
        false
    }

    fn sorted(names: HashSet<Vec<u8>>) -> Vec<Vec<u8>> {
        let mut v: Vec<_> = names.into_iter().collect();
        v.sort();
        v
    }

    fn run_oracle(names: &[Vec<u8>]) -> Tally {
        let mut t = Tally::default();
        for n in names {
            check(n, &mut t, true);
        }
        t
    }

    #[test]
    fn oracle_toolchain_libraries() {
        if no_libbfd() {
            return;
        }
        let libs = toolchain_libs();
        assert!(
            !libs.is_empty(),
            "no librustc_driver/libstd in the toolchain"
        );
        let mut names = HashSet::new();
        for lib in &libs {
            names_of(&std::fs::read(lib).unwrap(), &mut names);
        }
        let t = run_oracle(&sorted(names));
        eprintln!("{t:?}");
        assert_eq!(t.mismatches, 0);
        assert!(t.v0_lib_ok > 10_000, "too few v0 names: {t:?}");
        assert!(t.legacy_lib_ok > 1000, "too few legacy names: {t:?}");
        assert!(t.ours_refused > 1000, "C++ names not told apart: {t:?}");
        assert!(t.v0_ours_ok * 100 >= t.v0_lib_ok * 99, "v0 coverage: {t:?}");
        assert!(
            t.legacy_ours_ok * 100 >= t.legacy_lib_ok * 99,
            "legacy coverage: {t:?}"
        );
        assert!(t.unsure * 100 <= t.names, "too many unsure: {t:?}");
    }

    /// Every ELF file under `dirs`, recursively (symlinks not followed).
    fn elf_files(dir: &Path, into: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                elf_files(&e.path(), into);
            } else if ft.is_file() {
                let mut magic = [0u8; 4];
                let ok = std::fs::File::open(e.path())
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
                    .is_ok();
                if ok && magic == *b"\x7fELF" {
                    into.push(e.path());
                }
            }
        }
    }

    #[test]
    #[ignore = "walks every ELF file of the system; run with --release -- --ignored"]
    fn oracle_corpus() {
        if no_libbfd() {
            return;
        }
        let mut dirs = vec![
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/x86_64-linux-gnu"),
        ];
        dirs.extend(sysroot().map(|r| r.join("lib")));
        let mut files = Vec::new();
        for d in &dirs {
            elf_files(d, &mut files);
        }
        files.extend(std::env::current_exe().ok()); // legacy names
        let mut names = HashSet::new();
        for f in &files {
            if let Ok(data) = std::fs::read(f) {
                names_of(&data, &mut names);
            }
        }
        let t = run_oracle(&sorted(names));
        eprintln!("{} ELF files: {t:?}", files.len());
        eprintln!(
            "coverage: v0 {}/{} legacy {}/{}",
            t.v0_ours_ok, t.v0_lib_ok, t.legacy_ours_ok, t.legacy_lib_ok
        );
        assert_eq!(t.mismatches, 0);
    }

    #[test]
    fn v0_forms() {
        let cases = [
            ("_RNvCs1234_7mycrate3foo", "mycrate::foo"),
            ("_RNvCs1234_7mycrate3foo.llvm.123", "mycrate::foo"),
            ("_RNvCs1234_7mycrate3foo.l\u{e9}", "mycrate::foo"),
            // Closures, shims and other special namespaces, with and without names.
            ("_RNCNvC3foo3bar0", "foo::bar::{closure#0}"),
            ("_RNCNvC3foo3bars_0", "foo::bar::{closure#1}"),
            ("_RNCNvC3foo3bars0_0", "foo::bar::{closure#2}"),
            ("_RNSNvC3foo3bar4vtab", "foo::bar::{shim:vtab#0}"),
            ("_RNQNvC3foo3bar1x", "foo::bar::{Q:x#0}"),
            // Lowercase namespaces print nothing for an empty name.
            ("_RNvNtC3foo3bar0", "foo::bar"),
            // Generic arguments: `::<` in value paths, `<` in types.
            ("_RINvC3foo3barlhE", "foo::bar::<i32, u8>"),
            ("_RINvC3foo3barINtC3foo3BazpEE", "foo::bar::<foo::Baz<_>>"),
            // Impls: inherent, trait, and `<T as Trait>`.
            ("_RNvMC3fooNtC3foo3Bar3new", "<foo::Bar>::new"),
            (
                "_RNvXs_C3fooNtC3foo3BarNtC3foo5Trait3run",
                "<foo::Bar as foo::Trait>::run",
            ),
            (
                "_RNvYNtC3foo3BarNtC3foo5Trait3run",
                "<foo::Bar as foo::Trait>::run",
            ),
            // Types.
            ("_RINvC3foo3barRlE", "foo::bar::<&i32>"),
            ("_RINvC3foo3barQlE", "foo::bar::<&mut i32>"),
            ("_RINvC3foo3barRL_lE", "foo::bar::<&i32>"),
            ("_RINvC3foo3barPlOlE", "foo::bar::<*const i32, *mut i32>"),
            ("_RINvC3foo3barSlAlj3_E", "foo::bar::<[i32], [i32; 3]>"),
            (
                "_RINvC3foo3barTETlETlhEE",
                "foo::bar::<(), (i32,), (i32, u8)>",
            ),
            ("_RINvC3foo3barzvpeE", "foo::bar::<!, ..., _, str>"),
            ("_RINvC3foo3barFEuE", "foo::bar::<fn()>"),
            (
                "_RINvC3foo3barFUKCmEhE",
                "foo::bar::<unsafe extern \"C\" fn(u32) -> u8>",
            ),
            (
                "_RINvC3foo3barFK6a__b_cEuE",
                "foo::bar::<extern \"a-_b-c\" fn()>",
            ),
            (
                "_RINvC3foo3barFG_RL0_lEuE",
                "foo::bar::<for<'a> fn(&'a i32)>",
            ),
            (
                "_RINvC3foo3barDNtC3foo5TraitEL_E",
                "foo::bar::<dyn foo::Trait>",
            ),
            (
                "_RINvC3foo3barDG_INtC3foo5TraitRL0_lEp4ItemNtC3foo3BarNtC3foo4SendEL_E",
                "foo::bar::<dyn for<'a> foo::Trait<&'a i32, Item = foo::Bar> + foo::Send>",
            ),
            ("_RINvC3foo3barL_E", "foo::bar::<'_>"),
            ("_RINvC3foo3barL0_E", "foo::bar::<'_18446744073709551615>"),
            // Constants.
            ("_RINvC3foo3barKj2a_E", "foo::bar::<42>"),
            ("_RINvC3foo3barKlnff_E", "foo::bar::<-255>"),
            ("_RINvC3foo3barKb1_Kb0_E", "foo::bar::<true, false>"),
            ("_RINvC3foo3barKpE", "foo::bar::<_>"),
            (
                "_RINvC3foo3barKc41_Kc20_Kc7e_Kca_E",
                "foo::bar::<'A', '\\u{20}', '\\u{7e}', '\\n'>",
            ),
            ("_RINvC3foo3barKc1f600_E", "foo::bar::<'\\u{1f600}'>"),
            (
                "_RINvC3foo3barKo123456789abcdef0123456789_E",
                "foo::bar::<0x23456789abcdef0123456789_>",
            ),
            ("_RINvC3foo3barKj0000a_E", "foo::bar::<10>"),
            // Backrefs (positions after `_R`).
            ("_RINvC3foo3barB2_E", "foo::bar::<foo>"),
            ("_RINvC3foo3barNtB2_3BazE", "foo::bar::<foo::Baz>"),
            // The instantiating crate is parsed but not printed.
            ("_RNvC3foo3barC3baz", "foo::bar"),
            ("_RINvC3foo3barlEC3baz", "foo::bar::<i32>"),
            // Punycode.
            ("_RNvC3foou8gdel_5qa", "foo::g\u{f6}del"),
            ("_RNvC7mycrateu3tda", "mycrate::\u{fc}"),
        ];
        for (name, want) in cases {
            assert_eq!(v0_str(name).as_deref(), Some(want), "{name}");
            let mut lib = Vec::new();
            if let Some(ok) = libiberty::demangle(name.as_bytes(), &mut lib, true) {
                assert!(ok, "{name}");
                assert_eq!(String::from_utf8_lossy(&lib), want, "{name}");
            }
        }
        // Empty identifiers print nothing (libiberty hands its callback a null pointer
        // and no bytes for them).
        for (name, want) in [
            ("_RC0_", ""),
            ("_RNvC0_3foo", "::foo"),
            (
                "_RINvC3foo3barDNtC3foo5Traitp0_lEL_E",
                "foo::bar::<dyn foo::Trait< = i32>>",
            ),
        ] {
            assert_eq!(v0_str(name).as_deref(), Some(want), "{name}");
            let mut lib = Vec::new();
            if let Some(ok) = libiberty::demangle(name.as_bytes(), &mut lib, true) {
                assert!(ok, "{name}");
                assert_eq!(String::from_utf8_lossy(&lib), want, "{name}");
            }
        }
        for bad in [
            "_R",
            "_Rx",
            "_RNvC3foo3bar_",           // trailing garbage
            "_RNvC3foo3ba",             // truncated identifier
            "_RNvC3foo3b\u{e9}r",       // non-ASCII before the `.`
            "_RINvC3foo3barKc_E",       // char without digits
            "_RINvC3foo3barKb2_E",      // bool 2
            "_RINvC3foo3barKj_E",       // no digits
            "_RINvC3foo3barBz_E",       // forward backref
            "_RNvC3foou5fo_oo",         // punycode cut short: libiberty prints nothing for it
            "_RNvC3foou3fo_",           // empty punycode
            "_RINvC3foo3barFKu3abcEuE", // punycode ABI
        ] {
            assert_eq!(v0_str(bad), None, "{bad}");
        }
        // Deep nesting and exponential backrefs decline instead of recursing or growing.
        let deep = format!("_RINvC3foo3bar{}lE", "R".repeat(10_000));
        assert_eq!(v0_str(&deep), None);
        let mut exp = String::from("_RINvC3foo3barTllE");
        let mut prev = 12; // where that tuple starts, after `_R`
        for _ in 0..40 {
            let at = exp.len() - 2;
            exp.push_str(&format!("TB{}_B{}_E", b62(prev), b62(prev)));
            prev = at;
        }
        exp.push('E');
        assert_eq!(v0_str(&exp), None);
    }

    fn b62(n: usize) -> String {
        if n == 0 {
            return String::new();
        }
        let digits = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut x = n - 1;
        let mut s = Vec::new();
        loop {
            s.push(digits[x % 62]);
            x /= 62;
            if x == 0 {
                break;
            }
        }
        s.reverse();
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn legacy_forms() {
        let h = "17h0123456789abcdefE";
        for (name, want) in [
            (format!("_ZN4core3fmt5write{h}"), "core::fmt::write"),
            (format!("_ZN3foo{h}.llvm.123"), "foo"),
            (format!("_ZN3foo{h}.a@b"), "foo"),
            (format!("_ZN3f@o{h}"), "f@o"),
            (format!("_ZN3foo1.{h}"), "foo::."),
            (format!("_ZN6a..b.c{h}"), "a::b.c"),
            (
                format!("_ZN48_$LT$core..fmt..Arguments$u20$as$u20$Display$GT$3fmt{h}"),
                "<core::fmt::Arguments as Display>::fmt",
            ),
            (format!("_ZN11$C$$SP$$BP${h}"), ",@*"),
            (format!("_ZN8a$RF$b$u{h}"), "a&b$u"),
            (format!("_ZN5$u7f${h}"), "\u{7f}"),
            (format!("_ZN6$u1f$x{h}"), "$u1f$x"),
        ] {
            assert_eq!(legacy_str(&name), Some(Some(want.to_string())), "{name}");
            let mut lib = Vec::new();
            if let Some(ok) = libiberty::demangle(name.as_bytes(), &mut lib, true) {
                assert!(ok, "{name}");
                assert_eq!(String::from_utf8_lossy(&lib), want, "{name}");
            }
        }
        for refused in [
            "_ZN3foo17h0123456789abcdefEE".to_string(),
            "_ZN3foo17h0123456789abcdefE.E".to_string(),
            "_ZN3fooE.17h0123456789abcdefE".to_string(),
            "_ZN3foo17h0123456789abcdeFE".to_string(),
            "_ZN3foo17h0000000000000000E".to_string(),
            "_ZN17h0123456789abcdefE".to_string(),
            "_ZN3foo2b17h0123456789abcdefE".to_string(),
            "_ZN3foo0b17h0123456789abcdefE".to_string(),
            "_ZNSt6vectorIiSaIiEE9push_backERKi".to_string(),
            "_ZN3foo-17h0123456789abcdefE".to_string(),
        ] {
            assert_eq!(legacy_str(&refused), Some(None), "{refused}");
        }
        let huge = "_ZN99999999999999999999999a17h0123456789abcdefE";
        assert_eq!(legacy_str(huge), None);
    }

    /// Real names: every truncation and single-byte mutation must not panic and, where
    /// ours accepts, print as libiberty does.
    #[test]
    fn mutations_match_libiberty() {
        let mut names: Vec<Vec<u8>> = [
            "_RINvC3foo3barDG_INtC3foo5TraitRL0_lEp4ItemNtC3foo3BarNtC3foo4SendEL0_E",
            "_RINvC3foo3barFG_RL0_lEuE",
            "_RINvC3foo3barKc41_Kc20_Kc7e_Kca_E",
            "_RINvC3foo3barKo123456789abcdef0123456789_E",
            "_RNvXs_C3fooNtC3foo3BarNtC3foo5Trait3run",
            "_RNvC3foou8gdel_5qa",
            "_RINvC3foo3barINtB2_3BazEE",
            "_ZN48_$LT$core..fmt..Arguments$u20$as$u20$Display$GT$3fmt17h0123456789abcdefE",
            "_ZN3foo1.17h0123456789abcdefE.llvm.1",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let have_lib = !no_libbfd();
        // A sample of real names, of every length.
        if let Some(lib) = toolchain_libs()
            .iter()
            .find(|p| p.to_string_lossy().contains("librustc_driver"))
        {
            let mut all = HashSet::new();
            names_of(&std::fs::read(lib).unwrap(), &mut all);
            let all = sorted(all);
            let step = (all.len() / 150).max(1);
            names.extend(all.into_iter().step_by(step).filter(|n| n.len() < 400));
        }
        let alphabet: &[u8] = b"_0123456789abcdefgjklnpsuxyzABCDEGIKLMNOPQRSTUXYZ.$@:\x80";
        let mut t = Tally::default();
        let mut scratch = Vec::new();
        let mut try_one = |n: &[u8], t: &mut Tally| {
            if have_lib {
                check(n, t, false);
            } else {
                scratch.clear();
                let _ = ours(n, &mut scratch);
            }
        };
        for name in &names {
            for k in 0..=name.len() {
                try_one(&name[..k], &mut t);
            }
            let mut m = name.clone();
            for i in 2..name.len() {
                for &c in alphabet {
                    if c == name[i] {
                        continue;
                    }
                    m[i] = c;
                    try_one(&m, &mut t);
                }
                m[i] = name[i];
            }
        }
        eprintln!("{t:?}");
        assert_eq!(t.mismatches, 0);
    }
}
