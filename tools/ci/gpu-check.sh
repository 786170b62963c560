#!/usr/bin/env bash
# One command for a machine with a GPU: makes the vendor's OpenCL driver
# visible to the ICD loader, installs what is missing (Debian packages,
# tools/ci/install-deps.sh), builds, runs the OpenCL tests and the element's
# INT8 byte-identity check against backend=cpu on the shipped models, then
# times every INT8 conv variant and the whole nets with profiling events
# (tests/opencl/bench-opencl) and writes one table.  Sized for 8 minutes,
# the build included, on a GPU machine; on PoCL (--allow-cpu --quick) it
# takes a few minutes with small frames.
#
#   tools/ci/gpu-check.sh [--device SPEC] [--allow-cpu] [--quick] [--out FILE]
#                      [--build DIR] [--frames N] [--no-install] [--no-tests]
#                      [--make-bundle DIR | --bundle DIR]
#
#   --device SPEC  OpenCL device: an index or a name substring (default:
#                  the first GPU)
#   --allow-cpu    go on when the device is not a GPU (PoCL, for testing
#                  this script)
#   --quick        small frames (64×36, 48×27, 96×54 instead of 960×540,
#                  640×360, 1920×1080) and one model per scale
#   --out FILE     the table (default: $OUT/gpu-check.md when $OUT is set,
#                  else BUILD/gpu-check.md); the full log is beside it
#   --build DIR    build directory (default build-gpu); an existing one is
#                  reused
#   --frames N     timed frames per configuration (default 10, quick 2)
#   --no-install   never run apt-get
#   --no-tests     skip the test suites (timing only)
#   --make-bundle DIR  on a machine that can build (this one): build, then
#                  copy the programs, the GStreamer plugins they need and
#                  every shared library they load but glibc's into DIR, and
#                  stop.  For a GPU machine that has no package registry
#                  (the lent H200s): carry DIR there and run
#   --bundle DIR   run from DIR (made by --make-bundle) instead of building
#
# Environment: PEAK_INT8_GOPS / PEAK_FP32_GFLOPS, the device's data-sheet
# peaks, add a "% of data-sheet peak" column (the measured peaks of
# bench-opencl --peak are always used).
set -uo pipefail

cd "$(dirname "$0")/../.."
all_args="$*"
device="" allow_cpu=0 quick=0 out="" build=build-gpu frames="" install=1 tests=1
make_bundle="" bundle=""
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift ;;
    --allow-cpu) allow_cpu=1 ;;
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    --build) build=$2; shift ;;
    --frames) frames=$2; shift ;;
    --no-install) install=0 ;;
    --no-tests) tests=0 ;;
    --make-bundle) make_bundle=$2; shift ;;
    --bundle) bundle=$2; shift ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$frames" ] || frames=$([ $quick -eq 1 ] && echo 2 || echo 10)
[ -n "$out" ] || out=${OUT:+$OUT/gpu-check.md}
[ -n "$out" ] || out=$build/gpu-check.md
mkdir -p "$(dirname "$out")"
log=${out%.md}.log
: >"$log"
start=$(date +%s)

say () { echo "gpu-check: $*" | tee -a "$log"; }
fail () { say "FAILED: $*"; exit 1; }
elapsed () { echo "$(( $(date +%s) - start )) s"; }

# --- the vendor's OpenCL driver -----------------------------------------------
# The ICD loader (ocl-icd) finds drivers through /etc/OpenCL/vendors/*.icd.
# NVIDIA's container images and driver mounts often ship libnvidia-opencl.so.1
# without that entry: then write one (or point OCL_ICD_VENDORS at one when
# /etc is read-only).
icd_lib=""
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 \
    /usr/local/nvidia/lib /usr/lib/wsl/lib; do
  for f in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.*; do
    [ -e "$f" ] && { icd_lib=$f; break 2; }
  done
done
if [ -n "$icd_lib" ]; then
  # an entry may name the library without a path, and driver mounts are
  # often outside the dynamic linker's search path
  export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$(dirname "$icd_lib")
  if grep -qs nvidia-opencl /etc/OpenCL/vendors/*.icd; then
    say "NVIDIA OpenCL driver $icd_lib, registered in /etc/OpenCL/vendors"
  elif mkdir -p /etc/OpenCL/vendors 2>/dev/null &&
      echo "$icd_lib" >/etc/OpenCL/vendors/nvidia.icd 2>/dev/null; then
    say "NVIDIA OpenCL driver $icd_lib had no ICD entry: wrote /etc/OpenCL/vendors/nvidia.icd"
  else
    vend=$(mktemp -d)
    echo "$icd_lib" >"$vend/nvidia.icd"
    export OCL_ICD_VENDORS=$vend
    say "NVIDIA OpenCL driver $icd_lib had no ICD entry and /etc is read-only: OCL_ICD_VENDORS=$vend"
  fi
else
  say "no libnvidia-opencl.so found (other vendors register their own .icd)"
fi
ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 &&
  say "ICD entries: $(cat /etc/OpenCL/vendors/*.icd 2>/dev/null | tr '\n' ' ')"

# --- packages and build -------------------------------------------------------
# The programs and the environment they run in: the build tree's (meson's
# test environment), or a bundle's.
use_build () {
  bin_test_opencl=$build/tests/opencl/test-opencl
  bin_test_element=$build/tests/elements/test-cfqpsr-opencl
  bench=$build/tests/opencl/bench-opencl
  bin_engine=$build/tools/c/cfqp-bench-engine
  gst_launch=gst-launch-1.0
  export GST_PLUGIN_PATH_1_0=$PWD/$build/gst GST_REGISTRY_1_0=$PWD/$build/gpu-check-registry.bin
}
use_bundle () {
  local d
  d=$(cd "$1" && pwd) || fail "no bundle $1"
  bin_test_opencl=$d/bin/test-opencl
  bin_test_element=$d/bin/test-cfqpsr-opencl
  bench=$d/bin/bench-opencl
  bin_engine=$d/bin/cfqp-bench-engine
  gst_launch=$d/bin/gst-launch-1.0
  export LD_LIBRARY_PATH=$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export GST_PLUGIN_SYSTEM_PATH_1_0=$d/gst GST_PLUGIN_PATH_1_0=$d/gst
  export GST_PLUGIN_SCANNER_1_0=$d/bin/gst-plugin-scanner
  export GST_REGISTRY_1_0=$d/registry.bin
}

have_deps () {
  command -v meson >/dev/null && command -v ninja >/dev/null && command -v cc >/dev/null &&
    pkg-config --exists glib-2.0 gstreamer-video-1.0 OpenCL json-glib-1.0 2>/dev/null
}
if [ -n "$bundle" ]; then
  use_bundle "$bundle"
  mkdir -p "$build"
  say "running from the bundle $bundle (nothing built)"
else
if ! have_deps; then
  if [ $install -eq 1 ] && command -v apt-get >/dev/null; then
    say "installing build dependencies (tools/ci/install-deps.sh)"
    tools/ci/install-deps.sh 2>&1 | tail -3 | tee -a "$log" ||
      fail "tools/ci/install-deps.sh (no network? install the packages it lists)"
  fi
  have_deps || fail "missing meson/ninja/cc or the pkg-config modules glib-2.0, \
gstreamer-video-1.0, OpenCL, json-glib-1.0 (tools/ci/install-deps.sh lists the Debian packages; \
without a package registry, make a bundle where they are: --make-bundle DIR, then --bundle DIR)"
fi
command -v gst-launch-1.0 >/dev/null || fail "gst-launch-1.0 missing (gstreamer1.0-tools)"
if [ ! -f "$build/build.ninja" ]; then
  say "meson setup $build"
  meson setup "$build" -Dtests=enabled -Dopencl=enabled -Dbuildtype=release >>"$log" 2>&1 ||
    fail "meson setup (see $log)"
fi
say "building ($(nproc) jobs)"
ninja -C "$build" >>"$log" 2>&1 || fail "ninja (see $log)"
say "built in $(elapsed)"
use_build
fi
[ -x "$bench" ] || fail "$bench missing: no OpenCL ICD loader found by meson?"

if [ -n "$make_bundle" ]; then
  # glibc stays the target's own (newer glibc runs what older glibc built)
  mkdir -p "$make_bundle/bin" "$make_bundle/lib" "$make_bundle/gst"
  gstdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
  scanner=$(pkg-config --variable=pluginscannerdir gstreamer-1.0)/gst-plugin-scanner
  cp "$bin_test_opencl" "$bin_test_element" "$bench" "$bin_engine" \
    "$(command -v gst-launch-1.0)" "$scanner" "$make_bundle/bin/" || fail "copying programs"
  cp "$build/gst/libgstcfqp.so" "$gstdir/libgstcoreelements.so" \
    "$gstdir/libgstvideotestsrc.so" "$make_bundle/gst/" || fail "copying plugins"
  for f in "$make_bundle"/bin/* "$make_bundle"/gst/*; do
    ldd "$f" | awk '/=> \//{ print $3 }'
  done | sort -u | grep -Ev '/(libc|libm|libpthread|libdl|librt|libresolv|libutil|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$make_bundle/lib/"; done
  say "bundle $make_bundle: $(du -sh "$make_bundle" | cut -f1); on the GPU machine:" \
    "tools/ci/gpu-check.sh --bundle $make_bundle [--out \$OUT/gpu-check.md]"
  exit 0
fi

# --- the device -----------------------------------------------------------------
dev_args=()
[ -n "$device" ] && dev_args=(--device "$device")
"$bench" "${dev_args[@]}" --peak >"$build/peak.txt" 2>&1 || {
  cat "$build/peak.txt" | tee -a "$log"
  fail "no usable OpenCL device ${device:-GPU} (bench-opencl --peak above)"
}
tee -a "$log" <"$build/peak.txt"
devline=$(grep '^device ' "$build/peak.txt")
if ! grep -q 'type=gpu' <<<"$devline" && [ $allow_cpu -eq 0 ]; then
  fail "the device is not a GPU (--allow-cpu to go on): $devline"
fi
# the index of the device, for everything after (cfqpsr's device property, tests)
devname=$(sed -n 's/^device name="\([^"]*\)".*/\1/p' <<<"$devline")
spec=${device:-$devname}
export CFQP_OPENCL_DEVICE=$spec

# --- correctness ------------------------------------------------------------------
if [ $tests -eq 1 ]; then
  say "OpenCL tests on '$spec' (every INT8 op under each conv variant, bit-exact with ref)"
  # meson's test environment (tests/meson.build), without meson
  for t in "$bin_test_opencl" "$bin_test_element"; do
    CFQP_TEST_DATA=$PWD/tests/data G_DEBUG=fatal-criticals "$t" >>"$log" 2>&1 ||
      fail "$(basename "$t") (see $log)"
  done
  say "tests passed ($(elapsed))"
fi

if [ $quick -eq 1 ]; then
  models="default-x2 default-x3 default-x4"
  check_size="48x27"
else
  models=$(ls models/*.onnx | sed 's|models/||; s|\.onnx$||' | grep -v '^default-' | tr '\n' ' ')
  models="default-x2 default-x3 default-x4 $models"
  check_size="320x180"
fi
identity_rows=""
say "cfqpsr INT8 backend=opencl against backend=cpu, byte for byte, at $check_size (zone plate, 2 frames)"
for m in $models; do
  [ -f "models/$m.calib.json" ] || continue
  w=${check_size%x*} h=${check_size#*x}
  for k in auto naive tiled-64x8; do
    for b in cpu opencl; do
      [ $b = cpu ] && [ $k != auto ] && continue
      CFQP_OPENCL_KERNELS=$k "$gst_launch" -q videotestsrc pattern=zone-plate kx2=20 ky2=20 \
          kt=1 num-buffers=2 ! "video/x-raw,format=RGB,width=$w,height=$h" ! \
          cfqpsr model-file="models/$m.onnx" calibration-file="models/$m.calib.json" \
          backend=$b device="$spec" precision=int8 self-calibration-frames=0 ! \
          filesink location="$build/check-$b.raw" >>"$log" 2>&1 ||
        fail "gst-launch with $m backend=$b (see $log)"
    done
    if cmp -s "$build/check-cpu.raw" "$build/check-opencl.raw"; then
      r=identical
    else
      r="DIFFERENT ($(cmp "$build/check-cpu.raw" "$build/check-opencl.raw" | head -1))"
    fi
    identity_rows+="| $m | $k | $(stat -c %s "$build/check-opencl.raw") | $r |"$'\n'
    say "$m kernels=$k: $r"
    [ "$r" = identical ] || fail "$m: opencl output differs from cpu"
  done
done

# --- timing -------------------------------------------------------------------------
if [ $quick -eq 1 ]; then
  units="default-x2:64x36 default-x3:48x27 default-x2:96x54"
else
  units="default-x2:960x540 default-x3:640x360 default-x2:1920x1080"
fi
timing=$build/timing.txt
: >"$timing"
for u in $units; do
  m=${u%%:*} size=${u#*:}
  w=${size%x*} h=${size#*x}
  say "timing $m $w×$h: naive, tiled-32x8, tiled-64x8, auto ($(elapsed))"
  "$bench" "${dev_args[@]}" --model "models/$m.onnx" --calibration "models/$m.calib.json" \
      --width "$w" --height "$h" --frames "$frames" >>"$timing" 2>>"$log" ||
    fail "bench-opencl $m $size (see $log)"
  # the CPU path on the same machine (all cores), for the speed-up
  cpu_ms=$("$bin_engine" "models/$m.onnx" "$w" "$h" --precision int8 \
      --backend cpu --calibration "models/$m.calib.json" --frames "$frames" 2>>"$log" |
      sed -n 's/^median_ms=//p')
  echo "cpu model=$m.onnx size=${w}x$h ms_wall=${cpu_ms:-nan}" >>"$timing"
done
cat "$timing" >>"$log"

# --- the table ------------------------------------------------------------------------
python3 - "$build/peak.txt" "$timing" "$out" "$identity_rows" "$(elapsed)" "$all_args" <<'EOF'
import os, re, shlex, sys
peak_file, timing_file, out, identity, elapsed, args = sys.argv[1:7]

def kv(line):
    words = shlex.split(line)
    return words[0], dict(w.split('=', 1) for w in words[1:] if '=' in w)

dev, peak = {}, {}
for line in open(peak_file):
    if line.startswith('device '):
        dev = kv(line)[1]
    elif line.startswith('peak '):
        peak = kv(line)[1]
nets, nodes, cpu, kernels = [], [], {}, []
for line in open(timing_file):
    kind, d = kv(line)
    if kind == 'net':
        nets.append(d)
    elif kind == 'node':
        nodes.append(d)
    elif kind == 'cpu':
        cpu[(d['model'], d['size'])] = float(d['ms_wall'])
    elif kind == 'kernel' and d.get('variant') == 'auto':
        kernels.append(line.split(' ', 4)[4].strip())
p8 = float(peak.get('int8_gmacs', 0)) or None
sheet = float(os.environ.get('PEAK_INT8_GOPS', 0)) / 2 or None

L = []
L.append('# gpu-check: cfqp OpenCL INT8 on %s\n' % dev.get('name', '?'))
L.append('Command: `tools/ci/gpu-check.sh %s` (%s in all).\n' % (args, elapsed))
L.append('| device | platform | driver | OpenCL | compute units | clock MHz | integer dot product |')
L.append('|---|---|---|---|---|---|---|')
L.append('| %s | %s | %s | %s | %s | %s | %s |\n' % (
    dev.get('name'), dev.get('platform'), dev.get('driver'), dev.get('version'),
    dev.get('compute_units'), dev.get('clock_mhz'), dev.get('integer_dot_product')))
L.append('Measured peaks (`bench-opencl --peak`, kernels doing nothing but chains of one op): '
         'INT8 %s GMAC/s (%s), FP32 %s GMAC/s (fma).%s\n' % (
    peak.get('int8_gmacs'), peak.get('int8_via'), peak.get('fp32_gmacs'),
    ' Data-sheet INT8 peak given: %s GOPS.' % os.environ['PEAK_INT8_GOPS']
    if sheet else ''))
L.append('## Whole nets, INT8, per conv variant\n')
L.append('ms/frame: median wall time of a frame through the executor (upload, kernels, '
         'download); device ms: the kernels\' profiling-event time in the last frame; GMAC/s '
         'from device ms; cpu: backend=cpu on this machine (`cfqp-bench-engine`, all cores).\n')
hdr = '| model | frame | variant | ms/frame | fps | device ms | upload ms | download ms | GMAC/s | % INT8 peak (measured) |'
if sheet:
    hdr += ' % data-sheet |'
hdr += ' cpu ms/frame | speed-up |'
L.append(hdr)
L.append('|' + '---|' * (hdr.count('|') - 1))
for n in nets:
    g = float(n['gmacs_device'])
    c = cpu.get((n['model'], n['size']))
    ms = float(n['ms_wall'])
    row = '| %s | %s → %s | %s | %.2f | %.1f | %s | %s | %s | %.1f | %s |' % (
        n['model'], n['size'], n['out'], n['variant'], ms, 1000 / ms, n['ms_device'],
        n['ms_upload'], n['ms_download'], g, '%.1f' % (100 * g / p8) if p8 else '?')
    if sheet:
        row += ' %.2f |' % (100 * g / sheet)
    row += ' %s | %s |' % ('%.1f' % c if c else '?', '%.3g×' % (c / ms) if c else '?')
    L.append(row)
L.append('\n## Per conv, device ms per variant (last frame, profiling events)\n')
conv = {}
for d in nodes:
    if d['op'] != 'Conv':
        continue
    conv.setdefault((d['model'], d['size'], d['node']), {})[d['variant']] = d['ms']
variants = ['naive', 'tiled-32x8', 'tiled-64x8', 'auto']
L.append('| model | frame | node | ' + ' | '.join(variants) + ' |')
L.append('|---|---|---|' + '---|' * len(variants))
for (m, s, node), v in conv.items():
    L.append('| %s | %s | %s | %s |' % (m, s, node, ' | '.join(v.get(x, '') for x in variants)))
L.append('\n## What auto chose\n')
L.append('```')
L.extend(kernels)
L.append('```\n')
L.append('## Byte identity, cfqpsr backend=opencl against backend=cpu\n')
L.append('| model | CFQP_OPENCL_KERNELS | output bytes | result |')
L.append('|---|---|---|---|')
L.append(identity.rstrip('\n'))
open(out, 'w').write('\n'.join(L) + '\n')
EOF
say "table: $out (log: $log), $(elapsed)"
cat "$out"
