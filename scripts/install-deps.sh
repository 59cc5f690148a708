#!/usr/bin/env bash
# Installs the Debian packages TinyHub needs to build, test and benchmark. Idempotent:
# does nothing when everything is present. Needs root (or sudo).
set -euo pipefail
packages=(libmbedtls-dev mosquitto mosquitto-clients openssl python3 valgrind binutils time faketime)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
