#!/bin/bash
# coldplug_bench.sh [BUILD_DIR]: how long `vdevd --once` takes to coldplug this machine's
# real /sys into a private tmpfs dev root (and a private run dir), best of $RUNS (5) runs.
# Root only: without root it says it is skipped. Prints "coldplug: N devices in X ms", N
# being the number of database records written; asserts nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_common.sh
source "$(dirname "$0")/bench_common.sh"

runs=${RUNS:-5}
if ! bench_is_root; then
  echo "coldplug: skipped (needs root: vdevd makes device nodes in a private tmpfs)"
  exit 0
fi
bench_require "$bench_vdevd"
if ! bench_mount_tmpfs "$bench_work"; then
  echo "coldplug: skipped (cannot mount a tmpfs)"
  exit 0
fi

best_us=
devices=0
for ((run = 1; run <= runs; run++)); do
  # Each run starts from an empty dev root and database, as at boot.
  mkdir -p "$bench_work/dev" "$bench_work/run"
  bench_mount_tmpfs "$bench_work/dev"
  start=$(bench_now_us)
  if ! "$bench_vdevd" --once --sysfs-root /sys --dev-root "$bench_work/dev" \
      --run-dir "$bench_work/run" --rules-dir "$bench_source/rules" --devfs tmpfs \
      --log-level warning >"$bench_work/vdevd.out" 2>"$bench_work/vdevd.log"; then
    echo "coldplug: vdevd failed; its last messages:" >&2
    tail -n 20 "$bench_work/vdevd.log" >&2
    exit 1
  fi
  stop=$(bench_now_us)
  elapsed=$((stop - start))
  if [[ -z $best_us ]] || ((elapsed < best_us)); then best_us=$elapsed; fi
  devices=$(find "$bench_work/run/udev/data" -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null |
    wc -l)
  bench_unmount "$bench_work/dev"
  rm -rf "${bench_work:?}/dev" "${bench_work:?}/run"
done

awk -v n="$devices" -v us="$best_us" -v runs="$runs" 'BEGIN {
  printf "coldplug: %d devices in %.1f ms (best of %d runs)\n", n, us / 1000, runs
}'
