#!/bin/sh
# Train, validate, export and commit CFQP's SR models one after another (the
# CPU is shared: never two trainings at once).  Re-running resumes: a finished
# run is only re-validated/exported, an interrupted one continues from its
# checkpoint in tools/.cache/ckpt/.
#
#   nohup nice -n 10 tools/train_all.sh > tools/.cache/logs/train_all.out 2>&1 &
#
# A model whose models/<name>.onnx is already committed is skipped (FORCE=1
# redoes it).  Env: NO_COMMIT=1 skips the git commits; THREADS (default 1:
# on this 2-core machine shared with builds and fuzzers, one thread measured
# 2x faster per step than two, whose OpenMP barriers stall when a core is
# taken away).
cd "$(dirname "$0")/.." || exit 1
PY=/usr/bin/python3
mkdir -p models tools/.cache/logs

commit() {  # commit only the given paths, retrying while another git runs
    [ -n "$NO_COMMIT" ] && return 0
    msg=$1; shift
    for i in 1 2 3 4 5 6 7 8 9 10; do
        if [ ! -e .git/index.lock ] && git add -- "$@" && git commit -q -m "$msg" -- "$@"; then
            return 0
        fi
        sleep 5
    done
    echo "commit failed: $msg" >&2
}

one() {  # arch scale minutes [--clipped]
    arch=$1; s=$2; min=$3; shift 3
    name=$arch-x$s
    [ "$1" = "--clipped" ] && name=$name-clipped
    if [ -z "$FORCE" ] && git ls-files --error-unmatch "models/$name.onnx" >/dev/null 2>&1 \
        && git diff --quiet HEAD -- "models/$name.onnx"; then
        echo "skip $name (committed)"; return 0
    fi
    $PY tools/train.py --arch "$arch" --scale "$s" --minutes "$min" --steps 1000000 \
        --threads "${THREADS:-1}" --export "models/$name.onnx" "$@" || return 1
    $PY tools/model_cards.py
    commit "models: $name.onnx trained on the Debian wallpaper photos" "models/$name.onnx" models/README.md
}

default() {  # scale file
    cmp -s "models/$2" "models/default-x$1.onnx" && return 0
    cp "models/$2" "models/default-x$1.onnx"
    $PY tools/model_cards.py
    commit "models: default-x$1.onnx = $2" "models/default-x$1.onnx" models/README.md
}

one abpn 3 35 && default 3 abpn-x3.onnx
one xlsr 2 25 && default 2 xlsr-x2.onnx
one abpn 4 25 && default 4 abpn-x4.onnx
one abpn 3 15 --clipped
one xlsr 2 15 --clipped
one abpn 4 15 --clipped
one quicksrnet_s 3 12
one bicubicpp 3 12
one quicksrnet_s 3 12 --clipped
one bicubicpp 3 12 --clipped
echo "train_all done"
