#!/usr/bin/env bash
# Engine overhead: runs a generated 1,000-task local workflow (each task `true`)
# and reports tasks per second, beside the cost of spawning `true` 1,000 times
# from a shell loop. Usage: Benchmarks/workflow_tasks.sh [tasks]
set -euo pipefail
cd "$(dirname "$0")/.."
tasks="${1:-1000}"
swift build -c release >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
{
    for ((i = 0; i < tasks; i++)); do
        printf 'task=%d\nhostname=localhost\ncommand=true\nexec=local\n' "$i"
    done
} >"$work/flow.txt"
start=$(date +%s.%N)
.build/release/tasker -r "$work/flow.txt" -l "$work/logs" --log-level=ERROR --no-task-backup
end=$(date +%s.%N)
loop_start=$(date +%s.%N)
for ((i = 0; i < tasks; i++)); do /bin/true; done
loop_end=$(date +%s.%N)
python3 - "$tasks" "$start" "$end" "$loop_start" "$loop_end" <<'PY'
import sys
n, s, e, ls, le = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"tasker: {n} local tasks in {e - s:.2f} s = {n / (e - s):.0f} tasks/s "
      f"({1000 * (e - s) / n:.2f} ms per task, of which spawning `true` from a shell loop costs {1000 * (le - ls) / n:.2f} ms)")
PY
