#!/usr/bin/env bash
# A 10-step workflow over a local sshd fleet: Tasker (hosts= tasks over pooled
# connections) against Ansible ad-hoc (`-m raw`, pipelining, ControlPersist)
# and pdsh, measured in the same run. Run on demand (not in CI):
#   Benchmarks/workflow_fleet.sh [-n HOSTS] [-r REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=100
repeats=3
while getopts "n:r:" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        r) repeats="$OPTARG" ;;
        *) echo "usage: $0 [-n hosts] [-r repeats]" >&2; exit 2 ;;
    esac
done
source Benchmarks/fleet_setup.sh
install_peers pdsh ansible
start_fleet "$hosts"
python3 Benchmarks/workflow_fleet.py --tasker .build/release/tasker --state "$state" --hosts "$hosts" --repeats "$repeats"
