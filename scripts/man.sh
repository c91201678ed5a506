#!/usr/bin/env bash
# The man pages in docs/man/, generated from the command declarations by
# swift-argument-parser's generate-manual tool (one page per subcommand).
#
#   scripts/man.sh            regenerate docs/man/ (dated today)
#   scripts/man.sh --check    exit 1 if docs/man/ differs from what the declarations make now
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product tasker >/dev/null
swift build --product generate-manual >/dev/null
bin="$(swift build --show-bin-path)"
generate() { # DATE DIRECTORY
    "$bin/generate-manual" "$bin/tasker" --multi-page --section 1 --date "$1" -o "$2" >/dev/null
}
if [[ "${1:-}" == --check ]]; then
    date="$(sed -n 's/^\.Dd \(.*\)$/\1/p' docs/man/tasker.1)"
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    generate "$(date -d "$date" +%Y-%m-%d)" "$scratch"
    diff -r docs/man "$scratch" >/dev/null || { echo "man: docs/man is stale; run scripts/man.sh" >&2; exit 1; }
    exit 0
fi
rm -rf docs/man
mkdir -p docs/man
generate "$(date +%Y-%m-%d)" docs/man
ls docs/man
