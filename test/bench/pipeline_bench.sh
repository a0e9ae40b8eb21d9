#!/bin/bash
# pipeline_bench.sh [BUILD_DIR]: events per second through vdevd's whole pipeline (parse,
# queue, rules, nodes, database, publish). Builds a fake sysfs of $DEVICES (5000) devices
# and a replay of $EVENTS (50 000) events over it, then times `vdevd --replay`. As root the
# work happens on a private tmpfs and the dev root is a tmpfs of its own; otherwise vdevd
# runs with --dry-run. Prints "pipeline: N events in X s = Y events/s"; asserts nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_common.sh
source "$(dirname "$0")/bench_common.sh"

devices=${DEVICES:-5000}
events=${EVENTS:-50000}
bench_require "$bench_vdevd" "$bench_make_fake_sysfs"

mode=(--dry-run)
if bench_is_root && bench_mount_tmpfs "$bench_work" && bench_mount_tmpfs "$bench_work/dev"; then
  mode=()
elif bench_is_root; then
  echo "pipeline: cannot mount a tmpfs, running with --dry-run" >&2
fi
mkdir -p "$bench_work/dev" "$bench_work/run"

"$bench_make_fake_sysfs" "$bench_work/sys" --devices "$devices" --events "$bench_work/events" \
  --count "$events" --seed 1 >/dev/null
count=$(grep -c '^ACTION=' "$bench_work/events")

start=$(bench_now_us)
if ! "$bench_vdevd" --replay "$bench_work/events" --sysfs-root "$bench_work/sys" \
    --dev-root "$bench_work/dev" --run-dir "$bench_work/run" --rules-dir "$bench_source/rules" \
    --devfs tmpfs --log-level warning "${mode[@]}" \
    >"$bench_work/vdevd.out" 2>"$bench_work/vdevd.log"; then
  echo "pipeline: vdevd failed; its last messages:" >&2
  tail -n 20 "$bench_work/vdevd.log" >&2
  exit 1
fi
stop=$(bench_now_us)

awk -v n="$count" -v us="$((stop - start))" -v mode="${mode[*]:-tmpfs dev root}" 'BEGIN {
  s = us / 1e6
  printf "pipeline: %d events in %.3f s = %.0f events/s (%s)\n", n, s, (s > 0 ? n / s : 0), mode
}'
if [[ -s $bench_work/vdevd.log ]]; then
  lines=$(wc -l <"$bench_work/vdevd.log")
  echo "pipeline: vdevd logged $lines lines at warning or above, the first ones:" >&2
  head -n 5 "$bench_work/vdevd.log" >&2
fi
