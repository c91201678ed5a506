# Sourced by the fleet benchmarks (from the repository root):
#   install_peers PEER...   installs what is missing of: parallel-ssh (the Python package), pssh
#                           (Debian's parallel-scp/slurp), pdsh, clush, ansible
#   start_fleet HOSTS [CLEANUP]
#                           builds the release binary and starts HOSTS sshd addresses in .bench-fleet
#                           (sets $state); at exit the fleet stops and CLEANUP (a command) runs.
install_peers() {
    scripts/install-deps.sh
    local peer
    for peer in "$@"; do
        case "$peer" in
            parallel-ssh) python3 -c "import pssh" 2>/dev/null || pip install -q parallel-ssh ;;
            clush) command -v clush >/dev/null || pip install -q clustershell ;;
            ansible) command -v ansible >/dev/null || pip install -q ansible-core ;;
            pdsh | pssh)
                local command=pdsh
                [[ "$peer" == pssh ]] && command=parallel-scp
                command -v "$command" >/dev/null || {
                    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$peer" >/dev/null; } ;;
            *) echo "install_peers: unknown peer $peer" >&2; return 2 ;;
        esac
    done
}

start_fleet() {
    swift build -c release >/dev/null
    state="$PWD/.bench-fleet"
    # shellcheck disable=SC2064  # expanded now: the state directory and the caller's cleanup
    trap "scripts/fleet.sh down -d '$state' >/dev/null; ${2:-:}" EXIT
    scripts/fleet.sh up -n "$1" -d "$state" -b 40 -p 2200 -i "$state/inventory.ini"
}
