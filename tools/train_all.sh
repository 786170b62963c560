#!/bin/sh
# Train, validate, export and commit CFQP's SR models one after another (the
# CPU is shared: never two trainings at once).  Re-running resumes: a finished
# run is only re-validated/exported, an interrupted one continues from its
# checkpoint in tools/.cache/ckpt/.
#
#   nohup nice -n 10 tools/train_all.sh >> tools/.cache/logs/train_all.out 2>&1 &
#
# Start it twice for two 1-thread workers on the same queue (measured here:
# ABPN x3 4.7 steps/s on one thread, 5.4 on two, so two 1-thread workers do
# ~1.7x the work of one 2-thread run on this 2-core machine); a worker killed
# mid-run leaves its lock: remove tools/.cache/locks/<name> before restarting.
#
# Clip-free nets train on a wall-time budget (cosine over the budget); each
# clipped twin then trains for the same number of steps with a step-based
# cosine, so the INT8 ablation compares nets of equal training.
# x2 default is ABPN-28 (anchor: converges in the short budgets of a shared
# CPU; XLSR without an anchor was at L1 0.11 after 500 steps vs ABPN's 0.012).
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

one() {  # arch scale [--clipped] budget-args...
    arch=$1; s=$2; shift 2
    name=$arch-x$s
    [ "$1" = "--clipped" ] && name=$name-clipped
    $PY tools/train.py --arch "$arch" --scale "$s" --threads "${THREADS:-1}" \
        --export "models/$name.onnx" "$@" || return 1
    $PY tools/model_cards.py
    commit "models: $name.onnx trained on the Debian wallpaper photos" \
        "models/$name.onnx" "models/records/$name.json" models/README.md
}

same_steps() {  # the clipped twin gets the step count of the clip-free run, step-scheduled
    if n=$($PY -c "import json; print(json.load(open('models/records/$1.json'))['steps'])"); then
        echo "--steps $n --minutes 0"
    else
        echo "--minutes 15 --steps 1000000"
    fi
}

default() {  # scale file
    cmp -s "models/$2" "models/default-x$1.onnx" && return 0
    cp "models/$2" "models/default-x$1.onnx"
    $PY tools/model_cards.py
    commit "models: default-x$1.onnx = $2" "models/default-x$1.onnx" models/README.md
}

# One queue, any number of workers: a worker takes the first model that is
# neither committed nor taken by another worker (a lock directory in
# tools/.cache/locks/), so two 1-thread workers share the list without ever
# training the same net.  Step budgets (--minutes 0) were sized from the
# 1-thread rates, so a schedule does not depend on what else shares the CPU.
# A clipped twin waits for its clip-free net's run (the step count).  A
# committed model is redone when its recipe changed: a net that now has a
# data init (sr_models: BicubicPP, XLSR) but was trained without one.
LOCKS=tools/.cache/locks
mkdir -p "$LOCKS"

take() {  # name: 0 when this worker got the model
    mkdir "$LOCKS/$1" 2>/dev/null
}

current() {  # name: 0 when models/<name>.onnx is committed, unchanged, and
    # (for a net with a data init) was trained from it
    git ls-files --error-unmatch "models/$1.onnx" >/dev/null 2>&1 \
        && git diff --quiet HEAD -- "models/$1.onnx" || return 1
    $PY - "$1" <<'PY'
import json, os, sys
sys.path.insert(0, "tools")
import sr_models
r = json.load(open("models/records/%s.json" % sys.argv[1]))
has_init = hasattr(sr_models.build(r["arch"], r["scale"], r["clipped"]), "data_init")
sys.exit(0 if r.get("data_init", False) == has_init else 1)
PY
}

job() {  # arch scale [--clipped] [budget-args...]: one queue entry
    name=$1-x$2
    [ "$3" = "--clipped" ] && name=$name-clipped
    [ -z "$FORCE" ] && current "$name" && return 0
    take "$name" || return 0
    if ! current "$name" && [ -e "models/$name.onnx" ] && [ -e "tools/.cache/ckpt/$name.pt" ]; then
        # a finished checkpoint of an older recipe would only be re-exported
        $PY -c "import torch, sys; sys.exit(0 if torch.load('tools/.cache/ckpt/$name.pt').get('done') else 1)" \
            && git ls-files --error-unmatch "models/$name.onnx" >/dev/null 2>&1 \
            && mv "tools/.cache/ckpt/$name.pt" "tools/.cache/ckpt/$name.old.pt"
    fi
    if [ "$3" = "--clipped" ]; then
        while [ -d "$LOCKS/$1-x$2" ]; do sleep 30; done
        one "$@" $(same_steps "$1-x$2")
    else
        one "$@"
    fi
    rmdir "$LOCKS/$name"
}

queue() {
    job abpn 3 --minutes 35 --steps 1000000 && default 3 abpn-x3.onnx
    job abpn 2 --minutes 25 --steps 1000000 && default 2 abpn-x2.onnx
    job abpn 4 --minutes 25 --steps 1000000 && default 4 abpn-x4.onnx
    job abpn 3 --clipped
    job bicubicpp 3 --steps 12000 --minutes 0
    job bicubicpp 2 --steps 12000 --minutes 0
    job quicksrnet_s 3 --steps 12000 --minutes 0
    job quicksrnet_s 2 --steps 12000 --minutes 0
    job xlsr 3 --steps 16000 --minutes 0
    job xlsr 2 --steps 16000 --minutes 0
    job quicksrnet_s 3 --clipped
    job quicksrnet_s 2 --clipped
    job abpn 2 --clipped
    job xlsr 3 --clipped
    job xlsr 2 --clipped
    job abpn 4 --clipped
}
queue
echo "train_all worker $$ done"
