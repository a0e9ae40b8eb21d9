#!/bin/bash
# rss_bench.sh [BUILD_DIR]: vdevd's memory once it has coldplugged and sits idle. As root it
# runs on the real /sys with a private tmpfs dev root; without root on a fake sysfs of
# $DEVICES (5000) devices with --dry-run. It waits for readiness (--ready-fd), sleeps a
# second, prints "idle RSS after coldplug: VmRSS X KiB, VmHWM Y KiB" from /proc/PID/status
# and stops vdevd with SIGTERM; asserts nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_common.sh
source "$(dirname "$0")/bench_common.sh"

devices=${DEVICES:-5000}
bench_require "$bench_vdevd"

sysfs=/sys
mode=()
if bench_is_root && bench_mount_tmpfs "$bench_work" && bench_mount_tmpfs "$bench_work/dev"; then
  what="real /sys, tmpfs dev root"
else
  bench_require "$bench_make_fake_sysfs"
  sysfs=$bench_work/sys
  "$bench_make_fake_sysfs" "$sysfs" --devices "$devices" >/dev/null
  mode=(--dry-run)
  what="fake sysfs of $devices devices, --dry-run"
fi
mkdir -p "$bench_work/dev" "$bench_work/run"
mkfifo "$bench_work/ready"

"$bench_vdevd" --sysfs-root "$sysfs" --dev-root "$bench_work/dev" --run-dir "$bench_work/run" \
  --rules-dir "$bench_source/rules" --devfs tmpfs --log-level warning --ready-fd 3 "${mode[@]}" \
  3>"$bench_work/ready" >"$bench_work/vdevd.out" 2>"$bench_work/vdevd.log" &
pid=$!
bench_pids+=("$pid")

# The read ends at the newline, or at end of file if vdevd exits without being ready.
if ! read -r -t 120 _ <"$bench_work/ready" || ! kill -0 "$pid" 2>/dev/null; then
  echo "rss: vdevd did not become ready; its last messages:" >&2
  tail -n 20 "$bench_work/vdevd.log" >&2
  exit 1
fi
sleep 1

rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
echo "rss: vdevd on $what"
echo "idle RSS after coldplug: VmRSS $rss KiB, VmHWM $hwm KiB"

kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "rss: vdevd did not exit within 10 s of SIGTERM, killing it" >&2
else
  status=0
  wait "$pid" || status=$?
  if ((status != 0)); then echo "rss: vdevd exited with status $status after SIGTERM" >&2; fi
fi
