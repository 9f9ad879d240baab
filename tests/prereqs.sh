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

# The real DC/OS CLI from PyPI (dcos/dcoscli 0.6.1, the last release, 2018), as .venv/bin/dcos,
# for the Admin Router tests (tests/python/dcos_cli_requests.md). Its old pins (cryptography 2.0.2,
# jsonschema<3, ...) do not install on Python 3.11, so the CLI and its small pure-Python
# dependencies go with --no-deps into .venv/dcos-cli, apart from the rest of the venv, and use the
# venv's requests, six, jsonschema and cryptography. The wrapper puts that folder first on sys.path
# and imports tests/python/dcos_shims (collections.Mapping etc.) before dcoscli. Makes the venv only
# when it is missing and installs only what does not import yet.
need_dcos_venv() {
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
            apt_install python3 python3-venv
        fi
        python3 -m venv .venv
    fi
    local pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
    local shared=() mod pin
    for pin in requests:requests==2.34.2 six:six==1.17.0 jsonschema:jsonschema==4.26.0 \
        cryptography.x509:cryptography==50.0.2 pkg_resources,distutils.version:setuptools==80.9.0; do
        mod=${pin%%:*}
        .venv/bin/python -c "import $mod" >/dev/null 2>&1 || shared+=("${pin#*:}")
    done
    [ "${#shared[@]}" = 0 ] || "${pip[@]}" "${shared[@]}"
    local cli=.venv/dcos-cli
    if ! PYTHONPATH=$cli .venv/bin/python -c 'import dcos, dcoscli, docopt, toml, retrying, sseclient, pager, prettytable, jwt, pygments; assert dcoscli.version == "0.6.1"' >/dev/null 2>&1; then
        rm -rf "$cli"
        "${pip[@]}" --no-deps --target "$cli" dcos==0.6.1 dcoscli==0.6.1 docopt==0.6.2 toml==0.10.2 \
            retrying==1.3.3 sseclient==0.0.19 pager==3.3 prettytable==0.7.2 PyJWT==1.4.2 pygments==2.19.2
    fi
    cmp -s tests/python/dcos_shims/__init__.py "$cli/dcos_shims/__init__.py" || {
        mkdir -p "$cli/dcos_shims"
        cp tests/python/dcos_shims/__init__.py "$cli/dcos_shims/__init__.py"
    }
    local wrapper
    wrapper=$(printf '%s\n' "#!$PWD/.venv/bin/python" \
        '# Written by need_dcos_venv (tests/prereqs.sh): the DC/OS CLI in ../dcos-cli, with its shims.' \
        'import os, sys' \
        'sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dcos-cli"))' \
        'import dcos_shims  # noqa: E402,F401' \
        'from dcoscli.main import main  # noqa: E402' \
        'sys.exit(main())')
    if [ "$(cat .venv/bin/dcos 2>/dev/null)" != "$wrapper" ]; then
        printf '%s\n' "$wrapper" >.venv/bin/dcos
        chmod 755 .venv/bin/dcos
    fi
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

# playwright-core from the npm registry (tests/browser/package-lock.json) for the dashboard login
# driver tests/browser/login.mjs, which drives need_chromium's browser (nothing downloads one).
# Node.js comes from Debian only where it is missing: bookworm's is 18, which the pinned
# playwright-core 1.61 still supports (1.62 and later want 20). Installs only when the pinned
# version is not in tests/browser/node_modules yet.
need_playwright() {
    local missing=()
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    [ "${#missing[@]}" = 0 ] || apt_install "${missing[@]}"
    local want have
    want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' tests/browser/package.json)
    # Not installed yet on a clean clone: sed's exit 2 for the missing file must not end the run.
    have=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' \
        tests/browser/node_modules/playwright-core/package.json 2>/dev/null || true)
    [ -n "$have" ] && [ "$have" = "$want" ] && return 0
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# OpenSSH's sshd for strato-ssh's tests, which start their own sshd on 127.0.0.1 (not the
# system service).
need_sshd() {
    [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1 && command -v ssh-agent >/dev/null 2>&1 && return 0
    apt_install_not_started openssh-server openssh-client
}

# apt_install for packages whose postinst would start a system service: a policy-rc.d that
# answers 101 ("action forbidden") stops that, and is removed again if we put it there.
apt_install_not_started() {
    local added_policy=0
    if [ "$(id -u)" = 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    local rc=0
    apt_install "$@" || rc=$?
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

# Debian's Prometheus: runtime/master/tests/master/prometheus.rs scrapes a master with
# docs/prometheus/prometheus.yml and loads the alert rules (about 10 s to install).
need_prometheus() {
    command -v prometheus >/dev/null 2>&1 || apt_install_not_started prometheus
}

# Debian's docker-registry (the distribution registry) and htpasswd: the container tests start
# a registry of their own on 127.0.0.1 with a password, push the test image to it and have the
# agent pull it with the credentials of a Docker config.json (not the system service).
need_docker_registry() {
    local missing=()
    [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
    command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
    [ "${#missing[@]}" = 0 ] || apt_install_not_started "${missing[@]}"
}

# Debian's Podman: tests/it/runtime/podman.rs runs the container path through its
# Docker-compatible API socket (a `podman system service` of the test's own).
need_podman() {
    command -v podman >/dev/null 2>&1 || apt_install_not_started podman
}

# The Metronome (DC/OS Jobs) client from PyPI, dcos-metronome 0.3.0 (2017), in the same .venv,
# with the protobuf of its time it parses answers into (3.20.3, pure Python): its generated
# metronome_pb2 predates protobuf 4, whose runtime loads it only without map fields.
need_metronome_client() {
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
            apt_install python3 python3-venv
        fi
        python3 -m venv .venv
    fi
    PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python .venv/bin/python -c \
        'import metronome, google.protobuf as p; assert p.__version__ == "3.20.3"' >/dev/null 2>&1 && return 0
    .venv/bin/python -m pip install --quiet --disable-pip-version-check dcos-metronome==0.3.0 protobuf==3.20.3
}

# Debian's static busybox: the container tests import it as a tiny image (no registry reachable).
need_busybox() {
    [ -x /bin/busybox ] || apt_install busybox-static
}

ensure_prereqs() {
    need_sshd
    need_shellcheck
    need_curl
    need_openssl
    need_marathon_venv
    need_dcos_venv
    need_moto
    need_metronome_client
    need_cargo_deny
    need_chromium
    need_playwright
    need_bundle_tools
    need_etcd
    need_docker
    need_busybox
    need_docker_registry
    need_podman
    need_prometheus
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
