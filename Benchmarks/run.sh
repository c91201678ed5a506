#!/usr/bin/env bash
# Benchmarks Tasker against parallel-ssh, pdsh and OpenSSH on a local sshd fleet.
# Run on demand (not in CI):  Benchmarks/run.sh [-n "50 200"] [-s 500] [-r 3] [-w W1,W2,W3,SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="50 200"
scale=500
repeats=3
workloads="W1,W2,W3,SCALE"
while getopts "n:s:r:w:" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        s) scale="$OPTARG" ;;
        r) repeats="$OPTARG" ;;
        w) workloads="$OPTARG" ;;
        *) echo "usage: $0 [-n 'host counts'] [-s scale_hosts] [-r repeats] [-w workloads]" >&2; exit 2 ;;
    esac
done
source Benchmarks/fleet_setup.sh
install_peers pdsh parallel-ssh
max=$scale
for n in $hosts; do (( n > max )) && max=$n; done
start_fleet "$max"
# shellcheck disable=SC2086
python3 Benchmarks/bench.py --tasker .build/release/tasker --state "$state" --hosts $hosts \
    --scale "$scale" --repeats "$repeats" --workloads "$workloads"
