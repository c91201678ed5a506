#!/usr/bin/env bash
# A 5-step rollout with random per-host step times over a local sshd fleet: a
# rolling block against five barrier hosts= tasks and Ansible playbooks with
# strategy free and linear, in the same run; then the early stop of a broken
# release. Run on demand (not in CI):
#   Benchmarks/rolling.sh [-n HOSTS] [-e EARLY_STOP_HOSTS] [-r REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=100
early=200
repeats=3
while getopts "n:e:r:" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        e) early="$OPTARG" ;;
        r) repeats="$OPTARG" ;;
        *) echo "usage: $0 [-n hosts] [-e early_stop_hosts] [-r repeats]" >&2; exit 2 ;;
    esac
done
source Benchmarks/fleet_setup.sh
install_peers ansible
start_fleet "$(( early > hosts ? early : hosts ))"
python3 Benchmarks/rolling_bench.py --tasker .build/release/tasker --state "$state" --hosts "$hosts" \
    --early-stop-hosts "$early" --repeats "$repeats"
