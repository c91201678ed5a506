#!/usr/bin/env bash
# Inventory loading: `tasker inventory --list` and pattern resolution against
# `ansible-inventory --list` and `ansible all --list-hosts`, on generated INI
# inventories with ranges plus group_vars/ and host_vars/ for 1,000 hosts.
# Run on demand (not in CI):  Benchmarks/inventory.sh [-n "10000 100000"]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="10000 100000"
while getopts "n:" opt; do
    case "$opt" in
        n) sizes="$OPTARG" ;;
        *) echo "usage: $0 [-n 'host counts']" >&2; exit 2 ;;
    esac
done
command -v ansible-inventory >/dev/null || pip install -q ansible-core
swift build -c release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() {  # label, command...
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2> "$work/err" || { echo "| $label | failed: $(tail -1 "$work/err") | |"; return; }
    read -r seconds kilobytes < "$work/time"
    echo "| $label | $seconds | $((kilobytes / 1024)) |"
}
echo "| inventory, command | wall s | peak RSS MiB |"
echo "|---|---|---|"
for n in $sizes; do
    dir="$work/inv-$n"
    mkdir -p "$dir/group_vars" "$dir/host_vars"
    half=$((n / 2))
    printf '[web]\nweb[1:%d].example.com\n[db]\ndb[1:%d].example.com ansible_port=2222\n[prod:children]\nweb\ndb\n' "$half" "$half" > "$dir/hosts.ini"
    echo "ansible_user: deploy" > "$dir/group_vars/web.yml"
    echo "tier: db" > "$dir/group_vars/db.yml"
    for i in $(seq 1 1000); do echo "rack: r$i" > "$dir/host_vars/web$i.example.com.yml"; done
    measure "$n hosts: tasker inventory --list" .build/release/tasker inventory -i "$dir/hosts.ini" --list
    measure "$n hosts: ansible-inventory --list" ansible-inventory -i "$dir/hosts.ini" --list
    measure "$n hosts: tasker inventory 'web:&prod:!web1*'" .build/release/tasker inventory -i "$dir/hosts.ini" 'web:&prod:!web1*'
    measure "$n hosts: ansible 'web:&prod:!web1*' --list-hosts" ansible -i "$dir/hosts.ini" 'web:&prod:!web1*' --list-hosts
done
