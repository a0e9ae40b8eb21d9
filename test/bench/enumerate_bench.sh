#!/bin/bash
# enumerate_bench.sh [BUILD_DIR]: how long a libudev client's start-up takes -- enumerate
# every device and read all its properties, node, links and tags (enumerate-bench, best of
# $ROUNDS (10) rounds) -- with systemd's libudev.so.1 and with vdev's build/lib/libudev.so.1,
# on the same data: as root, in a private mount namespace whose /run is a tmpfs that
# `vdevd --once` filled from this machine's /sys (dev root: a private tmpfs). Prints both
# times and the ratio (vdev / stock); asserts nothing. Without root it compares the two on
# the machine's /sys without a database, and says so.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_common.sh
source "$(dirname "$0")/bench_common.sh"

rounds=${ROUNDS:-10}
bench=$bench_build/bin/enumerate-bench
bench_require "$bench" "$bench_build/lib/libudev.so.1"

measure() {
  local stock ours
  stock=$(env -u LD_LIBRARY_PATH "$bench" "$rounds")
  ours=$(LD_LIBRARY_PATH=$bench_build/lib VDEV_DEV_ROOT=${1:-/dev} "$bench" "$rounds")
  echo "enumerate: stock libudev: $stock"
  echo "enumerate: vdev  libudev: $ours"
  awk -v s="${stock%% *}" -v o="${ours%% *}" \
    'BEGIN { printf "enumerate: vdev/stock time ratio %.2f (%.1fx faster)\n", o / s, s / o }'
}

if [[ ${2:-} == --inner ]]; then
  # In the private namespace (see below): fill /run and a dev root, then measure.
  dev=$3
  mount -t tmpfs tmpfs /run
  mount -t tmpfs tmpfs "$dev"
  "$bench_vdevd" --once --dev-root "$dev" --run-dir /run --devfs tmpfs \
    --rules-dir "$bench_source/rules" --log-level error >/dev/null
  echo "enumerate: $(find /run/udev/data -type f | wc -l) database records written by vdevd --once"
  measure "$dev"
  exit 0
fi

if ! bench_is_root; then
  echo "enumerate: not root, so no database: measuring on this machine's /sys alone"
  measure /dev
  exit 0
fi
bench_require "$bench_vdevd"
mkdir -p "$bench_work/dev"
unshare -m --propagation private "$0" "$bench_build" --inner "$bench_work/dev"
