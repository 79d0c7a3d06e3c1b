# Linli — the two commands:
#   make run    install missing packages, build, start the four services with the demo street
#   make test   install, build, start a private MariaDB, run every test, stop it
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all bootstrap build run test bench format clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory

run: build
	@scripts/run.sh

test: build
	@BUILD_DIR=$(BUILD_DIR) scripts/test.sh

bench: build
	@build/bin/registry_bench

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
