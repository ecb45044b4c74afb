//! `symtool addr`: the symbol (+offset) containing each file address.

use linker_tools::elf::SymbolIndex;

use crate::args::AddrArgs;
use crate::lookup::describe;
use crate::out::{self, Sink, Style};
use crate::{Failure, Result, exit};

pub(crate) fn run(a: AddrArgs, color: bool) -> Result {
    let addrs: Vec<u64> = a
        .addresses
        .iter()
        .map(|s| {
            out::parse_address(s).ok_or_else(|| {
                Failure::new(
                    exit::USAGE,
                    format!("`{s}` is not an address (use 0x… hex or decimal)"),
                )
            })
        })
        .collect::<Result<_>>()?;
    let index = SymbolIndex::open(&a.file).map_err(|e| Failure::elf_at(&a.file, e))?;
    let st = Style::new(color);
    let mut sink = Sink::new();
    let mut missing = false;
    for addr in addrs {
        match index.symbol_at(addr) {
            Some(s) => {
                let off = addr - s.address();
                let b = sink.buf();
                if a.json {
                    b.extend_from_slice(
                        format!("{{\"address\":{addr},\"offset\":{off},\"symbol\":").as_bytes(),
                    );
                    let mut sym = Vec::new();
                    crate::symbols::json_symbol(&mut sym, &a.file.display().to_string(), s);
                    sym.pop();
                    b.extend_from_slice(&sym);
                    b.extend_from_slice(b"}\n");
                } else {
                    b.extend_from_slice(
                        format!(
                            "{addr:#x} {}+{off:#x}  {}\n",
                            s.name(),
                            describe(s, a.demangle, st)
                        )
                        .as_bytes(),
                    );
                }
            }
            None => {
                missing = true;
                sink.flush()?;
                eprintln!(
                    "symtool: {}: no symbol contains {addr:#x}",
                    a.file.display()
                );
            }
        }
        sink.maybe_flush()?;
    }
    sink.flush()?;
    if missing {
        Err(Failure::negative())
    } else {
        Ok(())
    }
}
