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
source Benchmarks/fleet_setup.sh
install_peers pdsh pssh parallel-ssh clush ansible
start_fleet 200 "rm -rf /tmp/tasker-files-bench"
python3 Benchmarks/files_bench.py --tasker .build/release/tasker --state "$state" --repeats "$repeats" --workloads "$workloads"
