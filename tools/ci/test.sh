#!/usr/bin/env bash
# Installs what the build needs, builds cfqp and runs the whole test suite.
#   bash tools/ci/test.sh [meson test arguments, e.g. --suite elements]
# Build directory: $CFQP_BUILD_DIR (default: build).  Exit status: meson test's.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -n "${CFQP_SKIP_DEPS:-}" ] || bash tools/ci/install-deps.sh

build=${CFQP_BUILD_DIR:-build}
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" -Dtests=enabled
fi
ninja -C "$build"
rc=0
meson test -C "$build" --print-errorlogs "$@" || rc=$?

# CFQP_TEST_SANITIZERS=1: the same tests again, built with ASan + UBSan
# (LSan on; tests/lsan.supp hides third-party leaks only), in $build-asan.
# CK_FORK=no: GstCheck's forked children exit with their fixtures alive,
# which LSan would report as leaks; in one process the check is exact.
if [ -n "${CFQP_TEST_SANITIZERS:-}" ]; then
  asan=$build-asan
  [ -f "$asan/build.ninja" ] || meson setup "$asan" -Dtests=enabled -Dopencl=disabled \
    -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Dc_args=-fsanitize=float-cast-overflow -Dc_link_args=-fsanitize=float-cast-overflow
  ninja -C "$asan" || rc=1
  asan_test() {  # detect_leaks, then meson test arguments
    ASAN_OPTIONS=detect_leaks=$1:halt_on_error=1:abort_on_error=1:print_summary=1 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 GST_REGISTRY_FORK=no \
    CK_FORK=no meson test -C "$asan" --print-errorlogs --timeout-multiplier 4 "${@:2}" || rc=1
  }
  if [ $# -gt 0 ]; then
    asan_test 1 "$@"
  else
    # LSan on our libraries' tests; the element suites run ASan + UBSan
    # without it, since GStreamer's threads can still hold a buffer when
    # the process exits (a 16 KiB g_malloc seen once in CI, not reproducible).
    asan_test 1 --no-suite elements --no-suite soak
    asan_test 0 --suite elements --suite soak --logbase testlog-elements
  fi
fi

# CFQP_TEST_FUZZ=1 (needs clang-14): libFuzzer build in $build-fuzz; each
# target fuzzed for ${CFQP_FUZZ_SECONDS:-20} s, and the crash regressions.
if [ -n "${CFQP_TEST_FUZZ:-}" ]; then
  fuzz=$build-fuzz
  [ -f "$fuzz/build.ninja" ] || CC=clang-14 meson setup "$fuzz" -Dtests=enabled \
    -Dfuzzing=true -Db_lundef=false -Dopencl=disabled
  ninja -C "$fuzz" tests/fuzz/fuzz-onnx tests/fuzz/fuzz-calib tests/fuzz/fuzz-replay-onnx \
    tests/fuzz/fuzz-replay-calib || rc=1
  meson test -C "$fuzz" --no-rebuild --print-errorlogs --suite fuzz --suite fuzz-regressions \
    || rc=1
fi
exit $rc
