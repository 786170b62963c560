#!/bin/sh
# ORC 0.4.33's x86-64 backend saves r12 with a REX-less push, i.e. it pushes
# %rsp, so a program that needs r12..r15 (nine or more arrays) returns with
# a callee-saved register clobbered.  Fails when any function of the .orc
# file would be compiled to use them.
#   check-orc-registers.sh ORCC FILE.orc
set -eu
orcc=$1 src=$2
asm=$(mktemp)
trap 'rm -f "$asm"' EXIT
"$orcc" --assembly --target sse -o "$asm" "$src"
bad=$(awk '/^cfqp_orc_[a-z0-9_]*:/ { fn = $1 } /%r1[2-5]/ && fn { print fn }' "$asm" | sort -u)
if [ -n "$bad" ]; then
  echo "ORC functions that need r12..r15 (split them into fewer arrays):" $bad
  exit 1
fi
echo "no ORC function uses r12..r15 ($(grep -c '^cfqp_orc_[a-z0-9_]*:' "$asm") checked)"
