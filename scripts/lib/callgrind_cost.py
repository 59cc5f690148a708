"""Reads a callgrind output file and yields its self costs (instructions) as (object, function,
instructions), one per cost line; the cost line after `calls=` (the call's inclusive cost) is left
out. Names given once as `(id) name` and later as `(id)` are resolved per kind (object, function).
Shared by scripts/bench/mqtt-demo.sh and scripts/bench/telemetry.sh, which group the costs; run as a
program it prints the self cost outside some objects (`instructions_outside` in scripts/lib/measure.sh)."""
import re


def self_costs(path):
    names, ob, fn, skip = {}, "?", "?", False

    def resolve(kind, value):
        m = re.match(r"\((\d+)\)(?: (.*))?", value)
        if not m:
            return value
        if m.group(2):
            names[(kind, m.group(1))] = m.group(2)
        return names.get((kind, m.group(1)), "?")

    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("ob="):
            ob = resolve("ob", line[3:])
        elif line.startswith("fn="):
            fn = resolve("fn", line[3:])
        elif line.startswith("cob="):
            resolve("ob", line[4:])
        elif line.startswith("cfn="):
            resolve("fn", line[4:])
        elif line.startswith("calls="):
            skip = True
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            if skip:
                skip = False
                continue
            parts = line.split()
            if len(parts) >= 2:
                yield ob, fn, int(parts[1])


if __name__ == "__main__":
    # python3 scripts/lib/callgrind_cost.py CALLGRIND_OUT EXCLUDED: the self cost of every object
    # whose name does not match the regular expression EXCLUDED (e.g. the TLS library's).
    import sys
    print(sum(ir for ob, _, ir in self_costs(sys.argv[1]) if not re.search(sys.argv[2], ob)))
