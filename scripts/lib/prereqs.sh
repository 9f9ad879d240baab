# Installs the system packages and tools the tests need, only when they are missing.
# Sourced by scripts/test. Each need is one function, named for what it provides.

apt_updated=0
apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/test: need $* installed (run as root or install them)" >&2
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

ensure_prereqs() {
    need_shellcheck
}
