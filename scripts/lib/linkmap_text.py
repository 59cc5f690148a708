"""Reads a GNU ld map file (-Wl,-Map) and yields the .text input sections kept in the link
(after --gc-sections) as (input file, size in bytes). Shared by scripts/bench/mqtt-demo.sh,
scripts/build/cross-arm.sh and scripts/build/device-profile.sh, which group the sizes by owner."""
import re


def text_sections(map_path):
    section = None
    for line in open(map_path, errors="replace"):
        m = re.match(r"^ (\.text\S*)\s*(0x[0-9a-f]+)?\s*(0x[0-9a-f]+)?\s*(\S+)?", line)
        if m and m.group(1):
            section = m.group(1)
            if not m.group(2):
                continue  # name alone on the line; address/size/file follow on the next one
            address, size, path = m.group(2), m.group(3), m.group(4)
        else:
            m2 = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S+)", line)
            if not (m2 and section):
                if not line.startswith(" "):
                    section = None
                continue
            address, size, path = m2.group(1), m2.group(2), m2.group(3)
            section = None
        if not size or not path or int(address, 16) == 0:
            continue  # discarded by --gc-sections
        yield path, int(size, 16)
