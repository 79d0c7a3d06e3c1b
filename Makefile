# Linli — the two commands:
#   make run    install missing packages, build, start the four services with the demo street
#   make test   install, build, start a private MariaDB, run every test, stop it
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo

FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all bootstrap build run test test-future bench fuzz format clean soak

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

# The same suite with the clock (of the tests, the services and MariaDB) 400 days ahead, under
# libfaketime: nothing may depend on the day it runs. CI runs both.
FUTURE ?= +400d
test-future: build
	@BUILD_DIR=$(BUILD_DIR) LINLI_FAKETIME=$(FUTURE) scripts/test.sh

bench: build
	@BUILD_DIR=$(BUILD_DIR) scripts/bench.sh

# libFuzzer targets (clang, ASan+UBSan) in a separate build dir, each run FUZZ_SECONDS on a temp
# copy of its seed corpus: tests/fuzz/run_fuzzers.sh.
fuzz: bootstrap
	@command -v clang++ >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target linli_fuzzers -- --no-print-directory
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)

# Longer runs of the reliability suites (tests/idempotency_test.cc, tests/fault_test.cc,
# tests/kill_loop_test.cc, tests/slow_downstream_test.cc) on a private MariaDB: more retries per
# lost response, a longer database outage and healthy phase (sized to stay inside the 300 s ctest
# TIMEOUT of each fault test), and 50 SIGKILL cycles of linli-scheduling (SQLite and MariaDB) and
# of MariaDB itself.
SOAK_RETRIES ?= 3000
SOAK_OUTAGE_SECONDS ?= 30
SOAK_HEALTHY_SECONDS ?= 20
SOAK_KILL_CYCLES ?= 50
soak: build
	@BUILD_DIR=$(BUILD_DIR) CTEST_JOBS=1 LINLI_IDEMPOTENCY_RETRIES=$(SOAK_RETRIES) \
	  LINLI_FAULT_OUTAGE_SECONDS=$(SOAK_OUTAGE_SECONDS) \
	  LINLI_FAULT_HEALTHY_SECONDS=$(SOAK_HEALTHY_SECONDS) \
	  LINLI_KILL_SERVICE_CYCLES=$(SOAK_KILL_CYCLES) LINLI_KILL_DATABASE_CYCLES=$(SOAK_KILL_CYCLES) \
	  CTEST_ARGS="-R IdempotencyTest|FaultTest|KillLoopTest|SlowDownstreamTest -V" scripts/test.sh

# Container images of the four services with docker, podman or buildah
# (deploy/container/build.sh; not part of make test). IMAGE_ARGS goes to every build, e.g.
#   make image IMAGE_ARGS="--build-arg BASE=localhost/debian:12 --build-arg RUNTIME_BASE=localhost/debian:12-slim"
.PHONY: image
image:
	@deploy/container/build.sh $(IMAGE_ARGS)
