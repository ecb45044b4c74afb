//! Reading the kernel's C prototypes: `asmlinkage long sys_NAME(...);` lines of
//! `include/linux/syscalls.h` (and the x86 `asm/syscalls.h`), under the header's own
//! conditionals evaluated for x86_64.
//!
//! This is not a C preprocessor. It knows exactly what these headers use:
//!
//! - comments (`/* */`, `//`) are blanked, keeping line numbers;
//! - `#if`, `#ifdef`, `#ifndef`, `#elif`, `#else`, `#endif` nest and are evaluated
//!   with the macros the caller declares ([`Macros`]); a condition naming a macro
//!   that is not declared is an error, so a new header can never be read under a
//!   silent guess. Conditions inside a skipped branch are not evaluated (as in C);
//! - every other directive (`#define`, `#include`, …) is skipped with its
//!   backslash-continued lines, so the `asmlinkage` lines inside macro bodies are
//!   never read as prototypes;
//! - in active code, a statement that starts with `asmlinkage` is read up to its
//!   `;` as one declaration. Everything else (inline functions, `ksys_*`
//!   prototypes) is ignored.
//!
//! Parameters are read by [`parse_params`], which the hand-kept `proto:` rows share.

use std::collections::BTreeMap;

use crate::{Error, is_identifier};

/// What a macro is, for evaluating the header's conditionals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Macro {
    /// `#define NAME VALUE` (`defined(NAME)` is true; the value is `VALUE`).
    Defined(i64),
    /// Not defined (`defined(NAME)` is false; the value is 0).
    Undefined,
}

/// The macros a header's conditionals may name, with their x86_64 values.
pub type Macros = BTreeMap<String, Macro>;

/// One function parameter of a prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The C type, tokens separated by one space, `*` a token of its own
    /// (`const char __user *`).
    pub c_type: String,
    /// The parameter's name, if the prototype gives one.
    pub name: Option<String>,
}

/// One `asmlinkage long sys_NAME(...);` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prototype {
    /// The function (`sys_read`).
    pub name: String,
    /// The parameters, in order (empty for `(void)`).
    pub params: Vec<Param>,
    /// The header it was read from.
    pub path: String,
    /// The 1-based line the declaration starts on.
    pub line: usize,
}

struct Frame {
    /// The enclosing code is active.
    parent: bool,
    /// The current branch is active.
    active: bool,
    /// Some branch of this conditional has been taken.
    taken: bool,
    /// `#else` has been seen.
    seen_else: bool,
}

/// Reads every active `asmlinkage long sys_*(…);` declaration of a header.
///
/// Rejects unbalanced or unknown conditionals, a declaration left open at a
/// directive or at the end of the file, a `sys_*` function not returning `long`,
/// unreadable parameters, and a function declared twice in active code.
pub fn parse_header(path: &str, text: &str, macros: &Macros) -> Result<Vec<Prototype>, Error> {
    let text = blank_comments(path, text)?;
    let err = |line: usize, msg: String| Error::Parse {
        path: path.to_owned(),
        line,
        msg,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut continued = false;
    let mut decl: Option<(usize, String)> = None;
    let mut out: Vec<Prototype> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if continued {
            continued = raw.trim_end().ends_with('\\');
            continue;
        }
        let trimmed = raw.trim();
        let active = stack.last().is_none_or(|f| f.active);
        if let Some(directive) = trimmed.strip_prefix('#') {
            continued = trimmed.ends_with('\\');
            if decl.is_some() {
                return Err(err(
                    line,
                    "a preprocessor directive inside a declaration".to_owned(),
                ));
            }
            let directive = directive.trim_start();
            let (word, rest) = directive
                .split_once(|c: char| c.is_whitespace() || c == '(' || c == '!')
                .map_or((directive, ""), |(w, _)| (w, &directive[w.len()..]));
            let rest = rest.trim();
            match word {
                "if" | "ifdef" | "ifndef" => {
                    let cond = if active {
                        eval_directive(word, rest, macros).map_err(|m| err(line, m))?
                    } else {
                        false
                    };
                    stack.push(Frame {
                        parent: active,
                        active: active && cond,
                        taken: cond,
                        seen_else: false,
                    });
                }
                "elif" => {
                    let Some(frame) = stack.last_mut() else {
                        return Err(err(line, "#elif without #if".to_owned()));
                    };
                    if frame.seen_else {
                        return Err(err(line, "#elif after #else".to_owned()));
                    }
                    let cond = if frame.parent && !frame.taken {
                        eval_directive("if", rest, macros).map_err(|m| err(line, m))?
                    } else {
                        false
                    };
                    frame.active = frame.parent && cond;
                    frame.taken |= cond;
                }
                "else" => {
                    let Some(frame) = stack.last_mut() else {
                        return Err(err(line, "#else without #if".to_owned()));
                    };
                    if frame.seen_else {
                        return Err(err(line, "a second #else".to_owned()));
                    }
                    frame.seen_else = true;
                    frame.active = frame.parent && !frame.taken;
                    frame.taken = true;
                }
                "endif" => {
                    let Some(_) = stack.pop() else {
                        return Err(err(line, "#endif without #if".to_owned()));
                    };
                }
                _ => {}
            }
            continue;
        }
        if !active {
            continue;
        }
        if decl.is_none() && trimmed.starts_with("asmlinkage") {
            decl = Some((line, String::new()));
        }
        if let Some((start, body)) = &mut decl {
            body.push_str(trimmed);
            body.push(' ');
            if trimmed.contains(';') {
                let start = *start;
                let proto = parse_declaration(path, start, body)?;
                decl = None;
                let Some(proto) = proto else { continue };
                if let Some(prev) = seen.insert(proto.name.clone(), start) {
                    return Err(err(
                        start,
                        format!(
                            "`{}` is declared again (first at line {prev}); a conditional the \
                             macros resolve wrongly?",
                            proto.name
                        ),
                    ));
                }
                out.push(proto);
            }
        }
    }
    let lines = text.lines().count();
    if let Some((start, _)) = decl {
        return Err(err(start, "declaration not closed by `;`".to_owned()));
    }
    if !stack.is_empty() {
        return Err(err(lines, format!("{} unclosed #if", stack.len())));
    }
    Ok(out)
}

/// Replaces every comment with spaces (newlines kept, so line numbers stay).
fn blank_comments(path: &str, text: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('/', Some('*')) => {
                let start = line;
                chars.next();
                out.push_str("  ");
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == '*' && chars.peek() == Some(&'/') {
                        chars.next();
                        out.push_str("  ");
                        closed = true;
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                        out.push('\n');
                    } else {
                        out.push(' ');
                    }
                }
                if !closed {
                    return Err(Error::Parse {
                        path: path.to_owned(),
                        line: start,
                        msg: "unterminated comment".to_owned(),
                    });
                }
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => {
                if c == '\n' {
                    line += 1;
                }
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// Parses one collected `asmlinkage … ;` declaration; `None` for a function that
/// is not a `sys_*` entry point.
fn parse_declaration(path: &str, line: usize, body: &str) -> Result<Option<Prototype>, Error> {
    let err = |msg: String| Error::Parse {
        path: path.to_owned(),
        line,
        msg,
    };
    let body = body.trim();
    let (decl, tail) = body
        .split_once(';')
        .ok_or_else(|| err("declaration not closed by `;`".to_owned()))?;
    if !tail.trim().is_empty() {
        return Err(err(format!(
            "text after the declaration: {:?}",
            tail.trim()
        )));
    }
    let open = decl
        .find('(')
        .ok_or_else(|| err(format!("no parameter list in {decl:?}")))?;
    let close = decl
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| err(format!("unbalanced parentheses in {decl:?}")))?;
    if !decl[close + 1..].trim().is_empty() {
        return Err(err(format!(
            "text after the parameter list: {:?}",
            &decl[close + 1..]
        )));
    }
    let head: Vec<&str> = decl[..open].split_whitespace().collect();
    let [asmlinkage, ret @ .., name] = head.as_slice() else {
        return Err(err(format!("cannot read the declaration {decl:?}")));
    };
    if *asmlinkage != "asmlinkage" || !is_identifier(name) {
        return Err(err(format!("cannot read the declaration {decl:?}")));
    }
    if !name.starts_with("sys_") {
        return Ok(None);
    }
    if ret != ["long"] {
        return Err(err(format!(
            "`{name}` returns `{}`, not `long`",
            ret.join(" ")
        )));
    }
    let params = parse_params(&decl[open + 1..close]).map_err(err)?;
    Ok(Some(Prototype {
        name: (*name).to_owned(),
        params,
        path: path.to_owned(),
        line,
    }))
}

/// Words that are part of a C type, never a parameter name.
const TYPE_WORDS: &[&str] = &[
    "void", "char", "short", "int", "long", "signed", "unsigned", "const", "volatile", "__user",
    "struct", "union", "enum",
];

/// Parses a C parameter list (the text between the parentheses): `void` is no
/// parameters; each parameter is a type and an optional name. Arrays, function
/// pointers, variadics and default values are refused.
pub fn parse_params(text: &str) -> Result<Vec<Param>, String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text == "void" {
        return Ok(Vec::new());
    }
    if text.is_empty() {
        return Err("an empty parameter list (write `void` for none)".to_owned());
    }
    let mut out = Vec::new();
    for (i, param) in text.split(',').enumerate() {
        let param = param.trim();
        if let Some(c) = param.chars().find(|c| "()[]=.".contains(*c)) {
            return Err(format!(
                "parameter {} ({param:?}): `{c}` is not supported",
                i + 1
            ));
        }
        let spaced = param.replace('*', " * ");
        let tokens: Vec<&str> = spaced.split_whitespace().collect();
        if tokens.is_empty() {
            return Err(format!("parameter {} is empty", i + 1));
        }
        if let Some(bad) = tokens.iter().find(|t| **t != "*" && !is_identifier(t)) {
            return Err(format!(
                "parameter {} ({param:?}): bad token {bad:?}",
                i + 1
            ));
        }
        let last = tokens[tokens.len() - 1];
        let named = tokens.len() >= 2
            && last != "*"
            && !TYPE_WORDS.contains(&last)
            && !matches!(tokens[tokens.len() - 2], "struct" | "union" | "enum");
        let (ty, name) = if named {
            (&tokens[..tokens.len() - 1], Some(last.to_owned()))
        } else {
            (&tokens[..], None)
        };
        if ty
            .iter()
            .all(|t| matches!(*t, "const" | "volatile" | "__user" | "*"))
        {
            return Err(format!("parameter {} ({param:?}) has no type", i + 1));
        }
        if matches!(ty.last(), Some(&("struct" | "union" | "enum"))) {
            return Err(format!("parameter {} ({param:?}) has no tag name", i + 1));
        }
        out.push(Param {
            c_type: ty.join(" "),
            name,
        });
    }
    Ok(out)
}

fn eval_directive(word: &str, rest: &str, macros: &Macros) -> Result<bool, String> {
    match word {
        "ifdef" | "ifndef" => {
            if !is_identifier(rest) {
                return Err(format!("#{word} needs one macro name, found {rest:?}"));
            }
            let defined = lookup(rest, macros)? != Macro::Undefined;
            Ok(defined == (word == "ifdef"))
        }
        _ => {
            let tokens = tokenize(rest)?;
            let mut p = Expr {
                tokens: &tokens,
                pos: 0,
                macros,
            };
            let v = p.or()?;
            if p.pos != tokens.len() {
                return Err(format!("cannot read the condition {rest:?}"));
            }
            Ok(v != 0)
        }
    }
}

fn lookup(name: &str, macros: &Macros) -> Result<Macro, String> {
    macros.get(name).copied().ok_or_else(|| {
        format!(
            "the condition names `{name}`, which signatures.txt does not declare: add \
             `define {name}`, `define {name} = N` or `undef {name}` as x86_64 has it"
        )
    })
}

fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(s[start..i].to_owned());
        } else {
            let two = s.get(i..i + 2).unwrap_or_default();
            if matches!(two, "&&" | "||" | "==" | "!=" | "<=" | ">=") {
                out.push(two.to_owned());
                i += 2;
            } else if b"()!<>".contains(&c) {
                out.push((c as char).to_string());
                i += 1;
            } else {
                return Err(format!("unsupported `{}` in a condition", c as char));
            }
        }
    }
    Ok(out)
}

struct Expr<'a> {
    tokens: &'a [String],
    pos: usize,
    macros: &'a Macros,
}

impl Expr<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn next(&mut self) -> Result<&str, String> {
        let t = self
            .tokens
            .get(self.pos)
            .ok_or_else(|| "the condition ends early".to_owned())?;
        self.pos += 1;
        Ok(t)
    }

    fn expect(&mut self, want: &str) -> Result<(), String> {
        match self.next()? {
            t if t == want => Ok(()),
            t => Err(format!("expected `{want}` in the condition, found `{t}`")),
        }
    }

    fn or(&mut self) -> Result<i64, String> {
        let mut v = self.and()?;
        while self.peek() == Some("||") {
            self.pos += 1;
            let r = self.and()?;
            v = i64::from(v != 0 || r != 0);
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<i64, String> {
        let mut v = self.cmp()?;
        while self.peek() == Some("&&") {
            self.pos += 1;
            let r = self.cmp()?;
            v = i64::from(v != 0 && r != 0);
        }
        Ok(v)
    }

    fn cmp(&mut self) -> Result<i64, String> {
        let l = self.unary()?;
        let op = match self.peek() {
            Some(op @ ("==" | "!=" | "<" | ">" | "<=" | ">=")) => op.to_owned(),
            _ => return Ok(l),
        };
        self.pos += 1;
        let r = self.unary()?;
        Ok(i64::from(match op.as_str() {
            "==" => l == r,
            "!=" => l != r,
            "<" => l < r,
            ">" => l > r,
            "<=" => l <= r,
            _ => l >= r,
        }))
    }

    fn unary(&mut self) -> Result<i64, String> {
        if self.peek() == Some("!") {
            self.pos += 1;
            return Ok(i64::from(self.unary()? == 0));
        }
        let macros = self.macros;
        let t = self.next()?.to_owned();
        match t.as_str() {
            "(" => {
                let v = self.or()?;
                self.expect(")")?;
                Ok(v)
            }
            "defined" => {
                let paren = self.peek() == Some("(");
                if paren {
                    self.pos += 1;
                }
                let name = self.next()?.to_owned();
                if !is_identifier(&name) {
                    return Err(format!("`defined` needs a macro name, found `{name}`"));
                }
                if paren {
                    self.expect(")")?;
                }
                Ok(i64::from(lookup(&name, macros)? != Macro::Undefined))
            }
            t if t.bytes().all(|b| b.is_ascii_digit()) => {
                t.parse().map_err(|_| format!("number `{t}` is too large"))
            }
            t if is_identifier(t) => Ok(match lookup(t, macros)? {
                Macro::Defined(v) => v,
                Macro::Undefined => 0,
            }),
            t => Err(format!("unexpected `{t}` in the condition")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn macros(defs: &[(&str, Macro)]) -> Macros {
        defs.iter().map(|(n, m)| ((*n).to_owned(), *m)).collect()
    }

    #[test]
    fn params_split_types_and_names() {
        let p = parse_params("unsigned int fd, char __user *buf, size_t count").unwrap();
        assert_eq!(p[0].c_type, "unsigned int");
        assert_eq!(p[0].name.as_deref(), Some("fd"));
        assert_eq!(p[1].c_type, "char __user *");
        assert_eq!(p[1].name.as_deref(), Some("buf"));
        let p = parse_params("aio_context_t, long, struct iocb __user * __user *").unwrap();
        assert_eq!(p[0].name, None);
        assert_eq!(p[1].c_type, "long");
        assert_eq!(p[2].c_type, "struct iocb __user * __user *");
        assert_eq!(p[2].name, None);
        let p = parse_params("unsigned long, struct sockaddr __user *, unsigned dev").unwrap();
        assert_eq!(p[0].name, None);
        assert_eq!(p[1].name, None);
        assert_eq!(p[2].c_type, "unsigned");
        assert_eq!(p[2].name.as_deref(), Some("dev"));
        assert!(parse_params(" void ").unwrap().is_empty());
    }

    #[test]
    fn params_refuse_what_they_cannot_read() {
        assert!(parse_params("").is_err());
        assert!(parse_params("int a,").is_err());
        assert!(parse_params("int (*fn)(void)").is_err());
        assert!(parse_params("char buf[16]").is_err());
        assert!(parse_params("const char *fmt, ...").is_err());
        assert!(parse_params("const *").is_err());
        assert!(parse_params("struct").is_err());
        assert!(parse_params("int a-b").is_err());
    }

    #[test]
    fn conditionals_choose_the_declaration() {
        let text = "#ifndef GUARD\n#define X(a) \\\n  asmlinkage long sys_##a(void)\n\
                    /* asmlinkage long sys_comment(void); */\n\
                    #ifdef BACKWARDS\nasmlinkage long sys_clone(int a);\n#elif BITS == 64\n\
                    asmlinkage long sys_clone(long a,\n\t\tlong b);\n#else\n\
                    asmlinkage long sys_clone(void);\n#endif\n\
                    #if defined(A) || !defined(B)\nasmlinkage long sys_a(void);\n#endif\n\
                    #if 0\n#if UNKNOWN\n#endif\n#endif\n\
                    long ksys_x(int);\nasmlinkage long compat_sys_y(int);\n#endif\n";
        let m = macros(&[
            ("GUARD", Macro::Undefined),
            ("BACKWARDS", Macro::Undefined),
            ("BITS", Macro::Defined(64)),
            ("A", Macro::Undefined),
            ("B", Macro::Defined(1)),
        ]);
        let protos = parse_header("h", text, &m).unwrap();
        assert_eq!(protos.len(), 1, "{protos:?}");
        assert_eq!(protos[0].name, "sys_clone");
        assert_eq!(protos[0].line, 8);
        assert_eq!(protos[0].params.len(), 2);
    }

    #[test]
    fn header_errors_name_the_line() {
        let m = macros(&[("A", Macro::Defined(1))]);
        let e = parse_header("h", "\n#ifdef B\n#endif\n", &m).unwrap_err();
        assert!(e.to_string().starts_with("h:2: "), "{e}");
        assert!(e.to_string().contains("`B`"), "{e}");
        assert!(parse_header("h", "#ifdef A\n", &m).is_err());
        assert!(parse_header("h", "#endif\n", &m).is_err());
        assert!(parse_header("h", "#ifdef A\n#else\n#else\n#endif\n", &m).is_err());
        assert!(parse_header("h", "asmlinkage long sys_a(int x)\n", &m).is_err());
        assert!(parse_header("h", "asmlinkage int sys_a(int x);\n", &m).is_err());
        assert!(
            parse_header(
                "h",
                "asmlinkage long sys_a(void);\nasmlinkage long sys_a(int);\n",
                &m
            )
            .is_err()
        );
        assert!(
            parse_header("h", "asmlinkage long sys_a(int\n#ifdef A\n);\n#endif\n", &m).is_err()
        );
        assert!(parse_header("h", "/* open\n", &m).is_err());
        assert!(parse_header("h", "#if A +\n#endif\n", &m).is_err());
    }
}
