"""Splits a linked Embedded program's .text by who owns each function, for scripts/bench/telemetry.sh.

Usage: python3 scripts/lib/protocol_text.py BINARY [--symbols N] [--concerns] [--binutils PREFIX]

--binutils PREFIX: the cross binutils for another target's binary (`arm-linux-gnueabihf-` runs
arm-linux-gnueabihf-nm and arm-linux-gnueabihf-objdump; default: the host's nm and objdump). With
it the edges come from the relocations (`objdump -r`) instead of the disassembly: ARM's objdump names
no Swift (`$e…`) symbol, and ARM code loads addresses from literal pools or adrp/add pairs that the
disassembly does not name. Link such a binary with -Wl,--emit-relocs (scripts/build/cross-arm.sh does).

Owners come from the demangled symbol (swift-demangle): the module that declares the function,
also when it is a specialisation made in another module (a `MQTTSession<TLSTransport, ...>` method
specialised into the example is TinyMQTT's). Swift standard library code that the linker kept is
attributed by reachability: `objdump -d` gives each function's direct calls and address loads, and a
standard-library (or TinyHTTP) function counts as pulled in by the protocol code (TinyMQTT, TinyHub)
when a protocol function reaches it through standard-library and TinyHTTP functions only: TinyHTTP
that only the TLS layer's proxy support reaches is transport code, not protocol code. Prints one
`owner bytes` line per owner, then `protocol-stdlib` and `protocol-http` (what the protocol code
pulls in), `protocol-stdlib-only` (standard library reached from no other owner) and `protocol-total`
(TinyMQTT + TinyHub + protocol-stdlib + protocol-http); with --symbols N, the N largest protocol
functions (size, owner, name); with --concerns, one `concern BYTES LABEL` line per group of CONCERNS
(the protocol code by what it is for, the standard library it pulls in last), summing to
protocol-total."""
import re
import subprocess
import sys

PROTOCOL = ("TinyMQTT", "TinyHub")
# Code the protocol code may pull in; counted only as far as TinyMQTT/TinyHub reach it.
PULLED = ("stdlib", "TinyHTTP")
# --concerns: what each protocol function is for, by the path of the declaration its code comes
# from (`TinyHub.SASToken.write`); the first pattern that matches wins. The groups follow the
# by-concern split of the C reference (scripts/bench/c-reference); what C leaves to the application
# (connection string, error texts, UTF-8 checks, backoff) has groups of its own.
CONCERNS = (
    ("error texts and predicates", r"\.summary\.getter|\.is(AuthenticationFailure|Transient|PermanentRefusal)|"
                                   r"HubError\.init|identityError|MQTTConnectReturnCode"),
    ("connection string", r"ConnectionString|HubConfiguration|HubIdentitySizes"),
    ("UTF-8 and topic checks", r"UTF8Check|checkTopicName|checkedFieldSize"),
    ("reconnect backoff", r"Backoff\.|MQTTSession\.reconnect$"),
    # Features a minimal telemetry program does not link (before the groups their names would match).
    ("cloud-to-device, twin, direct methods, JSON", r"Twin|Method|CloudToDevice|C2D|JSON|HubFeature|Subscription"),
    ("HTTPS face", r"HTTPS|HeaderSafety"),
    ("outbox", r"Outbox|CRC32"),
    ("clock check", r"ClockCheck|ServiceClock|suspectClock"),
    ("SAS token and renewal", r"SASToken|HubCredentials|renewToken|StoredCrypto|hubNow"),
    ("client id, user name, CONNECT fields", r"HubMQTTIdentity|prepareIdentity|connectOptions"),
    ("telemetry topic and property bag", r"HubTopics|PropertyBag|writeBag|[Tt]elemetry|HubLimits|hasInflightRoom|"
                                         r"OutboundSystemProperty"),
    ("MQTT encode", r"MQTTEncoder|ByteSink\.|MQTTConnectOptions"),
    ("MQTT decode", r"MQTTDecoder|PacketReader|MQTTFixedHeader"),
    ("MQTT session: connect, keep-alive, QoS 1 window, poll, I/O", r"^TinyMQTT\."),
    ("hub client object: init, poll, feature routing", r"^TinyHub\."),
)


def skip_bracketed(name, start):
    """Index just past the <...> group opening at `start` (arrows `->` inside do not close it)."""
    depth, i = 0, start
    while i < len(name):
        if name[i] == "<":
            depth += 1
        elif name[i] == ">" and name[i - 1] != "-":
            depth -= 1
        i += 1
        if depth == 0:
            break
    return i


def after_in(name):
    """For `closure #1 (…) -> T in X` and local functions: X (the first ` in ` outside brackets)."""
    depth, i = 0, 0
    while i < len(name):
        c = name[i]
        if c in "(<[":
            depth += 1
        elif c in ")]" or (c == ">" and name[i - 1] != "-"):
            depth -= 1
        elif depth == 0 and name.startswith(" in ", i):
            return name[i + 4:]
        i += 1
    return name


def declared_name(demangled):
    """The function a symbol's code comes from: `demangled` without specialisation, closure,
    thunk and outlining prefixes (`closure #1 in X` gives X)."""
    name = demangled
    for _ in range(12):
        before = name
        name = re.sub(r"^(merged |outlined [\w ]*? of |static |@objc |partial apply for |"
                      r"reabstraction thunk helper from |protocol witness for .*? in conformance )", "", name)
        if re.match(r"^(closure|implicit closure|\$defer|[\w]+) #\d+ ", name):
            name = after_in(name)
        m = re.match(r"^[\w ]*specialization <", name)
        if m:
            name = name[skip_bracketed(name, m.end() - 1):].removeprefix(" of ")
        if name == before:
            break
    return name


def owner(demangled, raw):
    if raw.startswith("tp_"):
        return "CTinyPlatform"
    if raw.startswith(("swift_", "_swift", "swift::")):
        return "runtime"
    if not raw.startswith("$e"):
        return "C"
    name = declared_name(demangled)
    m = re.match(r"\(extension in (\w+)\)", name)
    if m:
        return "stdlib" if m.group(1) == "Swift" else m.group(1)
    if name.startswith(("Swift.swift_", "Swift._swift")):
        return "runtime"
    m = re.match(r"(\w+)\.", name)
    if m:
        return "stdlib" if m.group(1) == "Swift" else m.group(1)
    return "other"


def disassembly_edges(binary, sizes):
    """Edges from the disassembly (`objdump -d`): every <symbol> an instruction names."""
    edges, current = {}, None
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True).stdout
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            current = m.group(1)
            edges.setdefault(current, set())
            continue
        if current is None:
            continue
        for t in re.findall(r"<([^>+]+)(?:\+0x[0-9a-f]+)?>", line.split("\t", 2)[-1] if "\t" in line else line):
            if t != current and t in sizes:
                edges[current].add(t)
    return edges


def relocation_edges(tools, binary, names, sizes):
    """Edges from the relocations a binary linked with --emit-relocs keeps (`objdump -r`): the
    function holding a relocation's offset refers to the function its target falls in. ARM's objdump
    names no `$`-prefixed symbol (it takes them for mapping symbols such as `$t`), so the Swift
    functions have neither labels nor named branch targets in its disassembly; the relocations name
    every call, tail call and address load (literal pools, adrp/add pairs) across functions."""
    import bisect
    sections = {}
    for line in subprocess.run([tools + "objdump", "-h", binary], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        p = line.split()
        if len(p) >= 4 and p[0].isdigit():
            sections[p[1]] = int(p[3], 16)
    starts = sorted(names)

    def function_at(address):
        i = bisect.bisect_right(starts, address & ~1) - 1
        if i < 0:
            return None
        name = names[starts[i]]
        return name if (address & ~1) < starts[i] + sizes[name] else None

    def target(value):
        m = re.match(r"^(.+?)(?:([+-])0x([0-9a-f]+))?$", value)
        base, sign, off = m.group(1), m.group(2), int(m.group(3) or "0", 16)
        if base in sizes:
            return base
        if base in sections:
            return function_at(sections[base] + (-off if sign == "-" else off))
        return None

    edges, base = {}, 0
    for line in subprocess.run([tools + "objdump", "-r", binary], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        m = re.match(r"^RELOCATION RECORDS FOR \[(.+)\]:$", line)
        if m:  # offsets below are from the start of this section
            base = sections.get(m.group(1), 0)
            continue
        p = line.split()
        if len(p) != 3 or not p[1].startswith("R_") or not re.fullmatch(r"[0-9a-f]+", p[0]):
            continue
        source, t = function_at(base + int(p[0], 16)), target(p[2])
        if source and t and t != source:
            edges.setdefault(source, set()).add(t)
    return edges


def main():
    binary = sys.argv[1]
    top = int(sys.argv[sys.argv.index("--symbols") + 1]) if "--symbols" in sys.argv else 0
    tools = sys.argv[sys.argv.index("--binutils") + 1] if "--binutils" in sys.argv else ""
    sizes, names = {}, {}
    for line in subprocess.run([tools + "nm", "-S", binary], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW":
            sizes[p[3]] = max(sizes.get(p[3], 0), int(p[1], 16))
            names[int(p[0], 16) & ~1] = p[3]  # bit 0 set marks a Thumb function
    raws = list(sizes)
    demangled = subprocess.run(["swift-demangle"], input="\n".join(raws), capture_output=True,
                               text=True).stdout.splitlines()
    pretty = dict(zip(raws, demangled))
    own = {r: owner(pretty.get(r, r), r) for r in raws}
    if tools:
        edges = relocation_edges(tools, binary, names, sizes)
    else:
        edges = disassembly_edges(binary, sizes)

    def reach(roots):
        seen, todo = set(), [t for r in roots for t in edges.get(r, ())]
        while todo:
            s = todo.pop()
            if s in seen or own.get(s) not in PULLED:
                continue
            seen.add(s)
            todo.extend(edges.get(s, ()))
        return seen

    protocol_roots = [r for r in raws if own[r] in PROTOCOL]
    other_roots = [r for r in raws if own[r] not in PROTOCOL and own[r] not in PULLED]
    from_protocol, from_others = reach(protocol_roots), reach(other_roots)
    totals = {}
    for r in raws:
        totals[own[r]] = totals.get(own[r], 0) + sizes[r]
    for k, v in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(k, v)
    stdlib_p = sum(sizes[s] for s in from_protocol if own[s] == "stdlib")
    http_p = sum(sizes[s] for s in from_protocol if own[s] == "TinyHTTP")
    print("protocol-stdlib", stdlib_p)
    print("protocol-http", http_p)
    print("protocol-stdlib-only", sum(sizes[s] for s in from_protocol - from_others if own[s] == "stdlib"))
    print("protocol-total", sum(totals.get(m, 0) for m in PROTOCOL) + stdlib_p + http_p)
    if "--concerns" in sys.argv:
        by_concern = {label: 0 for label, _ in CONCERNS}
        for r in raws:
            if own[r] in PROTOCOL:
                # The declaration's path only: `A.B.f` of `A.B.f(x: T) -> U` or `A.B.v.getter : T`.
                name = re.sub(r"^\(extension in \w+\):", "", declared_name(pretty.get(r, r)))
                name = re.sub(r"\((\w*) in _[0-9A-F]+\)", r"\1", name)  # a private name: `(f in _C5E9…)`
                name = re.split(r"\(| : ", name, maxsplit=1)[0]
                label = next((label for label, pattern in CONCERNS if re.search(pattern, name)), CONCERNS[-1][0])
                by_concern[label] += sizes[r]
        by_concern["standard library and TinyHTTP pulled in"] = stdlib_p + http_p
        for label, n in by_concern.items():
            print(f"concern {n} {label}")
    if top:
        rows = sorted(((sizes[r], r) for r in raws if own[r] in PROTOCOL or r in from_protocol), reverse=True)[:top]
        for n, r in rows:
            print(f"symbol {n} {own[r]} {pretty.get(r, r)[:140]}")


main()
