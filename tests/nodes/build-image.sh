#!/usr/bin/env bash
# Builds the end-to-end test node image: a Debian 12 rootfs made by debootstrap (no registry is
# reachable, so no `docker pull`), turned into an image with `docker import`. systemd is PID 1 and
# sshd runs, like a real node. The image is tagged with a hash of this recipe, so it is built once
# and reused until the recipe changes; the rootfs tarball is also kept under the cache dir so a
# restarted dockerd does not need another debootstrap.
#
# Prints the image tag on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
packages="systemd,systemd-sysv,dbus,openssh-server,curl,iproute2,ca-certificates,procps,sudo,python3,iputils-ping,openssl"
suite=bookworm
mirror=${STRATO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
hash=$(printf '%s\n%s\n%s\n' "$packages" "$suite" "$(cat "$here/build-image.sh")" | sha256sum | cut -c1-12)
tag="strato-node:$hash"
cache=${STRATO_CACHE_DIR:-/var/cache/strato}
tarball="$cache/node-rootfs-$hash.tar"

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    exit 0
fi

mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "build-image: debootstrap $suite into $work (a few minutes, once)" >&2
    debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -20 "$work/debootstrap.log" >&2
        exit 1
    }
    # Nodes get their SSH host keys at first boot, so two containers never share one.
    rm -f "$work"/rootfs/etc/ssh/ssh_host_*
    cat >"$work/rootfs/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
    ln -sf /etc/systemd/system/ssh-hostkeys.service "$work/rootfs/etc/systemd/system/multi-user.target.wants/ssh-hostkeys.service"
    # A fresh machine-id per container (systemd writes one at boot when the file is empty).
    : >"$work/rootfs/etc/machine-id"
    mkdir -p "$work/rootfs/root/.ssh"
    chmod 700 "$work/rootfs/root/.ssh"
    tar -C "$work/rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
fi
docker import -c 'CMD ["/sbin/init"]' "$tarball" "$tag" >/dev/null
echo "$tag"
