#!/usr/bin/env bash
# The 64-bit ARM leg: installs Debian's aarch64 cross toolchain, qemu-user and
# the :arm64 -dev packages (multiarch), cross-builds the engine and calib
# libraries with their tests (tools/ci/cross/aarch64-linux-gnu.ini: no plugin,
# no OpenCL) and runs the engine and calib suites (less suite 'long': the
# stripes scheduler, arch-independent and ~4 min under qemu, and calib-gptq,
# run on the first model only) under qemu once per CPU model, so each NEON conv kernel level runs bit-exact against ref:
#   cortex-a53  plain NEON, no dot product   8x4c4__neon
#   cortex-a76  dot product (sdot)           16x4c4__neondot
#   max         i8mm (usdot)                 16x4c4__neoni8mm
# CFQP_TEST_EXPECT_ARM_ISA makes /int8-cpu/arm-isa fail if the level is not
# the one the model should give.  Test logs: $build/meson-logs/testlog-<cpu>.json
# (.ci/run counts them).  Nothing is timed for speed: qemu says nothing about
# ARM performance (docs/performance.md).
#   bash tools/ci/test-arm64.sh [meson test arguments, e.g. --suite calib]
# Build directory: $CFQP_ARM64_BUILD_DIR (default: build-arm64).  CFQP_SKIP_DEPS=1:
# no apt-get.  Exit status non-zero if anything cannot be installed, built or
# passed: this leg never skips quietly.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${CFQP_ARM64_BUILD_DIR:-build-arm64}
cross=tools/ci/cross/aarch64-linux-gnu.ini
# CPU model, then the level the engine must pick on it
models=(cortex-a53:neon cortex-a76:dotprod max:i8mm)

ARM64_PACKAGES=(
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
  libglib2.0-dev:arm64 libjson-glib-dev:arm64 liborc-0.4-dev:arm64
  libprotobuf-c-dev:arm64 libpng-dev:arm64
)

if [ -z "${CFQP_SKIP_DEPS:-}" ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo[@]}" dpkg --add-architecture arm64 &&
         "${sudo[@]}" apt-get update -q &&
         "${sudo[@]}" apt-get install -y --no-install-recommends "${ARM64_PACKAGES[@]}"; }; then
    echo "test-arm64: FAILED to install the ARM64 packages: ${ARM64_PACKAGES[*]}" >&2
    exit 1
  fi
fi
for tool in aarch64-linux-gnu-gcc qemu-aarch64-static aarch64-linux-gnu-pkg-config; do
  command -v "$tool" >/dev/null || { echo "test-arm64: FAILED: $tool missing" >&2; exit 1; }
done

# Tests that re-run themselves (g_test_trap_subprocess) exec their aarch64
# binary directly: binfmt_misc has to hand it to qemu (QEMU_CPU is inherited).
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e $binfmt/qemu-aarch64 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  { mountpoint -q $binfmt || "${sudo[@]}" mount -t binfmt_misc binfmt_misc $binfmt; } &&
    "${sudo[@]}" sh -c "cat /usr/lib/binfmt.d/qemu-aarch64.conf > $binfmt/register" ||
    echo "test-arm64: cannot register qemu-aarch64 with binfmt_misc: tests that run" \
      "themselves again (calib-calibfile) will FAIL" >&2
fi

t0=$SECONDS
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" --cross-file "$cross" -Dtests=enabled
fi
ninja -C "$build"
echo "test-arm64: cross build $((SECONDS - t0)) s"

# 'long' (stripes): arch-independent, ~4 min under qemu per model.
# calib-gptq (GPTQ weight rounding, its taps through the kernels) is also in
# 'long': ~90 s under qemu, so it runs once, on the first model; the other
# models run the shipped calibrations' taps through every NEON level anyway
# (int8-backends, shipped-models); so are calib-residual-grid (calibrations
# of five shipped models) and calib-channel-steps (the calibrator's
# candidates for channel steps), rules that do not depend on the CPU
suites=(--suite engine --suite calib --no-suite long)
once=(calib-gptq calib-residual-grid calib-channel-steps)
[ $# -eq 0 ] || { suites=("$@"); once=(); }
rc=0
for m in "${models[@]}"; do
  cpu=${m%%:*} isa=${m#*:}
  t=$SECONDS
  # qemu-user reads QEMU_CPU; the tests read the level they must see
  QEMU_CPU=$cpu CFQP_TEST_EXPECT_ARM_ISA=$isa \
    meson test -C "$build" --no-rebuild --print-errorlogs --timeout-multiplier 4 \
      --logbase "testlog-$cpu" "${suites[@]}" || rc=1
  if [ ${#once[@]} -gt 0 ]; then
    QEMU_CPU=$cpu CFQP_TEST_EXPECT_ARM_ISA=$isa \
      meson test -C "$build" --no-rebuild --print-errorlogs --timeout-multiplier 4 \
        --logbase "testlog-$cpu-once" "${once[@]}" || rc=1
    once=()
  fi
  echo "test-arm64: -cpu $cpu ($isa): $((SECONDS - t)) s"
done
exit $rc
