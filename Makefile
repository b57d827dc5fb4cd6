# The two commands: `make demo` and `make test`. Both install what they need first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test bench clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja:
	@meson setup $(BUILD) --buildtype=release >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)

test: build
	@./scripts/test.sh $(BUILD) $(JOBS)

bench: build
	@./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
