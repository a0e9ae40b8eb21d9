#!/bin/sh
# The initramfs-tools boot test: Debian's own mkinitramfs builds an initramfs with vdev's hook
# (from `cmake --install` into a staging root) in place of udev's, qemu boots Debian's
# kernel with root=UUID=... on an AHCI disk among the zoo's, the initramfs finds the root
# through vdevd's /dev/disk/by-uuid, switches to it, and the root's busybox init starts
# vdevd with the sysvinit script (/etc/init.d/vdev). The guest prints "VDEVBOOT ..." lines;
# this script checks them, checks the image has no udevd, and prints the boot times.
#
# mkinitramfs runs in a private mount namespace (unshare -m), chrooted into an overlay whose
# lower layers are the staged install, the extracted initramfs-tools/klibc/udev/busybox
# packages (apt-get download, never installed: initramfs-tools-core depends on udev, which
# must not be installed here) and this machine's /, with the fetched kernel's modules bound
# at /lib/modules/VERSION; every write lands in a tmpfs that goes with the namespace.
#
# Usage: test/vm/run-initramfs-boot-test.sh BUILD_DIR
# Exit status: 0 pass, 1 fail, 77 skipped (not root, no qemu/unshare/overlayfs, no kernel or
# packages to be had). Environment: VDEV_VM_TIMEOUT (seconds for the boot, default 420).
set -eu

build_dir=$(cd "${1:?usage: run-initramfs-boot-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$build_dir/initramfs-boot
timeout=${VDEV_VM_TIMEOUT:-420}
# The root filesystem's UUID (and label): fixed, the kernel command line names it.
root_uuid=5ee0b007-1f2e-4d3c-8b4a-0d1e2f3a4b5c

skip() { echo "initramfs-boot: SKIP: $*"; exit 77; }
fail() { echo "initramfs-boot: FAIL: $*"; exit 1; }
log() { echo "initramfs-boot: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || skip "needs root (mount namespace, chroot, device nodes)"
command -v qemu-system-x86_64 > /dev/null || skip "no qemu-system-x86_64 (Debian: qemu-system-x86)"
for tool in unshare chroot cpio mkfs.ext4 apt-get dpkg-deb gzip sfdisk mkfs.vfat; do
  command -v "$tool" > /dev/null || skip "no $tool"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2> /dev/null ||
  skip "no overlayfs for mkinitramfs' private root"
for program in vdevd vdevadm; do
  [ -x "$build_dir/bin/$program" ] || fail "no $build_dir/bin/$program"
done

start=$(now)
mkdir -p "$work"
cache=$("$here/fetch-kernel.sh" "$build_dir") || skip "could not fetch Debian's kernel"
kver=$(cat "$cache/kernel-version")
[ -f "$cache/root/boot/config-$kver" ] || fail "no config-$kver in $cache/root/boot"

# --- initramfs-tools and what it needs, extracted once (never installed).
tools=$build_dir/initramfs-tools-cache
if [ ! -f "$tools/complete" ]; then
  rm -rf "$tools"
  mkdir -p "$tools/debs" "$tools/root"
  (cd "$tools/debs" && apt-get download -q initramfs-tools initramfs-tools-core klibc-utils \
    libklibc udev busybox-static > /dev/null) || skip "apt-get download of initramfs-tools failed"
  for deb in "$tools"/debs/*.deb; do dpkg-deb -x "$deb" "$tools/root"; done
  # Merged /usr like this machine: a real /bin or /lib in an upper layer would hide the
  # host's /bin -> usr/bin (and its libc) in mkinitramfs' overlay root.
  for dir in bin sbin lib lib64; do
    if [ ! -d "$tools/root/$dir" ] || [ -L "$tools/root/$dir" ]; then continue; fi
    mkdir -p "$tools/root/usr/$dir"
    cp -a "$tools/root/$dir/." "$tools/root/usr/$dir/"
    rm -rf "${tools:?}/root/$dir"
  done
  rm -rf "$tools/debs"
  touch "$tools/complete"
fi

# --- vdev, as `cmake --install` puts it, for the prefix the build was configured with.
step=$(now)
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build_dir/CMakeCache.txt")
stage=$work/stage
rm -rf "$stage"
DESTDIR=$stage cmake --install "$build_dir" --prefix "$prefix" --strip > "$work/install.log" ||
  fail "cmake --install failed (see $work/install.log)"
hook=$stage/usr/share/initramfs-tools/hooks/vdev
[ -x "$hook" ] || fail "the install has no $hook (VDEV_INIT_INITRAMFS_TOOLS=OFF?)"
sysv_script=$(find "$stage" -path '*/init.d/vdev' -type f | head -n 1)
[ -n "$sysv_script" ] || fail "the install has no init.d/vdev (VDEV_INIT_SYSVINIT=OFF?)"
sbindir=$(sed -n 's/^DAEMON="\(.*\)\/vdevd"$/\1/p' "$sysv_script")

# --- mkinitramfs' configuration: only the drivers the root needs (the zoo's other devices
# stay driverless), added without /conf/modules so vdevd loads them from MODALIAS; blkid
# may resolve root=UUID= only through /dev/disk/by-uuid (EVALUATE=udev: no scanning).
conf=$work/conf
rm -rf "$conf"
mkdir -p "$conf/conf.d" "$conf/hooks" "$conf/scripts/init-top" "$conf/scripts/local-bottom"
cat > "$conf/initramfs.conf" << 'EOF'
MODULES=list
BUSYBOX=y
KEYMAP=n
COMPRESS=gzip
DEVICE=
NFSROOT=auto
RUNSIZE=10%
FSTYPE=ext4
EOF
: > "$conf/modules"
cat > "$conf/hooks/vdevtest" << 'EOF'
#!/bin/sh
# The boot test's drivers and blkid setting.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules ahci sd_mod sr_mod virtio_pci virtio_blk virtio_scsi ext4 crc32c_generic
echo "EVALUATE=udev" > "$DESTDIR/etc/blkid.conf"
EOF
cat > "$conf/scripts/init-top/vdevtest" << 'EOF'
#!/bin/sh
# After init-top/vdev: vdevd has coldplugged. When /init started, when vdevd started (its
# start time in clock ticks since boot), now; and whether any udevd is in the image.
[ "$1" = prereqs ] && { echo vdev; exit 0; }
now=$(cut -d ' ' -f 1 /proc/uptime)
init_at=$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' | head -n 1)
pid=$(cat /run/vdev/vdevd.pid 2> /dev/null || true)
started=""
[ -n "$pid" ] && started=$(awk '{ printf "%.2f", $22 / 100 }' "/proc/$pid/stat" 2> /dev/null)
echo "VDEVBOOT initramfs init-at=$init_at vdevd-started-at=$started vdevd-ready-at=$now pid=$pid"
udevd=absent
for f in /lib/systemd/systemd-udevd /usr/lib/systemd/systemd-udevd; do
  [ -e "$f" ] && udevd=present
done
ps | grep -v grep | grep -q systemd-udevd && udevd=running
echo "VDEVBOOT initramfs udevd=$udevd udevadm=$(readlink /usr/bin/udevadm)"
EOF
cat > "$conf/scripts/local-bottom/vdevtest" << EOF
#!/bin/sh
# The root is mounted (scripts/local resolved root=UUID=... to \$ROOT with blkid, which may
# only read /dev/disk/by-uuid): which node, through which link, when.
[ "\$1" = prereqs ] && exit 0
echo "VDEVBOOT initramfs root=\$ROOT by-uuid=\$(readlink /dev/disk/by-uuid/$root_uuid)" \\
  "root-mounted-at=\$(cut -d ' ' -f 1 /proc/uptime)"
ls -l /dev/disk/by-uuid | sed -n 's/^.* \([^ ]* -> [^ ]*\)\$/VDEVBOOT initramfs by-uuid \1/p'
EOF
chmod 755 "$conf/hooks/vdevtest" "$conf/scripts/init-top/vdevtest" \
  "$conf/scripts/local-bottom/vdevtest"

# --- mkinitramfs in a private mount namespace; the host's initramfs-tools paths must not
# change (they would if anything leaked).
host_state() {
  ls -la --time-style=full-iso /boot /etc /usr/share/initramfs-tools \
    /usr/share/initramfs-tools/hooks /lib/modules 2> /dev/null || true
}
host_before=$(host_state)
rm -f "$work/initrd.img"
# shellcheck disable=SC2016  # expanded by the inner shell, from the environment
VDEVTEST_WORK=$work VDEVTEST_TOOLS=$tools/root VDEVTEST_CACHE=$cache VDEVTEST_KVER=$kver \
  unshare -m --propagation private sh -eu -c '
  ns=$VDEVTEST_WORK/ns
  mkdir -p "$ns"
  mount -t tmpfs -o mode=755 vdevtest "$ns"
  mkdir -p "$ns/stage" "$ns/tools" "$ns/upper" "$ns/work" "$ns/merged"
  # Layers on the tmpfs: overlayfs refuses lower layers nested in one another.
  cp -a "$VDEVTEST_WORK/stage/." "$ns/stage/"
  cp -a "$VDEVTEST_TOOLS/." "$ns/tools/"
  mkdir -p "$ns/tools/boot"
  cp "$VDEVTEST_CACHE/root/boot/config-$VDEVTEST_KVER" "$ns/tools/boot/"
  mount -t overlay overlay \
    -o "lowerdir=$ns/stage:$ns/tools:/,upperdir=$ns/upper,workdir=$ns/work" "$ns/merged"
  modules=$ns/merged/usr/lib/modules/$VDEVTEST_KVER
  mkdir -p "$modules"
  mount --bind "$VDEVTEST_CACHE/root/lib/modules/$VDEVTEST_KVER" "$modules"
  mount -o remount,bind,ro "$modules"
  mount -t proc proc "$ns/merged/proc"
  mount --bind /dev "$ns/merged/dev"
  mount -t tmpfs tmpfs "$ns/merged/tmp"
  mount -t tmpfs tmpfs "$ns/merged/var/tmp"
  cp -a "$VDEVTEST_WORK/conf" "$ns/merged/vdevtest-conf"
  chroot "$ns/merged" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    mkinitramfs -d /vdevtest-conf -o /vdevtest-initrd.img "$VDEVTEST_KVER"
  cp "$ns/merged/vdevtest-initrd.img" "$VDEVTEST_WORK/initrd.img"
' > "$work/mkinitramfs.log" 2>&1 || {
  tail -n 30 "$work/mkinitramfs.log"; fail "mkinitramfs failed (see $work/mkinitramfs.log)"; }
rmdir "$work/ns" 2> /dev/null || true
[ "$(host_state)" = "$host_before" ] || fail "the host's /boot, /etc or initramfs-tools changed"
grep '^[WE]:' "$work/mkinitramfs.log" | sed 's/^/initramfs-boot: mkinitramfs said: /' || true

# The image: vdev's hook won over udev's.
listing=$work/initrd.list
gzip -dc "$work/initrd.img" | cpio -it --quiet 2> /dev/null > "$listing"
image_ok=1
grep -q "sbin/vdevd$" "$listing" || { log "image: no vdevd"; image_ok=0; }
# udev's hook must have run too (it copies scsi_id), or this proves nothing about winning.
grep -q 'lib/udev/scsi_id$' "$listing" || { log "image: udev's hook did not run"; image_ok=0; }
if grep -q 'systemd-udevd$\|^scripts/init-top/udev$\|^scripts/init-bottom/udev$' "$listing"
then
  log "image: udev is still there:"; grep 'udevd$\|scripts/init-.*/udev$' "$listing"
  image_ok=0
fi
order=$(mkdir -p "$work/order" && cd "$work/order" &&
  gzip -dc "$work/initrd.img" | cpio -id --quiet scripts/init-top/ORDER 2> /dev/null &&
  cat scripts/init-top/ORDER)
echo "$order" | grep -q '/scripts/init-top/vdev ' || { log "image: init-top/ORDER lacks vdev"; image_ok=0; }
echo "$order" | grep -q '/scripts/init-top/udev ' && { log "image: init-top/ORDER runs udev"; image_ok=0; }
log "initramfs: $(du -h "$work/initrd.img" | cut -f 1), $(grep -c '\.ko$' "$listing") modules," \
  "built in $(elapsed "$step") s"

# --- the root filesystem: busybox (init, sh), the staged vdev with its libraries, the
# sysvinit script at /etc/init.d/vdev, an inittab that runs it and reports.
step=$(now)
rootfs=$work/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"
cp -a "$stage/." "$rootfs/"
rm -rf "$rootfs/usr/share/initramfs-tools"
cd "$rootfs"
mkdir -p bin sbin usr/bin usr/sbin etc/init.d proc sys dev run tmp root
chmod 1777 tmp
cp "$tools/root/usr/bin/busybox" bin/busybox
for applet in $(bin/busybox --list-full); do
  [ -e "$applet" ] || [ -L "$applet" ] || ln -s /bin/busybox "$applet"
done
for program in $(find . -type f -perm -u+x) $(find . -name 'libudev.so*' -type f); do
  file_type=$(od -A n -t x1 -N 4 "$program" | tr -d ' ')
  [ "$file_type" = 7f454c46 ] || continue
  ldd "$program" 2> /dev/null | while read -r name _ path _; do
    case $name in linux-vdso*) continue ;; /*) path=$name ;; esac
    if [ -z "$path" ] || [ "$path" = not ]; then continue; fi
    [ -e ".$path" ] || { mkdir -p ".$(dirname "$path")"; cp -L "$path" ".$path"; }
  done
done
cp -a /etc/ld.so.conf /etc/ld.so.conf.d etc/
ldconfig -r "$rootfs"
cp /etc/passwd /etc/group etc/
[ -e etc/init.d/vdev ] || cp "$sysv_script" etc/init.d/vdev
: > etc/fstab
cat > etc/inittab << 'EOF'
::sysinit:/etc/init.d/rcS
EOF
cat > etc/init.d/rcS << EOF
#!/bin/sh
# The boot test's whole runlevel: vdevd through its sysvinit script, a report, power off.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin
uptime() { cut -d ' ' -f 1 /proc/uptime; }
echo "VDEVBOOT root init-at=\$(uptime) dev=\$(awk '\$2 == "/dev" { print \$3 }' /proc/mounts)"
/etc/init.d/vdev start
echo "VDEVBOOT root vdev-start status=\$? ready-at=\$(uptime)"
pid=\$(cat /run/vdev/vdevd.pid 2> /dev/null)
echo "VDEVBOOT root vdevd pid=\$pid exe=\$(readlink /proc/\$pid/exe)"
/etc/init.d/vdev status > /dev/null
echo "VDEVBOOT root vdev-status status=\$?"
for link in /dev/disk/by-uuid/* /dev/disk/by-label/* /dev/disk/by-id/*; do
  echo "VDEVBOOT root link \$link -> \$(readlink "\$link")"
done
echo "VDEVBOOT root db-records \$(ls /run/udev/data 2> /dev/null | wc -l)"
vdevadm info --query=property --name=/dev/disk/by-uuid/$root_uuid | grep '^ID_FS_' |
  sed 's/^/VDEVBOOT root property /'
/etc/init.d/vdev stop > /dev/null
gone=yes
[ -n "\$pid" ] && [ -d "/proc/\$pid" ] && gone=no
echo "VDEVBOOT root vdev-stop gone=\$gone"
echo "VDEVBOOT done"
sync
poweroff -f
EOF
chmod 755 etc/init.d/rcS
ln -sf /bin/busybox sbin/init
cd "$work"
rm -f root.img
truncate -s 128M root.img
mkfs.ext4 -q -F -d "$rootfs" -U "$root_uuid" -L vdevbootroot root.img
"$here/zoo.sh" "$work/disks" > "$work/qemu-args"
log "root filesystem and zoo built in $(elapsed "$step") s"

# --- boot. The root disk is the third AHCI port, after the zoo's SATA disk and CD-ROM.
step=$(now)
rm -f "$work/console.log"
status=0
# shellcheck disable=SC2046  # the zoo's options are words on purpose
timeout "$timeout" qemu-system-x86_64 -accel tcg -smp 2 -m 1024 -no-reboot \
  $(cat "$work/qemu-args") \
  -drive "if=none,id=root0,file=$work/root.img,format=raw" \
  -device ide-hd,drive=root0,bus=ide.2,serial=VDEVBOOTROOT \
  -kernel "$cache/vmlinuz" -initrd "$work/initrd.img" \
  -append "root=UUID=$root_uuid console=ttyS0 panic=-1 loglevel=4" \
  -serial "file:$work/console.log" > "$work/qemu.log" 2>&1 || status=$?
log "qemu ran $(elapsed "$step") s (exit $status); console log: $work/console.log"

# --- the report.
# (A line may follow a "Begin: ..." of initramfs-tools' on the same line.)
report=$(tr -d '\r' < "$work/console.log" | grep -ao 'VDEVBOOT .*' || true)
result=0
expect() {  # DESCRIPTION PATTERN (grep -E on the report)
  if echo "$report" | grep -Eq "$2"; then
    log "ok: $1"
  else
    log "FAIL: $1 (no line matching '$2')"
    result=1
  fi
}
field() { echo "$report" | sed -n "s/^VDEVBOOT $1 .*$2=\([^ ]*\).*/\1/p" | head -n 1; }
expect "no udevd in the initramfs" '^VDEVBOOT initramfs udevd=absent udevadm=.*vdevadm$'
expect "vdevd ran in the initramfs" '^VDEVBOOT initramfs init-at=.* pid=[0-9]+$'
root_dev=$(field initramfs root)
expect "the initramfs found the root through /dev/disk/by-uuid" \
  "^VDEVBOOT initramfs root=/dev/[a-z]+ by-uuid=\.\./\.\./${root_dev#/dev/} "
expect "switched to the root, the initramfs's /dev moved there" '^VDEVBOOT root init-at=[0-9.]+ dev=(tmpfs|devtmpfs)$'
expect "/etc/init.d/vdev start succeeded" '^VDEVBOOT root vdev-start status=0 '
expect "vdevd runs from the pid file" "^VDEVBOOT root vdevd pid=[0-9]+ exe=$sbindir/vdevd\$"
expect "/etc/init.d/vdev status says running" '^VDEVBOOT root vdev-status status=0$'
expect "the root's by-uuid link" "^VDEVBOOT root link /dev/disk/by-uuid/$root_uuid -> \.\./\.\./sd[a-z]+$"
expect "the root's by-label link" '^VDEVBOOT root link /dev/disk/by-label/vdevbootroot -> '
expect "the database has the root's filesystem" "^VDEVBOOT root property ID_FS_UUID=$root_uuid$"
expect "/etc/init.d/vdev stop stopped it" '^VDEVBOOT root vdev-stop gone=yes$'
expect "the guest finished its report" '^VDEVBOOT done$'
[ "$image_ok" -eq 1 ] || result=1
[ "$status" -eq 0 ] || { log "FAIL: qemu exit $status"; result=1; }

# --- the times, from the guest's clock (seconds since the kernel started).
init_at=$(field initramfs init-at)
started=$(field initramfs vdevd-started-at)
ready=$(field initramfs vdevd-ready-at)
found=$(field initramfs root-mounted-at)
root_init=$(field root init-at)
root_ready=$(field root ready-at)
awk -v i="$init_at" -v s="$started" -v r="$ready" -v f="$found" -v ri="$root_init" \
  -v rr="$root_ready" 'BEGIN {
    printf "initramfs-boot: times (s): kernel->initramfs /init %s, /init->vdevd started %.2f,",
      i, s - i
    printf " vdevd start->coldplug settled %.2f, vdevd start->root mounted %.2f,", r - s, f - s
    printf " root mounted->root init %.2f, root init->vdevd ready (init.d/vdev start) %.2f,",
      ri - f, rr - ri
    printf " kernel->root vdevd ready %s\n", rr }' 2> /dev/null || true
if [ "$result" -ne 0 ]; then
  log "the console's last lines:"
  grep -v '^VDEVBOOT .* link ' "$work/console.log" | tail -n 40
fi
log "whole run $(elapsed "$start") s"
exit $result
