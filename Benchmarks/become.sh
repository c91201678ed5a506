#!/usr/bin/env bash
# W2 (10 commands on each of N hosts) with become: Tasker with and without
# --become, Ansible `-m raw --become` and parallel-ssh with sudo, logging in as a
# user whose sudo wants a password, in the same run.
# Run on demand (not in CI):  Benchmarks/become.sh [-n 50] [-r 3]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=50
repeats=3
while getopts "n:r:" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        r) repeats="$OPTARG" ;;
        *) echo "usage: $0 [-n hosts] [-r repeats]" >&2; exit 2 ;;
    esac
done
source Benchmarks/fleet_setup.sh
install_peers parallel-ssh ansible
start_fleet "$hosts" "rm -f /etc/sudoers.d/tasker-bench"
python3 Benchmarks/become_bench.py --tasker .build/release/tasker --state "$state" --hosts "$hosts" --repeats "$repeats"
