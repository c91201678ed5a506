#!/usr/bin/env bash
# What --journal and --report cost a cold `tasker exec` run, against the same run without them,
# in the same fleet and the same session; the files' sizes; Chromium's time to load the page.
#
#   Benchmarks/records.sh [-n HOSTS] [-r RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=200
runs=5
while getopts "n:r:" opt; do
    case "$opt" in
        n) hosts="$OPTARG" ;;
        r) runs="$OPTARG" ;;
        *) echo "usage: $0 [-n HOSTS] [-r RUNS]" >&2; exit 2 ;;
    esac
done
source Benchmarks/fleet_setup.sh
out="$(mktemp -d)"
start_fleet "$hosts" "rm -rf '$out'"
tasker="$PWD/.build/release/tasker"
targets="$(paste -sd, "$state/hosts")"

# One timed run: prints "wall cpu" in seconds.
measure() {
    /usr/bin/time -f "%e %U %S" -o "$out/time" "$tasker" exec -F "$state/ssh_config" -H "$targets" --forks 1000 "$@" -- 'uname -r' \
        >/dev/null 2>&1 || true
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$out/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$out/plain"; : >"$out/records"
for _ in $(seq "$runs"); do
    measure >>"$out/plain"
    measure --journal "$out/run.ndjson" --report "$out/run.html" >>"$out/records"
done
plain_wall=$(cut -d' ' -f1 "$out/plain" | median); plain_cpu=$(cut -d' ' -f2 "$out/plain" | median)
records_wall=$(cut -d' ' -f1 "$out/records" | median); records_cpu=$(cut -d' ' -f2 "$out/records" | median)
echo "records: $hosts hosts cold, median of $runs runs (wall s / client CPU s)"
echo "  exec                         $plain_wall / $plain_cpu"
echo "  exec --journal --report      $records_wall / $records_cpu"
awk -v a="$plain_wall" -v b="$records_wall" -v c="$plain_cpu" -v d="$records_cpu" \
    'BEGIN { printf "  ratio                        wall %.3f, CPU %.3f\n", b / a, d / c }'
echo "  journal $(stat -c %s "$out/run.ndjson") bytes, report $(stat -c %s "$out/run.html") bytes"
if command -v chromium >/dev/null; then
    /usr/bin/time -f "%e" -o "$out/load" chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$out/run.html" >/dev/null 2>&1
    /usr/bin/time -f "%e" -o "$out/empty" chromium --headless --no-sandbox --disable-gpu --dump-dom "data:text/html,<p>x" >/dev/null 2>&1
    echo "  chromium --dump-dom of the report $(cat "$out/load")s (of an empty page $(cat "$out/empty")s)"
fi
