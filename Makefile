# Thin wrapper over CMake. `make run` and `make test` are the two commands a new user needs.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: all deps configure build run test unit integration bench fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

configure:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/sluice serve $(ARGS)

test: build
	@scripts/run-tests.sh $(BUILD_DIR)

unit: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target sluice_unit_tests
	@cd $(BUILD_DIR) && ctest --output-on-failure

integration: build
	@cd tests/integration && SLUICE_BIN=$(CURDIR)/$(BUILD_DIR)/sluice node --test

bench: build
	@bench/run.sh $(BUILD_DIR)/sluice

fuzz:
	@scripts/fuzz.sh

format:
	@find src tests fuzz bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
