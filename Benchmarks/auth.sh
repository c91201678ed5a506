#!/usr/bin/env bash
# W1 (`true` once on N hosts, cold) with ed25519, RSA-3072 and ECDSA user keys:
# Tasker against parallel-ssh and `xargs ssh` with the same keys, in the same run.
# Run on demand (not in CI):  Benchmarks/auth.sh [-n 200] [-r 3]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=200
repeats=3
while getopts "n:r:" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        r) repeats="$OPTARG" ;;
        *) echo "usage: $0 [-n hosts] [-r repeats]" >&2; exit 2 ;;
    esac
done
source Benchmarks/fleet_setup.sh
install_peers parallel-ssh
start_fleet "$hosts"
python3 Benchmarks/auth_bench.py --tasker .build/release/tasker --state "$state" --hosts "$hosts" --repeats "$repeats"
