#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs `swift test`.
# The SSH tests start their own sshd fleet on 127.0.20.x (see Tests/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"
