# tevo quick start: `make demo` and `make test`. Both install missing packages first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build demo test fuzz bench clean asan

deps:
	@scripts/setup-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

DEMO := $(BUILD)/demo
demo: build
	@mkdir -p $(DEMO)
	$(BUILD)/examples/demo/tevo-demo $(BUILD)/attention_block.tir
	@echo; echo "== tevo opt: the default pipeline, then the CPU backend's decompose + fuse =="
	$(BUILD)/tools/tevo opt $(BUILD)/attention_block.tir --passes=default,decompose,fuse \
	  --print-after=fuse --pass-stats -o $(DEMO)/fused.tir
	@echo; echo "== tevo run: the f64 reference interpreter on inputs from --seed=1 =="
	$(BUILD)/tools/tevo run $(BUILD)/attention_block.tir --seed=1 \
	  --save-inputs=$(DEMO)/in.safetensors --outputs=$(DEMO)/ref.safetensors
	@echo; echo "== tevo run --backend=cpu: compiled in process (LLVM + oneDNN), checked =="
	$(BUILD)/tools/tevo run $(BUILD)/attention_block.tir --backend=cpu --stats \
	  --inputs=$(DEMO)/in.safetensors --check=$(DEMO)/ref.safetensors
	@echo; echo "== tevo compile --emit=exe: ahead of time; the binary links no LLVM =="
	$(BUILD)/tools/tevo compile $(BUILD)/attention_block.tir --emit=exe -o $(DEMO)/attention_block
	@if ldd $(DEMO)/attention_block | grep -qi llvm; then echo "LLVM linked!"; exit 1; \
	  else echo "ldd $(DEMO)/attention_block: no libLLVM"; fi
	$(DEMO)/attention_block $(DEMO)/in.safetensors $(DEMO)/aot.safetensors
	$(BUILD)/tools/tevo run $(BUILD)/attention_block.tir --inputs=$(DEMO)/in.safetensors \
	  --check=$(DEMO)/aot.safetensors

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz: deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_C_COMPILER=clang-19 -DTEVO_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target fuzz_parser fuzz_safetensors
	scripts/run-fuzz build-fuzz $${FUZZ_SECONDS:-300}

asan: deps
	cmake --preset asan
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# Benchmarks: a Release build of tevo-bench and tevo, then the whole suite side by side with
# PyTorch (bench/run.py; 35 min to over an hour on 2 cores with the variant suite: the
# issue-4 half takes ~8 min). Not part of `make test`.
bench:
	@scripts/setup-deps --bench
	cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build build-release -j $(JOBS) --target tevo-bench tevo
	TEVO_BENCH_FROM_MAKE=1 /usr/bin/python3 bench/run.py --build build-release --profile --update-docs

clean:
	rm -rf $(BUILD) build-fuzz build-asan
