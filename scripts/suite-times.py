#!/usr/bin/env python3
"""Prints the time of each XCTest suite in a `swift test` log, slowest first: where the suite's minutes go."""
import re
import sys

times = {}
suite = None
with open(sys.argv[1], errors="replace") as log:
    for line in log:
        ended = re.match(r"Test Suite '(.+)' (passed|failed) at", line)
        if ended:
            suite = ended.group(1)
            continue
        executed = re.search(r"Executed \d+ tests?, with .* in [\d.]+ \(([\d.]+)\) seconds", line)
        if executed and suite:
            if suite not in ("All tests", "Selected tests") and not suite.endswith(".xctest"):
                times[suite] = times.get(suite, 0.0) + float(executed.group(1))
            suite = None
print(f"test: time per suite, slowest first ({sum(times.values()):.0f} s in all)")
for name, seconds in sorted(times.items(), key=lambda item: -item[1])[: int(sys.argv[2]) if len(sys.argv) > 2 else 25]:
    print(f"{seconds:8.1f} s  {name}")
