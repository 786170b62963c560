#!/usr/bin/env bash
# Installs the Debian 12 packages that building cfqp and running its tests
# and demo need.  Used by tools/ci/test.sh, tools/demo/demo.sh and .ci/run.
# As root it runs apt-get; otherwise it uses sudo when there is one, and when
# everything is already installed it does nothing at all.
#   --always      apt-get install the whole list even when nothing is missing
#   --no-update   skip apt-get update (the caller ran it)
set -euo pipefail

always=0 update=1
for a in "$@"; do
  case $a in
    --always) always=1 ;;
    --no-update) update=0 ;;
    *) echo "install-deps: unknown option $a" >&2; exit 2 ;;
  esac
done

CFQP_DEBIAN_PACKAGES=(
  gcc meson ninja-build pkg-config python3 git ca-certificates
  libglib2.0-dev libjson-glib-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  liborc-0.4-dev liborc-0.4-dev-bin
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  check libpng-dev python3-onnx python3-numpy
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${CFQP_DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ $always -eq 0 ]; then
  echo "install-deps: all ${#CFQP_DEBIAN_PACKAGES[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]:-(all present)}"
export DEBIAN_FRONTEND=noninteractive
[ $update -eq 0 ] || "${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${CFQP_DEBIAN_PACKAGES[@]}"
