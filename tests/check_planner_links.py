#!/usr/bin/env python3
"""Proves that the planner links no gRPC, OpenSSL or storage (issue 20).

linli_planner is pure C++ on protobuf messages; its binaries (planner_test, linli-plan) must not
depend on gRPC, OpenSSL, SQLite, MySQL/MariaDB or Linli's storage layer. A binary fails when
  - `readelf -d` lists one of those libraries as NEEDED (the link line named it, used or not), or
  - `nm -C` shows a symbol of theirs, defined or undefined (their code was linked in statically,
    e.g. through linli_common, or is called).

Usage: check_planner_links.py BINARY...                     exits 1 and lists what it found
       check_planner_links.py --expect-forbidden BINARY...  exits 0 only if every BINARY has
                                                            something forbidden (a binary that
                                                            does link gRPC proves the check works)
"""
import re
import subprocess
import sys

FORBIDDEN_LIBRARIES = re.compile(
    r"^lib(grpc|gpr|upb|address_sorting|ssl|crypto|sqlite3|mysqlcppconn|mariadb|mysqlclient)\b")
# Demangled names: gRPC's C core (grpc_, gpr_) and C++ API (grpc::, but not google::rpc::),
# OpenSSL, SQLite, the MySQL connector (sql::mysql::) and client library, Linli's storage.
FORBIDDEN_SYMBOLS = re.compile(
    r"(?<![\w:])(grpc_|gpr_|grpc::|SSL_|EVP_|OPENSSL_|CRYPTO_|sqlite3_|mysql_|sql::mysql::|"
    r"linli::storage::)")


def needed_libraries(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True,
                         text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def symbols(binary):
    out = subprocess.run(["nm", "-C", binary], check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def forbidden(binary):
    found = [f"needs {lib}" for lib in needed_libraries(binary) if FORBIDDEN_LIBRARIES.match(lib)]
    hits = [line for line in symbols(binary) if FORBIDDEN_SYMBOLS.search(line)]
    # "0000000000001234 T name" or "                 U name": keep the name.
    found += ["symbol " + re.sub(r"^\s*[0-9a-f]*\s+\S\s+", "", line) for line in hits[:20]]
    if len(hits) > 20:
        found.append(f"... and {len(hits) - 20} more symbols")
    return found


def main(argv):
    expect = argv[:1] == ["--expect-forbidden"]
    binaries = argv[1:] if expect else argv
    if not binaries:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for binary in binaries:
        found = forbidden(binary)
        if expect and not found:
            print(f"{binary}: expected gRPC/OpenSSL/storage, found none: the check is blind")
            failed = True
        elif not expect and found:
            print(f"{binary} links what the planner must not:")
            for item in found:
                print(f"  {item}")
            failed = True
        else:
            print(f"{binary}: ok ({len(found)} forbidden items)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
