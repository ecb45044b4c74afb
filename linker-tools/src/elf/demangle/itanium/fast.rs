//! The one-pass printer: prints a name as it parses it, for the forms whose printing
//! does not depend on what surrounds them, and gives up (`None`) on everything else,
//! which the tree printer of the parent module then handles.
//!
//! Each construct's text goes, contiguous, to the end of the current buffer (the output
//! itself), in the order of the mangled name; a substitution or a template parameter is
//! then a copy of text printed before. Texts printed out of that order go elsewhere: a
//! function's return type (first in print, after the name in the mangling) to the other
//! buffer, the forms of a function or array type that only substitutions use to the side
//! buffer. Pack expansions parse their pattern again for each element.
//!
//! A copy is exact only where libiberty's printing of the node would not depend on
//! where it is printed. The printer keeps, for each substitution candidate and template
//! argument, what could make it depend (a template parameter resolved in a given scope,
//! a reference that would collapse, a qualifier that would merge, a function or array
//! type or a lambda that the pending modifiers would reach into) and gives up where that
//! matters. It gives up as well on what is rarer: qualifiers on function types, pointers
//! to members, expressions, conversion operators, vendor extensions, `a, , b` lists.

use super::Lex;

/// A text that depends on no template-parameter scope.
const FREE: u32 = 0;
/// No template arguments in scope: a template parameter gives up.
const NONE: (u32, u32) = (u32::MAX, u32::MAX);

/// A reference type (`&`, `&&`): another reference collapses into it.
const REF: u8 = 1;
/// A cv-qualified type: a qualifier of the same kind merges with it.
const CV: u8 = 2;
/// A function or array type, or a modifier of one: a modifier applied to it goes
/// inside.
const FUNC: u8 = 4;
/// A template argument pack.
const PACK: u8 = 8;
/// With [`REF`]: an rvalue reference.
const RVAL: u8 = 16;
/// A pack expansion (a list of types): a modifier applied to it goes into each.
const EXPANSION: u8 = 32;
/// A name with a lambda among its components: the lambda's parameters print with the
/// modifiers pending around it (libiberty does not set them aside there).
const LAMBDA: u8 = 64;

/// Deepest nesting followed.
const MAX_DEPTH: u32 = 100;
/// Most types parsed for one name (pack expansions parse their patterns again).
const MAX_STEPS: u32 = 50_000;
/// Longest text produced for one name (substitutions can double it at each step).
const MAX_TEXT: usize = 1 << 18;
/// Most elements of a parameter list (libiberty recurses along lists).
const MAX_LIST: usize = 200;

/// A substitution candidate or template argument: where its text is, its properties
/// ([`REF`], …) and the template-parameter scope it depends on ([`FREE`]: none).
#[derive(Clone, Copy, Default)]
pub(super) struct Piece {
    start: u32,
    end: u32,
    /// Which buffer holds the text: the output (0), the other (1), the side one (2).
    phys: u8,
    flags: u8,
    ctx: u32,
}

/// What a type printed: its properties ([`REF`], …).
#[derive(Clone, Copy)]
struct Ty {
    flags: u8,
}

/// The last source name, which a constructor or destructor is named after.
#[derive(Clone, Copy)]
enum LastName {
    None,
    Input(u32, u32),
    Static(&'static str),
}

/// What a name printed, and what its function type needs to know.
#[derive(Clone, Copy)]
struct Name {
    /// Ends with template arguments (not of a constructor or destructor): a function
    /// of this name prints its return type.
    has_return: bool,
    /// The arguments of the name's final template, which `T_` in its function type
    /// refers to.
    targs: (u32, u32),
    /// Qualifiers on `this`, in mangled order (`r`, `V`, `K`), then a ref-qualifier.
    quals: [u8; 3],
    nquals: u8,
    refq: u8,
    local: bool,
    /// A lambda among its components.
    lambda: bool,
}

impl Name {
    const EMPTY: Name = Name {
        has_return: false,
        targs: NONE,
        quals: [0; 3],
        nquals: 0,
        refq: 0,
        local: false,
        lambda: false,
    };
}

/// The scratch space of the one-pass printer, reused from name to name.
#[derive(Default)]
pub(super) struct Scratch {
    /// The other buffer (the output is the first).
    b: Vec<u8>,
    /// The side buffer.
    c: Vec<u8>,
    subs: Vec<Piece>,
    args: Vec<Piece>,
    stack: Vec<Piece>,
}

/// The one-pass printer's state.
struct Fast<'a> {
    s: &'a [u8],
    pos: usize,
    /// The current buffer, and the other one.
    buf: &'a mut Vec<u8>,
    other: &'a mut Vec<u8>,
    /// Which physical buffer `buf` is (0: the output, 1: the other).
    phys: u8,
    /// Texts only substitutions use (forms of a function or array type).
    side: &'a mut Vec<u8>,
    /// The innermost modifier libiberty would have pending where the text now goes:
    /// none (0), a pointer, reference, array or function (1), a cv-qualifier (2). A
    /// function or array type copied under one, or a cv-qualified one under a
    /// qualifier, would print differently.
    pending: u8,
    subs: &'a mut Vec<Piece>,
    args: &'a mut Vec<Piece>,
    /// The arguments of the template argument lists being parsed, innermost last.
    stack: &'a mut Vec<Piece>,
    /// Template arguments `T_` refers to here, `args[lo..hi]`, or [`NONE`].
    targs: (u32, u32),
    /// The current template-parameter scope.
    ctx: u32,
    next_ctx: u32,
    /// Times something scope-dependent was printed (a construct depends on the scope
    /// if this grew while it was printed).
    events: u32,
    /// Inside a lambda's parameters (`T_` prints as `auto:N`).
    lambda: bool,
    /// A lambda was printed as a component of the name being printed.
    lambda_seen: bool,
    /// libiberty's `pack_index`: which element of a pack `T_` prints (set by pack
    /// expansions, never restored).
    pack_index: u32,
    /// While printing a pack expansion's pattern: the length of the first pack met
    /// (`None`: none yet).
    pattern: Option<Option<u32>>,
    /// Re-printing a pattern for its next element: its candidates are recorded.
    replay: bool,
    last_name: LastName,
    depth: u32,
    /// Types parsed so far.
    steps: u32,
    /// Where this name's text starts in the output.
    base: usize,
}

/// Demangles `name` (a `_Z` name of at most 1024 bytes, no NUL) and appends it to
/// `out`, or `None` to leave it to the tree printer (then `out` may hold part of a
/// result: the caller truncates).
pub(super) fn demangle(name: &[u8], sc: &mut Scratch, out: &mut Vec<u8>) -> Option<()> {
    let Scratch {
        b,
        c,
        subs,
        args,
        stack,
    } = sc;
    b.clear();
    c.clear();
    subs.clear();
    args.clear();
    stack.clear();
    let base = out.len();
    let mut f = Fast {
        s: name,
        pos: 2,
        buf: out,
        other: b,
        phys: 0,
        side: c,
        pending: 0,
        subs,
        args,
        stack,
        targs: NONE,
        ctx: FREE,
        next_ctx: 1,
        events: 0,
        lambda: false,
        lambda_seen: false,
        pack_index: 0,
        pattern: None,
        replay: false,
        last_name: LastName::None,
        depth: 0,
        steps: 0,
        base,
    };
    let (start, ret) = f.encoding(true)?;
    if start != base {
        return None;
    }
    let Fast {
        s, pos, buf, other, ..
    } = f;
    let out = buf;
    if let Some((rs, re)) = ret {
        // The return type goes first.
        out.extend_from_slice(&other[rs..re]);
        out.push(b' ');
        out[start..].rotate_right(re - rs + 1);
    }
    // Clone suffixes: `.cold`, `.part.0`, `.llvm.123`, …
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut pos = pos;
    while at(pos) == b'.' {
        let c = at(pos + 1);
        if !(c.is_ascii_lowercase() || c == b'_' || c.is_ascii_digit()) {
            break;
        }
        let begin = pos;
        let mut end = pos + 2;
        while at(end).is_ascii_lowercase() || at(end).is_ascii_digit() || at(end) == b'_' {
            end += 1;
        }
        while at(end) == b'.' && at(end + 1).is_ascii_digit() {
            end += 2;
            while at(end).is_ascii_digit() {
                end += 1;
            }
        }
        pos = end;
        out.extend_from_slice(b" [clone ");
        out.extend_from_slice(&s[begin..end]);
        out.push(b']');
    }
    (pos == s.len()).then_some(())
}

impl Lex for Fast<'_> {
    #[inline(always)]
    fn text(&self) -> &[u8] {
        self.s
    }
    #[inline(always)]
    fn at(&mut self) -> &mut usize {
        &mut self.pos
    }
}

impl Fast<'_> {
    #[inline]
    fn put(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
    }

    #[inline]
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// The text printed for this name so far, in all buffers (the output holds what
    /// came before the name too).
    fn text_len(&self) -> usize {
        let (out, other) = if self.phys == 0 {
            (self.buf.len(), self.other.len())
        } else {
            (self.other.len(), self.buf.len())
        };
        out.saturating_sub(self.base) + other + self.side.len()
    }

    /// Prints into the other buffer until [`Fast::swap`] again.
    fn swap(&mut self) {
        std::mem::swap(&mut self.buf, &mut self.other);
        self.phys ^= 1;
    }

    /// The scope a text begun when [`Fast::events`] was `ev` depends on.
    #[inline]
    fn ctx_since(&self, ev: u32) -> u32 {
        if self.events != ev { self.ctx } else { FREE }
    }

    /// The text from `start` of the current buffer, as a piece.
    #[inline]
    fn piece(&self, start: usize, flags: u8, ctx: u32) -> Piece {
        Piece {
            start: start as u32,
            end: self.buf.len() as u32,
            phys: self.phys,
            flags,
            ctx,
        }
    }

    /// Records the next substitution candidate.
    #[inline(always)]
    fn add(&mut self, p: Piece) -> Option<()> {
        if self.replay {
            return Some(()); // recorded when the pattern was first printed
        }
        if self.subs.len() >= self.s.len() {
            return None; // libiberty's table is full
        }
        self.subs.push(p);
        Some(())
    }

    /// Records the text from `start` as the next substitution candidate.
    #[inline(always)]
    fn add_sub(&mut self, start: usize, flags: u8, ctx: u32) -> Option<()> {
        let p = self.piece(start, flags, ctx);
        self.add(p)
    }

    /// Copies a text printed before, if it prints the same here.
    #[inline(always)]
    fn copy(&mut self, p: Piece) -> Option<()> {
        if p.ctx != FREE {
            if p.ctx != self.ctx {
                return None;
            }
            self.events += 1;
        }
        if (p.flags & (FUNC | LAMBDA) != 0 && self.pending != 0)
            || (p.flags & CV != 0 && self.pending == 2)
        {
            return None; // the pending modifier would print inside it, or merge
        }
        let r = p.start as usize..p.end as usize;
        if self.text_len() + r.len() > MAX_TEXT {
            return None;
        }
        if p.phys == self.phys {
            // (A candidate printed empty where a separator was then taken back may
            // point past the end.)
            if r.end > self.buf.len() || r.start > r.end {
                return None;
            }
            copy_within(self.buf, r);
        } else {
            let from = if p.phys == 2 {
                &*self.side
            } else {
                &*self.other
            };
            self.buf.extend_from_slice(from.get(r)?);
        }
        Some(())
    }

    fn push_num(&mut self, v: u32) {
        let mut b = [0u8; 10];
        let mut i = b.len();
        let mut v = v;
        loop {
            i -= 1;
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&b[i..]);
    }

    /// `<encoding>`: its text from the returned offset to the end of the buffer, and
    /// the range of the other buffer that holds its return type, if it prints one.
    fn encoding(&mut self, top: bool) -> Option<(usize, Option<(usize, usize)>)> {
        self.enter()?;
        let r = self.encoding_inner(top, false);
        self.depth -= 1;
        r
    }

    fn encoding_inner(
        &mut self,
        top: bool,
        elide_return: bool,
    ) -> Option<(usize, Option<(usize, usize)>)> {
        let start = self.buf.len();
        let p = self.peek();
        if p == b'T' || p == b'G' {
            if elide_return {
                return None;
            }
            return self.special_name().map(|s| (s, None));
        }
        let hold = (self.targs, self.ctx, self.events);
        self.targs = NONE;
        let mut name = Name::EMPTY;
        self.name(false, &mut name)?;
        let p = self.peek();
        if p == 0 || p == b'E' {
            // Data (or a function not called): its qualifiers print after it all the
            // same.
            self.targs = hold.0;
            self.quals(&name);
            return Some((start, None));
        }
        if p == b'J' || usize::from(name.nquals) + usize::from(name.refq != 0) > 3 {
            return None; // (libiberty's typed-name modifier stack overflows)
        }
        // The function type, in a scope of its own.
        self.ctx = self.next_ctx;
        self.next_ctx += 1;
        self.targs = name.targs;
        let mut ret = None;
        if name.has_return {
            self.swap();
            let rs = self.buf.len();
            let t = self.ty_under(1);
            let re = self.buf.len();
            self.swap();
            if t?.flags & (FUNC | EXPANSION) != 0 {
                return None; // a function returning a function: printed around the name
            }
            ret = Some((rs, re));
        }
        self.params()?;
        self.quals(&name);
        (self.targs, self.ctx, self.events) = hold;
        if elide_return || (!top && name.local) {
            ret = None;
        }
        Some((start, ret))
    }

    /// A name's qualifiers on `this`, innermost first, then its ref-qualifier.
    fn quals(&mut self, name: &Name) {
        for &q in name.quals[..usize::from(name.nquals)].iter().rev() {
            self.put(match q {
                b'r' => b" restrict",
                b'V' => b" volatile",
                _ => b" const",
            });
        }
        match name.refq {
            b'R' => self.put(b" &"),
            b'O' => self.put(b" &&"),
            _ => {}
        }
    }

    /// `(<types>)`, a lone `void` dropped.
    fn params(&mut self) -> Option<()> {
        let hold = (self.pending, self.lambda_seen);
        self.pending = 0;
        let r = self.params_inner();
        (self.pending, self.lambda_seen) = hold;
        r
    }

    fn params_inner(&mut self) -> Option<()> {
        self.buf.push(b'(');
        let mut n = 0;
        let mut empty = false;
        loop {
            let p = self.peek();
            if p == 0 || p == b'E' || p == b'.' {
                break;
            }
            if (p == b'R' || p == b'O') && self.peek2() == b'E' {
                return None; // a ref-qualified function type
            }
            if n == 0 && p == b'v' && matches!(self.peek2(), 0 | b'E' | b'.') {
                self.pos += 1;
                n = 1;
                break;
            }
            if empty {
                return None; // `, b` after an empty pack expansion: left to the tree
            }
            let sep = self.buf.len();
            if n > 0 {
                self.put(b", ");
            }
            let at = self.buf.len();
            self.ty()?;
            if self.buf.len() == at {
                self.buf.truncate(sep);
                empty = true;
            }
            n += 1;
            if n > MAX_LIST {
                return None;
            }
        }
        if n == 0 {
            return None;
        }
        self.buf.push(b')');
        Some(())
    }

    /// `<special-name>`: vtables, typeinfo, thunks, guard variables, TLS functions.
    fn special_name(&mut self) -> Option<usize> {
        let start = self.buf.len();
        let c1 = self.peek();
        let c2 = self.peek2();
        self.pos += 2;
        let prefix: &[u8] = match (c1, c2) {
            (b'T', b'V') => b"vtable for ",
            (b'T', b'T') => b"VTT for ",
            (b'T', b'I') => b"typeinfo for ",
            (b'T', b'S') => b"typeinfo name for ",
            (b'T', b'F') => b"typeinfo fn for ",
            (b'T', b'h' | b'v' | b'c') => {
                if c2 == b'c' {
                    self.call_offset(0)?;
                } else {
                    self.pos -= 1; // the offset starts with the `h` or `v`
                }
                self.call_offset(0)?;
                self.put(match c2 {
                    b'h' => b"non-virtual thunk to ",
                    b'v' => b"virtual thunk to ",
                    _ => b"covariant return thunk to ",
                });
                let (_, ret) = self.encoding(false)?;
                return ret.is_none().then_some(start);
            }
            (b'T', b'H' | b'W') | (b'G', b'V') => {
                self.put(match (c1, c2) {
                    (b'T', b'H') => b"TLS init function for ",
                    (b'T', b'W') => b"TLS wrapper function for ",
                    _ => b"guard variable for ",
                });
                let mut name = Name::EMPTY;
                self.name(false, &mut name)?;
                self.quals(&name);
                return Some(start);
            }
            _ => return None,
        };
        self.put(prefix);
        self.ty()?;
        Some(start)
    }

    /// `<name>`; `substable`: a class type, itself a substitution candidate.
    /// (`name` is filled in, not returned: a struct stored field by field and then
    /// copied whole stalls the store forwarding.)
    fn name(&mut self, substable: bool, name: &mut Name) -> Option<()> {
        let start = self.buf.len();
        let ev = self.events;
        let seen = std::mem::replace(&mut self.lambda_seen, false);
        let r = self.name_inner(substable, name, start, ev);
        let own = self.lambda_seen;
        self.lambda_seen = seen || own;
        name.lambda = own;
        r
    }

    #[inline(always)]
    fn name_inner(
        &mut self,
        substable: bool,
        name: &mut Name,
        start: usize,
        ev: u32,
    ) -> Option<()> {
        let mut subst = None;
        match self.peek() {
            b'N' => self.nested_name(name)?,
            b'Z' => self.local_name(name)?,
            b'U' => {
                self.unqualified_name()?;
            }
            p => {
                let is_ctor = if p == b'S' && self.peek2() != b't' {
                    subst = Some(self.substitution(false)?);
                    false
                } else {
                    if p == b'S' {
                        self.pos += 2;
                        self.put(b"std::");
                    }
                    self.unqualified_name()?
                };
                if self.peek() == b'I' {
                    if subst.is_none() {
                        let ctx = self.ctx_since(ev);
                        self.add_sub(start, self.lambda_flag(), ctx)?;
                    }
                    name.targs = self.template_args()?;
                    name.has_return = !is_ctor;
                    subst = None;
                }
            }
        }
        if substable && subst.is_none() {
            let ctx = self.ctx_since(ev);
            self.add_sub(start, self.lambda_flag(), ctx)?;
        }
        Some(())
    }

    /// [`LAMBDA`] if a lambda was printed in the name so far.
    fn lambda_flag(&self) -> u8 {
        if self.lambda_seen { LAMBDA } else { 0 }
    }

    /// `N [<CV-qualifiers>] [<ref-qualifier>] <prefix> E`.
    #[inline(always)]
    fn nested_name(&mut self, name: &mut Name) -> Option<()> {
        self.pos += 1;
        while matches!(self.peek(), b'r' | b'V' | b'K') {
            if usize::from(name.nquals) == name.quals.len() {
                return None;
            }
            name.quals[usize::from(name.nquals)] = self.peek();
            name.nquals += 1;
            self.pos += 1;
        }
        if self.peek() == b'D' && matches!(self.peek2(), b'x' | b'o' | b'O' | b'w') {
            return None;
        }
        if matches!(self.peek(), b'R' | b'O') {
            name.refq = self.peek();
            self.pos += 1;
        }
        let start = self.buf.len();
        let ev = self.events;
        let mut have = false;
        let mut is_ctor = false;
        loop {
            match self.peek() {
                b'I' => {
                    if !have {
                        return None;
                    }
                    name.targs = self.template_args()?;
                    name.has_return = !is_ctor;
                }
                b'M' => {
                    if !have {
                        return None;
                    }
                    self.pos += 1;
                    continue;
                }
                b'S' => {
                    if have {
                        return None;
                    }
                    self.substitution(true)?;
                    have = true;
                    continue;
                }
                b'T' => return None,
                b'D' if matches!(self.peek2(), b'T' | b't' | b'C') => return None,
                _ => {
                    if have {
                        self.put(b"::");
                    }
                    is_ctor = self.unqualified_name()?;
                    have = true;
                    name.has_return = false;
                    name.targs = NONE;
                }
            }
            if self.peek() == b'E' {
                self.pos += 1;
                return Some(());
            }
            let ctx = self.ctx_since(ev);
            self.add_sub(start, self.lambda_flag(), ctx)?;
        }
    }

    /// `<unqualified-name>` with its ABI tags; `true` for a constructor or destructor.
    #[inline(always)]
    fn unqualified_name(&mut self) -> Option<bool> {
        let p = self.peek();
        let mut ctor = false;
        if p.is_ascii_digit() {
            self.source_name()?;
        } else if p.is_ascii_lowercase() {
            if p == b'o' && self.peek2() == b'n' {
                self.pos += 2;
            }
            let i = super::find_op(self.peek(), self.peek2())?;
            self.pos += 2;
            let op = super::OPERATORS[i as usize].name.as_bytes();
            self.put(b"operator");
            if op[0].is_ascii_lowercase() {
                self.buf.push(b' ');
            }
            self.put(op.strip_suffix(b" ").unwrap_or(op));
        } else if p == b'C' || p == b'D' {
            let dtor = match (p, self.peek2()) {
                (b'C', b'1'..=b'5') => false,
                (b'D', b'0' | b'1' | b'2' | b'4' | b'5') => true,
                _ => return None,
            };
            self.pos += 2;
            if dtor {
                self.buf.push(b'~');
            }
            match self.last_name {
                LastName::None => return None,
                LastName::Input(s, e) => {
                    let s = &self.s[s as usize..e as usize];
                    self.buf.extend_from_slice(s);
                }
                LastName::Static(s) => self.put(s.as_bytes()),
            }
            ctor = true;
        } else if p == b'L' {
            self.pos += 1;
            self.source_name()?;
            self.discriminator()?;
        } else if p == b'U' {
            match self.peek2() {
                b'l' => self.lambda()?,
                b't' => {
                    self.pos += 2;
                    let start = self.buf.len();
                    let n = self.compact_number()?;
                    self.put(b"{unnamed type#");
                    self.push_num(n + 1);
                    self.buf.push(b'}');
                    self.add_sub(start, 0, FREE)?;
                }
                _ => return None,
            }
        } else {
            return None;
        }
        if self.peek() == b'B' {
            let hold = self.last_name;
            while self.eat(b'B') {
                self.put(b"[abi:");
                self.source_name()?;
                self.buf.push(b']');
            }
            self.last_name = hold;
            ctor = false;
        }
        Some(ctor)
    }

    /// `<length> <identifier>`.
    #[inline(always)]
    fn source_name(&mut self) -> Option<()> {
        let len = self.number()?;
        if len <= 0 {
            return None;
        }
        let len = len as usize;
        let start = self.pos;
        if self.s.len() - start < len {
            return None;
        }
        self.pos += len;
        let id = &self.s[start..start + len];
        if len >= 10
            && id.starts_with(b"_GLOBAL_")
            && matches!(id[8], b'.' | b'_' | b'$')
            && id[9] == b'N'
        {
            self.buf.extend_from_slice(b"(anonymous namespace)");
            self.last_name = LastName::Static("(anonymous namespace)");
        } else {
            append(self.buf, self.s, start, len);
            self.last_name = LastName::Input(start as u32, (start + len) as u32);
        }
        Some(())
    }

    /// `Ul <types> E [<number>] _`: `{lambda(<types>)#<n>}`.
    fn lambda(&mut self) -> Option<()> {
        if self.pending != 0 {
            return None; // its parameters would take the pending modifiers
        }
        self.lambda_seen = true;
        self.pos += 2;
        if self.peek() == b'T' && matches!(self.peek2(), b'y' | b'n' | b't' | b'p') {
            return None; // template heads: newer than 2.40
        }
        self.put(b"{lambda(");
        let hold = (self.lambda, self.ctx, self.events);
        self.lambda = true;
        self.ctx = self.next_ctx;
        self.next_ctx += 1;
        let mut n = 0;
        loop {
            let p = self.peek();
            if p == 0 || p == b'E' || p == b'.' {
                break;
            }
            if (p == b'R' || p == b'O') && self.peek2() == b'E' {
                return None;
            }
            if n == 0 && p == b'v' && self.peek2() == b'E' {
                self.pos += 1;
                n = 1;
                break;
            }
            if n > 0 {
                self.put(b", ");
            }
            self.ty()?;
            n += 1;
            if n > MAX_LIST {
                return None;
            }
        }
        (self.lambda, self.ctx, self.events) = hold;
        if n == 0 {
            return None;
        }
        self.expect(b'E')?;
        let num = self.compact_number()?;
        self.put(b")#");
        self.push_num(num + 1);
        self.buf.push(b'}');
        Some(())
    }

    /// `Z <encoding> E <entity> [<discriminator>]`: `<function>::<entity>`.
    fn local_name(&mut self, name: &mut Name) -> Option<()> {
        self.pos += 1;
        self.enter()?;
        self.encoding_inner(false, true)?;
        self.depth -= 1;
        self.expect(b'E')?;
        self.put(b"::");
        if self.eat(b's') {
            self.discriminator()?;
            self.put(b"string literal");
        } else {
            if self.peek() == b'd' {
                return None; // default-argument scopes
            }
            let hold = self.targs;
            self.targs = NONE;
            let p = self.peek();
            self.name(false, name)?;
            self.targs = hold;
            if p != b'U' {
                self.discriminator()?;
            }
            if name.nquals + u8::from(name.refq != 0) > 1 {
                return None;
            }
        }
        name.local = true;
        Some(())
    }

    /// `<substitution>`, printed; `prefix`: it qualifies a name (before a constructor
    /// or destructor, `Ss` and the like print in full).
    #[inline(always)]
    fn substitution(&mut self, prefix: bool) -> Option<Piece> {
        self.pos += 1;
        let c = self.peek();
        self.pos += 1;
        if c == b'_' || c.is_ascii_digit() || c.is_ascii_uppercase() {
            let mut id: u64 = 0;
            if c != b'_' {
                let mut c = c;
                loop {
                    let d = match c {
                        b'0'..=b'9' => c - b'0',
                        b'A'..=b'Z' => c - b'A' + 10,
                        _ => return None,
                    };
                    id = id * 36 + u64::from(d);
                    if id > 1 << 24 {
                        return None;
                    }
                    c = self.peek();
                    self.pos += 1;
                    if c == b'_' {
                        break;
                    }
                }
                id += 1;
            }
            let p = *self.subs.get(id as usize)?;
            self.copy(p)?;
            return Some(p);
        }
        let verbose = prefix && matches!(self.peek(), b'C' | b'D');
        let (simple, full, last): (&str, &str, Option<&'static str>) = match c {
            b't' => ("std", "std", None),
            b'a' => ("std::allocator", "std::allocator", Some("allocator")),
            b'b' => (
                "std::basic_string",
                "std::basic_string",
                Some("basic_string"),
            ),
            b's' => (
                "std::string",
                "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
                Some("basic_string"),
            ),
            b'i' => (
                "std::istream",
                "std::basic_istream<char, std::char_traits<char> >",
                Some("basic_istream"),
            ),
            b'o' => (
                "std::ostream",
                "std::basic_ostream<char, std::char_traits<char> >",
                Some("basic_ostream"),
            ),
            b'd' => (
                "std::iostream",
                "std::basic_iostream<char, std::char_traits<char> >",
                Some("basic_iostream"),
            ),
            _ => return None,
        };
        if let Some(last) = last {
            self.last_name = LastName::Static(last);
        }
        if self.peek() == b'B' {
            return None; // a tagged abbreviation is a candidate of its own
        }
        self.put(if verbose { full } else { simple }.as_bytes());
        Some(Piece::default())
    }

    /// `I <template-arg>* E`, printed `<…>`; the range of [`Fast::args`] that holds
    /// the arguments.
    fn template_args(&mut self) -> Option<(u32, u32)> {
        self.pos += 1;
        if self.buf.last() == Some(&b'<') {
            self.buf.push(b' ');
        }
        self.buf.push(b'<');
        let hold = self.last_name;
        let open = self.buf.len();
        let lo = self.stack.len();
        let held = (self.pending, self.lambda_seen);
        self.pending = 0;
        let removed = self.arg_list();
        (self.pending, self.lambda_seen) = held;
        let removed = removed?;
        self.last_name = hold;
        // The last character libiberty saw: a separator taken back leaves `' '`.
        let last = if removed {
            b' '
        } else if self.buf.len() == open {
            b'<'
        } else {
            self.buf[self.buf.len() - 1]
        };
        if last == b'>' {
            self.buf.push(b' ');
        }
        self.buf.push(b'>');
        let first = self.args.len() as u32;
        self.args.extend_from_slice(&self.stack[lo..]);
        self.stack.truncate(lo);
        Some((first, self.args.len() as u32))
    }

    /// Template arguments up to `E` with libiberty's `", "` for arguments that print
    /// nothing (empty packs): the number of arguments, and whether a final separator
    /// was taken back.
    fn arg_list(&mut self) -> Option<bool> {
        let mut n = 0;
        let mut removed = false;
        if self.eat(b'E') {
            return Some(false);
        }
        loop {
            let sep = self.buf.len();
            if n > 0 {
                self.put(b", ");
            }
            let start = self.buf.len();
            let p = self.template_arg()?;
            self.stack.push(p);
            n += 1;
            if n > MAX_LIST {
                return None;
            }
            if self.buf.len() == start {
                if n > 1 {
                    self.buf.truncate(sep);
                    removed = true;
                }
            } else if removed {
                return None; // `a, , b`: left to the tree printer
            }
            if self.eat(b'E') {
                return Some(removed);
            }
        }
    }

    /// `<template-arg>`.
    #[inline(always)]
    fn template_arg(&mut self) -> Option<Piece> {
        let start = self.buf.len();
        let ev = self.events;
        let flags = match self.peek() {
            b'L' => {
                self.literal()?;
                0
            }
            b'J' => {
                self.pos += 1;
                let hold = self.last_name;
                let top = self.stack.len();
                let removed = self.arg_list()?;
                if removed || self.stack[top..].iter().any(|p| p.flags & PACK != 0) {
                    return None;
                }
                self.last_name = hold;
                // A pack: its elements, in `args`.
                let lo = self.args.len() as u32;
                self.args.extend_from_slice(&self.stack[top..]);
                self.stack.truncate(top);
                let ctx = self.ctx_since(ev);
                return Some(Piece {
                    start: lo,
                    end: self.args.len() as u32,
                    phys: self.phys,
                    flags: PACK,
                    ctx,
                });
            }
            b'X' | b'I' => return None,
            _ => self.ty()?.flags,
        };
        let ctx = self.ctx_since(ev);
        Some(self.piece(start, flags, ctx))
    }

    /// `L <type> <value> E`.
    fn literal(&mut self) -> Option<()> {
        self.pos += 1;
        let p = self.peek();
        let suffix: Option<&[u8]> = match p {
            b'i' => Some(b""),
            b'j' => Some(b"u"),
            b'l' => Some(b"l"),
            b'm' => Some(b"ul"),
            b'x' => Some(b"ll"),
            b'y' => Some(b"ull"),
            b'_' | b'Z' => return None,
            _ => None,
        };
        if let Some(suffix) = suffix {
            self.pos += 1;
            let (neg, s, e) = self.literal_value()?;
            if neg {
                self.buf.push(b'-');
            }
            self.buf.extend_from_slice(&self.s[s..e]);
            self.put(suffix);
            return Some(());
        }
        if p == b'b' {
            self.pos += 1;
            let (neg, s, e) = self.literal_value()?;
            let v = &self.s[s..e];
            if !neg && v == b"0" {
                self.put(b"false");
            } else if !neg && v == b"1" {
                self.put(b"true");
            } else {
                self.put(b"(bool)");
                if neg {
                    self.buf.push(b'-');
                }
                self.buf.extend_from_slice(v);
            }
            return Some(());
        }
        if p == b'D' && self.peek2() == b'n' && self.s.get(self.pos + 2) == Some(&b'E') {
            self.pos += 3;
            self.put(b"decltype(nullptr)");
            return Some(());
        }
        let float = matches!(p, b'd' | b'e' | b'f' | b'g');
        self.buf.push(b'(');
        let ev = self.events;
        self.ty()?;
        if self.events != ev {
            return None;
        }
        self.buf.push(b')');
        let (neg, s, e) = self.literal_value()?;
        if neg {
            self.buf.push(b'-');
        }
        if float {
            self.buf.push(b'[');
        }
        self.buf.extend_from_slice(&self.s[s..e]);
        if float {
            self.buf.push(b']');
        }
        Some(())
    }

    /// A literal's `[n] <value> E`: negative, and the value's range in the input.
    #[inline(always)]
    fn literal_value(&mut self) -> Option<(bool, usize, usize)> {
        let neg = self.eat(b'n');
        let s = self.pos;
        loop {
            match self.peek() {
                b'E' => break,
                0 => return None,
                _ => self.pos += 1,
            }
        }
        let e = self.pos;
        self.pos += 1;
        (e > s).then_some((neg, s, e))
    }

    /// [`Fast::ty`] where libiberty has the modifier `pending` pending.
    fn ty_under(&mut self, pending: u8) -> Option<Ty> {
        let hold = self.pending;
        self.pending = pending;
        let t = self.ty();
        self.pending = hold;
        t
    }

    /// `<type>`, printed at the end of the buffer.
    fn ty(&mut self) -> Option<Ty> {
        self.steps += 1;
        if self.steps > MAX_STEPS || self.text_len() > MAX_TEXT {
            return None;
        }
        self.enter()?;
        let r = self.ty_inner();
        self.depth -= 1;
        r
    }

    #[inline(always)]
    fn ty_inner(&mut self) -> Option<Ty> {
        let start = self.buf.len();
        let ev = self.events;
        let p = self.peek();
        let builtin: &[u8] = match p {
            b'a' => b"signed char",
            b'b' => b"bool",
            b'c' => b"char",
            b'd' => b"double",
            b'e' => b"long double",
            b'f' => b"float",
            b'g' => b"__float128",
            b'h' => b"unsigned char",
            b'i' => b"int",
            b'j' => b"unsigned int",
            b'l' => b"long",
            b'm' => b"unsigned long",
            b'n' => b"__int128",
            b'o' => b"unsigned __int128",
            b's' => b"short",
            b't' => b"unsigned short",
            b'v' => b"void",
            b'w' => b"wchar_t",
            b'x' => b"long long",
            b'y' => b"unsigned long long",
            b'z' => b"...",
            b'D' => {
                let b: &[u8] = match self.peek2() {
                    b'n' => b"decltype(nullptr)",
                    b'a' => b"auto",
                    b'c' => b"decltype(auto)",
                    b'u' => b"char8_t",
                    b's' => b"char16_t",
                    b'i' => b"char32_t",
                    _ => b"",
                };
                if !b.is_empty() {
                    self.pos += 1;
                }
                b
            }
            _ => b"",
        };
        if !builtin.is_empty() {
            self.pos += 1;
            self.put(builtin);
            return Some(Ty { flags: 0 });
        }
        let flags = match p {
            b'r' | b'V' | b'K' => {
                let mut quals = [0u8; 3];
                let mut n = 0;
                while matches!(self.peek(), b'r' | b'V' | b'K') {
                    let q = self.peek();
                    if n == quals.len() || quals[..n].contains(&q) {
                        return None;
                    }
                    quals[n] = q;
                    n += 1;
                    self.pos += 1;
                }
                if matches!(self.peek(), b'F' | b'D') {
                    return None; // qualifiers of a function type's `this`, …
                }
                let t = self.ty_under(2)?;
                if t.flags & (CV | FUNC | PACK | EXPANSION) != 0 {
                    return None;
                }
                for &q in quals[..n].iter().rev() {
                    self.put(match q {
                        b'r' => b" restrict",
                        b'V' => b" volatile",
                        _ => b" const",
                    });
                }
                CV
            }
            b'P' | b'R' | b'O' => {
                let mut f = self.pos;
                while matches!(self.s.get(f), Some(b'P' | b'R' | b'O')) {
                    f += 1;
                }
                if matches!(self.s.get(f), Some(b'F' | b'A')) {
                    return self.compound(f);
                }
                self.pos += 1;
                // Only a template parameter's or a substitution's reference collapses
                // as it prints: one spelled out here stacks up with its own.
                let direct = matches!(self.peek(), b'T' | b'S');
                let t = self.ty_under(1)?;
                if p != b'P' && t.flags & REF != 0 {
                    // Reference collapsing: `&` with `&` or `&&`, and `&&` with `&&`,
                    // print the inner reference.
                    if !direct || (p == b'R' && t.flags & RVAL != 0) {
                        return None;
                    }
                    let ctx = self.ctx_since(ev);
                    self.add_sub(start, t.flags, ctx)?;
                    return Some(Ty { flags: t.flags });
                }
                if t.flags & (FUNC | PACK | EXPANSION) != 0 {
                    return None; // the modifier goes inside
                }
                self.put(match p {
                    b'P' => b"*",
                    b'R' => b"&",
                    _ => b"&&",
                });
                match p {
                    b'P' => 0,
                    b'R' => REF,
                    _ => REF | RVAL,
                }
            }
            b'A' => return self.compound(self.pos),
            b'F' => {
                self.function_type()?;
                FUNC
            }
            b'T' => {
                self.pos += 1;
                let n = self.compact_number()?;
                if self.peek() == b'I' {
                    return None; // a template template parameter
                }
                self.events += 1;
                if self.lambda {
                    self.put(b"auto:");
                    self.push_num(n + 1);
                    0
                } else {
                    let (lo, hi) = self.targs;
                    if lo == u32::MAX || n >= hi - lo {
                        return None;
                    }
                    let mut a = self.args[(lo + n) as usize];
                    let mut print = true;
                    if a.flags & PACK != 0 {
                        // A pack: the element a pack expansion is at.
                        let len = a.end - a.start;
                        if let Some(first @ None) = &mut self.pattern {
                            *first = Some(len);
                        }
                        if self.pack_index < len {
                            a = self.args[(a.start + self.pack_index) as usize];
                            if a.flags & PACK != 0 {
                                return None;
                            }
                        } else if self.pattern.is_some() && len == 0 {
                            // An empty pack: the expansion prints nothing (and the
                            // parameter is a candidate all the same).
                            print = false;
                        } else {
                            return None;
                        }
                    }
                    if print {
                        self.copy(a)?;
                        a.flags
                    } else {
                        0
                    }
                }
            }
            b'S' if self.peek2() != b't' => {
                let sub = self.substitution(false)?;
                if self.peek() != b'I' {
                    return Some(Ty { flags: sub.flags });
                }
                // A template: a new candidate.
                self.template_args()?;
                0
            }
            b'D' if self.peek2() == b'p' && !self.lambda => {
                self.pos += 2;
                self.pack_expansion()?;
                EXPANSION
            }
            b'M' | b'C' | b'G' | b'U' | b'u' | b'D' => return None,
            _ => {
                // A class or enum: a name, a candidate of its own.
                let mut name = Name::EMPTY;
                self.name(true, &mut name)?;
                if name.nquals != 0 || name.refq != 0 {
                    return None; // qualifiers on `this` of a type: left to the tree
                }
                return Some(Ty {
                    flags: if name.lambda { LAMBDA } else { 0 },
                });
            }
        };
        let ctx = self.ctx_since(ev);
        self.add_sub(start, flags, ctx)?;
        Some(Ty { flags })
    }

    /// `Dp <pattern>`: the pattern once for each element of the first pack its template
    /// parameters refer to, `", "` between (libiberty's `d_find_pack` and
    /// `pack_index`); the pattern is parsed again for each element after the first.
    fn pack_expansion(&mut self) -> Option<()> {
        let start = self.buf.len();
        let pat = self.pos;
        let subs = self.subs.len();
        let hold = (self.pattern, self.ctx, self.events);
        // Candidates whose text depends on the element get a scope of their own.
        self.ctx = self.next_ctx;
        self.next_ctx += 1;
        self.pattern = Some(None);
        self.pack_index = 0;
        let first = self.ty();
        let found = self.pattern;
        (self.pattern, self.ctx, self.events) = hold;
        first?;
        let end = self.pos;
        let Some(Some(len)) = found else {
            return None; // no pack: libiberty prints `(pattern)...`
        };
        if len == 0 {
            // Nothing printed: what was printed for the pattern is not there for its
            // candidates to copy.
            self.buf.truncate(start);
            for p in &mut self.subs[subs..] {
                p.ctx = u32::MAX;
            }
            return Some(());
        }
        let replay = self.replay;
        self.replay = true;
        for i in 1..len {
            self.put(b", ");
            self.pos = pat;
            self.pack_index = i;
            let hold = (self.pattern, self.ctx);
            self.ctx = self.next_ctx;
            self.next_ctx += 1;
            self.pattern = Some(None);
            let r = self.ty();
            (self.pattern, self.ctx) = hold;
            if r.is_none() || self.pos != end {
                return None;
            }
        }
        self.replay = replay;
        self.events += 1;
        Some(())
    }

    /// `F [Y] <return type> <types> E`, printed `<return type> (<types>)`; the offset
    /// of the `(`.
    fn function_type(&mut self) -> Option<usize> {
        if self.pending != 0 {
            return None; // the pending modifiers would print inside
        }
        self.pos += 1;
        self.eat(b'Y');
        if self.peek() == b'J' {
            return None;
        }
        if self.ty_under(1)?.flags & (FUNC | EXPANSION) != 0 {
            return None;
        }
        self.buf.push(b' ');
        let params = self.buf.len();
        self.params()?;
        self.expect(b'E')?;
        Some(params)
    }

    /// ` (` and the modifiers at `mods..f` from the innermost out, then `)`; `false` (and
    /// nothing printed) when there are none.
    fn put_modifiers(&mut self, mods: usize, f: usize) -> bool {
        if f == mods {
            return false;
        }
        self.put(b" (");
        let s = self.s;
        for &m in s[mods..f].iter().rev() {
            self.put(mod_text(m));
        }
        self.buf.push(b')');
        true
    }

    /// `[P|R|O]* F … E` or `[P|R|O]* A [<dim>] _ <type>`, the `F` or `A` at `f`:
    /// `<return type> (<modifiers>)(<types>)` or `<element> (<modifiers>) [<dim>]`
    /// (no parentheses without modifiers), with the candidates libiberty records on the
    /// way (the function or array type, then each modifier from the innermost out),
    /// whose texts go to the other buffer.
    fn compound(&mut self, f: usize) -> Option<Ty> {
        if self.pending != 0 {
            return None; // the pending modifiers would print inside
        }
        let start = self.buf.len();
        let ev = self.events;
        let mods = self.pos;
        let nmods = f - mods;
        // Only pointers, with at most an outermost reference: no collapsing.
        if nmods > 8 || (nmods > 1 && self.s[mods + 1..f].iter().any(|&c| c != b'P')) {
            return None;
        }
        self.pos = f + 1;
        let array = self.s[f] == b'A';
        let (inner_end, tail) = if array {
            // `A [<digits>] _ <element>`: the element prints first.
            let d0 = self.pos;
            while self.peek().is_ascii_digit() {
                self.pos += 1;
            }
            let dim = d0..self.pos;
            self.expect(b'_')?;
            if self.ty_under(1)?.flags & (FUNC | PACK | REF | EXPANSION) != 0 {
                return None;
            }
            let inner_end = self.buf.len();
            self.put_modifiers(mods, f);
            self.put(b" [");
            let tail = self.buf.len() - 1;
            let s = self.s;
            self.buf.extend_from_slice(&s[dim]);
            self.buf.push(b']');
            (inner_end, tail)
        } else {
            self.eat(b'Y');
            if self.peek() == b'J' {
                return None;
            }
            if self.ty_under(1)?.flags & (FUNC | PACK | EXPANSION) != 0 {
                return None;
            }
            let inner_end = self.buf.len();
            if !self.put_modifiers(mods, f) {
                self.buf.push(b' ');
            }
            let tail = self.buf.len();
            self.params()?;
            self.expect(b'E')?;
            (inner_end, tail)
        };
        let ctx = self.ctx_since(ev);
        // The candidates' texts (the type itself, each modifier but the outermost) in
        // the other buffer; the outermost is the text just printed.
        let mut cands = [Piece::default(); 9];
        for (k, cand) in cands.iter_mut().enumerate().take(nmods + 1) {
            let outer = if k == 0 { b'F' } else { self.s[f - k] };
            let flags = FUNC
                | match outer {
                    b'R' => REF,
                    b'O' => REF | RVAL,
                    _ => 0,
                };
            if k == nmods {
                *cand = self.piece(start, flags, ctx);
                continue;
            }
            let (buf, other) = (&*self.buf, &mut *self.side);
            let at = other.len();
            other.extend_from_slice(&buf[start..inner_end]);
            if k == 0 {
                other.push(b' ');
            } else {
                other.extend_from_slice(b" (");
                for &m in self.s[f - k..f].iter().rev() {
                    other.extend_from_slice(mod_text(m));
                }
                other.push(b')');
                if array {
                    other.push(b' ');
                }
            }
            other.extend_from_slice(&buf[tail..]);
            *cand = Piece {
                start: at as u32,
                end: other.len() as u32,
                phys: 2,
                flags,
                ctx,
            };
        }
        for &c in &cands[..=nmods] {
            self.add(c)?;
        }
        Some(Ty {
            flags: cands[nmods].flags,
        })
    }
}

/// Appends `src[start..start + len]` to `buf`: short ones as a fixed-size copy and a
/// truncation (a call to `memcpy` costs more than the copy).
#[inline]
fn append(buf: &mut Vec<u8>, src: &[u8], start: usize, len: usize) {
    if len <= 16 {
        if let Some(w) = src.get(start..start + 16) {
            let at = buf.len();
            let w: &[u8; 16] = w.try_into().unwrap_or(&[0; 16]);
            buf.extend_from_slice(w);
            buf.truncate(at + len);
            return;
        }
    }
    buf.extend_from_slice(&src[start..start + len]);
}

/// `buf.extend_from_within(r)`, short ones as a fixed-size copy.
#[inline]
fn copy_within(buf: &mut Vec<u8>, r: std::ops::Range<usize>) {
    let len = r.end - r.start;
    if len <= 16 {
        if let Some(w) = buf.get(r.start..r.start + 16) {
            let at = buf.len();
            let w: [u8; 16] = w.try_into().unwrap_or([0; 16]);
            buf.extend_from_slice(&w);
            buf.truncate(at + len);
            return;
        }
    }
    buf.extend_from_within(r);
}

/// How `d_print_mod` prints a pointer or reference.
fn mod_text(m: u8) -> &'static [u8] {
    match m {
        b'P' => b"*",
        b'R' => b"&",
        _ => b"&&",
    }
}
