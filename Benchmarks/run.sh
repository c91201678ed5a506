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
scripts/install-deps.sh
command -v pdsh >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pdsh >/dev/null; }
python3 -c "import pssh" 2>/dev/null || pip install -q parallel-ssh
swift build -c release >/dev/null
max=$scale
for n in $hosts; do (( n > max )) && max=$n; done
state="$PWD/.bench-fleet"
scripts/fleet.sh up -n "$max" -d "$state" -b 40 -p 2200 -i "$state/inventory.ini"
trap 'scripts/fleet.sh down -d "$state" >/dev/null' EXIT
# shellcheck disable=SC2086
python3 Benchmarks/bench.py --tasker .build/release/tasker --state "$state" --hosts $hosts \
    --scale "$scale" --repeats "$repeats" --workloads "$workloads"
