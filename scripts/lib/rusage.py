"""Runs a command and writes its wall time and CPU time (user + system, its whole process tree)
to a file, in seconds: `wall cpu`. For scripts/bench/telemetry.sh: wait4 reports the CPU time in
microseconds, where /usr/bin/time (the kernel's clock ticks as it prints them) has 10 ms steps.

Usage: python3 scripts/lib/rusage.py OUTFILE COMMAND [ARG...]
Standard input and output are the command's; the exit status is the command's."""
import os
import subprocess
import sys
import time

start = time.monotonic()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{wall:.3f} {usage.ru_utime + usage.ru_stime:.3f}\n")
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
