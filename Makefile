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

demo: build
	$(BUILD)/examples/demo/tevo-demo $(BUILD)/attention_block.tir
	@echo; echo "== tevo opt --passes=default (canonicalize, cse, dce) =="
	$(BUILD)/tools/tevo opt $(BUILD)/attention_block.tir --passes=default --pass-stats
	@echo; echo "== tevo run --seed=1 on the optimised IR =="
	$(BUILD)/tools/tevo opt $(BUILD)/attention_block.tir --passes=default | $(BUILD)/tools/tevo run - --seed=1

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

bench: build
	@echo "bench: no benchmarks yet (see issue 4)"

clean:
	rm -rf $(BUILD) build-fuzz build-asan
