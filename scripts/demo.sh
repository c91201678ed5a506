#!/usr/bin/env bash
# The main job: installs what it needs, builds Tasker, brings up a local fleet
# of real sshd servers on loopback and runs commands and workflows across it.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts="${HOSTS:-20}"
scripts/install-deps.sh
swift build -c release
tasker=.build/release/tasker
scripts/fleet.sh up -n "$hosts"
echo
echo "== tasker exec: one command on $hosts hosts, output folded =="
"$tasker" exec -F .fleet/ssh_config --hosts-file .fleet/hosts --fold -- 'echo "kernel $(uname -r)"; uptime | sed "s/.*load/load/"'
echo
echo "== three commands in a row per host over one connection each, as NDJSON (first 2 lines) =="
"$tasker" exec -F .fleet/ssh_config --hosts-file .fleet/hosts --json -c hostname -c 'id -un' -c 'df -h / | tail -1' >.fleet/demo.ndjson
head -2 .fleet/demo.ndjson
echo
echo "== a TASKER workflow (examples/local-workflow.txt): probe, parallel fan-out, decision, report =="
"$tasker" -r examples/local-workflow.txt --no-task-backup -l .fleet/tasker-logs --output-json=.fleet/local-workflow.json
echo "JSON report: .fleet/local-workflow.json"
# The fleet workflows keep their releases under $HOME: the fleet's state directory here.
fleet_run=(env HOME="$PWD/.fleet" "$tasker" -r -i inventories/local-fleet.ini -F .fleet/ssh_config --no-task-backup -l .fleet/tasker-logs)
echo
echo "== rolling deploy of release 1.0 (examples/rolling-deploy): a canary, then batches of 9 and the rest, each host through its steps on its own =="
DEPLOY_VERSION=1.0 "${fleet_run[@]}" examples/rolling-deploy/rolling-deploy.txt
echo
echo "== rolling deploy of a broken release: the canary's health check fails, no other host starts, the canary goes back to 1.0 =="
status=0
DEPLOY_VERSION=1.1-broken "${fleet_run[@]}" --log-level=WARN examples/rolling-deploy/rolling-deploy.txt || status=$?
echo "exit status $status (1: rolled back)"
[ "$status" -eq 1 ]
echo
echo "== fleet health check (examples/fleet-health-check.txt) =="
# Exit 1 would mean a host failed a check (this machine's load, disk or memory), not that the demo broke.
"${fleet_run[@]}" examples/fleet-health-check.txt || echo "health check exit status $? (1: some host failed a check)"
echo
echo "Fleet is still up: try '$tasker exec -F .fleet/ssh_config --hosts-file .fleet/hosts -- uptime'; stop it with 'scripts/fleet.sh down'."
