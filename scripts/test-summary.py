#!/usr/bin/env python3
"""One line for the whole suite: tests run, failed and skipped across the `swift test` logs given (one per phase)."""
import re
import sys

run = failed = skipped = 0
phases = []
for path in sys.argv[1:]:
    totals = None
    top = False
    with open(path, errors="replace") as log:
        for line in log:
            if re.match(r"Test Suite '(All tests|Selected tests)' (passed|failed) at", line):
                top = True
                continue
            executed = re.search(r"Executed (\d+) tests?, with (?:(\d+) tests? skipped and )?(\d+) failures?", line)
            if executed and top:
                totals = tuple(int(group or 0) for group in executed.groups())
                top = False
    if totals is None:
        phases.append(f"{path}: no test totals (the run stopped early)")
        failed += 1
        continue
    run += totals[0]
    skipped += totals[1]
    failed += totals[2]
print(f"test: {run} tests ran, {failed} failed, {skipped} skipped" + "".join(f"; {phase}" for phase in phases))
