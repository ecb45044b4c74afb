//! The command line: clap definitions only; what the commands do lives in their modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  symtool                                   info on symtool's own executable
  symtool symbols /bin/ls -D --format nm    exactly `nm -D /bin/ls`
  symtool symbols libfoo.so --kind func --binding local --name 'parse_*'
  symtool symbols libfoo.so --json | jq -r 'select(.size > 4096) | .name'
  symtool info /lib/x86_64-linux-gnu/libc.so.6
  symtool lookup libc.so.6 memcpy@@GLIBC_2.14 fx_a.c::counter 'std::env::args'
  symtool addr ./a.out 0x1139 0x1150
  symtool proc 1234                         modules of process 1234, load bias, build-id
  symtool proc 1234 malloc main:counter     runtime addresses in process 1234
  symtool diff old/libfoo.so new/libfoo.so  exit 1 if they differ
  symtool completions bash > /etc/bash_completion.d/symtool

Exit codes:
  0  success (diff: no difference)
  1  a negative answer: diff found differences, or a name/address/symbol was not found
  2  usage error (bad option or argument)
  3  a file could not be read (missing, permission, a directory)
  4  not an ELF file, or a malformed one
  5  no such process, or its memory maps cannot be read";

/// symtool: the symbols of ELF files and live processes (nm, the symbol half of readelf,
/// and a process symbol lookup).
#[derive(Debug, Parser)]
#[command(name = "symtool", version, after_help = EXAMPLES, propagate_version = true)]
pub(crate) struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// The command; without one, `info` on symtool's own executable.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List symbols: a table, GNU nm's exact format, or JSON lines.
    #[command(
        after_help = "With --format nm the output is byte-for-byte GNU nm's for the same \
flags (-D -u --defined-only -g -a -n -p -r -S --size-sort -C), as run with LC_ALL=C.\n\
Without --format nm, symbols come from the merged index (.symtab, .dynsym and a \
separate debug file if the file is stripped)."
    )]
    Symbols(SymbolsArgs),
    /// Kind, machine, entry, build-id, interpreter, needed libraries, debug-info sources and
    /// symbol counts of a file.
    Info(InfoArgs),
    /// Every symbol matching each query (`name`, `name@VER`, `name@@VER`, `file.c::name`,
    /// `crate::path::func`), with all details.
    Lookup(LookupArgs),
    /// The symbol (+offset) containing each file address.
    Addr(AddrArgs),
    /// The modules of a live process (load bias, build-id), or the runtime address of
    /// symbols in it.
    Proc(ProcArgs),
    /// Symbols added, removed and changed between two builds; exit code 1 if they differ.
    Diff(DiffArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

/// Output formats of `symbols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns, for people.
    Table,
    /// GNU nm's BSD format, byte for byte.
    Nm,
    /// One JSON object per line and symbol (schema `symtool.symbol/1`).
    Json,
}

/// Sort orders of `symbols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SortKey {
    /// By name (bytewise).
    Name,
    /// By address (undefined symbols first).
    Address,
    /// By size (nm: drops undefined, absolute and zero-sized symbols).
    Size,
    /// Table order.
    None,
}

/// Binding filter values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BindingArg {
    /// `STB_LOCAL`.
    Local,
    /// `STB_GLOBAL`.
    Global,
    /// `STB_WEAK`.
    Weak,
    /// `STB_GNU_UNIQUE`.
    Unique,
}

/// Visibility filter values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VisibilityArg {
    /// `STV_DEFAULT`.
    Default,
    /// `STV_HIDDEN`.
    Hidden,
    /// `STV_PROTECTED`.
    Protected,
    /// `STV_INTERNAL`.
    Internal,
}

/// Kind filter values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// `STT_FUNC`.
    Func,
    /// `STT_OBJECT`.
    Object,
    /// `STT_TLS`.
    Tls,
    /// `STT_GNU_IFUNC`.
    Ifunc,
    /// `STT_SECTION`.
    Section,
    /// `STT_FILE`.
    File,
    /// `STT_COMMON` / `SHN_COMMON`.
    Common,
    /// `STT_NOTYPE`.
    Notype,
}

/// `symtool symbols`.
#[derive(Debug, Args)]
pub(crate) struct SymbolsArgs {
    /// ELF files (default: symtool's own executable).
    pub(crate) files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub(crate) json: bool,

    /// The dynamic symbol table (`.dynsym`) instead of `.symtab` (nm -D).
    #[arg(short = 'D', long)]
    pub(crate) dynamic: bool,
    /// Only undefined symbols (nm -u).
    #[arg(short = 'u', long, conflicts_with = "defined_only")]
    pub(crate) undefined_only: bool,
    /// Only defined symbols (nm --defined-only).
    #[arg(long)]
    pub(crate) defined_only: bool,
    /// Only external symbols: global, weak, unique, undefined, common (nm -g).
    #[arg(short = 'g', long)]
    pub(crate) extern_only: bool,
    /// Also section and source-file symbols (nm -a).
    #[arg(short = 'a', long)]
    pub(crate) debug_syms: bool,

    /// Sort by address (nm -n).
    #[arg(short = 'n', long, conflicts_with_all = ["no_sort", "size_sort", "sort"])]
    pub(crate) numeric_sort: bool,
    /// Do not sort (nm -p).
    #[arg(short = 'p', long, conflicts_with_all = ["size_sort", "sort"])]
    pub(crate) no_sort: bool,
    /// Sort by size (nm --size-sort).
    #[arg(long, conflicts_with = "sort")]
    pub(crate) size_sort: bool,
    /// Sort order.
    #[arg(long, value_enum)]
    pub(crate) sort: Option<SortKey>,
    /// Reverse the order (nm -r).
    #[arg(short = 'r', long)]
    pub(crate) reverse_sort: bool,
    /// Print sizes too (nm -S; the table always shows them).
    #[arg(short = 'S', long)]
    pub(crate) print_size: bool,

    /// Demangle C++ and Rust names (nm -C).
    #[arg(short = 'C', long, overrides_with = "no_demangle")]
    pub(crate) demangle: bool,
    /// Do not demangle (the default).
    #[arg(long)]
    pub(crate) no_demangle: bool,

    /// Only these bindings (repeatable, or comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) binding: Vec<BindingArg>,
    /// Only these visibilities.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) visibility: Vec<VisibilityArg>,
    /// Only these kinds.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) kind: Vec<KindArg>,
    /// Only names matching this glob (`*`, `?`); matched against the raw and, with -C,
    /// the demangled name.
    #[arg(long, value_name = "GLOB")]
    pub(crate) name: Option<String>,

    /// Do not look for separate debug files (table and JSON formats).
    #[arg(long)]
    pub(crate) no_debug_file: bool,
}

/// `symtool info`.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// ELF file (default: symtool's own executable).
    pub(crate) file: Option<PathBuf>,
    /// JSON output (one object).
    #[arg(long)]
    pub(crate) json: bool,
}

/// `symtool lookup`.
#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    /// ELF file.
    pub(crate) file: PathBuf,
    /// Queries: `name`, `name@VER`, `name@@VER`, `file.c::name`, `crate::path::func`.
    #[arg(required = true)]
    pub(crate) names: Vec<String>,
    /// Demangle names in the output.
    #[arg(short = 'C', long)]
    pub(crate) demangle: bool,
    /// JSON lines output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `symtool addr`.
#[derive(Debug, Args)]
pub(crate) struct AddrArgs {
    /// ELF file.
    pub(crate) file: PathBuf,
    /// File addresses (hex with `0x`, or decimal).
    #[arg(required = true)]
    pub(crate) addresses: Vec<String>,
    /// Demangle names in the output.
    #[arg(short = 'C', long)]
    pub(crate) demangle: bool,
    /// JSON lines output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `symtool proc`.
#[derive(Debug, Args)]
pub(crate) struct ProcArgs {
    /// Process id.
    pub(crate) pid: u32,
    /// Symbols to resolve: `NAME` (searched in every module, main first) or
    /// `MODULE:NAME` (`main`, a file name, a path or a soname before the colon).
    pub(crate) names: Vec<String>,
    /// JSON lines output.
    #[arg(long)]
    pub(crate) json: bool,
}

/// How `diff` orders its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffSort {
    /// By decreasing absolute size change.
    Delta,
    /// By name.
    Name,
}

/// `symtool diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The old build.
    pub(crate) old: PathBuf,
    /// The new build.
    pub(crate) new: PathBuf,
    /// Order of the entries.
    #[arg(long, value_enum, default_value_t = DiffSort::Delta)]
    pub(crate) sort: DiffSort,
    /// JSON lines output: one object per changed symbol.
    #[arg(long)]
    pub(crate) json: bool,
    /// Print only the summary line.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

/// `symtool completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}
