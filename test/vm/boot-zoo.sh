#!/bin/sh
# One boot of the zoo: builds the initramfs and fresh disk images in WORK, boots them under
# qemu (software emulation) and leaves the guest's console in WORK/console.log. The guest
# powers off when its report is done.
#
# Usage: test/vm/boot-zoo.sh BUILD_DIR CACHE_DIR WORK
#   (build-initramfs.sh's environment applies: VDEV_VM_LIBUDEV, VDEV_VM_UDEV_ROOT)
#   VDEV_VM_TIMEOUT   seconds for the boot (default 420)
# Exit status: qemu's (124 when the timeout hit).
set -eu

build_dir=${1:?usage: boot-zoo.sh BUILD_DIR CACHE_DIR WORK}
cache=${2:?cache dir}
work=${3:?work dir}
here=$(cd "$(dirname "$0")" && pwd)
timeout=${VDEV_VM_TIMEOUT:-420}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

mkdir -p "$work"
step=$(now)
"$here/build-initramfs.sh" "$build_dir" "$cache" "$work/initramfs.cpio"
"$here/zoo.sh" "$work/disks" > "$work/qemu-args"
echo "vm: initramfs and disks built in $(elapsed "$step") s"

# -smp 2 at most (the machine has two cores); no network behind the NIC; panics reboot,
# which -no-reboot turns into an exit.
step=$(now)
rm -f "$work/console.log"
status=0
# shellcheck disable=SC2046  # the zoo's options are words on purpose
timeout "$timeout" qemu-system-x86_64 -accel tcg -smp 2 -m 1024 -no-reboot \
  $(cat "$work/qemu-args") \
  -kernel "$cache/vmlinuz" -initrd "$work/initramfs.cpio" \
  -append "console=ttyS0 panic=-1 loglevel=4" \
  -serial "file:$work/console.log" > "$work/qemu.log" 2>&1 || status=$?
echo "vm: qemu ran $(elapsed "$step") s (exit $status); console log: $work/console.log"
if [ "$status" -ne 0 ]; then
  echo "vm: qemu's output:"; tail -n 20 "$work/qemu.log"
  echo "vm: the console's last lines:"
  grep -v '^VDEVVM \(node\|link\|sysdev\|uevent\|attr\) ' "$work/console.log" | tail -n 40
fi
exit "$status"
