#!/bin/sh
# Boots the zoo twice, once with vdevd and once with Debian's udev (systemd 252's udevd,
# unpacked from the udev package by test/fixtures/make-hwdb.sh, never installed here) as
# the guest's device manager, and compares the two /dev trees name by name
# (compare-names.py, accepted differences in udev-differences.txt). Also prints each
# manager's time from its start to settled, on the same emulated machine.
#
# Usage: test/vm/compare-with-udev.sh BUILD_DIR
# Exit status: 0 same names (or only accepted differences), 1 not, 77 skipped.
set -eu

build_dir=$(cd "${1:?usage: compare-with-udev.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "compare: SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
cache=$("$here/fetch-kernel.sh" "$build_dir") || skip "could not fetch Debian's kernel"
"$here/../fixtures/make-hwdb.sh" "$build_dir" >/dev/null || skip "could not unpack Debian's udev"

status=0
"$here/boot-zoo.sh" "$build_dir" "$cache" "$build_dir/vm-compare/vdevd" || status=1
VDEV_VM_UDEV_ROOT=$build_dir/hwdb-root \
  "$here/boot-zoo.sh" "$build_dir" "$cache" "$build_dir/vm-compare/udev" || status=1
# settle_ms: from the manager's start (vdevd; udevd, then its two triggers) to settled.
for manager in vdevd udev; do
  log=$build_dir/vm-compare/$manager/console.log
  echo "compare: $manager: start to settled $(sed -n 's/^VDEVVM time .*settle_ms=\([0-9]*\).*/\1/p' "$log") ms," \
    "all devices $(sed -n 's/^VDEVVM time devices_complete_ms=\([0-9]*\).*/\1/p' "$log") ms," \
    "$(grep -c '^VDEVVM module ' "$log") modules loaded"
done
/usr/bin/python3 "$here/compare-names.py" "$build_dir/vm-compare/vdevd/console.log" \
  "$build_dir/vm-compare/udev/console.log" "$here/udev-differences.txt" || status=1
exit $status
