#!/usr/bin/env bash
# Code size of the C reference stack for a minimal IoT Hub telemetry program (main.c), to compare
# with Examples/hub-minimal. Builds main.c + coreMQTT + Azure SDK for Embedded C in two
# configurations and prints the .text (and .rodata) each source file leaves in the linked binary:
#   default  asserts on, Azure preconditions and logging on
#   small    -DNDEBUG -DAZ_NO_PRECONDITION_CHECKING -DAZ_NO_LOGGING
#
# usage: build.sh x86_64|armv7|aarch64 [COREMQTT_DIR AZURE_SDK_DIR]
#   (or the environment variables COREMQTT_DIR and AZURE_SDK_DIR)
#
# Sources (not downloaded by this script): github.com/FreeRTOS/coreMQTT tag v2.3.1
# (2beef04725328923e05e576b884212d53ec97af7) and github.com/Azure/azure-sdk-for-c tag 1.5.0
# (6d6e634a3bb7f4d6bb5666ec8e1005ecd248e635), e.g.
#   git clone --depth 1 -b v2.3.1 https://github.com/FreeRTOS/coreMQTT
#   git clone --depth 1 -b 1.5.0 https://github.com/Azure/azure-sdk-for-c
#
# Targets and TLS library (Debian 12's mbedTLS 2.28, libmbedtls-dev):
#   x86_64   host gcc, mbedTLS linked dynamically (the host's libmbedtls-dev)
#   armv7    arm-linux-gnueabihf-gcc -march=armv7-a -mthumb -mfpu=vfpv3-d16 -mfloat-abi=hard, -static
#   aarch64  aarch64-linux-gnu-gcc, -static
# The cross targets take libmbedtls-dev:armhf / :arm64 from $SYSROOT_BASE/sysroot-armhf|arm64
# (default: .build-cross, where scripts/build/cross-arm.sh keeps them), made when missing by
# mbedtls_cross_sysroots (scripts/lib/common.sh). Needs root (or sudo) for that and for installing
# the cross compilers.
#
# Output: $OUT_BASE/<target>/<config>/ (default OUT_BASE=/tmp/cref/out): objects, telemetry,
# telemetry.map, text.txt (the table) and functions.txt (every kept function, size, source file).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGET=${1:?usage: build.sh x86_64|armv7|aarch64 [COREMQTT_DIR AZURE_SDK_DIR]}
MQTT=$(cd "${2:-${COREMQTT_DIR:?set COREMQTT_DIR or pass it}}" && pwd)
AZ=$(cd "${3:-${AZURE_SDK_DIR:?set AZURE_SDK_DIR or pass it}}" && pwd)
SYSROOT_BASE=${SYSROOT_BASE:-$TINYHUB_ROOT/.build-cross}
OUT_BASE=${OUT_BASE:-/tmp/cref/out}

case $TARGET in
  x86_64) CC=gcc; PREFIX=; ARCH_FLAGS=(); LINK=() ;;
  armv7) CC=arm-linux-gnueabihf-gcc; PREFIX=arm-linux-gnueabihf-; DEBARCH=armhf
    ARCH_FLAGS=(-march=armv7-a -mthumb -mfpu=vfpv3-d16 -mfloat-abi=hard); LINK=(-static) ;;
  aarch64) CC=aarch64-linux-gnu-gcc; PREFIX=aarch64-linux-gnu-; DEBARCH=arm64
    ARCH_FLAGS=(); LINK=(-static) ;;
  *) echo "unknown target $TARGET (x86_64|armv7|aarch64)" >&2; exit 1 ;;
esac

# --- toolchain and mbedTLS -------------------------------------------------------------------
if [ "$TARGET" = x86_64 ]; then
  install_packages gcc libmbedtls-dev
  MBED=(-lmbedtls -lmbedx509 -lmbedcrypto)
  INC=()
else
  install_packages "gcc-${PREFIX%-}"
  mbedtls_cross_sysroots "$SYSROOT_BASE"
  SYSROOT=$SYSROOT_BASE/sysroot-$DEBARCH
  MBED=(-L"$SYSROOT/usr/lib/${PREFIX%-}" -lmbedtls -lmbedx509 -lmbedcrypto)
  INC=(-I"$SYSROOT/usr/include")
fi

# --- sources ---------------------------------------------------------------------------------
MQTT_SRC=("$MQTT"/source/core_mqtt.c "$MQTT"/source/core_mqtt_serializer.c "$MQTT"/source/core_mqtt_state.c)
# The whole SDK (core, iot, the no-platform stubs) goes into one archive: the linker takes the
# files main.c needs and --gc-sections drops the functions nothing calls.
AZ_SRC=("$AZ"/sdk/src/azure/core/*.c "$AZ"/sdk/src/azure/iot/*.c "$AZ"/sdk/src/azure/platform/az_noplatform.c)
CFLAGS=(-Os -ffunction-sections -fdata-sections -std=gnu99 "${ARCH_FLAGS[@]}"
  -DMQTT_DO_NOT_USE_CUSTOM_CONFIG -I"$MQTT"/source/include -I"$MQTT"/source/interface -I"$AZ"/sdk/inc "${INC[@]}")

build() { # <config> <extra cflags...>
  local config=$1; shift
  local dir=$OUT_BASE/$TARGET/$config
  rm -rf "$dir"; mkdir -p "$dir"/mqtt "$dir"/az
  for f in "${MQTT_SRC[@]}"; do "$CC" "${CFLAGS[@]}" "$@" -c "$f" -o "$dir/mqtt/$(basename "${f%.c}").o"; done
  for f in "${AZ_SRC[@]}"; do "$CC" "${CFLAGS[@]}" "$@" -c "$f" -o "$dir/az/$(basename "${f%.c}").o"; done
  "$CC" "${CFLAGS[@]}" "$@" -c "$HERE/main.c" -o "$dir/main.o"
  "${PREFIX}ar" rcs "$dir/libcoremqtt.a" "$dir"/mqtt/*.o
  "${PREFIX}ar" rcs "$dir/libaz.a" "$dir"/az/*.o
  "$CC" "${ARCH_FLAGS[@]}" "${LINK[@]}" -Wl,--gc-sections -Wl,-Map="$dir/telemetry.map" -o "$dir/telemetry" \
    "$dir/main.o" "$dir/libcoremqtt.a" "$dir/libaz.a" "${MBED[@]}" 2>"$dir/link.log" || { cat "$dir/link.log"; exit 1; }
  python3 "$HERE/map_text.py" "$dir/telemetry.map" "$dir/functions.txt" >"$dir/text.txt"
  echo "== $TARGET $config: ${CC} $* (binary: $("${PREFIX}size" "$dir/telemetry" | awk 'NR==2{print "text " $1 ", data " $2 ", bss " $3}'))"
  cat "$dir/text.txt"
}

build default
build small -DNDEBUG -DAZ_NO_PRECONDITION_CHECKING -DAZ_NO_LOGGING
