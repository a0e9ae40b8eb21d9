#!/bin/sh
# The VM boot tier: boots Debian 12's stock kernel under qemu (software emulation) with an
# initramfs whose only device manager is vdevd on a tmpfs /dev, over a zoo of disks (AHCI,
# virtio, virtio-scsi, USB, CD-ROM), input, sound, a NIC and serial ports; the guest builds
# LVM and md RAID1 and reports; check-report.py compares the report with
# expected-names.txt.
#
# Usage: test/vm/run-vm-test.sh BUILD_DIR
# Exit status: 0 pass, 1 fail, 77 skipped (no qemu, not root, or no kernel to be had).
# Environment: VDEV_VM_TIMEOUT (seconds for the boot, default 420).
set -eu

build_dir=$(cd "${1:?usage: run-vm-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
work=$build_dir/vm-work

skip() { echo "vm: SKIP: $*"; exit 77; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || skip "needs root (device nodes in the initramfs, apt-get for the kernel)"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (Debian: qemu-system-x86)"
for tool in cpio sfdisk mkfs.ext4 mkfs.vfat depmod apt-get; do
  command -v "$tool" >/dev/null || skip "no $tool"
done
for program in vdevd vdevadm; do
  [ -x "$build_dir/bin/$program" ] || { echo "vm: FAIL: no $build_dir/bin/$program"; exit 1; }
done

start=$(now)
mkdir -p "$work"
cache=$("$here/fetch-kernel.sh" "$build_dir") || skip "could not fetch Debian's kernel"
echo "vm: kernel $(cat "$cache/kernel-version") ready after $(elapsed "$start") s"
status=0
"$here/boot-zoo.sh" "$build_dir" "$cache" "$work" || status=$?

result=0
/usr/bin/python3 "$here/check-report.py" "$work/console.log" "$here/expected-names.txt" \
  "$source_dir/rules" "$cache/root/lib/modules/$(cat "$cache/kernel-version")/modules.dep" ||
  result=1
[ "$status" -eq 0 ] || result=1
echo "vm: whole run $(elapsed "$start") s"
exit $result
