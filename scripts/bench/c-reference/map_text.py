#!/usr/bin/env python3
"""Sizes of the input sections a GNU ld map file shows in the linked binary, by source file.

usage: map_text.py telemetry.map functions.txt
Prints a table (.text and .rodata bytes per source file: coreMQTT, Azure SDK, main.c split into
the SAS helper and the rest, mbedTLS, libc/other) and writes every kept .text section (one
function each, thanks to -ffunction-sections) to functions.txt: size, group, file, function.
"""
import re
import sys
from collections import defaultdict

ONE_LINE = re.compile(r"^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
NAME_ONLY = re.compile(r"^ (\.\S+)$")
REST = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def sections(path):
    """(section name, size, object) for each input section of the memory map part."""
    lines = open(path).read().split("Linker script and memory map", 1)[1].splitlines()
    pending = None
    for line in lines:
        if pending:
            m = REST.match(line)
            if m:
                yield pending, int(m.group(2), 16), m.group(3)
            pending = None
            continue
        m = ONE_LINE.match(line)
        if m:
            yield m.group(1), int(m.group(3), 16), m.group(4)
        elif NAME_ONLY.match(line):
            pending = NAME_ONLY.match(line).group(1)


def owner(obj, func):
    """(group, file) of an object name such as /x/libaz.a(az_span.o) or /x/main.o."""
    m = re.search(r"([^/()]+)\.a\(([^)]+)\)$", obj)
    lib, member = (m.group(1), m.group(2)) if m else ("", obj.rsplit("/", 1)[-1])
    src = member.replace(".o", ".c")
    if lib == "libcoremqtt":
        return "coreMQTT", src
    if lib == "libaz":
        return "Azure SDK", src
    if member == "main.o":
        # gcc may rename a static function it specialises (sas_sign.constprop.0.isra.0)
        return "program", "main.c: SAS helper" if func.split(".")[0] == "sas_sign" else "main.c: the rest"
    if lib.startswith("libmbed"):
        return "mbedTLS", lib
    return "libc, crt", "(all)"


def main():
    text = defaultdict(int)
    rodata = defaultdict(int)
    functions = []
    for name, size, obj in sections(sys.argv[1]):
        if size == 0:
            continue
        if name.startswith(".text"):
            func = re.sub(r"^\.text(\.(unlikely|startup|hot))?\.?", "", name) or "(.text)"
            key = owner(obj, func)
            text[key] += size
            functions.append((size, key[0], key[1], func))
        elif name.startswith(".rodata"):
            rodata[owner(obj, "")] += size  # main.c's constants count as "the rest"
    with open(sys.argv[2], "w") as out:
        for size, group, src, func in sorted(functions, key=lambda f: (f[1], f[2], -f[0])):
            out.write(f"{size:7d}  {group:10s} {src:32s} {func}\n")
    print(f"{'':10s} {'file':32s} {'.text':>8s} {'.rodata':>8s}")
    for group in ["coreMQTT", "Azure SDK", "program", "mbedTLS", "libc, crt"]:
        keys = sorted(k for k in set(text) | set(rodata) if k[0] == group)
        for k in keys:
            print(f"{group:10s} {k[1]:32s} {text[k]:8d} {rodata[k]:8d}")
        if len(keys) > 1:
            print(f"{group:10s} {'TOTAL':32s} {sum(text[k] for k in keys):8d} {sum(rodata[k] for k in keys):8d}")
    both = [k for k in text if k[0] in ("coreMQTT", "Azure SDK")]
    print(f"{'':10s} {'coreMQTT + Azure SDK .text':32s} {sum(text[k] for k in both):8d}")


main()
