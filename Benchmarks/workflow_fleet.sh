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
scripts/install-deps.sh
command -v pdsh >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pdsh >/dev/null; }
command -v ansible >/dev/null || pip install -q ansible-core
swift build -c release >/dev/null
state="$PWD/.bench-fleet"
scripts/fleet.sh up -n "$hosts" -d "$state" -b 40 -p 2200 -i "$state/inventory.ini"
trap 'scripts/fleet.sh down -d "$state" >/dev/null' EXIT
python3 Benchmarks/workflow_fleet.py --tasker .build/release/tasker --state "$state" --hosts "$hosts" --repeats "$repeats"
