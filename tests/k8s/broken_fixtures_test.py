#!/usr/bin/env python3
"""Proves the manifest check fails on broken manifests, and for the right reasons.

  broken_fixtures_test.py CHECK_SCRIPT FIXTURE_DIR... [-- extra check arguments]

For each fixture: check_manifests.py must exit 1 and its output must contain every line of the
fixture's expected-problems.txt. A fixture's check-args.txt, when present, adds arguments for
it alone (one a line, e.g. --production).
"""

import os
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    check, fixtures = argv[0], argv[1:]
    failed = False
    for fixture in fixtures:
        own = []
        if os.path.exists(f"{fixture}/check-args.txt"):
            with open(f"{fixture}/check-args.txt", encoding="utf-8") as f:
                own = [line.strip() for line in f if line.strip()]
        run = subprocess.run([sys.executable, check] + extra + own + [fixture],
                             capture_output=True, text=True, check=False)
        output = run.stdout + run.stderr
        with open(f"{fixture}/expected-problems.txt", encoding="utf-8") as f:
            expected = [line.rstrip("\n") for line in f if line.strip()]
        missing = [e for e in expected if e not in output]
        if run.returncode != 1:
            print(f"FAIL {fixture}: check exited {run.returncode}, expected 1")
            failed = True
        if missing:
            print(f"FAIL {fixture}: problems not reported:")
            for m in missing:
                print(f"  {m}")
            failed = True
        if run.returncode != 1 or missing:
            print("check output was:\n" + output)
        else:
            print(f"ok {fixture}: rejected with all {len(expected)} expected problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
