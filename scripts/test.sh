#!/usr/bin/env bash
# `make test`: starts a private MariaDB, runs every test with ctest against it and SQLite, always
# stops the database, and exits with ctest's status.
#
# LINLI_FAKETIME=+400d (`make test-future`) runs all of it, MariaDB and every service the tests
# start included, with the system clock moved by that offset (libfaketime, Debian's `faketime`):
# the suite must pass on any date, so no test may depend on the day it runs.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -n "${LINLI_FAKETIME:-}" ] && [ -z "${FAKETIME:-}" ]; then
  command -v faketime >/dev/null || { echo "test: LINLI_FAKETIME needs faketime (apt-get install faketime)" >&2; exit 1; }
  # -m: the thread-safe library (every service is multi-threaded); the monotonic clock stays
  # true, so timeouts and latencies are unaffected. Children inherit LD_PRELOAD and FAKETIME.
  exec faketime -m --exclude-monotonic -f "$LINLI_FAKETIME" "$0" "$@"
fi
if [ -n "${FAKETIME:-}" ]; then
  # Abseil (under gRPC) sleeps on futexes with absolute deadlines the kernel measures on the real
  # clock; this companion library moves them back by the offset (tests/support/faketime_futex.cc).
  shim="$(realpath -m "${BUILD_DIR:-build}")/lib/liblinli_faketime_futex.so"  # relative or not
  [ -f "$shim" ] || { echo "test: $shim is missing (make build)" >&2; exit 1; }
  case ":${LD_PRELOAD:-}:" in *":$shim:"*) ;; *) export LD_PRELOAD="${LD_PRELOAD:-}:$shim" ;; esac
  echo "test: clock moved by $FAKETIME: it is $(date -u '+%F %T') UTC here" >&2
fi

eval "$(scripts/mariadb.sh start)" || { echo "test: could not start MariaDB" >&2; exit 1; }
trap 'scripts/mariadb.sh stop "$LINLI_TEST_MYSQL_DIR"' EXIT INT TERM
echo "test: private MariaDB on 127.0.0.1:$LINLI_TEST_MYSQL_PORT ($LINLI_TEST_MYSQL_DIR)" >&2

ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${CTEST_JOBS:-2}" ${CTEST_ARGS:-}
status=$?
exit $status
