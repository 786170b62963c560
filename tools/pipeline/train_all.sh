#!/bin/sh
# Train, validate, export and commit CFQP's SR models one after another (the
# CPU is shared: never two trainings at once).  Re-running resumes: a finished
# run is only re-validated/exported, an interrupted one continues from its
# checkpoint in tools/.cache/ckpt/.
#
#   nohup nice -n 10 tools/pipeline/train_all.sh >> tools/.cache/logs/train_all.out 2>&1 &
#
# Start it twice for two 1-thread workers on the same queue (measured here:
# ABPN x3 4.7 steps/s on one thread, 5.4 on two, so two 1-thread workers do
# ~1.7x the work of one 2-thread run on this 2-core machine); a worker killed
# mid-run leaves its lock: remove tools/.cache/locks/<name> before restarting.
#
# The embedded defaults (models/default-x*) are not made here: the rule in
# tools/bench/evaluate.py picks them from the engine's measurements.
#
# A model that is current (see current() below) is skipped (FORCE=1 redoes
# it).  Env: NO_COMMIT=1 skips the git commits; THREADS (default 1:
# on this 2-core machine shared with builds and fuzzers, one thread measured
# 2x faster per step than two, whose OpenMP barriers stall when a core is
# taken away).
cd "$(dirname "$0")/../.." || exit 1
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

one() {  # name train.py-args...
    name=$1; shift
    $PY tools/pipeline/train.py --threads "${THREADS:-1}" --export "models/$name.onnx" "$@" || return 1
    $PY tools/pipeline/model_cards.py
    commit "models: $name.onnx trained on the Debian wallpaper photos" \
        "models/$name.onnx" "models/records/$name.json" models/README.md
}

# One queue, any number of workers: a worker takes the first model that is
# neither current nor taken by another worker (a lock directory in
# tools/.cache/locks/), so two 1-thread workers share the list without ever
# training the same net.  Every entry has a step budget (--steps N
# --minutes 0, cosine over the steps), so a schedule does not depend on what
# else shares the CPU, and a clipped twin is listed with its clip-free net's
# budget: the INT8 ablation compares nets of equal training.  A committed
# model is redone when its recipe changed:
# another step budget, or a net that now has a data init (sr_models:
# BicubicPP, XLSR) but was trained without one.
LOCKS=tools/.cache/locks
mkdir -p "$LOCKS"

take() {  # name: 0 when this worker got the model
    mkdir "$LOCKS/$1" 2>/dev/null
}

current() {  # name steps loss-on-clamp(0|1): 0 when models/<name>.onnx is
    # committed, unchanged, and trained on a GPU (gpu_train.py) or for these
    # steps, with the loss on the clamped output or not as asked, and (for a
    # net with a data init) from it
    git ls-files --error-unmatch "models/$1.onnx" >/dev/null 2>&1 \
        && git diff --quiet HEAD -- "models/$1.onnx" || return 1
    $PY - "$1" "$2" "$3" <<'PY'
import json, os, sys
sys.path.insert(0, "tools/pipeline")
import model_cards, sr_models
r = json.load(open("models/records/%s.json" % sys.argv[1]))
if model_cards.on_gpu(r):
    sys.exit(0)  # trained on a GPU by tools/pipeline/gpu_train.py: not this queue's recipe to redo
has_init = hasattr(sr_models.build(r["arch"], r["scale"], r["clipped"]), "data_init")
sys.exit(0 if bool(r.get("data_init")) == has_init and r["steps"] == int(sys.argv[2])
         and bool(r.get("loss_on_clamp")) == (sys.argv[3] == "1") else 1)
PY
}

job() {  # arch scale [--clipped | --loss-on-clamp | --twin-weights] steps
    name=$1-x$2
    args="--arch $1 --scale $2"
    shift 2
    loc=0
    case $1 in
    --clipped) name=$name-clipped; args="$args --clipped"; shift ;;
    --loss-on-clamp) loc=1; args="$args --loss-on-clamp"; shift ;;
    --twin-weights) loc=1; args="$args --loss-on-clamp --twin-weights"; shift ;;
    esac
    steps=$1
    [ -z "$FORCE" ] && current "$name" "$steps" "$loc" && return 0
    case $args in *--twin-weights*) current "$name-clipped" "$steps" 0 || return 0 ;; esac
    take "$name" || return 0
    if [ -e "tools/.cache/ckpt/$name.pt" ]; then
        # the model is not current, so a finished checkpoint (or one of
        # another budget) is of another recipe: it would only be re-exported
        $PY -c "import torch, sys; c = torch.load('tools/.cache/ckpt/$name.pt'); sys.exit(0 if not c.get('done') and c['args']['steps'] == $steps and bool(c['args'].get('loss_on_clamp')) == bool($loc) else 1)" \
            || mv "tools/.cache/ckpt/$name.pt" "tools/.cache/ckpt/$name.old.pt"
    fi
    one "$name" $args --steps "$steps" --minutes 0
    rmdir "$LOCKS/$name"
}

# Clip-free nets train with the L1 loss on the clamped output, as their
# twins' loss and the byte write see it (docs/cfqp.md, "The second target at
# equal weights").  Where the clip is only the output's (ABPN, XLSR), that
# recipe trains the twin's weights, so the clip-free net takes them
# (--twin-weights) after its twin; a twin still training makes it wait for
# the next run of the queue.  Bicubic++ has no twin in the queue; its nets
# keep the loss on the raw output, since the clamped one moved its two scales
# opposite ways (docs/cfqp.md, "The shipped clip-free nets, trained on the
# clamped output").
queue() {
    job abpn 3 --clipped 28000
    job abpn 3 --twin-weights 28000
    job abpn 2 --clipped 18000
    job abpn 2 --twin-weights 18000
    job abpn 4 --clipped 18000
    job abpn 4 --twin-weights 18000
    job bicubicpp 3 60000
    job bicubicpp 2 60000
    job quicksrnet_s 3 --loss-on-clamp 12000
    job quicksrnet_s 3 --clipped 12000
    job quicksrnet_s 2 --loss-on-clamp 12000
    job quicksrnet_s 2 --clipped 12000
    job xlsr 3 --clipped 32000
    job xlsr 3 --twin-weights 32000
    job xlsr 2 --clipped 16000
    job xlsr 2 --twin-weights 16000
}
queue
echo "train_all worker $$ done"
