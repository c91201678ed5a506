#!/usr/bin/env bash
# File transfer across the fleet: tasker push/pull against parallel-ssh
# (copy_file / copy_remote_file), parallel-scp / parallel-slurp (pssh), pdcp / rpdcp, clush
# --copy / --rcopy and ansible -m copy / fetch, in the same run, plus the
# ceiling: `ssh host 'cat >/dev/null' < file` on every host at once.
# Run on demand (not in CI):  Benchmarks/files.sh [-r 3] [-w push,pull,push-warm,pull-warm]
# (the warm workloads transfer over connections already open: a Tasker workflow
# whose first task connects, and parallel-ssh timing the copy after run_command).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=3
workloads="push,pull"
while getopts "r:w:" opt; do
    case "$opt" in
        r) repeats="$OPTARG" ;;
        w) workloads="$OPTARG" ;;
        *) echo "usage: $0 [-r repeats] [-w push,pull,push-warm,pull-warm]" >&2; exit 2 ;;
    esac
done
scripts/install-deps.sh
command -v pdcp >/dev/null && command -v parallel-scp >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pdsh pssh >/dev/null; }
python3 -c "import pssh" 2>/dev/null || pip install -q parallel-ssh
command -v clush >/dev/null || pip install -q clustershell
command -v ansible >/dev/null || pip install -q ansible-core
swift build -c release >/dev/null
state="$PWD/.bench-fleet"
scripts/fleet.sh up -n 200 -d "$state" -b 40 -p 2200 -i "$state/inventory.ini"
trap 'scripts/fleet.sh down -d "$state" >/dev/null; rm -rf /tmp/tasker-files-bench' EXIT
python3 Benchmarks/files_bench.py --tasker .build/release/tasker --state "$state" --repeats "$repeats" --workloads "$workloads"
