#!/usr/bin/env python3
"""Keeps every read of the time in common/, services/ and tools/ on the injected clock.

Rules (common/clock.h explains them):
  1. The system clock is read directly (absl::Now, std::chrono::system_clock::now, time(),
     gettimeofday, ...) only in common/clock.cc.
  2. Clock::Real() is taken only by programs' mains and by the operational records that are about
     the wall clock by definition (ALLOWED_REAL below); production code elsewhere gets its clock
     injected.
  3. Nothing, tests included, takes Clock::Real() as a default argument: a defaulted clock lets
     code read the wall clock by accident.

Usage: check_clock_reads.py REPO_ROOT     exits 1 and lists the offending lines
       check_clock_reads.py --self-test   plants each kind of violation and expects it caught
"""
import os
import re
import sys
import tempfile

ROOTS = ("common", "services", "tools")
SOURCE_SUFFIXES = (".cc", ".h")
DIRECT_READ = re.compile(
    r"absl::Now\s*\(|system_clock::now|\btime\s*\(\s*(nullptr|NULL|0)\s*\)|gettimeofday|"
    r"absl::GetCurrentTimeNanos|CLOCK_REALTIME|\blocaltime(_r)?\s*\(")
REAL_CLOCK = re.compile(r"Clock::Real\s*\(\s*\)")
DEFAULTED = re.compile(r"=\s*(linli::)?Clock::Real\s*\(\s*\)\s*[,)]")
ALLOWED_DIRECT = {"common/clock.cc"}
ALLOWED_REAL = {
    "common/clock.h",
    "common/clock.cc",
    "common/log.cc",  # log line timestamps
    "common/server.cc",  # request ids for tracing, the process start metric
    "common/storage/migrations.cc",  # when a migration was applied
    "tools/linli.cc",  # the CLI's main
}


def is_test(path):
    return (path.endswith("_test.cc") or path.startswith("tests/") or "/testing/" in path or
            "/fuzz/" in path)


def strip_comments(line):
    # Enough for this code base: no "//" inside the string literals of the lines that matter.
    return line.split("//", 1)[0]


def check(root):
    problems = []
    scanned = 0
    for top in ROOTS + ("tests", "bench"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                scanned += 1
                production = path.split("/")[0] in ROOTS and not is_test(path)
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    text = f.read()
                # Default arguments may span lines: look at the whole file without comments.
                code = "\n".join(strip_comments(l) for l in text.splitlines())
                for m in DEFAULTED.finditer(code):
                    line = code.count("\n", 0, m.start()) + 1
                    problems.append(f"{path}:{line}: Clock::Real() as a default argument")
                if not production:
                    continue
                for number, raw in enumerate(text.splitlines(), 1):
                    line = strip_comments(raw)
                    if DIRECT_READ.search(line) and path not in ALLOWED_DIRECT:
                        problems.append(f"{path}:{number}: reads the system clock directly "
                                        f"(inject a Clock; Stopwatch for elapsed time, "
                                        f"DeadlineAfter for gRPC deadlines): {raw.strip()}")
                    if (REAL_CLOCK.search(line) and path not in ALLOWED_REAL and
                            os.path.basename(path) != "main.cc"):
                        problems.append(f"{path}:{number}: Clock::Real() outside a main "
                                        f"(take the clock injected): {raw.strip()}")
    return scanned, problems


def self_test():
    planted = {
        "services/x/handler.cc": "absl::Time t = absl::Now();\n",
        "services/x/deadline.cc": "auto d = std::chrono::system_clock::now();\n",
        "common/real.cc": "const Clock& c = Clock::Real();\n",
        "common/defaulted.h": "void F(int a,\n       const Clock& clock = Clock::Real());\n",
        "tests/defaulted_test.cc": "void G(const Clock& c = linli::Clock::Real()) {}\n",
    }
    fine = {
        "common/clock.cc": "absl::Time Now() const { return absl::Now(); }\n",
        "services/x/main.cc": "const Clock& clock = Clock::Real();\n",
        "services/x/ok.cc": "// absl::Now() in a comment\nStopwatch s;\n",
        "tests/uses_now_test.cc": "absl::Time t = absl::Now();\n",
    }
    with tempfile.TemporaryDirectory() as root:
        for path, text in {**planted, **fine}.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        _, problems = check(root)
    caught = {p.split(":")[0] for p in problems}
    ok = True
    for path in planted:
        if path not in caught:
            print(f"self-test: {path} was not caught")
            ok = False
    for path in fine:
        if path in caught:
            print(f"self-test: {path} was flagged but is allowed")
            ok = False
    print("self-test:", "ok" if ok else "FAILED")
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    scanned, problems = check(sys.argv[1])
    if scanned < 100:
        print(f"only {scanned} source files found under {sys.argv[1]}: wrong root?")
        return 1
    for p in problems:
        print(p)
    print(f"{scanned} source files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
