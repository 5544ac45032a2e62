#!/bin/bash
# aot_example_test.sh: the examples/aot apps end to end, one CTest test per case
# (examples/aot/CMakeLists.txt).
#   aot_example_test.sh CASE GPT GPT_AOT TRAIN_AOT TEVO MODEL_DIR WORKDIR
# GPT is the JIT/interpreter trainer (examples/gpt); MODEL_DIR holds gpt_tiny/gpt_tiny.tir.
set -u
case_name=$1 gpt=$2 gpt_aot=$3 train_aot=$4 tevo=$5 models=$6 work=$7
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
run() { "$@" || fail "command failed: $*"; }
# The sample text a gpt / gpt_aot run printed to FILE (everything after "sample (...):").
sample_of() { sed -n '/^sample (/,$p' "$1" | tail -n +2; }
# expect_error PATTERN CMD...: CMD exits 1 with exactly one stderr line matching PATTERN.
expect_error() {
  local pat=$1; shift
  "$@" >out.txt 2>err.txt; local rc=$?
  [ "$rc" = 1 ] || fail "exit status $rc (wanted 1) from: $* ($(cat err.txt))"
  [ "$(wc -l <err.txt)" = 1 ] || fail "stderr is not one line from: $*: $(cat err.txt)"
  grep -Eq "error: .*$pat" err.txt || fail "stderr '$(cat err.txt)' does not match '$pat'"
}
# A JIT run of `gpt` on the tiny config; checkpoint $1, output in $1.log.
gpt_train() { run "$gpt" --tiny --backend=cpu --checkpoint="$1" "${@:2}" >"$1.log" 2>/dev/null; }

case $case_name in
no_llvm) # the apps link the AOT runtime only
  for app in "$gpt_aot" "$train_aot"; do
    ldd "$app" >ldd.txt || fail "ldd $app"
    ! grep -qi llvm ldd.txt || fail "$app links LLVM: $(grep -i llvm ldd.txt)"
    grep -q dnnl ldd.txt || fail "$app: no oneDNN in ldd output (not the app?)"
  done ;;
gpt) # gpt trains 30 steps and samples; gpt_aot samples the same text from its checkpoint
  gpt_train ck.safetensors --steps=30 --sample=60 --seed=3
  run "$gpt_aot" ck.safetensors --sample=60 --seed=3 --threads=1 >aot.txt
  sample_of ck.safetensors.log >want.txt
  sample_of aot.txt >got.txt
  [ "$(wc -c <got.txt)" = 61 ] || fail "gpt_aot printed $(wc -c <got.txt) bytes, not 60 + newline"
  cmp -s want.txt got.txt || fail "samples differ: gpt '$(cat want.txt)' vs gpt_aot '$(cat got.txt)'"
  run "$gpt_aot" ck.safetensors --sample=300 --temperature=1.2 --top-k=0 --seed=9 >long.txt
  [ "$(sample_of long.txt | wc -c)" = 301 ] || fail "gpt_aot --sample=300: $(cat long.txt)"
  # Logits on a full context against the reference interpreter.
  run "$gpt_aot" ck.safetensors --write-inputs=in.safetensors >/dev/null
  run "$tevo" run "$models/gpt_tiny/gpt_tiny.tir" --inputs=in.safetensors --outputs=ref.safetensors >/dev/null
  run "$gpt_aot" ck.safetensors --check-logits=ref.safetensors --threads=2 >check.txt
  grep -q "logits match the reference" check.txt || fail "check-logits: $(cat check.txt)" ;;
train) # train_aot: the loss falls, step 1 is gpt's, the checkpoint serves gpt_aot and gpt
  run "$train_aot" --steps=30 --checkpoint=aot.safetensors >train.txt
  grep -c '^step ' train.txt | grep -qx 30 || fail "not 30 steps: $(cat train.txt)"
  first=$(awk '$1 == "step" && $2 == 1 {print $4}' train.txt)
  last=$(sed -n 's/^final loss: \([0-9.]*\) .*/\1/p' train.txt)   # mean of steps 21-30
  [ -n "$first" ] && [ -n "$last" ] || fail "no losses: $(cat train.txt)"
  awk -v a="$first" -v b="$last" 'BEGIN {exit !(b < a - 0.5)}' || fail "loss did not fall: $first -> $last"
  gpt_train jit.safetensors --steps=1 --sample=0
  jit=$(sed -n 's/^final loss: \([0-9.]*\) .*/\1/p' jit.safetensors.log)
  [ -n "$jit" ] || fail "no loss from gpt: $(cat jit.safetensors.log)"
  # gpt prints 4 decimals: allow their rounding on top of 1e-4 relative.
  awk -v a="$first" -v b="$jit" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4 * b + 5e-5)}' ||
    fail "step-1 loss $first differs from the JIT trainer's $jit"
  run "$gpt_aot" aot.safetensors --sample=40 >sample.txt
  [ "$(sample_of sample.txt | wc -c)" = 41 ] || fail "gpt_aot on train_aot's checkpoint: $(cat sample.txt)"
  # Resuming continues the step count (train_aot and gpt both).
  run "$train_aot" --resume=aot.safetensors --steps=2 --checkpoint=aot2.safetensors >resume.txt
  grep -q '^step 32 loss' resume.txt || fail "resume: $(cat resume.txt)"
  gpt_train aot.safetensors --resume --steps=1 --sample=0
  grep -q 'resumed from .* at step 30' aot.safetensors.log || fail "gpt --resume: $(cat aot.safetensors.log)" ;;
errors) # user errors: one line, exit status 1
  expect_error "cannot open|No such file|missing" "$gpt_aot" /nonexistent/ck.safetensors --sample=5
  expect_error "unknown option '--bogus'" "$gpt_aot" x.safetensors --bogus=1
  expect_error "--temperature must be > 0" "$gpt_aot" x.safetensors --temperature=0
  expect_error "--steps: not an integer" "$train_aot" --steps=ten
  expect_error "exclude each other" "$train_aot" --init=a --resume=b
  head -c 2000 /dev/zero | tr '\0' a >one_char.txt   # 1 KiB and more, but a vocabulary of 1
  expect_error "distinct characters, the model was built for" "$train_aot" --data=one_char.txt
  expect_error "distinct characters, the model was built for" "$gpt_aot" x.safetensors --data=one_char.txt ;;
*) fail "unknown case" ;;
esac
echo "PASS ($case_name)"
