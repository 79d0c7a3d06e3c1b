#!/usr/bin/env bash
# A private MariaDB server for tests: no systemd, --no-defaults, utf8mb4, loopback only, a free
# non-default port, its own temporary datadir.
#
#   eval "$(scripts/mariadb.sh start)"   # prints export LINLI_TEST_MYSQL_* lines
#   scripts/mariadb.sh stop "$LINLI_TEST_MYSQL_DIR"
set -euo pipefail

free_port() {
  /usr/bin/python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# mariadbd lives in /usr/sbin, which a non-root PATH may lack.
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

start() {
  local dir port user
  # /tmp keeps the socket path short (Unix sockets allow ~108 bytes).
  dir=$(mktemp -d /tmp/linli-mariadb.XXXXXX)
  # Any failure from here on stops the server and removes the directory.
  trap 'stop "$dir"' ERR
  user=$(id -un)
  mkdir -p "$dir/tmp"  # a private tmpdir: instances started at once never share temp files
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" --tmpdir="$dir/tmp" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 || {
    cat "$dir/install.log" >&2
    echo "mariadb.sh: mariadb-install-db failed" >&2
    exit 1
  }
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    "$MARIADBD" --no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/sock" \
      --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --tmpdir="$dir/tmp" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --innodb-flush-log-at-trx-commit=1 --max-connections=500 \
      --log-error="$dir/error.log" >/dev/null 2>&1 &
    for _ in $(seq 1 100); do
      if mariadb-admin --no-defaults --socket="$dir/sock" -uroot ping >/dev/null 2>&1; then
        mariadb --no-defaults --socket="$dir/sock" -uroot -e "
          CREATE USER 'linli'@'127.0.0.1' IDENTIFIED BY 'linli';
          GRANT ALL PRIVILEGES ON *.* TO 'linli'@'127.0.0.1';
          FLUSH PRIVILEGES;" >&2
        echo "export LINLI_TEST_MYSQL_DIR='$dir'"
        echo "export LINLI_TEST_MYSQL_PORT='$port'"
        echo "export LINLI_TEST_MYSQL_URL='mysql://linli:linli@127.0.0.1:$port/linli_test'"
        trap - ERR
        return 0
      fi
      if ! kill -0 $! 2>/dev/null; then break; fi  # died (port taken?): try another port
      sleep 0.1
    done
    kill $! 2>/dev/null || true
  done
  cat "$dir/error.log" >&2 || true
  echo "mariadb.sh: MariaDB did not start" >&2
  stop "$dir"
  exit 1
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -S "$dir/sock" ]; then
    mariadb-admin --no-defaults --socket="$dir/sock" -uroot shutdown >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/mariadbd.pid" ]; then
    local pid
    pid=$(cat "$dir/mariadbd.pid")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?usage: mariadb.sh stop DIR}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
