#!/usr/bin/env bash
# Tasker against ssh -J, parallel-ssh (proxy_host) and ansible -m raw reaching
# targets through one bastion (scripts/fleet.sh bastion-up), in the same run.
# Run on demand (not in CI):  Benchmarks/jump.sh [-n "100 500"] [-t "0 20"] [-r 3] [-s "16 256"] [-T]
#   -s: also run Tasker with these --tunnels-per-jump-connection values; -T: Tasker only
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="100 500"
rtts="0 20"
repeats=3
extra=()
while getopts "n:t:r:s:T" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        t) rtts="$OPTARG" ;;
        r) repeats="$OPTARG" ;;
        s) read -ra sweep <<<"$OPTARG"; extra+=(--sweep "${sweep[@]}") ;;
        T) extra+=(--tasker-only) ;;
        *) echo "usage: $0 [-n 'target counts'] [-t 'RTTs in ms'] [-r repeats] [-s 'tunnels per connection'] [-T]" >&2; exit 2 ;;
    esac
done
scripts/install-deps.sh
python3 -c "import pssh" 2>/dev/null || pip install -q parallel-ssh
command -v ansible >/dev/null || pip install -q ansible-core
swift build -c release >/dev/null
max=0
for n in $hosts; do (( n > max )) && max=$n; done
state="$PWD/.bench-bastion"
trap 'scripts/fleet.sh bastion-down -d "$state" >/dev/null' EXIT
for rtt in $rtts; do
    scripts/fleet.sh bastion-up -n "$max" -d "$state" -r "$rtt" -i "$state/inventory.ini"
    # shellcheck disable=SC2086
    python3 Benchmarks/jump_bench.py --tasker .build/release/tasker --state "$state" --hosts $hosts \
        --rtt "$rtt" --repeats "$repeats" "${extra[@]}"
done
