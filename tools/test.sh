#!/usr/bin/env bash
# Installs what the build needs, builds cfqp and runs the whole test suite.
#   bash tools/test.sh [meson test arguments, e.g. --suite elements]
# Build directory: $CFQP_BUILD_DIR (default: build).  Exit status: meson test's.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -n "${CFQP_SKIP_DEPS:-}" ] || bash tools/install-deps.sh

build=${CFQP_BUILD_DIR:-build}
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" -Dtests=enabled
fi
ninja -C "$build"
meson test -C "$build" --print-errorlogs "$@"
