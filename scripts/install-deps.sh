#!/usr/bin/env bash
# Installs the system packages Tasker builds and tests against, if missing.
set -euo pipefail
need=()
pkg-config --exists libssh2 2>/dev/null || need+=(libssh2-1-dev)
[[ -f /usr/include/openssl/evp.h ]] || need+=(libssl-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v pgrep >/dev/null || need+=(procps)
command -v ping >/dev/null || need+=(iputils-ping)
# Fault tests: network namespaces reached through a forwarder, packets dropped inside them.
command -v ip >/dev/null || need+=(iproute2)
command -v socat >/dev/null || need+=(socat)
[[ -x /usr/sbin/iptables ]] || need+=(iptables)
# Become tests: sudo, su and doas as operators have them.
command -v sudo >/dev/null || need+=(sudo)
command -v doas >/dev/null || need+=(opendoas)
# Test references and helpers: Python's fnmatch, the bastion delay relay, --interpreter python3.
command -v python3 >/dev/null || need+=(python3)
# ProxyCommand tests: `nc %h %p` as operators write it.
command -v nc >/dev/null || need+=(netcat-openbsd)
if ((${#need[@]})); then
    if [[ $(id -u) != 0 ]]; then
        echo "install-deps: missing ${need[*]}; run as root or install them" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "install-deps: swift is not on PATH (expected a Swift 6 toolchain)" >&2; exit 1; }
