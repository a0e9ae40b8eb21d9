#!/bin/sh
# Fetches what the VM boot test needs from Debian's mirror, once, into a cache under the
# build tree: Debian 12's stock kernel (the versioned linux-image-6.1.0-*-amd64 that
# linux-image-amd64 names) with its modules, busybox-static, lvm2, dmsetup, mdadm and every
# library of theirs that this machine lacks. The packages are extracted (dpkg-deb -x) into
# CACHE/root and depmod indexes the modules. A complete cache is reused without asking apt.
#
# Usage: test/vm/fetch-kernel.sh BUILD_DIR     (cache: BUILD_DIR/vm-cache)
# Prints the cache directory. Needs apt-get (download works unprivileged; 'apt-get update'
# is run only as root, and only when apt does not know the kernel package yet).
set -eu

build_dir=${1:?usage: fetch-kernel.sh BUILD_DIR}
cache=$(cd "$build_dir" && pwd)/vm-cache
root=$cache/root
stamp=$cache/complete

if [ -f "$stamp" ] && [ -f "$cache/vmlinuz" ] && [ -d "$root/lib/modules" ]; then
  echo "$cache"
  exit 0
fi

rm -rf "$cache"
mkdir -p "$cache/debs" "$root"
log() { echo "fetch-kernel: $*" >&2; }

# One apt-cache call per level of dependencies: each call reads the whole package list.
# For the meta package it answers with the real one: "Depends: linux-image-6.1.0-NN-amd64";
# for the tools, their libraries, of which those not installed here come along (the
# initramfs takes the others from this machine, which runs the same Debian release).
depends_of() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$@" 2>/dev/null |
    sed -n 's/^ *|\{0,1\}Depends: \(lib[^ <>]*\|linux-image-[0-9][^ ]*-amd64\)$/\1/p' |
    sed 's/:amd64$//' | sort -u
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

tools="busybox-static lvm2 dmsetup libdevmapper1.02.1 libdevmapper-event1.02.1 mdadm"
first=$(depends_of linux-image-amd64 $tools)
if ! echo "$first" | grep -q '^linux-image-' && [ "$(id -u)" -eq 0 ]; then
  apt-get update -q >&2
  first=$(depends_of linux-image-amd64 $tools)
fi
kpkg=$(echo "$first" | grep '^linux-image-' | head -n 1)
[ -n "$kpkg" ] || { log "apt does not know linux-image-amd64 (run apt-get update)"; exit 1; }

all="$kpkg $tools"
candidates=$(echo "$first" | grep -v '^linux-image-' || true)
while :; do
  new=""
  for p in $candidates; do
    case " $all " in *" $p "*) continue ;; esac
    installed "$p" || new="$new $p"
  done
  [ -n "$new" ] || break
  all="$all$new"
  candidates=$(depends_of $new)
done
log "downloading:$all"
(cd "$cache/debs" && apt-get download -q $all >&2) || {
  log "apt-get download failed"; exit 1; }

for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

kver=${kpkg#linux-image-}
cp "$root/boot/vmlinuz-$kver" "$cache/vmlinuz"
echo "$kver" > "$cache/kernel-version"
depmod -b "$root" "$kver"
# Only the extracted tree is needed from now on.
rm -rf "$cache/debs"
touch "$stamp"
log "kernel $kver ready in $cache"
echo "$cache"
