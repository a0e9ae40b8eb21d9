#!/bin/sh
# Builds the VM test's initramfs: busybox, the build tree's vdevd, vdevadm and helpers with
# the source's rules, lvm2, dmsetup, mdadm, mke2fs and kmod from the cache that
# fetch-kernel.sh filled, every shared library they need (ldd), and the modules of the
# devices the zoo has with their modules.dep closure, indexed by depmod. test/vm/guest-init.sh
# becomes /init. No udev, no devtmpfs: vdevd is the guest's only device manager.
#
# Usage: test/vm/build-initramfs.sh BUILD_DIR CACHE_DIR OUTPUT
#   VDEV_VM_LIBUDEV=debian   use Debian's libudev.so.1 even when the build made one
#   VDEV_VM_UDEV_ROOT=DIR    the reference image instead: Debian's udev (the udev package
#                            unpacked in DIR, test/fixtures/make-hwdb.sh's root) with
#                            its rules and lvm2's, dmsetup's and mdadm's is the device
#                            manager, on devtmpfs, and Debian's libudev.so.1 is kept
set -eu

build_dir=$(cd "${1:?usage: build-initramfs.sh BUILD_DIR CACHE_DIR OUTPUT}" && pwd)
cache=$(cd "${2:?cache dir}" && pwd)
output=${3:?output file}
case $output in /*) ;; *) output=$(pwd)/$output ;; esac
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
kver=$(cat "$cache/kernel-version")
extracted=$cache/root
log() { echo "build-initramfs: $*" >&2; }

stage=$build_dir/vm-work/initramfs
rm -rf "$stage"
mkdir -p "$stage"
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin usr/lib/vdev/rules.d etc/lvm etc/mdadm proc sys dev run \
  tmp root lib/modules
chmod 1777 tmp

# --- busybox: every applet as a symlink, except those a real tool provides below.
cp "$extracted/bin/busybox" bin/busybox
for applet in $("$extracted/bin/busybox" --list-full); do
  case $applet in
    */modprobe | */insmod | */rmmod | */lsmod | */modinfo | */depmod | */mdev) continue ;;
  esac
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

# --- programs. Libraries: the cache's (lvm2, libdevmapper ...) before this machine's.
libpath=$extracted/lib/x86_64-linux-gnu:$extracted/usr/lib/x86_64-linux-gnu
copy_libs() {
  LD_LIBRARY_PATH=$libpath ldd "$1" | while read -r name arrow path rest; do
    case $name in
      linux-vdso*) continue ;;
      /*) path=$name ;;  # the dynamic loader
    esac
    [ "$arrow" = "=>" ] && [ "$path" = "not" ] && { log "$1: $name not found"; exit 1; }
    [ -n "$path" ] || continue
    # Keep the path the program asks for, but without the cache's prefix.
    target=${path#"$extracted"}
    [ -e ".$target" ] || { mkdir -p ".$(dirname "$target")"; cp -L "$path" ".$target"; }
  done
}
install_program() {  # SOURCE DESTINATION (replaces a busybox applet of that name)
  rm -f ".$2"
  cp -L "$1" ".$2"
  copy_libs "$1"
}

for program in vdevd vdevadm; do
  install_program "$build_dir/bin/$program" "/usr/bin/$program"
done
for helper in "$build_dir"/bin/vdev-*; do
  [ -x "$helper" ] && install_program "$helper" "/usr/lib/vdev/$(basename "$helper")"
done
cp "$source_dir"/rules/*.rules usr/lib/vdev/rules.d/

udev_root=${VDEV_VM_UDEV_ROOT:-}
manager=vdevd
if [ -n "$udev_root" ]; then
  manager=udev
  install_program "$udev_root/bin/udevadm" /bin/udevadm
  mkdir -p lib/systemd
  ln -sf /bin/udevadm lib/systemd/systemd-udevd  # one program, as in the package
  mkdir -p lib/udev/rules.d etc/udev
  for file in "$udev_root"/lib/udev/*; do
    case ${file##*/} in
      rules.d) ;;
      *) [ -f "$file" ] && [ -x "$file" ] && install_program "$file" "/lib/udev/${file##*/}" ;;
    esac
  done
  cp "$udev_root"/lib/udev/hwdb.bin lib/udev/
  cp "$udev_root"/lib/udev/rules.d/*.rules "$extracted"/lib/udev/rules.d/*.rules lib/udev/rules.d/
  cp "$udev_root"/etc/udev/udev.conf etc/udev/ 2>/dev/null || true
fi
echo "$manager" > etc/vdev-vm-manager

for tool in lvm dmsetup mdadm; do install_program "$extracted/sbin/$tool" "/sbin/$tool"; done
for name in pvcreate vgcreate lvcreate pvs vgs lvs vgchange lvchange pvscan vgscan lvscan; do
  ln -sf lvm "sbin/$name"
done
install_program /sbin/mke2fs /sbin/mke2fs
ln -sf mke2fs sbin/mkfs.ext4
install_program "$(command -v kmod)" /sbin/kmod
for name in modprobe lsmod insmod rmmod modinfo depmod; do ln -sf kmod "sbin/$name"; done
cp "$extracted/etc/lvm/lvm.conf" etc/lvm/lvm.conf

# The libudev.so.1 that lvm2 and mdadm load: vdev's own when the build has one.
libudev_kind=debian
if [ -e "$build_dir/lib/libudev.so.1" ] && [ "${VDEV_VM_LIBUDEV:-}" != debian ] &&
  [ "$manager" = vdevd ]; then
  for debian_copy in $(find . -name 'libudev.so.1*' -path '*/x86_64-linux-gnu/*'); do
    cp -L "$build_dir/lib/libudev.so.1" "$debian_copy"
  done
  copy_libs "$build_dir/lib/libudev.so.1"
  libudev_kind=vdev
fi
echo "$libudev_kind" > etc/vdev-vm-libudev

# Users and groups for the rules' owners (Debian's, with the groups udev's postinst adds).
cp /etc/passwd /etc/group etc/
echo "HOMEHOST vdevtest" > etc/mdadm/mdadm.conf
cp "$source_dir/test/vm/guest-init.sh" init
chmod 755 init

# --- modules: the zoo's drivers with the rest of their families (whole directories, so
# that MODALIAS has a choice to make), the md and dm modules, the filesystems; then
# everything they depend on. Vendor HID drivers, SCSI HBAs and the like are left out: every
# byte here is unpacked by an emulated CPU at each boot.
tree=$extracted/lib/modules/$kver
want=$(cd "$tree" && {
  find kernel/drivers/ata kernel/drivers/cdrom kernel/drivers/virtio kernel/drivers/usb/core \
    kernel/drivers/usb/common kernel/drivers/usb/host kernel/drivers/usb/storage \
    kernel/drivers/hid/usbhid kernel/drivers/net/ethernet/intel/e1000 kernel/sound/core \
    kernel/sound/pci/hda kernel/sound/hda kernel/fs/ext4 kernel/fs/jbd2 kernel/fs/fat \
    kernel/fs/isofs -name '*.ko'
  find kernel/drivers/md kernel/drivers/input kernel/drivers/char -maxdepth 1 -name '*.ko'
  ls kernel/drivers/scsi/sd_mod.ko kernel/drivers/scsi/sr_mod.ko kernel/drivers/scsi/sg.ko \
    kernel/drivers/scsi/virtio_scsi.ko kernel/drivers/block/virtio_blk.ko \
    kernel/drivers/block/loop.ko kernel/drivers/hid/hid-generic.ko \
    kernel/drivers/net/virtio_net.ko kernel/crypto/crc32c_generic.ko \
    kernel/drivers/usb/serial/usbserial.ko kernel/drivers/usb/serial/ftdi_sio.ko \
    kernel/arch/x86/crypto/crc32c-intel.ko
})
# modules.dep: "kernel/x.ko: kernel/dep1.ko kernel/dep2.ko" with the full closure.
closure=$(printf '%s\n' $want | awk -v dep="$tree/modules.dep" '
  BEGIN { while ((getline line < dep) > 0) { split(line, p, ":"); deps[p[1]] = p[2] } }
  { print; n = split(deps[$1], d, " "); for (i = 1; i <= n; i++) print d[i] }' | sort -u)
destination=lib/modules/$kver
mkdir -p "$destination"
for module in $closure; do
  mkdir -p "$destination/$(dirname "$module")"
  cp "$tree/$module" "$destination/$module"
done
cp "$tree"/modules.order "$tree"/modules.builtin "$tree"/modules.builtin.modinfo "$destination/"
depmod -b "$stage" "$kver"
log "$(echo "$closure" | wc -l) modules, libudev: $libudev_kind, device manager: $manager"

# Debug information is most of the build's binaries' size, and every byte is unpacked by
# an emulated CPU at each boot.
if command -v strip >/dev/null; then
  find usr/bin usr/lib/vdev sbin lib lib64 -type f ! -name '*.ko' -print |
    while read -r file; do strip --strip-unneeded "$file" 2>/dev/null || true; done
fi

# --- the archive. /dev/console for the kernel, /dev/null for /init, until vdevd mounts its
# tmpfs over them.
if [ "$(id -u)" -eq 0 ]; then mknod -m 600 dev/console c 5 1 && mknod -m 666 dev/null c 1 3; fi
# Not compressed: the emulated CPU unpacks 48 MB of plain cpio faster than it inflates
# gzip or lz4 (6 s against 9 to 10 s to /init, measured).
find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > "$output"
log "$(du -h "$output" | cut -f1) in $output"
