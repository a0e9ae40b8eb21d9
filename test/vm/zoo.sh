#!/bin/sh
# The VM test's device zoo: makes the disk images (raw, sparse) in a directory and prints
# the qemu device options that attach them, with the other devices the test expects to be
# named (USB keyboard and mouse, sound, a NIC with no network behind it, serial ports, a
# USB serial adapter: qemu attaches it only once its chardev opens, which a file backend
# does and a null one never does).
# Every UUID, label and serial is fixed: test/vm/expected-names.txt spells them out.
#
# Usage: test/vm/zoo.sh DIR > qemu-args    (needs sfdisk, mkfs.ext4, mkfs.vfat; xorriso
# for the CD, else the drive stays empty)
set -eu

dir=${1:?usage: zoo.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
log() { echo "zoo: $*" >&2; }

# image NAME SIZE_MB: a sparse file.
image() { rm -f "$1"; truncate -s "${2}M" "$1"; }
# put FS_IMAGE DISK START_SECTOR: copies a filesystem into a disk at a partition's start.
put() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc,sparse status=none; rm -f "$1"; }

# --- AHCI SATA disk: GPT with an ext4, a vfat and a blank partition for LVM.
image sata.img 64
sfdisk --quiet sata.img <<'EOF'
label: gpt
label-id: 6E0D3C8A-1F52-4B53-9B0C-7D1D5A2B0001
start=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=6E0D3C8A-1F52-4B53-9B0C-7D1D5A2B1001, name=vdev-ext4
start=34816, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=6E0D3C8A-1F52-4B53-9B0C-7D1D5A2B1002, name=vdev-vfat
start=67584, size=61440, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=6E0D3C8A-1F52-4B53-9B0C-7D1D5A2B1003, name=vdev-lvm
EOF
image p1 16
mkfs.ext4 -q -F -L vdevroot -U 2f6a3c10-57e1-4f4e-9d0a-5a1e0c0f0001 p1
put p1 sata.img 2048
image p2 16
mkfs.vfat -n VDEVFAT -i 1234ABCD p2 >/dev/null
put p2 sata.img 34816

# --- virtio disk with an MBR table: one ext4 partition.
image virtio-mbr.img 32
sfdisk --quiet virtio-mbr.img <<'EOF'
label: dos
label-id: 0x5eed0001
start=2048, size=30720, type=83
EOF
image p1 15
mkfs.ext4 -q -F -L vdevmbr -U 2f6a3c10-57e1-4f4e-9d0a-5a1e0c0f0002 p1
put p1 virtio-mbr.img 2048

# --- two blank virtio disks for md RAID1, made in the guest.
image raid-a.img 32
image raid-b.img 32

# --- virtio-scsi disk with a WWN: an ext4 on the whole disk.
image scsi.img 16
mkfs.ext4 -q -F -L vdevscsi -U 2f6a3c10-57e1-4f4e-9d0a-5a1e0c0f0003 scsi.img

# --- USB stick: MBR, one vfat partition.
image usb.img 16
sfdisk --quiet usb.img <<'EOF'
label: dos
label-id: 0x5eed0002
start=2048, size=30720, type=c
EOF
image p1 15
mkfs.vfat -n VDEVUSB -i 5678EF01 p1 >/dev/null
put p1 usb.img 2048

# --- CD-ROM medium.
cd_drive="-drive if=none,id=cd0,media=cdrom,readonly=on"
if command -v xorriso >/dev/null; then
  mkdir -p cd-root
  echo "vdev VM test medium" > cd-root/README
  rm -f cd.iso
  # A fixed creation time makes the iso9660 UUID (a timestamp) a constant.
  xorriso -as mkisofs -quiet -V VDEVCD --modification-date=2024010112000000 \
    -o cd.iso cd-root 2>/dev/null
  cd_drive="$cd_drive,file=$dir/cd.iso,format=raw"
else
  log "no xorriso: the CD-ROM drive stays empty"
fi

cat <<EOF
-machine q35 -nodefaults -display none -monitor none
-drive if=none,id=sata0,file=$dir/sata.img,format=raw
-device ide-hd,drive=sata0,bus=ide.0,serial=VDEVSATA0001
$cd_drive
-device ide-cd,drive=cd0,bus=ide.1
-drive if=none,id=vd0,file=$dir/virtio-mbr.img,format=raw
-device virtio-blk-pci,drive=vd0,serial=vdev-virtio-mbr
-drive if=none,id=vd1,file=$dir/raid-a.img,format=raw
-device virtio-blk-pci,drive=vd1,serial=vdev-raid-a
-drive if=none,id=vd2,file=$dir/raid-b.img,format=raw
-device virtio-blk-pci,drive=vd2,serial=vdev-raid-b
-device virtio-scsi-pci,id=scsi0
-drive if=none,id=sc0,file=$dir/scsi.img,format=raw
-device scsi-hd,drive=sc0,bus=scsi0.0,serial=vdevscsi0001,wwn=0x5000c50015ea71ac
-device qemu-xhci,id=xhci
-drive if=none,id=usb0,file=$dir/usb.img,format=raw
-device usb-storage,drive=usb0,bus=xhci.0,serial=VDEVUSB0001
-device usb-kbd,bus=xhci.0
-device usb-mouse,bus=xhci.0
-chardev file,id=userial0,path=/dev/null -device usb-serial,bus=xhci.0,chardev=userial0
-audiodev none,id=snd0 -device intel-hda -device hda-duplex,audiodev=snd0
-device e1000,mac=52:54:00:12:34:56,romfile=
-device virtio-serial-pci
-chardev null,id=vport0 -device virtserialport,chardev=vport0,name=org.vdev.test.0
EOF
