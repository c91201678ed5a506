#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs `swift test`.
# The SSH tests start their own sshd fleet on 127.0.20.x (see Tests/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Optional: ansible-core lets the inventory tests compare Tasker with Ansible itself.
command -v ansible-inventory >/dev/null || pip install -q ansible-core >/dev/null 2>&1 || echo "test: ansible-core not installed; the Ansible comparison tests will skip" >&2
# The report tests read the HTML report in headless Chromium, from Debian's packages.
command -v chromium >/dev/null || { [[ $(id -u) == 0 ]] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } \
    || echo "test: chromium not installed; the browser report tests will skip" >&2
# The platform, SSH, fleet and inventory tests first under AddressSanitizer: they drive
# libssh2's C memory (teardown with channels in flight, dead peers) and parse
# input. scripts/sanitize.sh runs
# any part of the suite under ASan or TSan on demand.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
status=0
if [[ $# -eq 0 && "${TASKER_SKIP_SANITIZER:-}" != 1 ]]; then
    scripts/sanitize.sh address --filter 'PlatformTests|SSHTests|FleetTests|AnsibleInventoryTests' 2>&1 | tee "$logs/address.log" || status=$?
fi
# generate-manual: the man page test regenerates docs/man with it.
swift build --build-tests
swift build --product generate-manual
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$logs/main.log" || status=$?
scripts/suite-times.py "$logs/main.log"
scripts/test-summary.py "$logs"/*.log
exit "$status"
