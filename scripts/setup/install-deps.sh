#!/usr/bin/env bash
# Installs the Debian packages TinyHub needs to build, test and benchmark (TINYHUB_PACKAGES of
# scripts/lib/common.sh). Idempotent: does nothing when everything is present. Needs root (or sudo).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
install_deps
