#!/usr/bin/python3
"""The typed actors' interfaces are checked by the compiler: typed_misuse.cpp
compiles as written, and each of its misuses fails on CAF's type checks: a
message an interface lacks has no `caf::response_type` (the request does not
resolve), a reply of the wrong type fails a static assertion.

  typed_interfaces_test.py <c++ compiler> <source root>
"""

import os
import subprocess
import sys

CASES = {
    0: "the interfaces used as meant",
    1: "the sink asked for stats",
    2: "one record's reply taken as a vector",
    3: "a supervisor's children taken as ints",
    4: "a bridge scaled by a string",
    5: "an untyped actor as a bridge's worker",
    6: "a batch answered with one error",
    7: "a probe's state taken as a bool",
    8: "the broadcaster's channels asked for without a prefix",
}

# What the compiler must say about a misuse: CAF's checks of a request
# (no response_type, a static assertion on the reply) or of a typed
# behavior; a worker factory returning an untyped actor does not convert to
# the binding's factory of record_worker_actors.
MARKERS = {
    5: ("record_worker_actor", "caf::typed_actor<"),
}
DEFAULT_MARKERS = ("static assert", "caf::response_type<")


def main():
    compiler, root = sys.argv[1], sys.argv[2]
    source = os.path.join(root, "tests", "unit", "structure",
                          "typed_misuse.cpp")
    runs = {}
    for case in CASES:
        cmd = [compiler, "-std=c++20", "-fsyntax-only", "-I", root,
               f"-DDISTILLER_MISUSE={case}", source]
        runs[case] = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
    failed = False
    for case, run in runs.items():
        out, _ = run.communicate(timeout=300)
        if case == 0:
            ok = run.returncode == 0
            why = "compiles" if ok else "does not compile:\n" + out[-4000:]
        else:
            markers = MARKERS.get(case, DEFAULT_MARKERS)
            checked = any(m in out for m in markers)
            ok = run.returncode != 0 and checked
            why = ("fails CAF's type check" if ok else
                   "compiles" if run.returncode == 0 else
                   "fails, but not on CAF's type check:\n" + out[-4000:])
        print(f"{'ok' if ok else 'FAILED'}: {CASES[case]}: {why}")
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
