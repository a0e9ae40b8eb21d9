#!/bin/sh
# /init of the VM test's initramfs. vdevd is the only device manager, on a plain tmpfs
# /dev: it coldplugs, loads every driver from MODALIAS, and names what appears. Then the
# guest builds LVM and md RAID1 (their uevents are vdevd's to handle too) and prints a
# machine-readable report on the console, one "VDEVVM <kind> ..." line per fact, for
# test/vm/run-vm-test.sh to check. Nothing here loads a hardware driver.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022
# Debian's busybox runs its own applets before anything in PATH: real tools (mke2fs,
# modprobe, lvm, mdadm) are called by their full paths.

report() { echo "VDEVVM $*"; }
uptime_ms() { read -r up _ < /proc/uptime; echo $((${up%.*} * 1000 + 1${up#*.} * 10 - 1000)); }
fail() { report "error $*"; finish; }
finish() {
  report "end"
  sync
  poweroff -f
  sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755,nosuid,nodev run /run
hostname vdevtest
# The device manager under test: vdevd, or Debian's udev for the name-by-name comparison
# (test/vm/compare-with-udev.sh builds that initramfs; there is no udev otherwise).
manager=$(cat /etc/vdev-vm-manager 2>/dev/null || echo vdevd)
settle() {
  if [ "$manager" = udev ]; then udevadm settle "$@"; else vdevadm settle "$@"; fi
}
report "begin kernel=$(uname -r) libudev=$(cat /etc/vdev-vm-libudev) manager=$manager"
report "time init_ms=$(uptime_ms)"

# --- vdevd on a tmpfs /dev: coldplug, then netlink. It writes to --ready-fd once listening
# and coldplugged.
mkfifo /run/vdevd-ready
start_ms=$(uptime_ms)
# The initramfs's own /dev (console and null, for the kernel and for ash's background
# jobs) disappears under the tmpfs that vdevd mounts there first (--mount-tmpfs).
[ -e /dev/null ] || mknod -m 666 /dev/null c 1 3
if [ "$manager" = udev ]; then
  # As initramfs-tools' init-top/udev does: udevd on devtmpfs, then trigger and settle.
  mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
  /lib/systemd/systemd-udevd --daemon 2>/run/vdevd.log
  udevadm trigger --type=subsystems --action=add
  udevadm trigger --type=devices --action=add
  ready_ms=$(uptime_ms)
else
  vdevd --mount-tmpfs --devfs tmpfs --log-level info --log-target stderr --ready-fd 3 \
    3>/run/vdevd-ready 2>/run/vdevd.log &
  read -r _ < /run/vdevd-ready || fail "vdevd never became ready"
  ready_ms=$(uptime_ms)
fi
settle --timeout 120 || report "warning settle failed: $?"
settled_ms=$(uptime_ms)
report "time vdevd_ready_ms=$((ready_ms - start_ms)) settle_ms=$((settled_ms - start_ms))"

# Settle waits for the module loader, but drivers that probe asynchronously (SCSI scans,
# USB enumeration, HDA codecs) add devices after their modules are in: wait until the zoo
# is complete (at most 90 s).
expected_nodes="sr0 input/mice snd/controlC0 vda vdb vdc vport*p1 sd[a-z] sd[a-z] sd[a-z] ttyUSB0"
missing_nodes() {
  missing=""
  found=" "
  for pattern in $expected_nodes; do
    hit=""
    for node in /dev/$pattern; do
      case $found in *" $node "*) continue ;; esac
      [ -e "$node" ] && { hit=$node; break; }
    done
    if [ -n "$hit" ]; then found="$found$hit "; else missing="$missing $pattern"; fi
  done
  echo "$missing"
}
deadline=$(($(uptime_ms) + 90000))
while missing=$(missing_nodes) && [ -n "$missing" ]; do
  [ "$(uptime_ms)" -lt $deadline ] || { report "warning still missing after 90 s:$missing"; break; }
  sleep 0.2
done
settle --timeout 60 || report "warning settle failed: $?"
devices_ms=$(uptime_ms)
report "time devices_complete_ms=$((devices_ms - start_ms))"

# --- LVM and md, as an initramfs would. dm-mod, md-mod and raid1 serve no device with a
# MODALIAS: initramfs-tools' lvm2 and mdadm scripts load them by name, so does this.
/sbin/modprobe -a dm-mod md-mod raid1 || report "warning modprobe dm-mod md-mod raid1 failed"
# With Debian's libudev, lvm2 and mdadm ask /run/udev/control whether a udev runs; without
# an answer they make /dev/mapper nodes and /dev/VG links themselves. This file stands in
# for the answer that vdev's libudev.so.1 gives; they then wait for vdevd (DM cookies).
if [ "$manager" = vdevd ] && [ "$(cat /etc/vdev-vm-libudev)" = debian ] &&
  [ ! -e /run/udev/control ]; then
  mkdir -p /run/udev && : > /run/udev/control
fi

disk_with_serial() {  # virtio disks by their serial (sysfs, not links: those are tested)
  for d in /sys/block/vd*; do
    [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return; }
  done
}
pv=""
for d in /sys/block/sd*/sd*3; do
  [ -e "$d" ] || continue
  case $(cat "$d/uevent") in *PARTNAME=vdev-lvm*) pv=/dev/${d##*/} ;; esac
done
lvm_config='activation { udev_sync = 1 udev_rules = 1 } backup { backup = 0 archive = 0 }'
provision_start=$(uptime_ms)
if [ -z "$pv" ]; then
  report "error no partition named vdev-lvm"
else
  lvm() {
    command=$1
    shift
    timeout 120 /sbin/lvm "$command" --config "$lvm_config" "$@" >>/run/lvm.log 2>&1
  }
  # Fixed identities where the tools take them, so that two boots compare name by name.
  lvm pvcreate -ff -y --norestorefile --uuid VdevPV-Test-Zoo0-0000-0000-0000-000001 "$pv" &&
    lvm vgcreate vdevvg "$pv" &&
    lvm lvcreate -y -L 8m -n data vdevvg && lvm lvcreate -y -L 8m -n my-lv vdevvg ||
    report "error lvm failed: $(tr '\n' '|' < /run/lvm.log)"
  settle --timeout 60 || true
  [ -e /dev/mapper/vdevvg-data ] && /sbin/mke2fs -q -t ext4 -L lvdata \
    -U 2f6a3c10-57e1-4f4e-9d0a-5a1e0c0f0101 /dev/mapper/vdevvg-data
fi
raid_a=$(disk_with_serial vdev-raid-a)
raid_b=$(disk_with_serial vdev-raid-b)
if [ -n "$raid_a" ] && [ -n "$raid_b" ]; then
  timeout 120 /sbin/mdadm --create /dev/md/vdevraid --run --quiet --level=1 --raid-devices=2 \
    --metadata=1.2 --assume-clean --homehost=vdevtest --name=vdevraid \
    --uuid=6cfb02f8:21dd00e1:422cbc53:fadce33a "$raid_a" "$raid_b" \
    >/run/mdadm.log 2>&1 || report "error mdadm failed: $(tr '\n' '|' < /run/mdadm.log)"
  settle --timeout 60 || true
  for md in /sys/block/md*; do
    [ -e "$md" ] && /sbin/mke2fs -q -t ext4 -L mdfs -U 2f6a3c10-57e1-4f4e-9d0a-5a1e0c0f0102 \
      "/dev/${md##*/}" && break
  done
else
  report "error no virtio disks with serials vdev-raid-a and vdev-raid-b"
fi
settle --timeout 60 || true
provision_end=$(uptime_ms)
report "time provision_ms=$((provision_end - provision_start))"

# --- the report: a few commands over everything (each program started costs a lot on an
# emulated CPU); test/vm/check-report.py reads it.
sed 's/^\([^ ]*\) .*/VDEVVM module \1/' /proc/modules
sed -n 's/.*inserted module \([^ ]*\) for .*/VDEVVM inserted \1/p' /run/vdevd.log
# Every device number the kernel has, with what identifies it independently of vdevd.
for kind in block char; do
  ls -l /sys/dev/$kind |
    sed -n "s|.* \([0-9]*:[0-9]*\) -> .*/devices/\(.*\)|VDEVVM sysdev $kind \1 /devices/\2|p"
done
grep -H -E '^(DEVNAME|PARTNAME)=' /sys/dev/block/*/uevent /sys/dev/char/*/uevent |
  sed 's|^/sys/dev/\([a-z]*\)/\([0-9:]*\)/uevent:|VDEVVM uevent \1 \2 |'
grep -H '' /sys/dev/block/*/serial /sys/dev/block/*/dm/name 2>/dev/null |
  sed 's|^/sys/dev/block/\([0-9:]*\)/\(.*\):|VDEVVM attr \1 \2 |'
find /dev -type b -o -type c | xargs stat -c 'VDEVVM node %n %A %a %t:%T %U %G'
find /dev -type l | xargs stat -c 'VDEVVM link %N'
ls /sys/class/net | sed 's/^/VDEVVM net /'
# Interfaces have no node: their net_id names are in the database record n<ifindex>.
for net in /sys/class/net/*; do
  sed -n "s|^E:\(ID_NET_NAME_[A-Z]*=.*\)|VDEVVM netprop ${net##*/} \1|p" \
    "/run/udev/data/n$(cat "$net/ifindex")" 2>/dev/null
done
grep -E 'warning|error' /run/vdevd.log | head -n 40 | sed 's/^/VDEVVM vdevd-log /'
if [ "$manager" = udev ]; then udevadm control --exit || true; else vdevadm control --exit || true; fi
finish
