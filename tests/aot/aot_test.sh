#!/bin/bash
# aot_test.sh: AOT round trips, one CTest test per case (tests/unit/aot/aot.cmake).
#   aot_test.sh CASE TEVO TESTTOOL CC SRCDIR WORKDIR
# Models are compiled with `tevo compile`, run on inputs that `tevo run --seed`
# generates, and compared with `tevo run` on the reference interpreter.
set -u
case_name=$1 tevo=$2 tool=$3 cc=$4 src=$5 work=$6
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
run() { "$@" || fail "command failed: $*"; }
# expect_error PATTERN CMD...: CMD exits 1 with exactly one stderr line matching PATTERN.
expect_error() {
  local pat=$1; shift
  "$@" >out.txt 2>err.txt; local rc=$?
  [ "$rc" = 1 ] || fail "exit status $rc (wanted 1) from: $* ($(cat err.txt))"
  [ "$(wc -l <err.txt)" = 1 ] || fail "stderr is not one line from: $*: $(cat err.txt)"
  grep -Eq "^error: .*$pat" err.txt || fail "stderr '$(cat err.txt)' does not match '$pat'"
}
# Inputs (and parameter values) of a model from its *_inputs function, and the reference.
inputs() { run "$tevo" run "$src/$1.tir" --func="$1_inputs" --seed="$2" --outputs=all.safetensors >/dev/null
           run "$tevo" run "$src/$1.tir" --func="$1" --inputs=all.safetensors --outputs=ref.safetensors >/dev/null; }
no_llvm() { ldd "$1" >ldd.txt || fail "ldd $1"; ! grep -qi llvm ldd.txt || fail "$1 links LLVM: $(grep -i llvm ldd.txt)"; }

case $case_name in
exe_mlp) # parameters from the weights file tevo compile writes, and from the input file
  inputs mlp 1
  mkdir bin
  run "$tevo" compile "$src/mlp.tir" --func=mlp --target=cpu --emit=exe -o bin/mlp --weights=all.safetensors
  [ -x bin/mlp ] && [ -f bin/mlp.h ] && [ -f bin/mlp.safetensors ] || fail "missing artefact files: $(ls bin)"
  grep -q '#define MLP_NUM_INPUTS 4' bin/mlp.h || fail "mlp.h: wrong input count"
  run bin/mlp all.safetensors out1.safetensors --weights bin/mlp.safetensors --threads 1
  run "$tool" compare ref.safetensors out1.safetensors
  run bin/mlp all.safetensors out2.safetensors --threads=2
  run "$tool" compare ref.safetensors out2.safetensors
  no_llvm bin/mlp ;;
exe_norm_attn) # reduce groups (layer_norm, softmax, sum) around a matmul, two outputs
  inputs norm_attn 2
  run "$tevo" compile "$src/norm_attn.tir" --emit=exe -o na --name=norm_attn --weights=all.safetensors
  run ./na all.safetensors out.safetensors --weights norm_attn.safetensors
  run "$tool" compare ref.safetensors out.safetensors ;;
embed) # parameters embedded: the artefact has one input left
  inputs mlp 3
  run "$tevo" compile "$src/mlp.tir" --func=mlp --emit=exe -o mlp_e --weights=all.safetensors --embed-weights
  grep -q '#define MLP_E_NUM_INPUTS 1' mlp_e.h || fail "mlp_e.h: parameters still inputs"
  [ ! -e mlp_e.safetensors ] || fail "weights file written although embedded"
  run "$tool" extract all.safetensors x x.bin
  run "$tool" pack x.safetensors x f32 8,16 x.bin
  run ./mlp_e x.safetensors out.safetensors
  run "$tool" compare ref.safetensors out.safetensors ;;
shared_c) # a C program built with cc against the header and the shared library
  inputs mlp 4
  run "$tevo" compile "$src/mlp.tir" --func=mlp --emit=shared -o libmlp.so --weights=all.safetensors
  no_llvm libmlp.so
  nm -D --defined-only libmlp.so | grep -q ' T mlp_run$' || fail "libmlp.so does not export mlp_run"
  ! nm -D --defined-only libmlp.so | grep -q 'tevo' || fail "libmlp.so exports runtime symbols"
  run "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -I. "$src/use_model.c" -o use_model \
      -L. -lmlp -Wl,-rpath,"$PWD"
  run "$tool" extract all.safetensors x x.bin
  run ./use_model mlp.safetensors x.bin y.bin 2>use_err.txt
  grep -q "expected error: input 'w1' is null" use_err.txt ||
    fail "use_model: no error for unbound parameters: $(cat use_err.txt)"
  run "$tool" pack y.safetensors y f32 8,4 y.bin
  run "$tool" compare ref.safetensors y.safetensors ;;
obj_lib) # an object file and a static library with the entry points, LLVM-free
  run "$tevo" compile "$src/mlp.tir" --func=mlp --emit=obj -o mlp.o
  run "$tevo" compile "$src/mlp.tir" --func=mlp --emit=lib -o libmlp2.a --name=mlp2
  nm mlp.o | grep -q ' T mlp_create$' || fail "mlp.o lacks mlp_create"
  nm mlp.o | grep -q ' U tevo_model_create$' || fail "mlp.o does not call the runtime"
  [ "$(nm -g --defined-only mlp.o | grep -vc ' mlp_')" = 0 ] || fail "mlp.o exports more than mlp_*"
  ar t libmlp2.a | grep -qx 'mlp2.o' || fail "libmlp2.a: $(ar t libmlp2.a)"
  nm libmlp2.a | grep -q ' T mlp2_run$' || fail "libmlp2.a lacks mlp2_run"
  [ ! -e mlp.safetensors ] || fail "weights written without --weights" ;;
bad_inputs) # the executable rejects bad input files with one line and status 1
  inputs mlp 5
  run "$tevo" compile "$src/mlp.tir" --func=mlp --emit=exe -o mlp --weights=all.safetensors
  for f in bad_shape bad_dtype no_x bad_w1; do
    run "$tevo" run "$src/mlp.tir" --func=$f --seed=1 --outputs=$f.safetensors >/dev/null
  done
  expect_error "input 'x' is f32\[16,8\], expected f32\[8,16\]" ./mlp bad_shape.safetensors o.st
  expect_error "input 'x' is f64\[8,16\], expected f32\[8,16\]" ./mlp bad_dtype.safetensors o.st
  expect_error "missing input 'x'" ./mlp no_x.safetensors o.st
  run "$tool" extract all.safetensors x x.bin
  run "$tool" pack x_only.safetensors x f32 8,16 x.bin
  expect_error "missing input 'w1' \\(f32\\[16,32\\]\\); parameters may come from --weights" \
    ./mlp x_only.safetensors o.st
  expect_error "tensor 'w1' is f32\[32,16\] but parameter 'w1' is f32\[16,32\]" \
    ./mlp all.safetensors o.st --weights bad_w1.safetensors
  head -c 100 all.safetensors >trunc.safetensors
  expect_error "trunc.safetensors" ./mlp trunc.safetensors o.st
  expect_error "nonexistent" ./mlp nonexistent.safetensors o.st
  expect_error "--threads" ./mlp all.safetensors o.st --threads=x
  expect_error "unknown option" ./mlp all.safetensors o.st --bogus
  [ ! -e o.st ] || fail "an output file was written by a failed run" ;;
errors) # tevo compile's user errors: one line, status 1, nothing written
  expect_error "not a C identifier" "$tevo" compile "$src/mlp.tir" --emit=obj -o m.o --name=a-b
  expect_error "reserves" "$tevo" compile "$src/mlp.tir" --emit=obj -o m.o --name=tevo_x
  expect_error "needs --weights" "$tevo" compile "$src/mlp.tir" --emit=obj -o m.o --embed-weights
  expect_error "unknown --emit 'dll'" "$tevo" compile "$src/mlp.tir" --emit=dll -o m.o
  expect_error "unknown --target 'gpu'" "$tevo" compile "$src/mlp.tir" --target=gpu --emit=obj -o m.o
  expect_error "-o OUT is required" "$tevo" compile "$src/mlp.tir" --emit=obj
  run "$tevo" run "$src/mlp.tir" --func=bad_w1 --seed=1 --outputs=bad_w1.safetensors >/dev/null
  expect_error "bad_w1.safetensors: no tensor 'w2' for parameter %w2|bad_w1.safetensors: tensor 'w1' is f32\[32,16\] but parameter %w1 is f32\[16,32\]" \
    "$tevo" compile "$src/mlp.tir" --func=mlp --emit=exe -o m --weights=bad_w1.safetensors
  expect_error "unknown CPU 'nocpu'" "$tevo" compile "$src/mlp.tir" --emit=obj -o m.o --cpu=nocpu
  expect_error "no_dir/m: cannot write: directory 'no_dir' does not exist" "$tevo" compile "$src/mlp.tir" --emit=exe -o no_dir/m
  [ -z "$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$' -e '^bad_w1.safetensors$')" ] ||
    fail "files left behind: $(ls -A)" ;;
*) fail "unknown case" ;;
esac
echo "PASS ($case_name)"
