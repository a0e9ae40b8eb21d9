# bench_common.sh: shared by the benchmark scripts (sourced, not run). Sets
# bench_build, bench_source, bench_work (a temporary directory) and a cleanup trap that
# stops what the script started and unmounts what it mounted, in reverse order.
# shellcheck shell=bash disable=SC2034  # the variables are for the sourcing scripts

bench_build=$(cd "${1:-./build}" && pwd)
bench_source=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_vdevd=$bench_build/bin/vdevd
bench_make_fake_sysfs=$bench_build/bin/make-fake-sysfs
bench_mounts=()
bench_pids=()

bench_cleanup() {
  local pid i
  for pid in "${bench_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  for ((i = ${#bench_mounts[@]} - 1; i >= 0; i--)); do
    umount "${bench_mounts[i]}" 2>/dev/null || umount -l "${bench_mounts[i]}" 2>/dev/null || true
  done
  if [[ -n ${bench_work:-} && -d $bench_work ]]; then rm -rf -- "$bench_work"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_work=$(mktemp -d "${TMPDIR:-/tmp}/vdev-bench.XXXXXX")

bench_is_root() { [[ $(id -u) -eq 0 ]]; }

# bench_require PROGRAM...: fails with a message when a program has not been built.
bench_require() {
  local program
  for program in "$@"; do
    if [[ ! -x $program ]]; then
      echo "$(basename "$0"): $program is not built (build dir: $bench_build)" >&2
      exit 1
    fi
  done
}

# bench_mount_tmpfs DIR: mounts a private tmpfs on DIR (root only); returns 1 if it cannot.
bench_mount_tmpfs() {
  mkdir -p "$1"
  if mount -t tmpfs -o mode=0755,size=50% vdev-bench "$1" 2>/dev/null; then
    bench_mounts+=("$1")
    return 0
  fi
  return 1
}

bench_unmount() {
  local i
  umount "$1"
  for i in "${!bench_mounts[@]}"; do
    if [[ ${bench_mounts[i]} == "$1" ]]; then unset 'bench_mounts[i]'; fi
  done
  bench_mounts=("${bench_mounts[@]}")
}

# Microseconds since the epoch, from bash itself (no fork between start and stop).
bench_now_us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }
