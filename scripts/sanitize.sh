#!/usr/bin/env bash
# The test suite under a sanitizer:
#
#   scripts/sanitize.sh address|thread [swift test options, e.g. --filter 'SSHTests|FleetTests']
#
# Builds into .build-<sanitizer> (the tasker binary the CLI tests start is
# instrumented too) and runs the tests with TASKER_SANITIZER set, which makes
# tests skip their peak-memory assertions (ASan's shadow memory and quarantine
# are not Tasker's). LeakSanitizer is off: Swift stores enum tags in the spare
# bits of pointers, which hides live references from it (false "direct leaks").
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer="${1:-}"
case "$sanitizer" in
    address|thread) shift ;;
    *) echo "usage: $0 address|thread [swift test options]" >&2; exit 2 ;;
esac
scripts/install-deps.sh
build=".build-$sanitizer"
# Linked with lld: gold warns "Cannot export local symbol '__asan_…'" hundreds of times, hiding real warnings.
swift build --build-tests --sanitize="$sanitizer" --build-path "$build" -Xswiftc -use-ld=lld
export TASKER_SANITIZER="$sanitizer"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1"
swift test --skip-build --sanitize="$sanitizer" --build-path "$build" --disable-swift-testing "$@"
