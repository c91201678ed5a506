#!/usr/bin/env bash
# Local spawning cost: Tasker's own spawner (Platform.LocalProcess, used for
# workflow tasks, inventory scripts, askpass and Match exec) against
# swift-subprocess 1.0.2, 1,000 sequential runs of /bin/true each, alternating
# rounds. Usage: Benchmarks/subprocess.sh [spawns] [rounds]
set -euo pipefail
cd "$(dirname "$0")/subprocess"
swift build -c release --scratch-path .build-bench >/dev/null
.build-bench/release/spawn-bench "${1:-1000}" "${2:-5}"
