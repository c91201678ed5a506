#!/usr/bin/env bash
# Runs one libFuzzer target:
#
#   scripts/fuzz.sh TARGET [SECONDS] [libFuzzer options...]
#
# TARGET: taskfile conditions inventory-ini inventory-yaml patterns ssh-config known-hosts key-file become-output
# (Fuzz/Targets/FuzzTarget.swift says what each feeds). SECONDS defaults to 60.
# Seeds come from Fuzz/Corpus/TARGET; inputs that grow coverage are kept in
# .fuzz/corpus/TARGET (not in git). A crash, hang or blow-up is written to
# .fuzz/findings/TARGET/: fix it, then copy the input into Fuzz/Regressions/TARGET/,
# which the test suite replays (FuzzRegressionTests) together with the seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
targets="taskfile conditions inventory-ini inventory-yaml patterns ssh-config known-hosts key-file become-output"
if [[ -z "$target" || " $targets " != *" $target "* ]]; then
    echo "usage: $0 TARGET [SECONDS] [libFuzzer options]   (TARGET: $targets)" >&2
    exit 2
fi
shift
seconds=60
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then seconds="$1"; shift; fi
scripts/install-deps.sh
# lld: gold cannot link Swift's libFuzzer binaries.
swift build -c release --product tasker-fuzz --build-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
mkdir -p ".fuzz/corpus/$target" ".fuzz/findings/$target"
# LeakSanitizer is off: Swift keeps enum tags in pointers' spare bits, which hides live references from it.
export ASAN_OPTIONS="detect_leaks=0"
export TASKER_FUZZ_TARGET="$target"
exec .build-fuzz/release/tasker-fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix=".fuzz/findings/$target/" "$@" ".fuzz/corpus/$target" "Fuzz/Corpus/$target"
