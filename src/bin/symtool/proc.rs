//! `symtool proc`: a live process's modules, or runtime addresses of symbols in it.

use linker_tools::elf::{Error, ErrorKind};
use linker_tools::process::{self, Module};
use linker_tools::resolve::Resolver;

use crate::args::ProcArgs;
use crate::out::{self, Sink, Style};
use crate::{Failure, Result, exit};

fn process_error(pid: u32, e: Error) -> Failure {
    match e.io_error().map(std::io::Error::kind) {
        Some(std::io::ErrorKind::NotFound) => {
            Failure::new(exit::PROCESS, format!("no such process: {pid}"))
        }
        Some(std::io::ErrorKind::PermissionDenied) => Failure::new(
            exit::PROCESS,
            format!(
                "cannot read the memory maps of process {pid}: permission denied (try as its user or root)"
            ),
        ),
        _ if e.kind() == ErrorKind::Io => {
            Failure::new(exit::PROCESS, format!("process {pid}: {e}"))
        }
        _ => Failure::elf(e),
    }
}

pub(crate) fn run(a: ProcArgs, color: bool) -> Result {
    let modules = process::remote_modules(a.pid).map_err(|e| process_error(a.pid, e))?;
    let st = Style::new(color);
    let mut sink = Sink::new();
    if a.names.is_empty() {
        for m in &modules {
            let b = sink.buf();
            if a.json {
                b.push(b'{');
                out::push_json_opt(b, "path", Some(&m.path.display().to_string()));
                b.extend_from_slice(format!(",\"bias\":{},", m.bias).as_bytes());
                out::push_json_opt(
                    b,
                    "build_id",
                    m.build_id.as_ref().map(|_| m.build_id_hex()).as_deref(),
                );
                b.extend_from_slice(
                    format!(",\"main\":{},\"vdso\":{}}}\n", m.is_main, m.is_vdso).as_bytes(),
                );
            } else {
                let tag = if m.is_main {
                    " (main)"
                } else if m.is_vdso {
                    " (vdso)"
                } else {
                    ""
                };
                b.extend_from_slice(
                    format!(
                        "{:#018x} {} {}{}\n",
                        m.bias,
                        st.dim(&format!("{:<40}", m.build_id_hex())),
                        st.bold(&m.path.display().to_string()),
                        tag
                    )
                    .as_bytes(),
                );
            }
        }
        return Ok(sink.flush()?);
    }
    let resolver = Resolver::new();
    let mut missing = false;
    for q in &a.names {
        let (selector, name) = match q.split_once(':') {
            // `file.c::name` and `a::b` paths use `::`; a single `:` names a module.
            Some((m, n)) if !n.starts_with(':') && !m.is_empty() => (Some(m), n),
            _ => (None, q.as_str()),
        };
        let candidates: Vec<&Module> = match selector {
            Some(sel) => modules.iter().filter(|m| m.matches(sel)).collect(),
            None => modules.iter().filter(|m| !m.is_vdso).collect(),
        };
        let mut found = None;
        let mut last_err: Option<Error> = None;
        for m in &candidates {
            match resolver.locate(m, name) {
                Ok(l) => {
                    found = Some(l);
                    break;
                }
                Err(e) => {
                    let keep = last_err
                        .as_ref()
                        .is_none_or(|p| p.kind() == ErrorKind::NotFound);
                    if keep && e.kind() != ErrorKind::NotFound || last_err.is_none() {
                        last_err = Some(e);
                    }
                }
            }
        }
        match found {
            Some(l) => {
                let b = sink.buf();
                if a.json {
                    b.push(b'{');
                    out::push_json_opt(b, "query", Some(q));
                    b.push(b',');
                    out::push_json_opt(b, "name", Some(&l.name));
                    b.extend_from_slice(
                        format!(
                            ",\"address\":{},\"file_address\":{},\"size\":{},",
                            l.address, l.file_address, l.size
                        )
                        .as_bytes(),
                    );
                    out::push_json_opt(b, "module", Some(&l.module.display().to_string()));
                    b.extend_from_slice(b"}\n");
                } else {
                    b.extend_from_slice(
                        format!(
                            "{:#018x} {} ({} bytes, {}) in {}\n",
                            l.address,
                            st.bold(&l.name),
                            l.size,
                            l.kind,
                            l.module.display()
                        )
                        .as_bytes(),
                    );
                }
            }
            None => {
                missing = true;
                sink.flush()?;
                let why = match (selector, last_err) {
                    (Some(sel), _) if candidates.is_empty() => {
                        format!("no module `{sel}` is loaded in process {}", a.pid)
                    }
                    (_, Some(e)) => e.to_string(),
                    (_, None) => format!("no symbol `{name}` in process {}", a.pid),
                };
                eprintln!("symtool: {q}: {why}");
            }
        }
    }
    sink.flush()?;
    if missing {
        Err(Failure::negative())
    } else {
        Ok(())
    }
}
