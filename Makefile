# The two commands: `make demo` and `make test`. Both install what they need first.
# `make test` also builds ASAN_BUILD (clang-14, ASan + UBSan: the fiber-free suites and a smoke
# run of each fuzz target); `make fuzz` runs each fuzz target for FUZZ_SECONDS.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps sanitizer-deps build demo test fuzz bench clean

all: build

deps:
	@./scripts/install-deps.sh

sanitizer-deps:
	@./scripts/install-deps.sh --sanitizers

$(BUILD)/build.ninja:
	@meson setup $(BUILD) --buildtype=release >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)

test: sanitizer-deps build
	@ASAN_BUILD=$(ASAN_BUILD) ./scripts/test.sh $(BUILD) $(JOBS)

fuzz: sanitizer-deps
	@./scripts/fuzz.sh $(ASAN_BUILD) $(FUZZ_SECONDS) $(JOBS)

bench: build
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
