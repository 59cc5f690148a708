#!/usr/bin/env python3
"""Where the bytes go at the heap peak of a massif run.

usage: massif_breakdown.py massif.out [--markdown]

Reads the peak snapshot's allocation tree (run massif with --threshold=0 --peak-inaccuracy=0
so every leaf is listed and the peak is exact), walks every leaf's call path and puts its
bytes into one category by the first rule that matches. Prints `category<TAB>bytes` lines,
or a Markdown table with --markdown. The largest peak of mem_stacks_B is printed as "stack"
when the run used --stacks=yes.
"""
import re
import sys

# (category, test on the list of function names from the allocator's caller outwards)
RULES = [
    ("TLS record buffers (16 KB + 333 B in, same out; mbedtls_ssl_setup)",
     lambda fns: fns[0].startswith("mbedtls_ssl_setup")),
    ("server certificate chain parse (x509, during the handshake)",
     lambda fns: any("mbedtls_ssl_handshake" in f for f in fns) and any("x509_crt_parse" in f for f in fns)),
    ("TLS handshake state (handshake params, transform, session, ECDHE/RSA bignums)",
     lambda fns: any("ssl_handshake" in f or "mbedtls_ssl_setup" in f for f in fns)),
    ("trust anchors (CA file read and parsed at init)",
     lambda fns: any("loadTrustAnchors" in f or "x509_crt_parse" in f for f in fns)),
    ("libc resolver (getaddrinfo: NSS config, netlink)",
     lambda fns: any("getaddrinfo" in f for f in fns)),
    ("SDK buffers sized by the example (MQTTBuffers: tx 1024, rx 1024, in-flight 4096, 16 slots)",
     lambda fns: any("MQTTBuffers" in f for f in fns)),
    ("mbedTLS contexts owned by TinyTLS (ssl, config, DRBG, x509, pk)",
     lambda fns: any("MbedTLSContexts" in f for f in fns)),
    ("Swift objects and strings (TLSTransport, MQTTSession, env strings)",
     lambda fns: any("swift_allocObject" in f or "swift_slowAlloc" in f for f in fns)),
]

LINE = re.compile(r"^( *)n(\d+): (\d+) (.*)$")


def function_name(text):
    # "0x1307F4: mbedtls_ssl_setup (in /path)" -> "mbedtls_ssl_setup"
    m = re.match(r"0x[0-9A-Fa-f]+: (.*?)(?: \(.*\))?$", text)
    return m.group(1) if m else text


def main():
    path = sys.argv[1]
    markdown = "--markdown" in sys.argv
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    stacks = max([int(l.split("=")[1]) for l in lines if l.startswith("mem_stacks_B=")] or [0])
    start = lines.index("heap_tree=peak")
    total = None
    stack = []  # function names from the root down
    categories = {}
    for line in lines[start + 1:]:
        m = LINE.match(line)
        if not m:
            break
        depth, children, size, text = len(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
        if depth == 0:
            total = size
            continue
        del stack[depth - 1:]
        stack.append(function_name(text))
        if children == 0:
            fns = list(stack)  # allocator caller first
            name = "other (libc, below-threshold sites)"
            if "all below massif's threshold" not in text:
                for category, test in RULES:
                    if test(fns):
                        name = category
                        break
            categories[name] = categories.get(name, 0) + size
    assert total is not None, "no peak snapshot (run massif with --detailed-freq / peak)"
    rows = sorted(categories.items(), key=lambda kv: -kv[1])
    if markdown:
        print("| where | bytes at peak | share |")
        print("|---|---:|---:|")
        for name, size in rows:
            print(f"| {name} | {size:,} | {100.0 * size / total:.1f} % |")
        print(f"| **heap total at peak** | **{total:,}** | 100 % |")
        if stacks:
            print(f"| stack (massif --stacks=yes, largest snapshot; not heap) | {stacks:,} | – |")
    else:
        for name, size in rows:
            print(f"{name}\t{size}")
        print(f"total\t{total}")
        if stacks:
            print(f"stack\t{stacks}")


if __name__ == "__main__":
    main()
