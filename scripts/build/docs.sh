#!/usr/bin/env bash
# Builds the DocC documentation of every public library module with the toolchain's own `docc`
# (no package plugin, nothing downloaded):
#   1. one debug build of the library targets in its own scratch path (.build-docs) that also
#      emits the symbol graphs (public symbols only);
#   2. `docc convert --warnings-as-errors` per module, with the module's catalog
#      (Sources/<Module>/<Module>.docc) and its symbol graphs, into .build-docs/docs/<Module>.doccarchive;
#   3. a documentation-coverage summary per module (docc's --experimental-documentation-coverage).
# Fails on any DocC warning (an unresolved symbol link, a missing catalog, ...).
# Usage: scripts/build/docs.sh [Module ...]   (default: every module below)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"

modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(TinyHub TinyMQTT TinyHTTP TinyTLS TinyPlatform TinyProvisioning TinyWebSocket)

docc=$(command -v docc || true)
[ -n "$docc" ] || docc="$(dirname "$(readlink -f "$(command -v swift)")")/docc"
[ -x "$docc" ] || { echo "docs.sh: no docc next to swift ($docc)" >&2; exit 1; }

scratch=.build-docs
graphs="$scratch/symbol-graphs"
out="$scratch/docs"
# The graphs stay between runs: an up-to-date module is not recompiled, so its graph is not re-emitted.
rm -rf "$out" "$graphs/by-module"
mkdir -p "$graphs" "$out"
: >"$scratch/build.log"

# One debug build; TinyHub depends on every other library module, so its build is nearly all
# of the work and the other modules' builds are up to date already. (`swift build` takes one
# --target, hence the loop.) An up-to-date module is not recompiled, so its graph is not
# re-emitted: the graphs stay between runs, and if one is missing the scratch path starts over.
build_graphs() {
  for m in "${modules[@]}"; do
    swift build --scratch-path "$scratch" --target "$m" \
      -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs" \
      -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public -Xswiftc -symbol-graph-skip-synthesized-members \
      >>"$scratch/build.log" 2>&1 \
      || { tail -n 60 "$scratch/build.log"; echo "docs.sh: symbol-graph build of $m failed" >&2; exit 1; }
  done
}
build_graphs
for m in "${modules[@]}"; do
  if [ ! -f "$graphs/$m.symbols.json" ]; then
    echo "docs.sh: no symbol graph for $m: rebuilding $scratch from scratch"
    rm -rf "$scratch"; mkdir -p "$graphs" "$out"; : >"$scratch/build.log"
    build_graphs
    break
  fi
done
for m in "${modules[@]}"; do
  [ -f "$graphs/$m.symbols.json" ] || { echo "docs.sh: no symbol graph for $m" >&2; exit 1; }
done

status=0
for m in "${modules[@]}"; do
  catalog="Sources/$m/$m.docc"
  [ -d "$catalog" ] || { echo "docs.sh: $m has no DocC catalog ($catalog)" >&2; status=1; continue; }
  # This module's graphs only: Module.symbols.json plus Module@Other.symbols.json (its
  # extensions of other modules' types).
  mg="$graphs/by-module/$m"
  mkdir -p "$mg"
  cp "$graphs/$m.symbols.json" "$mg/"
  for f in "$graphs/$m"@*.symbols.json; do [ -e "$f" ] && cp "$f" "$mg/"; done
  log="$scratch/docc-$m.log"
  if "$docc" convert "$catalog" \
      --additional-symbol-graph-dir "$mg" \
      --output-dir "$out/$m.doccarchive" \
      --fallback-display-name "$m" \
      --fallback-bundle-identifier "org.tinyhub.$m" \
      --warnings-as-errors \
      --experimental-documentation-coverage --coverage-summary-level brief \
      >"$log" 2>&1; then
    echo "== $m: docc convert OK ($out/$m.doccarchive)"
  else
    cat "$log" >&2
    echo "docs.sh: docc convert failed for $m (warnings are errors)" >&2
    status=1
    continue
  fi
  # docc's brief coverage table (the lines after its header), one module at a time.
  # docc's brief coverage table: the share of symbols with an abstract (a doc comment), with a
  # curated topic, with a code listing.
  grep -E '^(Types|Members|Globals|  *\|) *\|' "$log" || true
  # Our own count over symbols only (not articles or docc's "… Implementations" groups), naming
  # the undocumented ones; any undocumented public symbol fails the script. The compiler-made
  # `init(rawValue:)` of an enum with raw values has no source to comment: its text is a
  # documentation extension file in the catalog (<Module>.docc/RawValueInitializers/).
  python3 - "$out/$m.doccarchive/documentation-coverage.json" "$m" <<'PY' || status=1
import json, sys
entries = [e for e in json.load(open(sys.argv[1])) if e["kind"].get("isSymbol")]
missing = [e for e in entries if not e["hasAbstract"]]
print(f"{sys.argv[2]}: {len(entries) - len(missing)} of {len(entries)} public symbols documented")
for e in missing:
    print("  undocumented:", e["kind"]["name"], e["referencePath"].split("/documentation/", 1)[1])
sys.exit(1 if missing else 0)
PY
done
exit $status
