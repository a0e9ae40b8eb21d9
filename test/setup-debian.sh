#!/bin/sh
# Installs every Debian package vdev needs to build and test, and the system groups that
# Debian's udev package creates (the default rules give nodes to them). Idempotent.
set -eu

packages="build-essential cmake ninja-build pkg-config
  libnl-3-dev libnl-genl-3-dev libinih-dev libblkid-dev libmount-dev libkmod-dev libexpected-dev
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  util-linux mount fdisk dosfstools e2fsprogs kmod procps
  libudev-dev python3-pyudev
  qemu-system-x86 cpio xorriso busybox-static"

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: not root; checking packages only" >&2
  missing=$(dpkg-query -W -f='${Package} ${Status}\n' $packages 2>/dev/null | grep -v "install ok installed" || true)
  [ -z "$missing" ] || { echo "setup: missing packages (run as root to install):" >&2; echo "$missing" >&2; exit 1; }
  exit 0
fi

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi

# The groups Debian's udev adds in its postinst (kvm, render, sgx, input) besides base-passwd's.
for group in input kvm render sgx; do
  getent group "$group" >/dev/null || groupadd --system "$group"
done
