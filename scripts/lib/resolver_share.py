"""Bytes of a massif profile's peak snapshot that libc's resolver holds: the heap-tree nodes under
getaddrinfo (NSS, the AI_ADDRCONFIG probe), each counted once at its topmost resolver frame.

Usage: python3 scripts/lib/resolver_share.py MASSIF_OUT   (prints the byte count)
Used by scripts/bench/telemetry.sh and scripts/bench/c-reference/measure.sh."""
import re
import sys

lines = open(sys.argv[1]).read().split("\n")
peak = next(i for i, l in enumerate(lines) if l == "heap_tree=peak")
total, stack = 0, []
for line in lines[peak + 1:]:
    m = re.match(r"^( *)n(\d+): (\d+) (.*)$", line)
    if not m:
        break
    depth, size, desc = len(m.group(1)), int(m.group(3)), m.group(4)
    stack = stack[:depth]
    hit = bool(re.search(r"getaddrinfo|__nss_|nss_action|__check_pf|gaih_", desc))
    if hit and not any(stack):
        total += size
    stack.append(hit)
print(total)
