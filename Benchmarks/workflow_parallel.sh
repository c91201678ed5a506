#!/usr/bin/env bash
# A parallel block of N local subtasks (`sleep S`) with max_parallel=N: wall time
# against the slowest subtask, and Tasker's CPU per subtask.
# Usage: Benchmarks/workflow_parallel.sh [subtasks] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-50}"
seconds="${2:-1}"
swift build -c release >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
{
    ids=$(seq -s, 100 $((100 + count - 1)))
    printf 'task=0\ntype=parallel\nmax_parallel=%d\ntasks=%s\n' "$count" "$ids"
    for ((i = 0; i < count; i++)); do
        printf 'task=%d\nhostname=localhost\ncommand=sleep\narguments=%s\nexec=local\n' $((100 + i)) "$seconds"
    done
} >"$work/flow.txt"
/usr/bin/time -f "%e %U %S" -o "$work/time" .build/release/tasker -r "$work/flow.txt" -l "$work/logs" \
    --log-level=ERROR --no-task-backup --skip-subtask-range-validation
read -r wall user sys <"$work/time"
python3 - "$count" "$seconds" "$wall" "$user" "$sys" <<'PY'
import sys
n, s, wall, user, sys_ = int(sys.argv[1]), float(sys.argv[2]), *map(float, sys.argv[3:])
print(f"parallel block: {n} subtasks of {s:g} s with max_parallel={n}: wall {wall:.2f} s "
      f"({wall / s:.2f}x the slowest subtask); Tasker CPU {1000 * (user + sys_) / n:.2f} ms per subtask")
PY
