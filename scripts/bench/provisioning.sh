#!/usr/bin/env bash
# What provisioning through DPS (TinyProvisioning + the examples' DPS path) adds to hub-telemetry:
# code and heap. Prints the tables of docs/benchmarks.md ("Provisioning"); raw logs in .build-bench-dps/.
#   1. Code: hub-telemetry built as Embedded Swift -Osize with static mbedTLS (build_embedded of
#      scripts/lib, as scripts/build/embedded.sh builds it) twice: as it is, and from a copy of the package whose
#      HubExampleSupport has no DPS path (ExampleProvisioning*.swift and ExampleEnvironment+Provisioning.swift
#      replaced by a stub with the same entry points doing nothing), so --gc-sections drops every byte
#      of TinyProvisioning. `size -A` of both binaries and their stripped sizes; `size -A` .text of the
#      TinyProvisioning module objects (before linking); the added .text by owner (`nm -S`, symbols
#      only in the DPS build).
#   2. Heap: valgrind massif (peak, as scripts/bench/mqtt-demo.sh measures it) of the same binary, hub-telemetry
#      --count 1, named by a connection string (scripts/standin/hub.sh) and through the local DPS stand-in
#      (scripts/standin/dps.sh: one registration, one "assigning" answer, then the assigned hub); from the
#      DPS run's snapshots, the provisioning client's one block (attributed to ProvisioningStorage.init)
#      and the peak while provisioning (up to the trough where the client and its TLS session are freed).
# Usage: flock /tmp/swiftbuild.lock scripts/bench/provisioning.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$TINYHUB_ROOT"
ROOT=$PWD
OUT=$ROOT/.build-bench-dps

# ---- 1. code --------------------------------------------------------------------------------------
feature_with "$OUT" no-dps
rm -f "$COPY"/Examples/HubExampleSupport/ExampleProvisioning*.swift "$COPY/Examples/HubExampleSupport/ExampleEnvironment+Provisioning.swift"
cat >"$COPY/Examples/HubExampleSupport/ExampleProvisioningStub.swift" <<'SWIFT'
import TinyHub
import TinyPlatform
import TinyTLS

// scripts/bench/provisioning.sh: the examples' DPS entry points, doing nothing (no TinyProvisioning code is reachable).
struct ExampleProvisioning {}

extension ExampleEnvironment {
    mutating func provision(port: (StaticString, UInt16) -> UInt16) {}
    func confirmProvisioned(_ client: ExampleHubClient, buffers: HubBuffers, options: HubOptions) -> ExampleHubClient { client }
    package mutating func reprovisionedHTTPS(after error: HubHTTPSError, replacing client: HubHTTPSClient<TLSTransport, SystemPlatform>,
                                             buffers: HubHTTPSBuffers, options: HubHTTPSOptions) -> HubHTTPSClient<TLSTransport, SystemPlatform>? { nil }
}
SWIFT
feature_without "$OUT" no-dps || { echo "bench/provisioning.sh: the stub no longer matches HubExampleSupport; update it" >&2; exit 1; }
if nm "$WITHOUT" | grep -q 'TinyProvisioning'; then echo "bench/provisioning.sh: the build without DPS still links TinyProvisioning" >&2; exit 1; fi
OBJ=$ROOT/.build-embedded-static/x86_64-unknown-linux-gnu/release
objects=("$OBJ"/TinyProvisioning.build/*.o)
objects_text=$(objects_text_size "${objects[@]}")

size_comparison "hub-telemetry (Embedded -Osize, static mbedTLS)" "without DPS" "with DPS" "$WITHOUT" "$WITH" "$OUT"
echo
echo "TinyProvisioning objects (.text, size -A, before linking): $objects_text bytes in ${#objects[@]} objects"
echo
# Symbols (text, with a size) that only the DPS build has, by owner.
nm -S --defined-only "$WITHOUT" | awk 'NF == 4 && $3 ~ /^[tTwW]$/ {print $4}' | sort -u >"$OUT/without.syms"
nm -S --defined-only "$WITH" | awk 'NF == 4 && $3 ~ /^[tTwW]$/ {print $2, $4}' | sort -k2 -u >"$OUT/with.syms"
python3 - "$OUT/with.syms" "$OUT/without.syms" <<'PY'
import re, sys
without = set(open(sys.argv[2]).read().split())
groups = {}
for line in open(sys.argv[1]):
    size, name = line.split()
    if name in without:
        continue
    if "TinyProvisioning" in name: owner = "TinyProvisioning (client, protocol, clock check; specialised for TLSTransport)"
    elif re.match(r"\$e\d+HubExampleSupport", name): owner = "the examples' DPS path (settings, cache file, messages)"
    elif re.match(r"\$e\d+Tiny(Hub|MQTT|TLS|HTTP|Platform)", name): owner = "TinyHub / TinyMQTT / TinyTLS / TinyHTTP code only DPS uses"
    elif name.startswith(("$es", "$eS")): owner = "Swift stdlib, specialised"
    else: owner = "other"
    groups[owner] = groups.get(owner, 0) + int(size, 16)
print("| added .text by owner (`nm -S`, symbols only in the DPS build) | bytes |")
print("|---|---:|")
for owner, n in sorted(groups.items(), key=lambda kv: -kv[1]):
    print(f"| {owner} | {n:,} |")
print(f"| **total** | **{sum(groups.values()):,}** |")
PY

# ---- 2. heap against the local stand-ins -------------------------------------------------------------
source scripts/standin/dps.sh 2>"$OUT/local-dps.log"
at_exit stop_hub
env "${HUB_ENV[@]}" "${MASSIF[@]}" --massif-out-file="$OUT/massif-plain.out" "$WITH" --count 1 >"$OUT/massif-plain.log" 2>&1
env "${DPS_ENV[@]}" "${MASSIF[@]}" --massif-out-file="$OUT/massif-dps.out" "$WITH" --count 1 >"$OUT/massif-dps.log" 2>&1
grep -q "sent and acknowledged: 1" "$OUT/massif-plain.log" && grep -q "sent and acknowledged: 1" "$OUT/massif-dps.log" \
  && grep -q "^provisioned " "$OUT/massif-dps.log" || { cat "$OUT"/massif-*.log; echo "bench/provisioning.sh: a massif run failed" >&2; exit 1; }
a=$(massif_peak "$OUT/massif-plain.out"); b=$(massif_peak "$OUT/massif-dps.out")
echo
echo "| hub-telemetry --count 1 | heap peak (massif) |"
echo "|---|---:|"
echo "| named by IOTHUB_DEVICE_CONNECTION_STRING | $a B |"
printf '| provisioned through DPS first (`%s`) | %s B (%+d B) |\n' "$(grep '^provisioned ' "$OUT/massif-dps.log")" "$b" "$((b - a))"
python3 - "$OUT/massif-dps.out" <<'PY'
import re, sys
# The provisioning phase ends at the lowest heap between the last detailed snapshot that holds the
# client's block and the first detailed one that no longer does (the client and its TLS session freed).
snapshots = open(sys.argv[1]).read().split("snapshot=")[1:]
heaps = [int(re.search(r"mem_heap_B=(\d+)", s).group(1)) for s in snapshots]
holds = [re.search(r"n\d+: (\d+) \S+ \$e16TinyProvisioning0B7StorageV", s) for s in snapshots]
detailed = ["heap_tree=empty" not in s for s in snapshots]
last = max(i for i, h in enumerate(holds) if h)
first_free = next(i for i in range(last + 1, len(snapshots)) if detailed[i] and not holds[i])
trough = min(range(last, first_free + 1), key=lambda i: heaps[i])
block = int(next(h for h in holds if h).group(1))
print(f"| while provisioning (DPS client + its TLS session, before the hub) | {max(heaps[:trough + 1])} B |")
print()
print(f"The provisioning client's memory: one block of {block} B (ProvisioningStorage, allocated by ProvisioningClient.init).")
PY
