#!/bin/sh
# Makes the container tests' image offline (no registry is reachable): Debian's static busybox,
# its applets as links, and a page in /www, imported with `docker import`. Does nothing when the
# engine has the image already. Usage: tests/container-image.sh [IMAGE]
set -eu
image=${1:-strato-test-busybox:1}
docker image inspect "$image" >/dev/null 2>&1 && exit 0
[ -x /bin/busybox ] || { echo "/bin/busybox is missing: install busybox-static (tests/run does)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root" "$root.tar"' EXIT
mkdir -p "$root/bin" "$root/www" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh httpd sleep cat echo ls rm killall; do
    ln -s busybox "$root/bin/$applet"
done
echo "hello from a container" > "$root/www/index.html"
echo ok > "$root/www/health"
tar -C "$root" -cf "$root.tar" .
docker import "$root.tar" "$image" >/dev/null
