# The shell library of every script under scripts/ (one copy of each helper). A script starts with
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"   # scripts/demo.sh, scripts/test.sh: .../lib/common.sh
#   cd "$TINYHUB_ROOT"
# This file holds the repository root, the Debian packages, exit hooks and temporary folders,
# loopback ports and waiting; it sources the library's other parts:
#   embedded.sh   the Embedded device build (its flags, build_embedded) and size helpers
#   measure.sh    what the benchmarks and the heap-budget sweeps share (massif, medians, package copies)
#   standin.sh    the launcher of the local stand-ins (scripts/standin/)
# and linkmap_text.py is the Python helper the size reports import. Sourcing defines variables and
# functions only: it changes no folder, starts nothing and sets no trap (the stand-ins are sourced
# by interactive shells too). Sourcing it again does nothing.
[ -n "${TINYHUB_LIB:-}" ] && return 0
TINYHUB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TINYHUB_ROOT=$(cd "$TINYHUB_LIB/../.." && pwd)

# --- Debian packages ------------------------------------------------------------------------------
# What TinyHub needs to build, test and benchmark (.ci/run and install_deps install these).
TINYHUB_PACKAGES=(libmbedtls-dev mosquitto mosquitto-clients openssl python3 valgrind binutils time faketime)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

# install_packages PACKAGE...: installs the Debian packages that are not installed yet (nothing to do:
# returns at once). Needs root or sudo.
install_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

# install_deps: install_packages of TINYHUB_PACKAGES.
install_deps() { install_packages "${TINYHUB_PACKAGES[@]}"; }

# with_apt_source NAME ENTRY COMMAND...: runs COMMAND while /etc/apt/sources.list.d/NAME holds ENTRY
# (apt's lists updated), then removes the entry and updates the lists again, also when COMMAND or the
# script fails. dpkg's architectures stay as they are. Returns COMMAND's status.
with_apt_source() {
  local list=/etc/apt/sources.list.d/$1 entry=$2 status=0
  shift 2
  at_exit "remove_apt_source $list"
  printf '%s\n' "$entry" | $SUDO tee "$list" >/dev/null
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  "$@" || status=$?
  remove_apt_source "$list"
  return "$status"
}

# remove_apt_source FILE: removes the apt source FILE, if there, and updates apt's lists.
remove_apt_source() {
  if [ -f "$1" ]; then $SUDO rm -f "$1"; $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || true; fi
}

# mbedtls_cross_sysroots DIR: Debian's libmbedtls-dev for armhf and arm64 (headers and static
# archives), fetched once with `apt-get download` through a temporary source and unpacked with
# `dpkg -x` into DIR/sysroot-armhf and DIR/sysroot-arm64 (the .debs stay in DIR/debs). For the cross
# builds of scripts/build/cross-arm.sh and scripts/bench/c-reference/build.sh.
mbedtls_cross_sysroots() {
  local dir=$1 suite deb
  [ -f "$dir/sysroot-armhf/usr/lib/arm-linux-gnueabihf/libmbedcrypto.a" ] &&
    [ -f "$dir/sysroot-arm64/usr/lib/aarch64-linux-gnu/libmbedcrypto.a" ] && return 0
  echo "-- fetching Debian's libmbedtls-dev for armhf and arm64"
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  mkdir -p "$dir/debs"
  # The entry's arch= list brings in the armhf/arm64 indices of this one source.
  with_apt_source tinyhub-cross-arm.list \
    "deb [arch=armhf,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    download_cross_mbedtls "$dir/debs"
  for deb in "$dir"/debs/libmbedtls-dev_*_armhf.deb; do dpkg -x "$deb" "$dir/sysroot-armhf"; done
  for deb in "$dir"/debs/libmbedtls-dev_*_arm64.deb; do dpkg -x "$deb" "$dir/sysroot-arm64"; done
  [ -f "$dir/sysroot-armhf/usr/lib/arm-linux-gnueabihf/libmbedcrypto.a" ] &&
    [ -f "$dir/sysroot-arm64/usr/lib/aarch64-linux-gnu/libmbedcrypto.a" ] ||
    { echo "FAIL: mbedTLS archives missing after dpkg -x" >&2; return 1; }
}

download_cross_mbedtls() { (cd "$1" && apt-get -o APT::Sandbox::User=root download libmbedtls-dev:armhf libmbedtls-dev:arm64 >/dev/null); }

# --- exit hooks and temporary folders -------------------------------------------------------------
TINYHUB_EXIT_HOOKS=()

# at_exit COMMAND: runs COMMAND (one string, evaluated) when the script exits, however it exits;
# hooks run last-added first and cannot change the exit status. Use it instead of `trap … EXIT`,
# which would replace the hooks.
at_exit() {
  TINYHUB_EXIT_HOOKS+=("$1")
  trap run_exit_hooks EXIT
}

run_exit_hooks() {
  local i
  for ((i = ${#TINYHUB_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do eval "${TINYHUB_EXIT_HOOKS[i]}" || true; done
  TINYHUB_EXIT_HOOKS=()
}

# make_temp_dir VARIABLE NAME: a new folder ${TMPDIR:-/tmp}/tinyhub-NAME.XXXXXX, in VARIABLE, removed at exit.
make_temp_dir() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/tinyhub-$2.XXXXXX")
  printf -v "$1" '%s' "$dir"
  at_exit "rm -rf '$dir'"
}

# stop_process PID...: ends each process (SIGTERM) and waits for it; one already gone is fine.
stop_process() {
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# --- loopback ports and waiting -------------------------------------------------------------------
# free_port: a TCP port of 127.0.0.1 that nothing listens on now (the kernel's pick).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_ports SECONDS PORT...: waits until every PORT of 127.0.0.1 accepts a connection; 1 when
# SECONDS pass first.
wait_for_ports() {
  python3 - "$@" <<'PY'
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
for port in map(int, sys.argv[2:]):
    while True:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.05)
PY
}

# retry TIMES PAUSE COMMAND...: runs COMMAND until it succeeds, at most TIMES times, PAUSE seconds
# apart; 1 if it never did.
retry() {
  local times=$1 pause=$2 i
  shift 2
  for ((i = 0; i < times; i++)); do
    "$@" && return 0
    sleep "$pause"
  done
  return 1
}

source "$TINYHUB_LIB/embedded.sh"
source "$TINYHUB_LIB/measure.sh"
source "$TINYHUB_LIB/standin.sh"
