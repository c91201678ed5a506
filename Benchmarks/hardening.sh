#!/usr/bin/env bash
# Long-run and fault figures (on demand, not in CI):
#
#   Benchmarks/hardening.sh [-c commands_per_host] [-n hosts] [-g gigabytes] [-p soak,vanish,output]
#
# - soak: COMMANDS x HOSTS commands over one pooled connection per host in one
#   `tasker exec` run, the controller's RSS sampled every 2,000 commands;
# - vanish: a host whose packets are dropped (iptables DROP in a network namespace
#   behind a socat forwarder) mid-command, with the default probes (10 s x 3) and
#   with 2 s x 3: how long until it is reported;
# - output: GIGABYTES of stdout from one host: wall time, peak RSS, exact count.
set -euo pipefail
cd "$(dirname "$0")/.."
per_host=400
hosts=50
gigabytes=10
parts="soak,vanish,output"
while getopts "c:n:g:p:" opt; do
    case "$opt" in
        c) per_host="$OPTARG" ;;
        n) hosts="$OPTARG" ;;
        g) gigabytes="$OPTARG" ;;
        p) parts="$OPTARG" ;;
        *) echo "usage: $0 [-c commands_per_host] [-n hosts] [-g gigabytes] [-p soak,vanish,output]" >&2; exit 2 ;;
    esac
done
wanted() { [[ ",$parts," == *",$1,"* ]]; }
scripts/install-deps.sh
swift build -c release >/dev/null
tasker="$PWD/.build/release/tasker"
state="$PWD/.bench-fleet"
scripts/fleet.sh up -n "$hosts" -d "$state" -b 40 -p 2200 -i "$state/inventory.ini" >/dev/null
namespace="tasker-bench-$$"
cleanup() {
    scripts/fleet.sh down -d "$state" >/dev/null
    pkill -f "TCP-LISTEN:2200,bind=127.0.45.1" 2>/dev/null || true
    [[ -f "$state/vanish.pid" ]] && ip netns exec "$namespace" kill "$(cat "$state/vanish.pid")" 2>/dev/null
    ip netns del "$namespace" 2>/dev/null || true
}
trap cleanup EXIT
names=$(for ((k = 1; k <= hosts; k++)); do printf 'node%03d,' "$k"; done)

if wanted soak; then
echo "== soak: $((per_host * hosts)) commands over $hosts connections"
args=()
for ((i = 1; i < per_host; i++)); do args+=(-c "echo soak"); done
args+=(-c "sleep 1")
fifo="$state/soak.fifo"
rm -f "$fifo"
mkfifo "$fifo"
"$tasker" exec -F "$state/ssh_config" -H "${names%,}" --forks "$hosts" "${args[@]}" >"$fifo" &
soak=$!
python3 -c '
import os, sys
pid = int(sys.argv[1]); total = int(sys.argv[2]); lines = 0; samples = []
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
    return 0
for _ in sys.stdin:
    lines += 1
    if lines % 2000 == 0 or lines == total:
        samples.append((lines, rss()))
print("commands  RSS (MiB)")
for count, kb in samples: print(f"{count:8d}  {kb / 1024:.1f}")
first = next(kb for count, kb in samples if count >= 2000)
print(f"end / after 2,000: {samples[-1][1] / first:.3f}")
' "$soak" "$(( (per_host - 1) * hosts ))" <"$fifo"
wait "$soak"
fi

if wanted vanish; then
echo "== vanish: a host dropped 2 s into a silent command"
ip netns add "$namespace"
ip netns exec "$namespace" ip link set lo up
mkdir -p "$state/vanish"
cp "$state/sshd-0/sshd_config" "$state/vanish/sshd_config"
sed -i -e '/^ListenAddress/d' -e '/^Port/d' -e "s|^PidFile.*|PidFile $state/vanish.pid|" "$state/vanish/sshd_config"
printf 'ListenAddress 127.0.0.1\nPort 2222\n' >>"$state/vanish/sshd_config"
ip netns exec "$namespace" /usr/sbin/sshd -f "$state/vanish/sshd_config" -E "$state/vanish/sshd.log"
socat "TCP-LISTEN:2200,bind=127.0.45.1,reuseaddr,fork" "EXEC:ip netns exec $namespace socat STDIO TCP\\:127.0.0.1\\:2222" &
sleep 0.5
echo "[127.0.45.1]:2200 $(cut -d' ' -f1,2 "$state/sshd-0/ssh_host_ed25519_key.pub")" >>"$state/known_hosts"
for probes in "" "--server-alive-interval 2 --server-alive-count-max 3"; do
    ( sleep 2; ip netns exec "$namespace" iptables -I INPUT -p tcp --dport 2222 -j DROP ) &
    # shellcheck disable=SC2086
    "$tasker" exec -F "$state/ssh_config" -H "127.0.45.1:2200" $probes --json -- 'sleep 300' | python3 -c '
import json, sys
host = json.loads(sys.stdin.readline())
label = sys.argv[1] or "default probes (10 s x 3)"
status, seconds, error = host["status"], host["run_ms"] / 1000, host["error"]
print(f"{label}: {status} after {seconds:.1f} s, 2 s of it before the drop ({error})")
' "$probes" || true
    ip netns exec "$namespace" iptables -D INPUT -p tcp --dport 2222 -j DROP
done
fi

if wanted output; then
echo "== output: $gigabytes GiB of stdout from one host"
/usr/bin/time -f "%e s wall, %M KiB peak RSS" "$tasker" exec -F "$state/ssh_config" -H node001 --json -- \
    "head -c $((gigabytes << 30)) /dev/zero" | python3 -c '
import json, sys
host = json.loads(sys.stdin.readline())
count = host["stdout_bytes"]
print(f"stdout_bytes {count} (exact: {count == int(sys.argv[1])})")
' "$((gigabytes << 30))"
fi
