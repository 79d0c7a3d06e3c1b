#!/usr/bin/env bash
# `make test`: starts a private MariaDB, runs every test with ctest against it and SQLite, always
# stops the database, and exits with ctest's status.
set -uo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/mariadb.sh start)" || { echo "test: could not start MariaDB" >&2; exit 1; }
trap 'scripts/mariadb.sh stop "$LINLI_TEST_MYSQL_DIR"' EXIT INT TERM
echo "test: private MariaDB on 127.0.0.1:$LINLI_TEST_MYSQL_PORT ($LINLI_TEST_MYSQL_DIR)" >&2

ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${CTEST_JOBS:-2}" ${CTEST_ARGS:-}
status=$?
exit $status
