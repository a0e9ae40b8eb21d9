#!/usr/bin/env bash
# storage_latency_bench.sh [BUILD_DIR] [CYCLES]: with vdevd running on a private tmpfs dev
# root (real sysfs, real netlink), the latency from `losetup` + `partx -a` returning to the
# by-uuid link of partition 1 existing, over CYCLES (default 200) attach/detach cycles of a
# GPT image with an ext4 partition. Root only. Prints the figures; asserts nothing.
set -euo pipefail
source "$(dirname "$0")/bench_common.sh"
cycles=${2:-200}
bench_require "$bench_vdevd" "$bench_build/bin/loop-link-latency"
if ! bench_is_root; then
  echo "storage latency: skipped (needs root: loop devices)"
  exit 0
fi
bench_mount_tmpfs "$bench_work/dev"
# /run is a tmpfs on every real system: the database and the link claims live there.
bench_mount_tmpfs "$bench_work/run"

# The image: GPT, partition 1 (ext4 with a known UUID), made once through a loop device.
image=$bench_work/disk.img
uuid=$(cat /proc/sys/kernel/random/uuid)
truncate -s 32M "$image"
printf 'label: gpt\n,16M,L\n,,L\n' | sfdisk -q "$image"
loop=$(losetup -f --show "$image")
partx -a "$loop"
mkfs.ext4 -q -F -U "$uuid" -L bench "${loop}p1"
partx -d "$loop"
losetup -d "$loop"

mkfifo "$bench_work/ready"
"$bench_vdevd" --dev-root "$bench_work/dev" --run-dir "$bench_work/run" \
  --rules-dir "$bench_source/rules" --devfs tmpfs --no-coldplug --log-level warning \
  --ready-fd 3 3>"$bench_work/ready" &
bench_pids+=($!)
read -r _ <"$bench_work/ready"
"$bench_build/bin/loop-link-latency" "$bench_work/dev" "$image" "$uuid" --cycles "$cycles"
