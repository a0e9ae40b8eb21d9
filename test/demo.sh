#!/bin/sh
# The README's first command: set up, build, and run vdevd on a safe default.
#  - as root: vdevd mounts a private tmpfs at build/demo/dev and manages it from this
#    machine's real sysfs and kernel events (coldplug, then live events: a loop device is
#    attached and detached to show one), never touching the real /dev;
#  - without root: vdevd runs over a bundled fake sysfs with --dry-run and prints the
#    nodes and links it would make.
# Options: --duration S  keep listening S seconds after the demo (default 0; -1 = until ^C)
set -eu
cd "$(dirname "$0")/.."
duration=0
[ "${1:-}" = "--duration" ] && duration="$2"

test/setup-debian.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build >/dev/null
demo="$PWD/build/demo"
vdevd="$PWD/build/bin/vdevd"

if [ "$(id -u)" -ne 0 ]; then
  echo "== not root: dry run over a bundled fake sysfs"
  rm -rf "$demo" && mkdir -p "$demo/dev"
  build/bin/make-fake-sysfs "$demo/sysfs" --devices 40 >/dev/null
  exec "$vdevd" --once --dry-run --sysfs-root "$demo/sysfs" --dev-root "$demo/dev" \
    --run-dir "$demo/run" --rules-dir rules --devfs tmpfs --log-level info
fi

mkdir -p "$demo/dev" "$demo/run"
umount "$demo/dev" 2>/dev/null || true
rm -rf "$demo/run" && mkdir -p "$demo/run"
ready="$demo/ready"
rm -f "$ready" && mkfifo "$ready"
echo "== vdevd on a private tmpfs at $demo/dev (real sysfs, real kernel events)"
"$vdevd" --dev-root "$demo/dev" --run-dir "$demo/run" --rules-dir rules --mount-tmpfs \
  --devfs tmpfs --log-level info --ready-fd 3 3>"$ready" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${loop:-}" ] && losetup -d "$loop" 2>/dev/null || true
  rm -f "$ready" "$demo/loop.img"
  umount "$demo/dev" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
read -r _ <"$ready"
echo "== ready: $(find "$demo/dev" \( -type b -o -type c \) | wc -l) nodes," \
  "$(ls "$demo/run/udev/data" | wc -l) database records"
ls -l "$demo/dev/null" "$demo/dev/tty1" "$demo/dev/kvm" "$demo/dev/loop0" 2>/dev/null || true

echo "== attaching a loop device: its events reach vdevd over netlink"
truncate -s 8M "$demo/loop.img"
loop=$(losetup -f --show "$demo/loop.img")
VDEV_RUN_DIR="$demo/run" build/bin/vdevadm settle --timeout 10
name=$(basename "$loop")
ls -l "$demo/dev/$name" "$demo/dev/block/$(cat "/sys/block/$name/dev")"
VDEV_RUN_DIR="$demo/run" VDEV_DEV_ROOT="$demo/dev" build/bin/vdevadm info --query=property \
  --name="$name" | grep -E '^(DEVNAME|DISKSEQ|USEC_INITIALIZED)='
losetup -d "$loop" && loop=""
VDEV_RUN_DIR="$demo/run" build/bin/vdevadm settle --timeout 10
if [ "$duration" != 0 ]; then
  echo "== listening (${duration}s; -1 = until Ctrl-C)"
  if [ "$duration" = -1 ]; then wait "$pid"; else sleep "$duration"; fi
fi
echo "== done; stopping vdevd"
