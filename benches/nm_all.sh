#!/usr/bin/env bash
# Compare `symtool symbols --format nm FLAGS` with GNU nm (LC_ALL=C) on every ELF file
# under /usr/bin, /usr/lib/x86_64-linux-gnu and the Rust toolchain's lib/, for each
# flag set below; print each mismatch and a summary. Exit 1 if anything differs.
#
#   benches/nm_all.sh                 # all flag sets, demangling included
#   NO_DEMANGLE=1 benches/nm_all.sh   # skip the -C sets (C++ demangling differs, see README)
#   ONLY_DEMANGLE=1 benches/nm_all.sh # only the -C sets
#   DIRS="/usr/bin" benches/nm_all.sh # other roots
set -u
cd "$(dirname "$0")/.."
cargo build --release --bin symtool >/dev/null 2>&1 || { echo "build failed"; exit 2; }
SYMTOOL=${CARGO_TARGET_DIR:-$PWD/target}/release/symtool
DIRS=${DIRS:-"/usr/bin /usr/lib/x86_64-linux-gnu $(rustc --print sysroot)/lib"}
FLAGSETS=("" "-D" "-u" "--defined-only" "-g" "-n" "-S" "--size-sort" "-a" "-r" "-p"
          "-D -u" "-g -n -S" "-a --size-sort -S" "-D --size-sort")
[ -n "${ONLY_DEMANGLE:-}" ] && FLAGSETS=()
[ -z "${NO_DEMANGLE:-}" ] && FLAGSETS+=("-C" "-D -C" "-C -n -S")
export LC_ALL=C
files=0; runs=0; bad=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
while IFS= read -r -d '' f; do
  head -c4 "$f" 2>/dev/null | cmp -s - <(printf '\177ELF') || continue
  files=$((files+1))
  for flags in "${FLAGSETS[@]}"; do
    # shellcheck disable=SC2086
    nm $flags "$f" >"$tmp/nm" 2>"$tmp/nm.err"; nmrc=$?
    # shellcheck disable=SC2086
    "$SYMTOOL" symbols --format nm $flags "$f" >"$tmp/ours" 2>/dev/null
    runs=$((runs+1))
    if [ $nmrc -ne 0 ] && [ ! -s "$tmp/nm" ]; then continue; fi  # nm rejects the file
    if ! cmp -s "$tmp/nm" "$tmp/ours"; then
      bad=$((bad+1))
      n=$(diff "$tmp/nm" "$tmp/ours" | grep -c '^>')
      echo "MISMATCH [$flags] $f ($n lines)"
    fi
  done
done < <(find $DIRS -type f -print0 2>/dev/null)
echo "$files ELF files, $runs comparisons, $bad mismatches"
[ $bad -eq 0 ]
