//! C++ names (Itanium ABI, `_Z…`) printed exactly as binutils 2.40's libiberty prints them
//! (`cplus_demangle_v3_callback(name, DMGL_PARAMS | DMGL_ANSI, …)`, GNU `nm -C`): a fast
//! path in front of libiberty that handles the common part of the grammar and declines the
//! rest.
//!
//! Two printers, tried in turn, share the grammar and libiberty's readings of it (which
//! names enter the substitution table and in which order, what a constructor is named
//! after, where qualifiers attach, which return types are printed, libiberty's limits):
//!
//! * [`fast`] prints as it parses, in one pass, copying the text of substitutions and
//!   template arguments. It handles the names whose parts print the same wherever they
//!   appear (the great majority: about 95% of libLLVM's) and gives up on the others.
//! * The tree printer parses into a small tree ([`Parser`]) and prints it with
//!   libiberty's own rules ([`Printer`]): the stack of pending type modifiers that puts
//!   `(*)` and `[]` in their places, template parameters resolved against the templates
//!   in scope (and the scopes saved for reference collapsing), pack expansions, `> >`,
//!   `operator< <…>`, literals such as `(char)97`, `5u`, `true`, `std::string` for `Ss`
//!   but its full spelling before a constructor, expressions in part, and so on.
//!
//! Both work in thread-local arenas reused from name to name (no allocation per name once
//! they have grown, beyond the output). Every input is untrusted: lengths, indices and
//! counts are checked; recursion and work are bounded (below libiberty's own limits, so
//! that a name we print is never one libiberty would refuse); nothing panics. Whatever
//! neither printer knows for certain (vendor extensions, modules, most expressions, fold
//! expressions, `_GLOBAL_` names, …) makes [`demangle`] return `false` with `out`
//! untouched, and the caller asks libiberty.

use std::cell::RefCell;

mod fast;

/// A node of the parse tree: an index into [`Scratch::nodes`].
type Id = u32;
/// No node (libiberty's `NULL` component); also the end of a linked list.
const NIL: Id = u32::MAX;

/// libiberty refuses names whose component table (2 per byte) exceeds this
/// (`DEMANGLE_RECURSION_LIMIT`), that is names longer than 1024 bytes.
const MAX_NAME_LEN: usize = 1024;
/// Deepest parser recursion (types, names, expressions) we follow.
const MAX_PARSE_DEPTH: u32 = 200;
/// Deepest printer recursion we follow (libiberty's limit is 1024).
const MAX_PRINT_DEPTH: u32 = 400;
/// Most printer steps for one name (substitutions can make output exponential).
const MAX_PRINT_STEPS: u32 = 200_000;
/// Longest output we produce for one name.
const MAX_OUTPUT: usize = 1 << 18;

/// What a node is; the fields [`Node::a`] and [`Node::b`] hold child nodes or, for the
/// leaves, the numbers noted. The kinds without a note are libiberty's component types
/// of the same names (`DEMANGLE_COMPONENT_QUAL_NAME`, …), `a` the left child and `b`
/// the right.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum K {
    /// An identifier of the input: `a` its offset, `b` its length.
    Name,
    /// A fixed spelling: `a` indexes [`STATIC`].
    Static,
    /// A standard substitution (`St`, `Sa`, …): `a` indexes [`STATIC`].
    SubStd,
    /// A builtin type: `a` indexes [`BUILTINS`].
    Builtin,
    /// An operator: `a` indexes [`OPERATORS`].
    Operator,
    /// Constructor of the class named `a`.
    Ctor,
    /// Destructor of the class named `a`.
    Dtor,
    /// Template parameter number `a`.
    TemplateParam,
    /// Function parameter number `a` (0: `this`).
    FunctionParam,
    Qual,
    Local,
    Typed,
    Template,
    Tagged,
    Vtable,
    Vtt,
    ConstructionVtable,
    Typeinfo,
    TypeinfoName,
    TypeinfoFn,
    Thunk,
    VirtualThunk,
    CovariantThunk,
    Guard,
    TlsInit,
    TlsWrapper,
    HiddenAlias,
    Restrict,
    Volatile,
    Const,
    RestrictThis,
    VolatileThis,
    ConstThis,
    RefThis,
    RvalRefThis,
    /// `noexcept` on a function type (`b`: its expression, none here).
    Noexcept,
    Pointer,
    Reference,
    RvalRef,
    Complex,
    Imaginary,
    FunctionType,
    ArrayType,
    PtrMem,
    ArgList,
    TemplateArgList,
    Cast,
    Conversion,
    Nullary,
    Unary,
    Binary,
    BinaryArgs,
    Trinary,
    TrinaryArg1,
    TrinaryArg2,
    Literal,
    LiteralNeg,
    Decltype,
    PackExpansion,
    /// A closure type: `a` its parameter list, `b` its number.
    Lambda,
    /// `{unnamed type#…}`: `a` its number.
    UnnamedType,
    /// `{default arg#…}`: `a` the entity, `b` the number.
    DefaultArg,
    Clone,
}

impl K {
    /// Whether `a` and `b` are nodes (rather than numbers).
    fn children(self) -> (bool, bool) {
        use K::*;
        match self {
            Name | Static | SubStd | Builtin | Operator | TemplateParam | FunctionParam
            | UnnamedType => (false, false),
            Lambda | DefaultArg => (true, false),
            _ => (true, true),
        }
    }

    /// libiberty's `is_fnqual_component_type`.
    fn is_fnqual(self) -> bool {
        matches!(
            self,
            K::RestrictThis
                | K::VolatileThis
                | K::ConstThis
                | K::RefThis
                | K::RvalRefThis
                | K::Noexcept
        )
    }

    /// A cv-qualifier of a type (not of `this`).
    fn is_cv(self) -> bool {
        matches!(self, K::Restrict | K::Volatile | K::Const)
    }
}

/// One node: its kind and two fields (and what the printer may copy of it).
#[derive(Clone, Copy, Debug)]
struct Node {
    k: K,
    /// Whether this subtree prints the same wherever it appears, given no pending
    /// array qualifier: no template parameter, no type that reaches into the pending
    /// modifiers (see [`Parser::classify`]). The printer copies its first printing.
    simple: bool,
    /// The depth of this subtree, when it is simple.
    depth: u16,
    a: u32,
    b: u32,
}

/// The printer's state of one node, apart from the node (which it only reads) so that
/// updating it does not stall the next read of the node.
#[derive(Clone, Copy, Debug)]
struct State {
    /// Times the template/scope count has visited this node (`d_counting`).
    counting: u8,
    /// Nesting of this node in the printer's recursion (`d_printing`).
    printing: u8,
    /// The character libiberty considers last after printing this (simple) subtree.
    last: u8,
    /// Where this simple subtree was first printed in the output (`NIL`: not yet).
    start: u32,
    end: u32,
}

impl State {
    const INIT: State = State {
        counting: 0,
        printing: 0,
        last: 0,
        start: NIL,
        end: 0,
    };
}

/// Fixed spellings, referred to by index.
const STATIC: [&str; 19] = [
    "std",
    "std::allocator",
    "std::basic_string",
    "std::string",
    "std::istream",
    "std::ostream",
    "std::iostream",
    "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
    "std::basic_istream<char, std::char_traits<char> >",
    "std::basic_ostream<char, std::char_traits<char> >",
    "std::basic_iostream<char, std::char_traits<char> >",
    "allocator",
    "basic_string",
    "basic_istream",
    "basic_ostream",
    "basic_iostream",
    "(anonymous namespace)",
    "string literal",
    "auto",
];
const S_STD: u32 = 0;
const S_ANON: u32 = 16;
const S_STRING_LITERAL: u32 = 17;
const S_AUTO: u32 = 18;
/// `decltype(auto)`, kept apart so [`STATIC`] stays a plain array of the common ones.
const S_DECLTYPE_AUTO: u32 = 19;

fn static_str(i: u32) -> &'static str {
    match STATIC.get(i as usize) {
        Some(s) => s,
        None => "decltype(auto)",
    }
}

/// How a builtin type prints a literal of it (`d_builtin_type_print`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lit {
    Default,
    Int,
    Unsigned,
    Long,
    UnsignedLong,
    LongLong,
    UnsignedLongLong,
    Bool,
    Float,
    Void,
}

/// Builtin types: `a`..`z` by letter, then the `D?` ones.
const BUILTINS: [(&str, Lit); 34] = [
    ("signed char", Lit::Default),
    ("bool", Lit::Bool),
    ("char", Lit::Default),
    ("double", Lit::Float),
    ("long double", Lit::Float),
    ("float", Lit::Float),
    ("__float128", Lit::Float),
    ("unsigned char", Lit::Default),
    ("int", Lit::Int),
    ("unsigned int", Lit::Unsigned),
    ("", Lit::Default),
    ("long", Lit::Long),
    ("unsigned long", Lit::UnsignedLong),
    ("__int128", Lit::Default),
    ("unsigned __int128", Lit::Default),
    ("", Lit::Default),
    ("", Lit::Default),
    ("", Lit::Default),
    ("short", Lit::Default),
    ("unsigned short", Lit::Default),
    ("", Lit::Default),
    ("void", Lit::Void),
    ("wchar_t", Lit::Default),
    ("long long", Lit::LongLong),
    ("unsigned long long", Lit::UnsignedLongLong),
    ("...", Lit::Default),
    ("decimal32", Lit::Default),
    ("decimal64", Lit::Default),
    ("decimal128", Lit::Default),
    ("half", Lit::Float),
    ("char8_t", Lit::Default),
    ("char16_t", Lit::Default),
    ("char32_t", Lit::Default),
    ("decltype(nullptr)", Lit::Default),
];
const B_NULLPTR: u32 = 33;

/// An operator: its code, its spelling (a trailing space where libiberty has one) and
/// its arity in expressions. Sorted by code.
struct Op {
    code: [u8; 2],
    name: &'static str,
    args: u8,
}

macro_rules! ops {
    ($(($c:literal, $n:literal, $a:literal)),* $(,)?) => {
        [$(Op { code: *$c, name: $n, args: $a }),*]
    };
}

const OPERATORS: [Op; 60] = ops![
    (b"aN", "&=", 2),
    (b"aS", "=", 2),
    (b"aa", "&&", 2),
    (b"ad", "&", 1),
    (b"an", "&", 2),
    (b"at", "alignof ", 1),
    (b"aw", "co_await ", 1),
    (b"az", "alignof ", 1),
    (b"cc", "const_cast", 2),
    (b"cl", "()", 2),
    (b"cm", ",", 2),
    (b"co", "~", 1),
    (b"dV", "/=", 2),
    (b"da", "delete[] ", 1),
    (b"dc", "dynamic_cast", 2),
    (b"de", "*", 1),
    (b"dl", "delete ", 1),
    (b"ds", ".*", 2),
    (b"dt", ".", 2),
    (b"dv", "/", 2),
    (b"eO", "^=", 2),
    (b"eo", "^", 2),
    (b"eq", "==", 2),
    (b"ge", ">=", 2),
    (b"gs", "::", 1),
    (b"gt", ">", 2),
    (b"ix", "[]", 2),
    (b"lS", "<<=", 2),
    (b"le", "<=", 2),
    (b"ls", "<<", 2),
    (b"lt", "<", 2),
    (b"mI", "-=", 2),
    (b"mL", "*=", 2),
    (b"mi", "-", 2),
    (b"ml", "*", 2),
    (b"mm", "--", 1),
    (b"na", "new[]", 3),
    (b"ne", "!=", 2),
    (b"ng", "-", 1),
    (b"nt", "!", 1),
    (b"nw", "new", 3),
    (b"oR", "|=", 2),
    (b"oo", "||", 2),
    (b"or", "|", 2),
    (b"pL", "+=", 2),
    (b"pl", "+", 2),
    (b"pm", "->*", 2),
    (b"pp", "++", 1),
    (b"ps", "+", 1),
    (b"pt", "->", 2),
    (b"qu", "?", 3),
    (b"rM", "%=", 2),
    (b"rS", ">>=", 2),
    (b"rc", "reinterpret_cast", 2),
    (b"rm", "%", 2),
    (b"rs", ">>", 2),
    (b"sc", "static_cast", 2),
    (b"ss", "<=>", 2),
    (b"st", "sizeof ", 1),
    (b"sz", "sizeof ", 1),
];

fn find_op(c1: u8, c2: u8) -> Option<u32> {
    OPERATORS
        .binary_search_by(|op| op.code.cmp(&[c1, c2]))
        .ok()
        .map(|i| i as u32)
}

/// A pending type modifier of the printer (`struct d_print_mod`), in [`Scratch::mods`].
#[derive(Clone, Copy)]
struct Mod {
    next: u32,
    node: Id,
    printed: bool,
    templates: u32,
}

/// An entry of the printer's template stack (`struct d_print_template`).
#[derive(Clone, Copy)]
struct Tpl {
    next: u32,
    decl: Id,
}

/// The per-thread arena, reused from name to name.
#[derive(Default)]
struct Scratch {
    nodes: Vec<Node>,
    /// The printer's state of each node.
    state: Vec<State>,
    subs: Vec<Id>,
    mods: Vec<Mod>,
    tpls: Vec<Tpl>,
    stack: Vec<Id>,
    scopes: Vec<(Id, u32)>,
    /// The one-pass printer's.
    fast: fast::Scratch,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A `_Z…` name printed as `cplus_demangle_v3_callback(DMGL_PARAMS | DMGL_ANSI)` does,
/// appended to `out`; `false` (and `out` untouched) hands it on to libiberty, either
/// because it is not a valid name or because this fast path does not handle it.
pub(super) fn demangle(name: &[u8], out: &mut Vec<u8>) -> bool {
    demangle_with(name, out, Paths::Both)
}

/// Which printers [`demangle_with`] tries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Paths {
    /// The one-pass printer, then the tree printer: what [`demangle`] does.
    Both,
    /// The one-pass printer alone (for tests: what it accepts must be exact too).
    Fast,
    /// The tree printer alone.
    Tree,
}

/// [`demangle`] with a choice of printers.
pub(super) fn demangle_with(name: &[u8], out: &mut Vec<u8>, paths: Paths) -> bool {
    if !name.starts_with(b"_Z") || name.len() > MAX_NAME_LEN {
        return false;
    }
    SCRATCH.with(|cell| {
        let Ok(mut scratch) = cell.try_borrow_mut() else {
            return false;
        };
        let start = out.len();
        if has_nul(name) {
            return false; // libiberty is given C strings: not a name it could see
        }
        if paths != Paths::Tree && fast::demangle(name, &mut scratch.fast, out).is_some() {
            return true;
        }
        out.truncate(start);
        if paths != Paths::Fast && run(&mut scratch, name, out) {
            true
        } else {
            out.truncate(start);
            false
        }
    })
}

/// Whether `s` holds a NUL byte (word at a time: names are short, `memchr`'s set-up
/// costs as much as the scan).
fn has_nul(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let word = |c: &[u8]| {
        let mut w = [0xffu8; 8];
        w[..c.len()].copy_from_slice(c);
        let v = u64::from_le_bytes(w);
        v.wrapping_sub(LO) & !v & HI != 0
    };
    let mut chunks = s.chunks_exact(8);
    chunks.any(word) || word(chunks.remainder())
}

fn run(sc: &mut Scratch, name: &[u8], out: &mut Vec<u8>) -> bool {
    let Scratch {
        nodes,
        state,
        subs,
        mods,
        tpls,
        stack,
        scopes,
        fast: _,
    } = sc;
    let mut unresolved = 1;
    let (root, ref_param) = loop {
        nodes.clear();
        subs.clear();
        let mut p = Parser {
            s: name,
            pos: 0,
            nodes,
            subs,
            last_name: NIL,
            depth: 0,
            is_expression: false,
            is_conversion: false,
            comps: 0,
            ref_param: false,
            unresolved,
        };
        match p.top() {
            Some(root) => break (root, p.ref_param),
            None if p.unresolved == -1 => unresolved = 0,
            None => return false,
        }
    };
    mods.clear();
    tpls.clear();
    stack.clear();
    scopes.clear();
    state.clear();
    state.resize(nodes.len(), State::INIT);
    let mut pr = Printer {
        s: name,
        nodes,
        state,
        out,
        limit: 0,
        last: 0,
        mods,
        modifiers: NIL,
        tpls,
        templates: NIL,
        current_template: NIL,
        lambda_arg: 0,
        pack_index: 0,
        stack,
        scopes,
        num_scopes: 0,
        num_copies: 0,
        copies: 0,
        recursion: 0,
        steps: 0,
        failed: false,
        ref_param,
    };
    pr.limit = pr.out.len() + MAX_OUTPUT;
    if ref_param {
        // Only references to template parameters save scopes; size them as libiberty
        // does.
        pr.count(root);
        if pr.failed {
            return false;
        }
        pr.num_copies *= pr.num_scopes;
    }
    pr.comp(root);
    !pr.failed
}

/// The parser: `cp-demangle.c`'s `d_info` and grammar functions, as a tree builder.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    nodes: &'a mut Vec<Node>,
    subs: &'a mut Vec<Id>,
    /// The last source name seen, which a constructor or destructor is named after.
    last_name: Id,
    depth: u32,
    is_expression: bool,
    is_conversion: bool,
    /// Components libiberty would have allocated so far.
    comps: usize,
    /// Whether a reference to a template parameter was seen (the printer then needs
    /// its saved scopes).
    ref_param: bool,
    /// libiberty's `unresolved_name_state`: 1 to read unresolved names the current
    /// way first, -1 once it did (a failure then means: again, the old way), 0 the old
    /// way.
    unresolved: i8,
}

/// The reading primitives both printers share (`d_peek_char`, `d_check_char`,
/// `d_number`, …): a name's bytes and a position in them.
trait Lex {
    /// The name.
    fn text(&self) -> &[u8];
    /// The position.
    fn at(&mut self) -> &mut usize;

    #[inline(always)]
    fn peek(&mut self) -> u8 {
        let at = *self.at();
        self.text().get(at).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn peek2(&mut self) -> u8 {
        let at = *self.at();
        self.text().get(at + 1).copied().unwrap_or(0)
    }

    /// `d_check_char`.
    #[inline(always)]
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == c {
            *self.at() += 1;
            true
        } else {
            false
        }
    }

    #[inline(always)]
    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// `d_next_char`, except that it stays at the end (libiberty fails there anyway).
    #[inline(always)]
    fn next(&mut self) -> u8 {
        let c = self.peek();
        if c != 0 {
            *self.at() += 1;
        }
        c
    }

    /// `d_number`: `[n] <decimal>`; `None` where libiberty returns -1 on overflow and
    /// its caller fails.
    #[inline(always)]
    fn number(&mut self) -> Option<i64> {
        let neg = self.eat(b'n');
        let mut v: i64 = 0;
        while self.peek().is_ascii_digit() {
            let d = i64::from(self.peek() - b'0');
            if v > (i64::from(i32::MAX) - d) / 10 {
                return None;
            }
            v = v * 10 + d;
            *self.at() += 1;
        }
        Some(if neg { -v } else { v })
    }

    /// `d_compact_number`: `_` is 0, `<n> _` is n + 1.
    #[inline(always)]
    fn compact_number(&mut self) -> Option<u32> {
        let num = match self.peek() {
            b'_' => 0,
            b'n' => return None,
            _ => self.number()? + 1,
        };
        if !(0..=i64::from(i32::MAX)).contains(&num) {
            return None;
        }
        self.expect(b'_')?;
        Some(num as u32)
    }

    /// `d_discriminator`: `_ <digit>` or `__ <number> _`, not printed.
    #[inline(always)]
    fn discriminator(&mut self) -> Option<()> {
        if !self.eat(b'_') {
            return Some(());
        }
        let two = self.eat(b'_');
        let d = self.number()?;
        if d < 0 {
            return None;
        }
        if two && d >= 10 {
            self.expect(b'_')?;
        }
        Some(())
    }

    /// `<call-offset> ::= h <number> _ | v <number> _ <number> _` (not printed); `c` is
    /// its first byte if already read, else 0.
    fn call_offset(&mut self, c: u8) -> Option<()> {
        let c = if c == 0 { self.next() } else { c };
        match c {
            b'h' => {
                self.number()?;
            }
            b'v' => {
                self.number()?;
                self.expect(b'_')?;
                self.number()?;
            }
            _ => return None,
        }
        self.expect(b'_')
    }
}

impl Lex for Parser<'_> {
    #[inline(always)]
    fn text(&self) -> &[u8] {
        self.s
    }
    #[inline(always)]
    fn at(&mut self) -> &mut usize {
        &mut self.pos
    }
}

impl Parser<'_> {
    #[inline(always)]
    fn mk(&mut self, k: K, a: u32, b: u32) -> Option<Id> {
        self.comps += 1;
        // libiberty has 2 components per byte of the name.
        if self.comps > 2 * self.s.len() {
            return None;
        }
        let id = self.nodes.len() as Id;
        if matches!(k, K::Reference | K::RvalRef) && self.nodes[a as usize].k == K::TemplateParam {
            self.ref_param = true;
        }
        self.nodes.push(Node {
            k,
            simple: false,
            depth: 0,
            a,
            b,
        });
        self.classify(id);
        Some(id)
    }

    fn k(&self, id: Id) -> K {
        self.nodes[id as usize].k
    }

    fn add_sub(&mut self, id: Id) -> Option<()> {
        // libiberty has one substitution per byte of the name.
        if self.subs.len() >= self.s.len() {
            return None;
        }
        self.subs.push(id);
        Some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_PARSE_DEPTH).then_some(())
    }

    /// `<mangled-name> ::= _Z <encoding> [<clone-suffix>]*`, the whole input.
    fn top(&mut self) -> Option<Id> {
        self.pos = 2;
        let mut dc = self.encoding(true)?;
        while self.peek() == b'.' {
            let c = self.peek2();
            if !(c.is_ascii_lowercase() || c == b'_' || c.is_ascii_digit()) {
                break;
            }
            dc = self.clone_suffix(dc)?;
        }
        (self.pos == self.s.len()).then_some(dc)
    }

    /// `d_clone_suffix`.
    fn clone_suffix(&mut self, enc: Id) -> Option<Id> {
        let start = self.pos;
        let s = self.s;
        let at = |i: usize| s.get(i).copied().unwrap_or(0);
        let mut end = start;
        let c = at(end + 1);
        if at(end) == b'.' && (c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_') {
            end += 2;
            while at(end).is_ascii_lowercase() || at(end).is_ascii_digit() || at(end) == b'_' {
                end += 1;
            }
        }
        while at(end) == b'.' && at(end + 1).is_ascii_digit() {
            end += 2;
            while at(end).is_ascii_digit() {
                end += 1;
            }
        }
        self.pos = end;
        let n = self.name_node(start, end - start)?;
        self.mk(K::Clone, enc, n)
    }

    /// Marks node `id` as context-free (see [`Node::simple`]) when it prints the same
    /// wherever it appears with no pending array qualifier, and so do its parts.
    #[inline(always)]
    fn classify(&mut self, id: Id) {
        let n = self.nodes[id as usize];
        let child = |x: Id| -> Option<Node> {
            if x == NIL {
                return None;
            }
            let c = self.nodes[x as usize];
            c.simple.then_some(c)
        };
        let depth = match n.k {
            K::Name | K::Static | K::SubStd | K::Builtin | K::Operator | K::UnnamedType => 1,
            K::Qual | K::Tagged | K::Template => {
                let (Some(x), Some(y)) = (child(n.a), child(n.b)) else {
                    return;
                };
                1 + x.depth.max(y.depth)
            }
            K::TemplateArgList if n.a == NIL && n.b == NIL => 1,
            K::Pointer | K::Reference | K::RvalRef | K::Complex | K::Imaginary => {
                let Some(x) = child(n.a) else {
                    return;
                };
                if matches!(x.k, K::Reference | K::RvalRef) {
                    return; // reference collapsing
                }
                1 + x.depth
            }
            K::Const | K::Volatile | K::Restrict => {
                let Some(x) = child(n.a) else {
                    return;
                };
                if x.k.is_cv() {
                    return; // libiberty's cv de-duplication looks through these
                }
                1 + x.depth
            }
            K::Ctor | K::Dtor | K::Literal | K::LiteralNeg => {
                let Some(x) = child(n.a) else {
                    return;
                };
                2 + x.depth
            }
            _ => return,
        };
        let n = &mut self.nodes[id as usize];
        n.simple = true;
        n.depth = depth;
    }

    /// [`Parser::classify`] for a whole template argument list, once its cells are
    /// linked.
    fn classify_list(&mut self, first: Id) {
        // The printer recurses along the cells: a cell's depth counts the rest.
        let mut cells = [NIL; 64];
        let mut n = 0;
        let mut c = first;
        while c != NIL {
            if n == cells.len() {
                return;
            }
            cells[n] = c;
            n += 1;
            c = self.nodes[c as usize].b;
        }
        let mut below = 0u16;
        for &c in cells[..n].iter().rev() {
            let cell = self.nodes[c as usize];
            let e = self.nodes[cell.a as usize];
            if !e.simple {
                return;
            }
            below = 1 + below.max(e.depth);
            let cell = &mut self.nodes[c as usize];
            cell.simple = true;
            cell.depth = below;
        }
    }

    fn name_node(&mut self, start: usize, len: usize) -> Option<Id> {
        if len == 0 {
            return None; // `cplus_demangle_fill_name` refuses empty names
        }
        self.mk(K::Name, start as u32, len as u32)
    }

    /// `has_return_type`.
    fn has_return_type(&self, dc: Id) -> bool {
        if dc == NIL {
            return false;
        }
        let n = self.nodes[dc as usize];
        match n.k {
            K::Local => self.has_return_type(n.b),
            K::Template => !self.is_ctor_dtor_or_conversion(n.a),
            k if k.is_fnqual() => self.has_return_type(n.a),
            _ => false,
        }
    }

    /// `is_ctor_dtor_or_conversion`.
    fn is_ctor_dtor_or_conversion(&self, dc: Id) -> bool {
        if dc == NIL {
            return false;
        }
        let n = self.nodes[dc as usize];
        match n.k {
            K::Qual | K::Local => self.is_ctor_dtor_or_conversion(n.b),
            K::Ctor | K::Dtor | K::Conversion => true,
            _ => false,
        }
    }

    /// `<encoding> ::= <name> <bare-function-type> | <name> | <special-name>`.
    fn encoding(&mut self, top: bool) -> Option<Id> {
        self.enter()?;
        let r = self.encoding_inner(top);
        self.depth -= 1;
        r
    }

    fn encoding_inner(&mut self, top: bool) -> Option<Id> {
        let p = self.peek();
        if p == b'G' || p == b'T' {
            return self.special_name();
        }
        let dc = self.name(false)?;
        let p = self.peek();
        if p == 0 || p == b'E' {
            return Some(dc);
        }
        let ftype = self.bare_function_type(self.has_return_type(dc))?;
        if !top && self.k(dc) == K::Local && self.k(ftype) == K::FunctionType {
            self.nodes[ftype as usize].a = NIL;
        }
        self.mk(K::Typed, dc, ftype)
    }

    /// `<special-name>`: vtables, typeinfo, thunks, guard variables, TLS functions.
    fn special_name(&mut self) -> Option<Id> {
        if self.eat(b'T') {
            let k = match self.next() {
                b'V' => K::Vtable,
                b'T' => K::Vtt,
                b'I' => K::Typeinfo,
                b'S' => K::TypeinfoName,
                b'F' => K::TypeinfoFn,
                b'h' => {
                    self.call_offset(b'h')?;
                    let e = self.encoding(false)?;
                    return self.mk(K::Thunk, e, NIL);
                }
                b'v' => {
                    self.call_offset(b'v')?;
                    let e = self.encoding(false)?;
                    return self.mk(K::VirtualThunk, e, NIL);
                }
                b'c' => {
                    self.call_offset(0)?;
                    self.call_offset(0)?;
                    let e = self.encoding(false)?;
                    return self.mk(K::CovariantThunk, e, NIL);
                }
                b'C' => {
                    let derived = self.ty()?;
                    if self.number()? < 0 {
                        return None;
                    }
                    self.expect(b'_')?;
                    let base = self.ty()?;
                    return self.mk(K::ConstructionVtable, base, derived);
                }
                b'H' => {
                    let n = self.name(false)?;
                    return self.mk(K::TlsInit, n, NIL);
                }
                b'W' => {
                    let n = self.name(false)?;
                    return self.mk(K::TlsWrapper, n, NIL);
                }
                _ => return None,
            };
            let t = self.ty()?;
            self.mk(k, t, NIL)
        } else if self.eat(b'G') {
            match self.next() {
                b'V' => {
                    let n = self.name(false)?;
                    self.mk(K::Guard, n, NIL)
                }
                b'A' => {
                    let e = self.encoding(false)?;
                    self.mk(K::HiddenAlias, e, NIL)
                }
                _ => None,
            }
        } else {
            None
        }
    }

    /// `<name>`; `substable`: a class-enum type, itself a substitution candidate.
    fn name(&mut self, substable: bool) -> Option<Id> {
        let mut subst = false;
        let mut dc;
        match self.peek() {
            b'N' => dc = self.nested_name()?,
            b'Z' => dc = self.local_name()?,
            b'U' => dc = self.unqualified_name(NIL)?,
            p => {
                let mut scope = NIL;
                dc = NIL;
                if p == b'S' {
                    if self.peek2() == b't' {
                        self.pos += 2;
                        scope = self.mk(K::Static, S_STD, 0)?;
                    }
                    if self.peek() == b'S' {
                        if scope != NIL {
                            return None;
                        }
                        dc = self.substitution(false)?;
                        subst = true;
                    }
                }
                if !subst {
                    dc = self.unqualified_name(scope)?;
                }
                if self.peek() == b'I' {
                    if !subst {
                        self.add_sub(dc)?;
                    }
                    let args = self.template_args()?;
                    dc = self.mk(K::Template, dc, args)?;
                    subst = false;
                }
            }
        }
        if substable && !subst {
            self.add_sub(dc)?;
        }
        Some(dc)
    }

    /// `<nested-name> ::= N [<CV-qualifiers>] [<ref-qualifier>] <prefix> E`.
    fn nested_name(&mut self) -> Option<Id> {
        self.expect(b'N')?;
        let mut quals = [K::Const; 3];
        let mut n = 0;
        loop {
            let k = match self.peek() {
                b'r' => K::RestrictThis,
                b'V' => K::VolatileThis,
                b'K' => K::ConstThis,
                b'D' if matches!(self.peek2(), b'x' | b'o' | b'O' | b'w') => return None,
                _ => break,
            };
            if n == quals.len() {
                return None;
            }
            self.pos += 1;
            quals[n] = k;
            n += 1;
        }
        let rq = match self.peek() {
            b'R' => Some(K::RefThis),
            b'O' => Some(K::RvalRefThis),
            _ => None,
        };
        if rq.is_some() {
            self.pos += 1;
        }
        let mut ret = self.prefix(true)?;
        for &k in quals[..n].iter().rev() {
            ret = self.mk(k, ret, NIL)?;
        }
        if let Some(k) = rq {
            ret = self.mk(k, ret, NIL)?;
        }
        self.expect(b'E')?;
        Some(ret)
    }

    /// `<prefix>`, up to (not including) the `E` of the nested name; `substable`: its
    /// parts are substitution candidates (not in an unresolved name).
    fn prefix(&mut self, substable: bool) -> Option<Id> {
        let mut ret = NIL;
        loop {
            let p = self.peek();
            if p == b'D' && matches!(self.peek2(), b'T' | b't') {
                if ret != NIL {
                    return None;
                }
                ret = self.ty()?;
            } else if p == b'I' {
                if ret == NIL {
                    return None;
                }
                let args = self.template_args()?;
                ret = self.mk(K::Template, ret, args)?;
            } else if p == b'T' {
                if ret != NIL {
                    return None;
                }
                ret = self.template_param()?;
            } else if p == b'M' {
                // The initializer scope of a lambda: not printed.
                if ret == NIL {
                    return None;
                }
                self.pos += 1;
                continue;
            } else if p == b'S' {
                if ret != NIL {
                    return None;
                }
                ret = self.substitution(true)?;
                continue;
            } else {
                ret = self.unqualified_name(ret)?;
            }
            if self.peek() == b'E' {
                return Some(ret);
            }
            if substable {
                self.add_sub(ret)?;
            }
        }
    }

    /// `d_unresolved_name`: `sr` and a type or qualifiers (`E`), then a name.
    /// libiberty reads the qualifiers first as the current mangling has them
    /// (`sr1AE1x`), and if the name then fails, all of it again as the old one did
    /// (`sr1A1x`): [`Parser::unresolved`].
    fn unresolved_name(&mut self) -> Option<Id> {
        self.pos += 2;
        let p = self.peek();
        let scope = if self.unresolved != 0
            && (p.is_ascii_digit() || p.is_ascii_lowercase() || matches!(p, b'C' | b'U' | b'L'))
        {
            self.unresolved = -1;
            let t = self.prefix(false)?;
            self.eat(b'E');
            t
        } else {
            self.ty()?
        };
        let mut name = self.unqualified_name(scope)?;
        if self.peek() == b'I' {
            let args = self.template_args()?;
            name = self.mk(K::Template, name, args)?;
        }
        Some(name)
    }

    /// `<unqualified-name>` (with its ABI tags), qualified by `scope` if any.
    fn unqualified_name(&mut self, scope: Id) -> Option<Id> {
        let p = self.peek();
        let mut ret = if p.is_ascii_digit() {
            self.source_name()?
        } else if p.is_ascii_lowercase() {
            if p == b'o' && self.peek2() == b'n' {
                self.pos += 2;
            }
            if self.is_expression && self.peek() == b'c' && self.peek2() == b'v' {
                return None; // a conversion in an expression: spelled differently by version
            }
            self.operator_name()?
        } else if p == b'C' || p == b'D' {
            if p == b'D' && self.peek2() == b'C' {
                return None; // structured binding
            }
            self.ctor_dtor_name()?
        } else if p == b'L' {
            self.pos += 1;
            let n = self.source_name()?;
            self.discriminator()?;
            n
        } else if p == b'U' {
            match self.peek2() {
                b'l' => self.lambda()?,
                b't' => self.unnamed_type()?,
                _ => return None,
            }
        } else {
            return None; // modules (W), friends (F), …
        };
        if self.peek() == b'B' {
            ret = self.abi_tags(ret)?;
        }
        if scope != NIL {
            ret = self.mk(K::Qual, scope, ret)?;
        }
        Some(ret)
    }

    /// `<source-name> ::= <length> <identifier>`, remembered as the last name.
    fn source_name(&mut self) -> Option<Id> {
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
        let ret = if len >= 10
            && id.starts_with(b"_GLOBAL_")
            && matches!(id[8], b'.' | b'_' | b'$')
            && id[9] == b'N'
        {
            self.mk(K::Static, S_ANON, 0)?
        } else {
            self.name_node(start, len)?
        };
        self.last_name = ret;
        Some(ret)
    }

    /// `<abi-tags> ::= (B <source-name>)+`.
    fn abi_tags(&mut self, mut dc: Id) -> Option<Id> {
        let hold = self.last_name;
        while self.eat(b'B') {
            let tag = self.source_name()?;
            dc = self.mk(K::Tagged, dc, tag)?;
        }
        self.last_name = hold;
        Some(dc)
    }

    /// `d_operator_name`: a two-letter operator or `cv <type>`.
    fn operator_name(&mut self) -> Option<Id> {
        let c1 = self.next();
        let c2 = self.next();
        if c1 == b'v' && c2.is_ascii_digit() {
            return None; // vendor operator
        }
        if c1 == b'c' && c2 == b'v' {
            let was = self.is_conversion;
            self.is_conversion = !self.is_expression;
            let t = self.ty();
            let conv = self.is_conversion;
            self.is_conversion = was;
            let t = t?;
            return self.mk(if conv { K::Conversion } else { K::Cast }, t, NIL);
        }
        let i = find_op(c1, c2)?;
        self.mk(K::Operator, i, 0)
    }

    /// `<ctor-dtor-name>`, named after the last source name.
    fn ctor_dtor_name(&mut self) -> Option<Id> {
        let k = match (self.peek(), self.peek2()) {
            (b'C', b'1'..=b'5') => K::Ctor,
            (b'D', b'0' | b'1' | b'2' | b'4' | b'5') => K::Dtor,
            _ => return None, // inheriting constructors (CI) among others
        };
        self.pos += 2;
        if self.last_name == NIL {
            return None;
        }
        self.mk(k, self.last_name, NIL)
    }

    /// `<closure-type-name> ::= Ul <lambda-sig> E [<number>] _`.
    fn lambda(&mut self) -> Option<Id> {
        self.pos += 2;
        if self.peek() == b'T' && matches!(self.peek2(), b'y' | b'n' | b't' | b'p') {
            return None; // template heads: newer than 2.40
        }
        let tl = self.parmlist()?;
        self.expect(b'E')?;
        let num = self.compact_number()?;
        self.mk(K::Lambda, tl, num)
    }

    /// `<unnamed-type-name> ::= Ut [<number>] _`, a substitution candidate.
    fn unnamed_type(&mut self) -> Option<Id> {
        self.pos += 2;
        let num = self.compact_number()?;
        let ret = self.mk(K::UnnamedType, num, 0)?;
        self.add_sub(ret)?;
        Some(ret)
    }

    /// `<local-name> ::= Z <encoding> E (<name> [<discriminator>] | s [<discriminator>] |
    /// d [<number>] _ <name>)`.
    fn local_name(&mut self) -> Option<Id> {
        self.expect(b'Z')?;
        let function = self.encoding(false)?;
        self.expect(b'E')?;
        let name = if self.eat(b's') {
            self.discriminator()?;
            self.mk(K::Static, S_STRING_LITERAL, 0)?
        } else {
            let num = if self.eat(b'd') {
                Some(self.compact_number()?)
            } else {
                None
            };
            let mut name = self.name(false)?;
            if !matches!(self.k(name), K::Lambda | K::UnnamedType) {
                self.discriminator()?;
            }
            if let Some(num) = num {
                name = self.mk(K::DefaultArg, name, num)?;
            }
            name
        };
        let f = self.nodes[function as usize];
        if f.k == K::Typed && self.k(f.b) == K::FunctionType {
            self.nodes[f.b as usize].a = NIL;
        }
        self.mk(K::Local, function, name)
    }

    /// `<substitution> ::= S [<seq-id>] _ | St | Sa | Sb | Ss | Si | So | Sd`;
    /// `prefix`: it qualifies a name (a constructor's gets the full spelling).
    fn substitution(&mut self, prefix: bool) -> Option<Id> {
        self.expect(b'S')?;
        let mut c = self.next();
        if c == b'_' || c.is_ascii_digit() || c.is_ascii_uppercase() {
            let mut id: u64 = 0;
            if c != b'_' {
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
                    c = self.next();
                    if c == b'_' {
                        break;
                    }
                }
                id += 1;
            }
            return self.subs.get(id as usize).copied();
        }
        let verbose = prefix && matches!(self.peek(), b'C' | b'D');
        let (simple, full, last) = match c {
            b't' => (0, 0, None),
            b'a' => (1, 1, Some(11)),
            b'b' => (2, 2, Some(12)),
            b's' => (3, 7, Some(12)),
            b'i' => (4, 8, Some(13)),
            b'o' => (5, 9, Some(14)),
            b'd' => (6, 10, Some(15)),
            _ => return None,
        };
        if let Some(last) = last {
            self.last_name = self.mk(K::SubStd, last, 0)?;
        }
        let mut dc = self.mk(K::SubStd, if verbose { full } else { simple }, 0)?;
        if self.peek() == b'B' {
            dc = self.abi_tags(dc)?;
            self.add_sub(dc)?;
        }
        Some(dc)
    }

    /// `<type>`.
    fn ty(&mut self) -> Option<Id> {
        self.enter()?;
        let r = self.ty_inner();
        self.depth -= 1;
        r
    }

    fn ty_inner(&mut self) -> Option<Id> {
        let p = self.peek();
        if matches!(p, b'r' | b'V' | b'K')
            || (p == b'D' && matches!(self.peek2(), b'x' | b'o' | b'O' | b'w'))
        {
            return self.qualified_type();
        }
        let ret = match p {
            b'a'..=b'j' | b'l'..=b'o' | b's' | b't' | b'v'..=b'z' => {
                self.pos += 1;
                return self.mk(K::Builtin, u32::from(p - b'a'), 0);
            }
            b'F' => self.function_type()?,
            b'A' => self.array_type()?,
            b'M' => {
                self.pos += 1;
                let cl = self.ty()?;
                let mem = self.ty()?;
                self.mk(K::PtrMem, cl, mem)?
            }
            b'T' => {
                let mut ret = self.template_param()?;
                if self.peek() == b'I' {
                    if self.is_conversion {
                        return None; // libiberty backtracks here
                    }
                    self.add_sub(ret)?;
                    let args = self.template_args()?;
                    ret = self.mk(K::Template, ret, args)?;
                }
                ret
            }
            b'O' | b'P' | b'R' | b'C' | b'G' => {
                self.pos += 1;
                let k = match p {
                    b'O' => K::RvalRef,
                    b'P' => K::Pointer,
                    b'R' => K::Reference,
                    b'C' => K::Complex,
                    _ => K::Imaginary,
                };
                let t = self.ty()?;
                self.mk(k, t, NIL)?
            }
            b'D' => {
                let c = self.peek2();
                self.pos += 2;
                let builtin = match c {
                    b'T' | b't' => {
                        let e = self.expression()?;
                        self.expect(b'E')?;
                        let d = self.mk(K::Decltype, e, NIL)?;
                        self.add_sub(d)?;
                        return Some(d);
                    }
                    b'p' => {
                        let t = self.ty()?;
                        let d = self.mk(K::PackExpansion, t, NIL)?;
                        self.add_sub(d)?;
                        return Some(d);
                    }
                    b'a' => return self.mk(K::Static, S_AUTO, 0),
                    b'c' => return self.mk(K::Static, S_DECLTYPE_AUTO, 0),
                    b'f' => 26,
                    b'd' => 27,
                    b'e' => 28,
                    b'h' => 29,
                    b'u' => 30,
                    b's' => 31,
                    b'i' => 32,
                    b'n' => B_NULLPTR,
                    _ => return None, // vectors, _Float…, fixed point, …
                };
                return self.mk(K::Builtin, builtin, 0);
            }
            b'u' | b'U' => return None, // vendor types and qualifiers
            _ => return self.name(true),
        };
        self.add_sub(ret)?;
        Some(ret)
    }

    /// `<CV-qualifiers> <type>`: the qualified type and, for a function type, its
    /// qualifiers on `this` (and its ref-qualifier moved outside them).
    fn qualified_type(&mut self) -> Option<Id> {
        let mut quals = [K::Const; 4];
        let mut n = 0;
        loop {
            let (k, len) = match self.peek() {
                b'r' => (K::Restrict, 1),
                b'V' => (K::Volatile, 1),
                b'K' => (K::Const, 1),
                b'D' => match self.peek2() {
                    b'o' => (K::Noexcept, 2),
                    b'x' | b'O' | b'w' => return None,
                    _ => break,
                },
                _ => break,
            };
            if n == quals.len() {
                return None;
            }
            self.pos += len;
            quals[n] = k;
            n += 1;
        }
        let inner = if self.peek() == b'F' {
            for q in &mut quals[..n] {
                *q = match *q {
                    K::Restrict => K::RestrictThis,
                    K::Volatile => K::VolatileThis,
                    K::Const => K::ConstThis,
                    k => k,
                };
            }
            self.function_type()?
        } else {
            self.ty()?
        };
        let refq = matches!(self.k(inner), K::RefThis | K::RvalRefThis);
        let mut ret = if refq {
            self.nodes[inner as usize].a
        } else {
            inner
        };
        for &k in quals[..n].iter().rev() {
            ret = self.mk(k, ret, NIL)?;
        }
        if refq {
            self.nodes[inner as usize].a = ret;
            ret = inner;
        }
        self.add_sub(ret)?;
        Some(ret)
    }

    /// `<function-type> ::= F [Y] <bare-function-type> [<ref-qualifier>] E`.
    fn function_type(&mut self) -> Option<Id> {
        self.expect(b'F')?;
        self.eat(b'Y');
        let mut ret = self.bare_function_type(true)?;
        match self.peek() {
            b'R' => {
                self.pos += 1;
                ret = self.mk(K::RefThis, ret, NIL)?;
            }
            b'O' => {
                self.pos += 1;
                ret = self.mk(K::RvalRefThis, ret, NIL)?;
            }
            _ => {}
        }
        self.expect(b'E')?;
        Some(ret)
    }

    /// `<bare-function-type> ::= [J] <type>+`.
    fn bare_function_type(&mut self, mut has_return: bool) -> Option<Id> {
        if self.eat(b'J') {
            has_return = true;
        }
        let ret = if has_return { self.ty()? } else { NIL };
        let tl = self.parmlist()?;
        self.mk(K::FunctionType, ret, tl)
    }

    /// `d_parmlist`: types up to `E`, `.` or the end; a lone `void` is dropped.
    fn parmlist(&mut self) -> Option<Id> {
        let mut first = NIL;
        let mut last = NIL;
        loop {
            let p = self.peek();
            if p == 0 || p == b'E' || p == b'.' {
                break;
            }
            if (p == b'R' || p == b'O') && self.peek2() == b'E' {
                break; // a ref-qualifier
            }
            let t = self.ty()?;
            let cell = self.mk(K::ArgList, t, NIL)?;
            if last == NIL {
                first = cell;
            } else {
                self.nodes[last as usize].b = cell;
            }
            last = cell;
        }
        if first == NIL {
            return None;
        }
        let f = self.nodes[first as usize];
        if f.b == NIL {
            let t = self.nodes[f.a as usize];
            if t.k == K::Builtin && BUILTINS[t.a as usize].1 == Lit::Void {
                self.nodes[first as usize].a = NIL;
            }
        }
        Some(first)
    }

    /// `<array-type> ::= A [<number> | <expression>] _ <type>`.
    fn array_type(&mut self) -> Option<Id> {
        self.expect(b'A')?;
        let p = self.peek();
        let dim = if p == b'_' {
            NIL
        } else if p.is_ascii_digit() {
            let start = self.pos;
            while self.peek().is_ascii_digit() {
                self.pos += 1;
            }
            self.name_node(start, self.pos - start)?
        } else {
            self.expression()?
        };
        self.expect(b'_')?;
        let t = self.ty()?;
        self.mk(K::ArrayType, dim, t)
    }

    /// `<template-param> ::= T [<number>] _`.
    fn template_param(&mut self) -> Option<Id> {
        self.expect(b'T')?;
        let n = self.compact_number()?;
        self.mk(K::TemplateParam, n, 0)
    }

    /// `<template-args> ::= I <template-arg>* E` (or `J … E`, a pack).
    fn template_args(&mut self) -> Option<Id> {
        if !matches!(self.peek(), b'I' | b'J') {
            return None;
        }
        self.pos += 1;
        self.template_args_1()
    }

    fn template_args_1(&mut self) -> Option<Id> {
        let hold = self.last_name;
        if self.eat(b'E') {
            return self.mk(K::TemplateArgList, NIL, NIL);
        }
        let mut first = NIL;
        let mut last = NIL;
        loop {
            let a = self.template_arg()?;
            let cell = self.mk(K::TemplateArgList, a, NIL)?;
            if last == NIL {
                first = cell;
            } else {
                self.nodes[last as usize].b = cell;
            }
            last = cell;
            if self.eat(b'E') {
                break;
            }
        }
        self.last_name = hold;
        self.classify_list(first);
        Some(first)
    }

    /// `<template-arg> ::= <type> | X <expression> E | <expr-primary> | J … E`.
    fn template_arg(&mut self) -> Option<Id> {
        match self.peek() {
            b'X' => {
                self.pos += 1;
                let e = self.expression()?;
                self.expect(b'E')?;
                Some(e)
            }
            b'L' => self.expr_primary(),
            b'I' | b'J' => self.template_args(),
            _ => self.ty(),
        }
    }

    /// `<expr-primary> ::= L <type> <value> E | L <mangled-name> E`.
    fn expr_primary(&mut self) -> Option<Id> {
        self.expect(b'L')?;
        let ret = if matches!(self.peek(), b'_' | b'Z') {
            self.eat(b'_');
            self.expect(b'Z')?;
            self.encoding(false)?
        } else {
            let t = self.ty()?;
            let tn = self.nodes[t as usize];
            if tn.k == K::Builtin && tn.a == B_NULLPTR && self.eat(b'E') {
                return Some(t);
            }
            let k = if self.eat(b'n') {
                K::LiteralNeg
            } else {
                K::Literal
            };
            let start = self.pos;
            loop {
                match self.peek() {
                    b'E' => break,
                    0 => return None,
                    _ => self.pos += 1,
                }
            }
            let v = self.name_node(start, self.pos - start)?;
            self.mk(k, t, v)?
        };
        self.expect(b'E')?;
        Some(ret)
    }

    /// `<expression>`, the common part.
    fn expression(&mut self) -> Option<Id> {
        let was = self.is_expression;
        self.is_expression = true;
        let r = self.expression_1();
        self.is_expression = was;
        r
    }

    fn expression_1(&mut self) -> Option<Id> {
        self.enter()?;
        let r = self.expression_inner();
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self) -> Option<Id> {
        let p = self.peek();
        let p2 = self.peek2();
        if p == b'L' {
            return self.expr_primary();
        }
        if p == b'T' {
            return self.template_param();
        }
        if p == b's' && p2 == b'p' {
            self.pos += 2;
            let e = self.expression_1()?;
            return self.mk(K::PackExpansion, e, NIL);
        }
        if p == b's' && p2 == b'r' {
            return self.unresolved_name();
        }
        if p == b'f' && p2 == b'p' {
            self.pos += 2;
            let index = if self.eat(b'T') {
                0
            } else {
                let n = self.compact_number()?;
                if n >= i32::MAX as u32 {
                    return None;
                }
                n + 1
            };
            return self.mk(K::FunctionParam, index, 0);
        }
        if p.is_ascii_digit() || (p == b'o' && p2 == b'n') {
            if p == b'o' {
                self.pos += 2;
            }
            let name = self.unqualified_name(NIL)?;
            if self.peek() == b'I' {
                let args = self.template_args()?;
                return self.mk(K::Template, name, args);
            }
            return Some(name);
        }
        if matches!((p, p2), (b'i' | b't', b'l') | (b'f', _) | (b'u', _)) {
            return None; // initializer lists, folds, vendor expressions
        }
        let op = self.operator_name()?;
        let on = self.nodes[op as usize];
        let (code, args) = match on.k {
            K::Operator => {
                let o = &OPERATORS[on.a as usize];
                (o.code, o.args)
            }
            K::Cast => (*b"cv", 1),
            _ => return None,
        };
        if on.k == K::Operator && &code == b"st" {
            let t = self.ty()?;
            return self.mk(K::Unary, op, t);
        }
        match args {
            0 => self.mk(K::Nullary, op, NIL),
            1 => {
                let mut suffix = false;
                if on.k == K::Operator && matches!(&code, b"pp" | b"mm") {
                    suffix = !self.eat(b'_');
                }
                let operand = if on.k == K::Cast && self.eat(b'_') {
                    self.exprlist(b'E')?
                } else {
                    self.expression_1()?
                };
                let operand = if suffix {
                    self.mk(K::BinaryArgs, operand, operand)?
                } else {
                    operand
                };
                self.mk(K::Unary, op, operand)
            }
            2 => {
                let left = match &code {
                    b"dc" | b"sc" | b"cc" | b"rc" => self.ty()?,
                    b"dt" | b"pt" => return None,
                    _ => self.expression_1()?,
                };
                let right = if &code == b"cl" {
                    self.exprlist(b'E')?
                } else {
                    self.expression_1()?
                };
                let args = self.mk(K::BinaryArgs, left, right)?;
                self.mk(K::Binary, op, args)
            }
            3 if &code == b"qu" => {
                let first = self.expression_1()?;
                let second = self.expression_1()?;
                let third = self.expression_1()?;
                let a2 = self.mk(K::TrinaryArg2, second, third)?;
                let a1 = self.mk(K::TrinaryArg1, first, a2)?;
                self.mk(K::Trinary, op, a1)
            }
            _ => None,
        }
    }

    /// `d_exprlist`: expressions up to `term`.
    fn exprlist(&mut self, term: u8) -> Option<Id> {
        if self.eat(term) {
            return self.mk(K::ArgList, NIL, NIL);
        }
        let mut first = NIL;
        let mut last = NIL;
        loop {
            let e = self.expression_1()?;
            let cell = self.mk(K::ArgList, e, NIL)?;
            if last == NIL {
                first = cell;
            } else {
                self.nodes[last as usize].b = cell;
            }
            last = cell;
            if self.eat(term) {
                return Some(first);
            }
        }
    }
}

/// The printer: `cp-demangle.c`'s `d_print_info` and `d_print_*` functions.
struct Printer<'a> {
    s: &'a [u8],
    nodes: &'a [Node],
    state: &'a mut [State],
    out: &'a mut Vec<u8>,
    limit: usize,
    /// The last character appended (libiberty's `last_char`, which a removed `", "`
    /// leaves at `' '`).
    last: u8,
    mods: &'a mut Vec<Mod>,
    /// Head of the pending modifier list in `mods`.
    modifiers: u32,
    tpls: &'a mut Vec<Tpl>,
    /// Head of the template list in `tpls`.
    templates: u32,
    current_template: Id,
    lambda_arg: u32,
    pack_index: i32,
    /// The components being printed, innermost last.
    stack: &'a mut Vec<Id>,
    /// Saved scopes: template parameter and the template list to restore for it.
    scopes: &'a mut Vec<(Id, u32)>,
    num_scopes: usize,
    num_copies: usize,
    copies: usize,
    recursion: u32,
    steps: u32,
    failed: bool,
    /// Whether the tree has references to template parameters (then the component
    /// stack is kept for them).
    ref_param: bool,
}

impl Printer<'_> {
    fn node(&self, id: Id) -> Node {
        self.nodes[id as usize]
    }

    fn k(&self, id: Id) -> K {
        self.nodes[id as usize].k
    }

    fn push(&mut self, s: &[u8]) {
        if let Some(&c) = s.last() {
            self.out.extend_from_slice(s);
            self.last = c;
        }
    }

    fn push_str(&mut self, s: &str) {
        self.push(s.as_bytes());
    }

    fn push_char(&mut self, c: u8) {
        self.out.push(c);
        self.last = c;
    }

    fn push_num(&mut self, n: i64) {
        let mut buf = [0u8; 24];
        let mut i = buf.len();
        let neg = n < 0;
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if neg {
            i -= 1;
            buf[i] = b'-';
        }
        self.push(&buf[i..]);
    }

    fn push_mod(&mut self, node: Id) -> u32 {
        let i = self.mods.len() as u32;
        self.mods.push(Mod {
            next: self.modifiers,
            node,
            printed: false,
            templates: self.templates,
        });
        self.modifiers = i;
        i
    }

    fn push_tpl(&mut self, decl: Id) {
        let i = self.tpls.len() as u32;
        self.tpls.push(Tpl {
            next: self.templates,
            decl,
        });
        self.templates = i;
    }

    /// `d_count_templates_scopes`: sizes libiberty's saved-scope arrays, which bound
    /// what [`Printer::save_scope`] may save.
    fn count(&mut self, dc: Id) {
        if dc == NIL || self.failed {
            return;
        }
        let n = self.node(dc);
        let st = &mut self.state[dc as usize];
        if st.counting > 1 {
            return;
        }
        st.counting += 1;
        match n.k {
            K::Template => self.num_copies += 1,
            K::Reference | K::RvalRef if self.k(n.a) == K::TemplateParam => self.num_scopes += 1,
            _ => {}
        }
        let (a, b) = n.k.children();
        if !(a || b) {
            return;
        }
        self.recursion += 1;
        if self.recursion > MAX_PRINT_DEPTH {
            self.failed = true;
            return;
        }
        if a {
            self.count(n.a);
        }
        if b {
            self.count(n.b);
        }
        self.recursion -= 1;
    }

    fn fail(&mut self) {
        self.failed = true;
    }

    /// `d_print_comp`.
    fn comp(&mut self, dc: Id) {
        if self.failed {
            return;
        }
        self.steps += 1;
        if dc == NIL
            || self.steps > MAX_PRINT_STEPS
            || self.recursion >= MAX_PRINT_DEPTH
            || self.out.len() > self.limit
            || self.state[dc as usize].printing > 1
        {
            self.fail();
            return;
        }
        let node = self.nodes[dc as usize];
        // A simple subtree prints the same bytes wherever it appears, provided no
        // pending array qualifier can be absorbed by it (libiberty's cv
        // de-duplication): copy its first printing (if libiberty's recursion limit
        // would not be reached either).
        let memo = node.simple && self.cv_context_clear();
        if memo {
            let st = self.state[dc as usize];
            if st.start != NIL
                && self.recursion + u32::from(node.depth) < MAX_PRINT_DEPTH
                && (st.end as usize) <= self.out.len()
            {
                self.out
                    .extend_from_within(st.start as usize..st.end as usize);
                self.last = st.last;
                return;
            }
        }
        let start = self.out.len();
        self.state[dc as usize].printing += 1;
        self.recursion += 1;
        if self.ref_param {
            self.stack.push(dc);
        }
        self.comp_inner(dc);
        if self.ref_param {
            self.stack.pop();
        }
        self.recursion -= 1;
        let st = &mut self.state[dc as usize];
        st.printing -= 1;
        if memo {
            st.start = start as u32;
            st.end = self.out.len() as u32;
            st.last = self.last;
        }
    }

    /// Whether the first pending modifier (if any) is not a cv-qualifier, so that no
    /// qualifier met below can be taken for a duplicate of one pushed by an array.
    fn cv_context_clear(&self) -> bool {
        let mut p = self.modifiers;
        while p != NIL {
            let m = self.mods[p as usize];
            if !m.printed {
                return !self.k(m.node).is_cv();
            }
            p = m.next;
        }
        true
    }

    fn comp_inner(&mut self, dc: Id) {
        let n = self.node(dc);
        match n.k {
            K::Name => {
                let s = self.s;
                self.push(&s[n.a as usize..(n.a + n.b) as usize]);
            }
            K::Static | K::SubStd => self.push_str(static_str(n.a)),
            K::Tagged => {
                self.comp(n.a);
                self.push_str("[abi:");
                self.comp(n.b);
                self.push_char(b']');
            }
            K::Qual | K::Local => {
                self.comp(n.a);
                self.push_str("::");
                self.local_entity(n.b);
            }
            K::Typed => self.typed_name(n),
            K::Template => {
                let hold_current = self.current_template;
                self.current_template = dc;
                let hold_mods = self.modifiers;
                self.modifiers = NIL;
                self.comp(n.a);
                if self.last == b'<' {
                    self.push_char(b' ');
                }
                self.push_char(b'<');
                self.comp(n.b);
                if self.last == b'>' {
                    self.push_char(b' ');
                }
                self.push_char(b'>');
                self.modifiers = hold_mods;
                self.current_template = hold_current;
            }
            K::TemplateParam => {
                if self.lambda_arg > 0 {
                    self.push_str("auto:");
                    self.push_num(i64::from(n.a) + 1);
                    return;
                }
                let mut a = self.lookup_template_argument(dc);
                if a != NIL && self.k(a) == K::TemplateArgList {
                    a = self.index_template_argument(a, self.pack_index);
                }
                if a == NIL {
                    self.fail();
                    return;
                }
                let hold = self.templates;
                self.templates = self.tpls[hold as usize].next;
                self.comp(a);
                self.templates = hold;
            }
            K::Ctor => self.comp(n.a),
            K::Dtor => {
                self.push_char(b'~');
                self.comp(n.a);
            }
            K::Vtable => self.prefixed("vtable for ", n.a),
            K::Vtt => self.prefixed("VTT for ", n.a),
            K::ConstructionVtable => {
                self.push_str("construction vtable for ");
                self.comp(n.a);
                self.push_str("-in-");
                self.comp(n.b);
            }
            K::Typeinfo => self.prefixed("typeinfo for ", n.a),
            K::TypeinfoName => self.prefixed("typeinfo name for ", n.a),
            K::TypeinfoFn => self.prefixed("typeinfo fn for ", n.a),
            K::Thunk => self.prefixed("non-virtual thunk to ", n.a),
            K::VirtualThunk => self.prefixed("virtual thunk to ", n.a),
            K::CovariantThunk => self.prefixed("covariant return thunk to ", n.a),
            K::Guard => self.prefixed("guard variable for ", n.a),
            K::TlsInit => self.prefixed("TLS init function for ", n.a),
            K::TlsWrapper => self.prefixed("TLS wrapper function for ", n.a),
            K::HiddenAlias => self.prefixed("hidden alias for ", n.a),
            K::Restrict | K::Volatile | K::Const => {
                // An array's qualifiers may be pushed twice; print them once.
                let mut p = self.modifiers;
                while p != NIL {
                    let m = self.mods[p as usize];
                    if !m.printed {
                        let mk = self.k(m.node);
                        if !mk.is_cv() {
                            break;
                        }
                        if mk == n.k {
                            self.comp(n.a);
                            return;
                        }
                    }
                    p = m.next;
                }
                self.modifier(dc, NIL, None);
            }
            K::Reference | K::RvalRef => self.reference(dc, n),
            K::Pointer
            | K::Complex
            | K::Imaginary
            | K::RestrictThis
            | K::VolatileThis
            | K::ConstThis
            | K::RefThis
            | K::RvalRefThis
            | K::Noexcept => self.modifier(dc, NIL, None),
            K::Builtin => self.push_str(BUILTINS[n.a as usize].0),
            K::FunctionType => {
                if n.a != NIL {
                    let m = self.push_mod(dc);
                    self.comp(n.a);
                    self.modifiers = self.mods[m as usize].next;
                    if self.mods[m as usize].printed {
                        return;
                    }
                    self.push_char(b' ');
                }
                self.function_type(dc, self.modifiers);
            }
            K::ArrayType => self.array(dc, n),
            K::PtrMem => {
                let m = self.push_mod(dc);
                self.comp(n.b);
                if !self.mods[m as usize].printed {
                    self.print_mod(dc);
                }
                self.modifiers = self.mods[m as usize].next;
            }
            K::ArgList | K::TemplateArgList => {
                if n.a != NIL {
                    self.comp(n.a);
                }
                if n.b != NIL {
                    self.push_str(", ");
                    let len = self.out.len();
                    self.comp(n.b);
                    if self.out.len() == len {
                        // Nothing printed (an empty pack): take the ", " back, leaving
                        // the last character as libiberty does.
                        self.out.truncate(len - 2);
                    }
                }
            }
            K::Operator => {
                let name = OPERATORS[n.a as usize].name.as_bytes();
                self.push_str("operator");
                if name[0].is_ascii_lowercase() {
                    self.push_char(b' ');
                }
                let name = name.strip_suffix(b" ").unwrap_or(name);
                self.push(name);
            }
            K::Conversion => {
                self.push_str("operator ");
                let cur = self.current_template;
                let hold = self.templates;
                if cur != NIL {
                    self.push_tpl(cur);
                }
                self.comp(n.a);
                self.templates = hold;
            }
            K::Nullary => self.expr_op(n.a),
            K::Unary => self.unary(n),
            K::Binary => self.binary(n),
            K::Trinary => {
                let a1 = self.node(n.b);
                if a1.k != K::TrinaryArg1 || self.k(a1.b) != K::TrinaryArg2 {
                    self.fail();
                    return;
                }
                let a2 = self.node(a1.b);
                self.subexpr(a1.a);
                self.expr_op(n.a);
                self.subexpr(a2.a);
                self.push_str(" : ");
                self.subexpr(a2.b);
            }
            K::Literal | K::LiteralNeg => self.literal(n),
            K::Decltype => {
                self.push_str("decltype (");
                self.comp(n.a);
                self.push_char(b')');
            }
            K::PackExpansion => {
                let a = if self.lambda_arg == 0 {
                    self.find_pack(n.a)
                } else {
                    NIL
                };
                if a == NIL {
                    self.subexpr(n.a);
                    self.push_str("...");
                } else {
                    let len = self.pack_length(a);
                    for i in 0..len {
                        if i > 0 {
                            self.push_str(", ");
                        }
                        self.pack_index = i;
                        self.comp(n.a);
                    }
                }
            }
            K::FunctionParam => {
                if n.a == 0 {
                    self.push_str("this");
                } else {
                    self.push_str("{parm#");
                    self.push_num(i64::from(n.a));
                    self.push_char(b'}');
                }
            }
            K::Lambda => {
                self.push_str("{lambda(");
                self.lambda_arg += 1;
                self.comp(n.a);
                self.lambda_arg -= 1;
                self.push_str(")#");
                self.push_num(i64::from(n.b) + 1);
                self.push_char(b'}');
            }
            K::UnnamedType => {
                self.push_str("{unnamed type#");
                self.push_num(i64::from(n.a) + 1);
                self.push_char(b'}');
            }
            K::Clone => {
                self.comp(n.a);
                self.push_str(" [clone ");
                self.comp(n.b);
                self.push_char(b']');
            }
            K::Cast | K::BinaryArgs | K::TrinaryArg1 | K::TrinaryArg2 | K::DefaultArg => {
                self.fail()
            }
        }
    }

    fn prefixed(&mut self, s: &str, dc: Id) {
        self.push_str(s);
        self.comp(dc);
    }

    /// The right side of a qualified or local name (with a default-argument scope).
    fn local_entity(&mut self, mut dc: Id) {
        if dc != NIL && self.k(dc) == K::DefaultArg {
            let d = self.node(dc);
            self.push_str("{default arg#");
            self.push_num(i64::from(d.b) + 1);
            self.push_str("}::");
            dc = d.a;
        }
        self.comp(dc);
    }

    /// `DEMANGLE_COMPONENT_TYPED_NAME`: a function's name handed to its type, with the
    /// qualifiers that apply to `this`.
    fn typed_name(&mut self, n: Node) {
        let hold_modifiers = self.modifiers;
        self.modifiers = NIL;
        let mut adpm = [NIL; 4];
        let mut i = 0;
        let mut typed = n.a;
        while typed != NIL {
            if i >= adpm.len() {
                self.fail();
                return;
            }
            adpm[i] = self.push_mod(typed);
            i += 1;
            let k = self.k(typed);
            if !k.is_fnqual() {
                break;
            }
            typed = self.node(typed).a;
        }
        if typed == NIL {
            self.fail();
            return;
        }
        if self.k(typed) == K::Local {
            typed = self.node(typed).b;
            if typed != NIL && self.k(typed) == K::DefaultArg {
                typed = self.node(typed).a;
            }
            while typed != NIL && self.k(typed).is_fnqual() {
                if i >= adpm.len() {
                    self.fail();
                    return;
                }
                // Insert the qualifier below the name's entry.
                let top = adpm[i - 1];
                let copy = self.mods[top as usize];
                let new = self.mods.len() as u32;
                self.mods.push(Mod { next: top, ..copy });
                self.modifiers = new;
                self.mods[top as usize] = Mod {
                    next: copy.next,
                    node: typed,
                    printed: false,
                    templates: self.templates,
                };
                adpm[i] = new;
                i += 1;
                typed = self.node(typed).a;
            }
            if typed == NIL {
                self.fail();
                return;
            }
        }
        let hold_templates = self.templates;
        if self.k(typed) == K::Template {
            self.push_tpl(typed);
        }
        self.comp(n.b);
        self.templates = hold_templates;
        while i > 0 {
            i -= 1;
            let m = self.mods[adpm[i] as usize];
            if !m.printed {
                self.push_char(b' ');
                self.print_mod(m.node);
            }
        }
        self.modifiers = hold_modifiers;
    }

    /// A reference, after libiberty's reference collapsing (`&` + `&&` = `&`) through
    /// template parameters.
    fn reference(&mut self, dc: Id, n: Node) {
        let mut sub = n.a;
        let mut restore = None;
        if self.lambda_arg == 0 && self.k(sub) == K::TemplateParam {
            match self.scopes.iter().find(|s| s.0 == sub).copied() {
                None => {
                    self.save_scope(sub);
                    if self.failed {
                        return;
                    }
                }
                Some((_, saved)) => {
                    let top = self.stack.len() - 1;
                    let found = self
                        .stack
                        .iter()
                        .enumerate()
                        .rev()
                        .any(|(i, &c)| c == sub || (c == dc && i != top));
                    if !found {
                        restore = Some(self.templates);
                        self.templates = saved;
                    }
                }
            }
            let mut a = self.lookup_template_argument(sub);
            if a != NIL && self.k(a) == K::TemplateArgList {
                a = self.index_template_argument(a, self.pack_index);
            }
            if a == NIL {
                if let Some(t) = restore {
                    self.templates = t;
                }
                self.fail();
                return;
            }
            sub = a;
        }
        let sk = self.k(sub);
        let (dc, inner) = if sk == K::Reference || sk == n.k {
            (sub, NIL)
        } else if sk == K::RvalRef {
            (dc, self.node(sub).a)
        } else {
            (dc, NIL)
        };
        self.modifier(dc, inner, restore);
    }

    /// `d_save_scope`.
    fn save_scope(&mut self, container: Id) {
        if self.scopes.len() >= self.num_scopes {
            self.fail();
            return;
        }
        // Copy the template list, as libiberty does (and count the copies).
        let mut entries = [NIL; 64];
        let mut n = 0;
        let mut t = self.templates;
        while t != NIL {
            if n == entries.len() {
                self.fail();
                return;
            }
            entries[n] = self.tpls[t as usize].decl;
            n += 1;
            t = self.tpls[t as usize].next;
        }
        if self.copies + n > self.num_copies {
            self.fail();
            return;
        }
        self.copies += n;
        let mut head = NIL;
        for &decl in entries[..n].iter().rev() {
            let i = self.tpls.len() as u32;
            self.tpls.push(Tpl { next: head, decl });
            head = i;
        }
        self.scopes.push((container, head));
    }

    /// The `modifier:` case: print what `dc` modifies (or `inner`), then `dc` unless
    /// the type printed it in its place.
    fn modifier(&mut self, dc: Id, inner: Id, restore: Option<u32>) {
        let m = self.push_mod(dc);
        let inner = if inner == NIL { self.node(dc).a } else { inner };
        self.comp(inner);
        if !self.mods[m as usize].printed {
            self.print_mod(dc);
        }
        self.modifiers = self.mods[m as usize].next;
        if let Some(t) = restore {
            self.templates = t;
        }
    }

    fn array(&mut self, dc: Id, n: Node) {
        let hold = self.modifiers;
        let first = self.push_mod(dc);
        let mut copies = [NIL; 4];
        let mut i = 1;
        let mut p = hold;
        while p != NIL {
            let m = self.mods[p as usize];
            if !self.k(m.node).is_cv() {
                break;
            }
            if !m.printed {
                if i >= copies.len() {
                    self.fail();
                    return;
                }
                let c = self.mods.len() as u32;
                self.mods.push(Mod {
                    next: self.modifiers,
                    ..m
                });
                self.modifiers = c;
                self.mods[p as usize].printed = true;
                copies[i] = c;
                i += 1;
            }
            p = m.next;
        }
        self.comp(n.b);
        self.modifiers = hold;
        if self.mods[first as usize].printed {
            return;
        }
        while i > 1 {
            i -= 1;
            let node = self.mods[copies[i] as usize].node;
            self.print_mod(node);
        }
        self.array_type(dc, self.modifiers);
    }

    /// `d_print_mod_list`.
    fn mod_list(&mut self, mut mods: u32, suffix: bool) {
        while mods != NIL && !self.failed {
            let m = self.mods[mods as usize];
            let mk = self.k(m.node);
            if m.printed || (!suffix && mk.is_fnqual()) {
                mods = m.next;
                continue;
            }
            self.mods[mods as usize].printed = true;
            let hold = self.templates;
            self.templates = m.templates;
            match mk {
                K::FunctionType => {
                    self.function_type(m.node, m.next);
                    self.templates = hold;
                    return;
                }
                K::ArrayType => {
                    self.array_type(m.node, m.next);
                    self.templates = hold;
                    return;
                }
                K::Local => {
                    let n = self.node(m.node);
                    let hold_mods = self.modifiers;
                    self.modifiers = NIL;
                    self.comp(n.a);
                    self.modifiers = hold_mods;
                    self.push_str("::");
                    let mut dc = n.b;
                    if self.k(dc) == K::DefaultArg {
                        let d = self.node(dc);
                        self.push_str("{default arg#");
                        self.push_num(i64::from(d.b) + 1);
                        self.push_str("}::");
                        dc = d.a;
                    }
                    while dc != NIL && self.k(dc).is_fnqual() {
                        dc = self.node(dc).a;
                    }
                    self.comp(dc);
                    self.templates = hold;
                    return;
                }
                _ => {
                    self.print_mod(m.node);
                    self.templates = hold;
                    mods = m.next;
                }
            }
        }
    }

    /// `d_print_mod`.
    fn print_mod(&mut self, m: Id) {
        let n = self.node(m);
        match n.k {
            K::Restrict | K::RestrictThis => self.push_str(" restrict"),
            K::Volatile | K::VolatileThis => self.push_str(" volatile"),
            K::Const | K::ConstThis => self.push_str(" const"),
            K::Noexcept => {
                self.push_str(" noexcept");
                if n.b != NIL {
                    self.push_char(b'(');
                    self.comp(n.b);
                    self.push_char(b')');
                }
            }
            K::Pointer => self.push_char(b'*'),
            K::RefThis => self.push_str(" &"),
            K::Reference => self.push_char(b'&'),
            K::RvalRefThis => self.push_str(" &&"),
            K::RvalRef => self.push_str("&&"),
            K::Complex => self.push_str(" _Complex"),
            K::Imaginary => self.push_str(" _Imaginary"),
            K::PtrMem => {
                if self.last != b'(' {
                    self.push_char(b' ');
                }
                self.comp(n.a);
                self.push_str("::*");
            }
            K::Typed => self.comp(n.a),
            _ => self.comp(m),
        }
    }

    /// `d_print_function_type`: all but the return type.
    fn function_type(&mut self, dc: Id, mods: u32) {
        let mut need_paren = false;
        let mut need_space = false;
        let mut p = mods;
        while p != NIL {
            let m = self.mods[p as usize];
            if m.printed {
                break;
            }
            match self.k(m.node) {
                K::Pointer | K::Reference | K::RvalRef => need_paren = true,
                K::Restrict | K::Volatile | K::Const | K::Complex | K::Imaginary | K::PtrMem => {
                    need_space = true;
                    need_paren = true;
                }
                _ => {}
            }
            if need_paren {
                break;
            }
            p = m.next;
        }
        if need_paren {
            if !need_space && self.last != b'(' && self.last != b'*' {
                need_space = true;
            }
            if need_space && self.last != b' ' {
                self.push_char(b' ');
            }
            self.push_char(b'(');
        }
        let hold = self.modifiers;
        self.modifiers = NIL;
        self.mod_list(mods, false);
        if need_paren {
            self.push_char(b')');
        }
        self.push_char(b'(');
        let args = self.node(dc).b;
        if args != NIL {
            self.comp(args);
        }
        self.push_char(b')');
        self.mod_list(mods, true);
        self.modifiers = hold;
    }

    /// `d_print_array_type`: all but the element type.
    fn array_type(&mut self, dc: Id, mods: u32) {
        let mut need_space = true;
        if mods != NIL {
            let mut need_paren = false;
            let mut p = mods;
            while p != NIL {
                let m = self.mods[p as usize];
                if !m.printed {
                    if self.k(m.node) == K::ArrayType {
                        need_space = false;
                    } else {
                        need_paren = true;
                        need_space = true;
                    }
                    break;
                }
                p = m.next;
            }
            if need_paren {
                self.push_str(" (");
            }
            self.mod_list(mods, false);
            if need_paren {
                self.push_char(b')');
            }
        }
        if need_space {
            self.push_char(b' ');
        }
        self.push_char(b'[');
        let dim = self.node(dc).a;
        if dim != NIL {
            self.comp(dim);
        }
        self.push_char(b']');
    }

    /// `d_lookup_template_argument`.
    fn lookup_template_argument(&mut self, dc: Id) -> Id {
        if self.templates == NIL {
            self.fail();
            return NIL;
        }
        let decl = self.tpls[self.templates as usize].decl;
        let args = self.node(decl).b;
        self.index_template_argument(args, self.node(dc).a as i32)
    }

    /// `d_index_template_argument`.
    fn index_template_argument(&self, args: Id, mut i: i32) -> Id {
        if i < 0 {
            return args;
        }
        let mut a = args;
        while a != NIL {
            let n = self.node(a);
            if n.k != K::TemplateArgList {
                return NIL;
            }
            if i <= 0 {
                break;
            }
            i -= 1;
            a = n.b;
        }
        if i != 0 || a == NIL {
            return NIL;
        }
        self.node(a).a
    }

    /// `d_find_pack`: an argument pack used in `dc`.
    fn find_pack(&mut self, dc: Id) -> Id {
        if dc == NIL || self.failed {
            return NIL;
        }
        let n = self.node(dc);
        match n.k {
            K::TemplateParam => {
                let a = self.lookup_template_argument(dc);
                if a != NIL && self.k(a) == K::TemplateArgList {
                    a
                } else {
                    NIL
                }
            }
            K::PackExpansion
            | K::Lambda
            | K::Name
            | K::Static
            | K::Tagged
            | K::Operator
            | K::Builtin
            | K::SubStd
            | K::FunctionParam
            | K::UnnamedType
            | K::DefaultArg => NIL,
            K::Ctor | K::Dtor => self.find_pack(n.a),
            k => {
                let (ca, cb) = k.children();
                if ca {
                    let a = self.find_pack(n.a);
                    if a != NIL {
                        return a;
                    }
                }
                if cb { self.find_pack(n.b) } else { NIL }
            }
        }
    }

    /// `d_pack_length`.
    fn pack_length(&self, mut dc: Id) -> i32 {
        let mut count = 0;
        while dc != NIL {
            let n = self.node(dc);
            if n.k != K::TemplateArgList || n.a == NIL {
                break;
            }
            count += 1;
            dc = n.b;
        }
        count
    }

    /// `d_print_subexpr`: an operand, in parentheses unless it is a plain name.
    fn subexpr(&mut self, dc: Id) {
        let simple =
            dc != NIL && matches!(self.k(dc), K::Name | K::Static | K::Qual | K::FunctionParam);
        if !simple {
            self.push_char(b'(');
        }
        self.comp(dc);
        if !simple {
            self.push_char(b')');
        }
    }

    /// `d_print_expr_op`.
    fn expr_op(&mut self, dc: Id) {
        if self.k(dc) == K::Operator {
            let name = OPERATORS[self.node(dc).a as usize].name;
            self.push_str(name);
        } else {
            self.comp(dc);
        }
    }

    fn op_code(&self, dc: Id) -> Option<[u8; 2]> {
        let n = self.node(dc);
        (n.k == K::Operator).then(|| OPERATORS[n.a as usize].code)
    }

    fn unary(&mut self, n: Node) {
        let op = n.a;
        let mut operand = n.b;
        let code = self.op_code(op);
        if code.is_some() {
            if code == Some(*b"ad") {
                let o = self.node(operand);
                if o.k == K::Typed && self.k(o.a) == K::Qual && self.k(o.b) == K::FunctionType {
                    operand = o.a;
                }
            }
            if self.k(operand) == K::BinaryArgs {
                let left = self.node(operand).a;
                self.subexpr(left);
                self.expr_op(op);
                return;
            }
        }
        if self.k(op) == K::Cast {
            self.push_char(b'(');
            let t = self.node(op).a;
            self.comp(t);
            self.push_char(b')');
        } else {
            self.expr_op(op);
        }
        match code.as_ref() {
            Some(b"gs") => self.comp(operand),
            Some(b"st") => {
                self.push_char(b'(');
                self.comp(operand);
                self.push_char(b')');
            }
            _ => self.subexpr(operand),
        }
    }

    fn binary(&mut self, n: Node) {
        let args = self.node(n.b);
        if args.k != K::BinaryArgs {
            self.fail();
            return;
        }
        let Some(code) = self.op_code(n.a) else {
            self.fail();
            return;
        };
        if matches!(&code, b"dc" | b"sc" | b"cc" | b"rc") {
            self.expr_op(n.a);
            self.push_char(b'<');
            self.comp(args.a);
            self.push_str(">(");
            self.comp(args.b);
            self.push_char(b')');
            return;
        }
        let gt = &code == b"gt";
        if gt {
            self.push_char(b'(');
        }
        if &code == b"cl" && self.k(args.a) == K::Typed {
            let func = self.node(args.a);
            if self.k(func.b) != K::FunctionType {
                self.fail();
            }
            self.subexpr(func.a);
        } else {
            self.subexpr(args.a);
        }
        if &code == b"ix" {
            self.push_char(b'[');
            self.comp(args.b);
            self.push_char(b']');
        } else {
            if &code != b"cl" {
                self.expr_op(n.a);
            }
            self.subexpr(args.b);
        }
        if gt {
            self.push_char(b')');
        }
    }

    fn literal(&mut self, n: Node) {
        let neg = n.k == K::LiteralNeg;
        let t = self.node(n.a);
        let mut tp = Lit::Default;
        if t.k == K::Builtin {
            tp = BUILTINS[t.a as usize].1;
            let v = self.node(n.b);
            let suffix = match tp {
                Lit::Int => Some(""),
                Lit::Unsigned => Some("u"),
                Lit::Long => Some("l"),
                Lit::UnsignedLong => Some("ul"),
                Lit::LongLong => Some("ll"),
                Lit::UnsignedLongLong => Some("ull"),
                _ => None,
            };
            if let Some(suffix) = suffix {
                if v.k == K::Name {
                    if neg {
                        self.push_char(b'-');
                    }
                    self.comp(n.b);
                    self.push_str(suffix);
                    return;
                }
            } else if tp == Lit::Bool && v.k == K::Name && v.b == 1 && !neg {
                match self.s[v.a as usize] {
                    b'0' => return self.push_str("false"),
                    b'1' => return self.push_str("true"),
                    _ => {}
                }
            }
        }
        self.push_char(b'(');
        self.comp(n.a);
        self.push_char(b')');
        if neg {
            self.push_char(b'-');
        }
        if tp == Lit::Float {
            self.push_char(b'[');
        }
        self.comp(n.b);
        if tp == Lit::Float {
            self.push_char(b']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{NmTable, Table};
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    fn ours_with(name: &str, paths: Paths) -> Option<String> {
        let mut out = b"keep".to_vec();
        let ok = demangle_with(name.as_bytes(), &mut out, paths);
        assert!(
            out.starts_with(b"keep"),
            "{name}: output before ours was touched"
        );
        if !ok {
            assert_eq!(out, b"keep", "{name}: declined but wrote");
            return None;
        }
        Some(String::from_utf8(out[4..].to_vec()).unwrap())
    }

    /// Ours, checking that each printer alone agrees where it accepts.
    fn ours(name: &str) -> Option<String> {
        let both = ours_with(name, Paths::Both);
        for paths in [Paths::Fast, Paths::Tree] {
            if let Some(one) = ours_with(name, paths) {
                assert_eq!(Some(&one), both.as_ref(), "{name}: {paths:?}");
            }
        }
        both
    }

    /// libiberty's answer (`None`: no libbfd here).
    fn theirs(name: &[u8]) -> Option<Option<Vec<u8>>> {
        let mut out = Vec::new();
        let ok = super::super::libiberty::demangle(name, &mut out, false)?;
        Some(ok.then_some(out))
    }

    fn sysroot_lib() -> Option<PathBuf> {
        let o = std::process::Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .ok()?;
        Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("lib"))
    }

    /// The `_Z` names of both symbol tables of `file`, without their `@VER`, added to
    /// `names` (once each).
    fn collect(file: &Path, names: &mut HashSet<Vec<u8>>) {
        let Ok(data) = std::fs::read(file) else {
            return;
        };
        for table in [Table::Symtab, Table::Dynsym] {
            let Ok(Some(t)) = NmTable::read(&data, table) else {
                continue;
            };
            for s in t.symbols() {
                let n = s.name();
                let n = &n[..n.iter().position(|&c| c == b'@').unwrap_or(n.len())];
                if n.starts_with(b"_Z") {
                    names.insert(n.to_vec());
                }
            }
        }
    }

    /// Compares ours (and each printer alone) with libiberty on every name: (accepted,
    /// accepted by the one-pass printer, mismatches), `None` without libbfd.
    fn compare(names: &HashSet<Vec<u8>>, report: usize) -> Option<(usize, usize, Vec<String>)> {
        let mut accepted = 0;
        let mut fast = 0;
        let mut bad = Vec::new();
        let mut out = Vec::new();
        for n in names {
            let lib = theirs(n)?;
            for paths in [Paths::Both, Paths::Fast, Paths::Tree] {
                out.clear();
                if !demangle_with(n, &mut out, paths) {
                    continue;
                }
                match paths {
                    Paths::Both => accepted += 1,
                    Paths::Fast => fast += 1,
                    Paths::Tree => {}
                }
                if lib.as_deref() != Some(&out[..]) {
                    if bad.len() < report {
                        bad.push(format!(
                            "{} ({paths:?})\n  ours:      {}\n  libiberty: {}",
                            String::from_utf8_lossy(n),
                            String::from_utf8_lossy(&out),
                            lib.as_deref()
                                .map_or("(fails)".into(), String::from_utf8_lossy)
                        ));
                    } else {
                        bad.push(String::new());
                    }
                }
            }
        }
        Some((accepted, fast, bad))
    }

    #[test]
    fn oracle_libllvm_and_libstdcxx() {
        let mut llvm = HashSet::new();
        if let Some(lib) = sysroot_lib() {
            for e in std::fs::read_dir(lib).into_iter().flatten().flatten() {
                if e.file_name().to_string_lossy().starts_with("libLLVM") {
                    collect(&e.path(), &mut llvm);
                }
            }
        }
        let mut stdcxx = HashSet::new();
        collect(
            Path::new("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"),
            &mut stdcxx,
        );
        for (what, names, floor) in [("libLLVM", &llvm, 0.85), ("libstdc++", &stdcxx, 0.5)] {
            if names.is_empty() {
                println!("{what}: not found, not compared");
                continue;
            }
            let Some((accepted, fast, bad)) = compare(names, 20) else {
                println!("libbfd (GNU nm) not found: C++ names not compared with libiberty");
                return;
            };
            let share = accepted as f64 / names.len() as f64;
            let fast_share = fast as f64 / names.len() as f64;
            println!(
                "{what}: {} names, {accepted} accepted ({:.1}%; one-pass printer {:.1}%), {} \
                 mismatches",
                names.len(),
                share * 100.0,
                fast_share * 100.0,
                bad.len()
            );
            assert!(bad.is_empty(), "{what}: mismatches:\n{}", bad.join("\n"));
            assert!(
                share >= floor,
                "{what}: only {:.1}% accepted",
                share * 100.0
            );
            assert!(
                fast_share >= floor - 0.05,
                "{what}: only {:.1}% printed in one pass",
                fast_share * 100.0
            );
        }
    }

    /// Names checked against libiberty's exact output (taken from binutils 2.40).
    const CASES: &[(&str, &str)] = &[
        (
            "_ZNSt6vectorIS_IiSaIiEESaIS1_EE9push_backERKS1_",
            "std::vector<std::vector<int, std::allocator<int> >, std::allocator<std::vector<int, \
             std::allocator<int> > > >::push_back(std::vector<int, std::allocator<int> > const&)",
        ),
        ("_ZN1AltIiEEbv", "bool A::operator< <int>()"),
        ("_ZN1AlsEi", "A::operator<<(int)"),
        ("_ZN12_GLOBAL__N_13fooEv", "(anonymous namespace)::foo()"),
        (
            "_ZZ4mainENKUliE_clEi",
            "main::{lambda(int)#1}::operator()(int) const",
        ),
        ("_ZZN1A1fEvENUt_C2Ev", "A::f()::{unnamed type#1}::f()"),
        ("_Z1fIJicEEvDpT_", "void f<int, char>(int, char)"),
        ("_Z1fILc97EEvv", "void f<(char)97>()"),
        ("_Z1fILj5EEvv", "void f<5u>()"),
        ("_Z1fILl5EEvv", "void f<5l>()"),
        ("_Z1fILm5EEvv", "void f<5ul>()"),
        ("_Z1fILb0EEvv", "void f<false>()"),
        ("_Z1fILin5EEvv", "void f<-5>()"),
        ("_Z1fIiEvT_", "void f<int>(int)"),
        ("_Z1fPFviE", "f(void (*)(int))"),
        ("_Z1fRA10_i", "f(int (&) [10])"),
        ("_Z1fM1AFviE", "f(void (A::*)(int))"),
        ("_Z1fM1AKFviE", "f(void (A::*)(int) const)"),
        ("_Z1fPKc", "f(char const*)"),
        ("_ZNKR1A1fEv", "A::f() const &"),
        ("_ZNKO1A1fEv", "A::f() const &&"),
        ("_ZTV1A", "vtable for A"),
        ("_ZTI1A", "typeinfo for A"),
        ("_ZTS1A", "typeinfo name for A"),
        ("_ZTT1A", "VTT for A"),
        ("_ZTC1A0_1B", "construction vtable for B-in-A"),
        ("_ZThn8_N1A1fEv", "non-virtual thunk to A::f()"),
        ("_ZTv0_n24_N1A1fEv", "virtual thunk to A::f()"),
        ("_ZGVZ1fvE1x", "guard variable for f()::x"),
        ("_ZN3FooB5cxx11Ev", "Foo[abi:cxx11]()"),
        ("_ZN3FooC2Ev.cold", "Foo::Foo() [clone .cold]"),
        ("_Z1fv.part.0", "f() [clone .part.0]"),
        ("_ZSt4cout", "std::cout"),
        (
            "_ZNSsC1Ev",
            "std::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string()",
        ),
        (
            "_ZNSs4_Rep10_M_refcopyEv",
            "std::string::_Rep::_M_refcopy()",
        ),
        ("_Z1fSs", "f(std::string)"),
        ("_Z1fDn", "f(decltype(nullptr))"),
        (
            "_Z1fIiEDTplfp_Li1EET_",
            "decltype ({parm#1}+(1)) f<int>(int)",
        ),
        ("_ZN1AcviEv", "A::operator int()"),
        ("_Z1fA_i", "f(int [])"),
        ("_Z1fPA3_i", "f(int (*) [3])"),
        ("_Z1fPFPFivEvE", "f(int (*(*)())())"),
        ("_ZN1A1fIiEEvT_", "void A::f<int>(int)"),
        ("_ZNK1A1fIiEET_v", "int A::f<int>() const"),
        ("_ZZ1fvEs", "f()::string literal"),
        ("_ZZ1fvE1x_0", "f()::x"),
        ("_ZdlPv", "operator delete(void*)"),
        ("_ZN1AaSERKS_", "A::operator=(A const&)"),
        ("_Z3fooILi1ELi2EEvv", "void foo<1, 2>()"),
        ("_Z1fIJEEvv", "void f<>()"),
        // Packs and their expansions.
        (
            "_Z1fIJRA3_KcRiEEvDpOT_",
            "void f<char const (&) [3], int&>(char const (&) [3], int&)",
        ),
        ("_Z1fIJEEvDpT_", "void f<>()"),
        ("_Z1fIJiEEvDpPT_", "void f<int>(int*)"),
        ("_ZN1AIJiEE1fIJEEEvDpT_", "void A<int>::f<>()"),
        ("_Z1fIiJEEvT_DpT0_", "void f<int>(int)"),
        (
            "_Z1fIJicEEvDpRKT_",
            "void f<int, char>(int const&, char const&)",
        ),
        ("_Z1fIJiEJcEEvDpT_DpT0_", "void f<int, char>(int, char)"),
        (
            "_Z1fIN1A1BIiEEJS2_S2_EEvDpT0_",
            "void f<A::B<int>, A::B<int>, A::B<int> >(A::B<int>, A::B<int>)",
        ),
        (
            "_ZN4llvm15AnalysisManagerINS_8FunctionEJEE3getEv",
            "llvm::AnalysisManager<llvm::Function>::get()",
        ),
        ("_Z1fILi1EJEEvv", "void f<1>()"),
        // An empty expansion is a candidate, and so is its parameter.
        (
            "_ZN2v88internal8compiler14GraphAssembler9GotoIfNotIJEEEvPNS1_4NodeEPNS1_6detail29\
             GraphAssemblerLabelForXHelperIS5_vJDpT_EE4TypeENS0_10BranchHintES9_",
            "void v8::internal::compiler::GraphAssembler::GotoIfNot<>(v8::internal::compiler::\
             Node*, v8::internal::compiler::detail::GraphAssemblerLabelForXHelper<v8::internal::\
             compiler::Node*, void>::Type*, v8::internal::BranchHint)",
        ),
        (
            "_ZNSt17_Function_handlerIFvvEZN2v84base8CallOnceIJEvEEvPSt6atomicIhENS2_\
             16FunctionWithArgsIJDpT_EE4typeES9_EUlvE_E9_M_invokeERKSt9_Any_data",
            "std::_Function_handler<void (), v8::base::CallOnce<, void>(std::atomic<unsigned \
             char>*, v8::base::FunctionWithArgs<>::type)::{lambda()#1}>::_M_invoke(std::_Any_data \
             const&)",
        ),
        // Unresolved names, read the current way (`sr3stdE…`) or, failing that, the old.
        (
            "_ZN4llvm18checkedMulUnsignedImEENSt9enable_ifIXsr3stdE13is_unsigned_vIT_EESt8\
             optionalIS2_EE4typeES2_S2_",
            "std::enable_if<std::is_unsigned_v<unsigned long>, std::optional<unsigned long> \
             >::type llvm::checkedMulUnsigned<unsigned long>(unsigned long, unsigned long)",
        ),
        (
            "_Z1fIiEvPN3std9enable_ifIXsr3std7is_sameIT_iEE5valueEvE4typeE",
            "void f<int>(std::enable_if<std::is_same<int, int>::value, void>::type*)",
        ),
        (
            "_Z1fIiEvPN3std9enable_ifIXntsrNS_7is_sameIT_iEE5valueEvE4typeE",
            "void f<int>(std::enable_if<!f::is_same<int, int>::value, void>::type*)",
        ),
        (
            "_ZN1A1fIiEEvDTsr1BIT_E1xE",
            "void A::f<int>(decltype (B<int>::x))",
        ),
        // Reference collapsing.
        ("_Z1fIRiEvOT_", "void f<int&>(int&)"),
        ("_Z1fIOiEvRT_", "void f<int&&>(int&)"),
        // Generic lambdas: `auto:N`.
        (
            "_ZZ1fvENKUlT_E_clIiEEDaS_",
            "auto f()::{lambda(auto:1)#1}::operator()<int>(int) const",
        ),
        // Function and array types under modifiers.
        ("_Z1fPFPivE", "f(int* (*)())"),
        ("_Z1fRFviE", "f(void (&)(int))"),
        ("_Z1fPPFviE", "f(void (**)(int))"),
        ("_Z1fIFviEEvPT_", "void f<void (int)>(void (*)(int))"),
        ("_Z1fPA2_A3_i", "f(int (*) [2][3])"),
        ("_ZN1AcvPFivEEv", "A::operator int (*)()()"),
        (
            "_ZN12function_refIFvvEE11callback_fnIZ1fvEUlvE_EEvl",
            "void function_ref<void ()>::callback_fn<f()::{lambda()#1}>(long)",
        ),
        // Substitutions: the unscoped template name is a candidate.
        (
            "_Z1fIiEvSt6vectorIT_SaIS0_EE",
            "void f<int>(std::vector<int, std::allocator<std::vector> >)",
        ),
        ("_ZN1AIiLb1EE1fEv", "A<int, true>::f()"),
        (
            "_ZNSaIcEC2ERKS_",
            "std::allocator<char>::allocator(std::allocator<char> const&)",
        ),
    ];

    #[test]
    fn tricky_forms() {
        for &(name, want) in CASES {
            assert_eq!(ours(name).as_deref(), Some(want), "{name}");
            if let Some(lib) = theirs(name.as_bytes()) {
                assert_eq!(lib.as_deref(), Some(want.as_bytes()), "{name}: libiberty");
            }
        }
        // Declined: not names, libiberty's limits, forms left to libiberty.
        for name in [
            "_Z",
            "_Z1",
            "_Z1fv.",
            "_ZL3foo.llvm.1",
            "_Z1fT_",
            "_GLOBAL__I_a",
            "_Z1fU3fooi",
            "_Z3f\0ov",
            "_ZN3foo3barE\0",
        ] {
            assert_eq!(ours(name), None, "{name}");
        }
        let long = format!("_Z{}", "1a".repeat(600));
        assert_eq!(ours(&long), None);
    }

    /// Real names, cut and mutated: never a panic, and what is accepted is libiberty's.
    #[test]
    fn truncations_and_mutations() {
        let mut names: Vec<Vec<u8>> = CASES.iter().map(|c| c.0.as_bytes().to_vec()).collect();
        names.extend([
            b"_ZN4llvm12DenseMapBaseINS_8DenseMapIPNS_17MachineBasicBlockEiNS_12DenseMapInfoIS3_vEENS_6detail12DenseMapPairIS3_iEEEES3_iS5_S8_E4growEj".to_vec(),
            b"_ZNSt17_Function_handlerIFbRKN4llvm5ValueEEZNS0_3fooEvEUlS3_E_E9_M_invokeERKSt9_Any_dataS3_".to_vec(),
            b"_ZN4llvm4yaml2IO21processKeyWithDefaultISt6vectorINS_7ELFYAML11VerdefEntryESaIS5_EENS0_12EmptyContextEEEvNS_9StringRefERSt8optionalIT_ERKSC_bRT0_".to_vec(),
            b"_ZL10parseFieldIPKN4llvm6MCExprETnMNS0_6AMDGPU19AMDGPUMCKernelCodeTET_XadL_ZNS5_19workitem_vgpr_countEEEEbRS5_RNS0_11MCAsmParserERNS0_11raw_ostreamE".to_vec(),
        ]);
        let check = |n: &[u8]| {
            for paths in [Paths::Both, Paths::Fast, Paths::Tree] {
                let mut out = Vec::new();
                if demangle_with(n, &mut out, paths) {
                    if let Some(lib) = theirs(n) {
                        assert_eq!(
                            lib.as_deref().map(String::from_utf8_lossy),
                            Some(String::from_utf8_lossy(&out)),
                            "{} ({paths:?})",
                            String::from_utf8_lossy(n)
                        );
                    }
                } else {
                    assert!(out.is_empty());
                }
            }
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const ALPHABET: &[u8] = b"_0123456789ABCDEFIJKLMNOPRSTVXYZabcdefghijlmnorstvwxyz.$";
        for n in &names {
            for len in 0..=n.len() {
                check(&n[..len]);
            }
            for _ in 0..200 {
                let mut m = n.clone();
                let i = (rand() as usize) % m.len();
                match rand() % 3 {
                    0 => m[i] = ALPHABET[(rand() as usize) % ALPHABET.len()],
                    1 => {
                        m.remove(i);
                    }
                    _ => m.insert(i, ALPHABET[(rand() as usize) % ALPHABET.len()]),
                }
                check(&m);
            }
        }
    }

    /// The output may hold much before the name: limits count this name's text only.
    #[test]
    fn after_much_output() {
        for &(name, want) in CASES {
            for paths in [Paths::Fast, Paths::Tree] {
                let mut out = vec![b'x'; 3 << 20];
                if demangle_with(name.as_bytes(), &mut out, paths) {
                    assert_eq!(&out[3 << 20..], want.as_bytes(), "{name} ({paths:?})");
                }
                assert_eq!(
                    ours_with(name, paths).is_some(),
                    out.len() > 3 << 20,
                    "{name} ({paths:?})"
                );
            }
        }
    }

    /// Substitutions that double the text at each step, packs expanded within packs:
    /// bounded work, no panic (libiberty is not asked: it would print them all).
    #[test]
    fn blow_ups_are_bounded() {
        let mut bomb = String::from("_Z1fN1aIiEE");
        let mut prev = 0;
        for _ in 0..60 {
            let s = if prev == 0 {
                "S_".to_owned()
            } else {
                format!("S{}_", prev - 1)
            };
            bomb.push_str(&format!("N1aI{s}{s}EE"));
            prev += 2;
        }
        bomb.truncate(1000);
        let nested = format!("_Z1fIJ{}EEvDpT_", "iiiiiiii".repeat(20));
        for name in [&bomb, &nested] {
            for paths in [Paths::Both, Paths::Fast, Paths::Tree] {
                let mut out = Vec::new();
                demangle_with(name.as_bytes(), &mut out, paths);
                assert!(out.len() <= 1 << 20);
            }
        }
    }

    /// Every ELF file of the system and the toolchain: run with
    /// `cargo test --release -p linker-tools --lib -- --ignored corpus`.
    #[test]
    #[ignore]
    fn corpus() {
        let mut roots = vec![
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/x86_64-linux-gnu"),
        ];
        roots.extend(sysroot_lib());
        let mut names = HashSet::new();
        let mut files = 0;
        let mut stack = roots;
        while let Some(p) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.extend(
                    std::fs::read_dir(&p)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path()),
                );
            } else if meta.is_file() {
                let mut magic = [0u8; 4];
                let is_elf = std::fs::File::open(&p)
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
                    .is_ok()
                    && magic == *b"\x7fELF";
                if is_elf {
                    files += 1;
                    collect(&p, &mut names);
                }
            }
        }
        let Some((accepted, fast, bad)) = compare(&names, 50) else {
            println!("libbfd (GNU nm) not found: nothing compared");
            return;
        };
        for b in bad.iter().filter(|b| !b.is_empty()) {
            println!("MISMATCH {b}");
        }
        println!(
            "{files} ELF files, {} distinct _Z names, {accepted} accepted ({:.1}%; one-pass \
             printer {:.1}%), {} mismatches",
            names.len(),
            accepted as f64 * 100.0 / names.len().max(1) as f64,
            fast as f64 * 100.0 / names.len().max(1) as f64,
            bad.len()
        );
        assert!(bad.is_empty());
    }
}
