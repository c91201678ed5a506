#!/usr/bin/env bash
# Installs tasker where a Debian system looks for it:
#
#   scripts/install.sh [--binary PATH] [PREFIX]      (PREFIX defaults to /usr/local)
#
#   PREFIX/bin/tasker                                     the release build (or --binary PATH)
#   PREFIX/share/man/man1/tasker*.1                       docs/man/
#   PREFIX/share/bash-completion/completions/tasker       bash completion
#   PREFIX/share/zsh/vendor-completions/_tasker           zsh completion
#   PREFIX/share/fish/vendor_completions.d/tasker.fish    fish completion
set -euo pipefail
cd "$(dirname "$0")/.."
binary=""
if [[ "${1:-}" == --binary ]]; then
    binary="$2"
    shift 2
fi
prefix="${1:-/usr/local}"
if [[ -z "$binary" ]]; then
    scripts/install-deps.sh
    swift build -c release --product tasker >/dev/null
    binary="$(swift build -c release --show-bin-path)/tasker"
fi
install -D -m 0755 "$binary" "$prefix/bin/tasker"
install -d "$prefix/share/man/man1"
install -m 0644 docs/man/*.1 "$prefix/share/man/man1/"
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/vendor-completions" "$prefix/share/fish/vendor_completions.d"
"$binary" --generate-completion-script bash >"$prefix/share/bash-completion/completions/tasker"
"$binary" --generate-completion-script zsh >"$prefix/share/zsh/vendor-completions/_tasker"
"$binary" --generate-completion-script fish >"$prefix/share/fish/vendor_completions.d/tasker.fish"
echo "installed tasker $("$binary" --version | cut -d' ' -f2) under $prefix"
