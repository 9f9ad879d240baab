# shellcheck shell=bash
# Installs the system packages and tools the tests need, only when they are missing.
# Sourced by tests/run. Each need is one function, named for what it provides.

apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "tests/run: need $* installed (run as root or install them)" >&2
        return 1
    fi
    if [ "$apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_shellcheck() {
    command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck
}

# The genconf tests run install.sh against a loopback HTTP server, as a node downloads the tree.
need_curl() {
    command -v curl >/dev/null 2>&1 || apt_install curl
}

# The real marathon client from PyPI, in .venv at the repository root (tests/python/ runs in it).
need_marathon_venv() {
    if [ -x .venv/bin/python ] && .venv/bin/python -c 'import marathon' >/dev/null 2>&1; then
        return 0
    fi
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check marathon==0.13.0
}

# moto in server mode for strato-cloud's AWS tests, in the same .venv as the marathon client:
# makes the venv only when it is missing and installs only what does not import yet.
need_moto() {
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
            apt_install python3 python3-venv
        fi
        python3 -m venv .venv
    fi
    .venv/bin/python -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1 && return 0
    .venv/bin/python -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1'
}

# cargo-deny for tests/advisories.sh, from crates.io (a cold build took 4 min of CPU time,
# 13 min wall clock on a busy 2-core machine).
need_cargo_deny() {
    cargo deny --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-deny
}

# Headless Chromium for the dashboard test (Debian's package; no browser downloads).
need_chromium() {
    command -v chromium >/dev/null 2>&1 || apt_install chromium fonts-dejavu-core
}

# OpenSSH's sshd for strato-ssh's tests, which start their own sshd on 127.0.0.1. The package's
# postinst would start the system service: a policy-rc.d that answers 101 ("action forbidden")
# stops that, and is removed again if we put it there.
need_sshd() {
    [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1 && command -v ssh-agent >/dev/null 2>&1 && return 0
    local added_policy=0
    if [ "$(id -u)" = 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    local rc=0
    apt_install openssh-server openssh-client || rc=$?
    [ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return "$rc"
}

# The nodes' install script verifies the serve tree's signature with the openssl command; the
# tests run that script here too (tests/it/genconf/node.rs).
# protoc builds etcd-client (the masters' etcd client, runtime/etcd); Debian's etcd-server and
# etcd-client give the etcd and etcdctl the tests bundle (`strato bundle --etcd /usr/bin/etcd`,
# tests/it/bundle.rs) so 3-master clusters deploy, and the binary the bundle tests measure.
need_etcd() {
    local missing=()
    command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
    [ -x /usr/bin/etcd ] || missing+=(etcd-server)
    [ -x /usr/bin/etcdctl ] || missing+=(etcd-client)
    [ "${#missing[@]}" = 0 ] || apt_install "${missing[@]}"
}

need_openssl() {
    command -v openssl >/dev/null 2>&1 || apt_install openssl
}

ensure_prereqs() {
    need_sshd
    need_shellcheck
    need_curl
    need_openssl
    need_marathon_venv
    need_moto
    need_cargo_deny
    need_chromium
    need_bundle_tools
    need_etcd
    need_docker
}

# `strato bundle` links node binaries against glibc 2.28 with cargo-zigbuild and zig (both wheels
# from PyPI, into .venv, where strato-bundle looks for them) and measures the result with
# objdump (binutils). Installs only what is missing.
need_bundle_tools() {
    command -v objdump >/dev/null 2>&1 || apt_install binutils
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
            apt_install python3 python3-venv
        fi
        python3 -m venv .venv
    fi
    [ -x .venv/bin/cargo-zigbuild ] && .venv/bin/python -c 'import ziglang' >/dev/null 2>&1 && return 0
    .venv/bin/python -m pip install --quiet --disable-pip-version-check ziglang==0.15.1 cargo-zigbuild==0.20.1
}

# End-to-end tests run real nodes as Docker containers. No engine runs until something starts one.
need_docker() {
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    if ! docker info >/dev/null 2>&1; then
        mkdir -p /var/log/strato
        nohup dockerd >/var/log/strato/dockerd.log 2>&1 &
        for _ in $(seq 1 60); do
            docker info >/dev/null 2>&1 && return 0
            sleep 1
        done
        echo "tests/run: dockerd did not start; see /var/log/strato/dockerd.log" >&2
        return 1
    fi
}
