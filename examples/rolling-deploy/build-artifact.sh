#!/bin/sh
# Builds the demo application's release artifact for the rolling-deploy example:
#   build-artifact.sh VERSION STORE_DIR
# writes STORE_DIR/app-VERSION.tar.gz and its .sha256. The app's `selftest`
# reports "ok VERSION"; a version containing "broken" builds an app whose
# self-test fails, to show the workflow's rollback.
set -eu
version="$1"
store="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/app-$version" "$store"
echo "$version" >"$work/app-$version/VERSION"
case "$version" in
    *broken*) printf '#!/bin/sh\necho "error: listener failed to bind" >&2\nexit 1\n' ;;
    *) printf '#!/bin/sh\necho "ok %s"\n' "$version" ;;
esac >"$work/app-$version/selftest"
chmod +x "$work/app-$version/selftest"
tar -C "$work" -czf "$store/app-$version.tar.gz" "app-$version"
(cd "$store" && sha256sum "app-$version.tar.gz" >"app-$version.tar.gz.sha256")
echo "built $store/app-$version.tar.gz"
