#!/bin/bash
# fanout_bench.sh [BUILD_DIR]: the /dev/uevents client fan-out with 1, 10 and 100 client
# processes ($CLIENTS, default "1 10 100") reading $EVENTS events (default 10 000), on a
# tmpfs. Each client reads as soon as it is woken, as a libudev program does.
#   burst: an in-process ClientFanout publishes as fast as it can: events/s delivered (to
#          all clients together and per client), the publish rate, and the latency from
#          Publish() to the client holding the parsed event (p50/p99, queueing included);
#   paced: the same at $RATE events/s (default 500): the latency without queueing;
#   vdevd: a real `vdevd --replay` of the events over a fake sysfs, no rules: events/s
#          delivered (root only: vdevd makes nodes).
# One more burst line with 100 clients that batch (wait 10 ms once woken) shows what the
# wake-ups cost. Prints figures; asserts nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_common.sh
source "$(dirname "$0")/bench_common.sh"

events=${EVENTS:-10000}
rate=${RATE:-500}
clients_list=${CLIENTS:-"1 10 100"}
bench_fanout=$bench_build/bin/fanout-bench
bench_require "$bench_fanout" "$bench_make_fake_sysfs" "$bench_vdevd"

if bench_is_root; then
  bench_mount_tmpfs "$bench_work/tmpfs" || { echo "fanout: cannot mount a tmpfs" >&2; exit 1; }
  base=$bench_work/tmpfs
else
  # /dev/shm is a tmpfs everyone may write to.
  base=$(mktemp -d /dev/shm/vdev-fanout-bench.XXXXXX)
  trap 'rm -rf -- "$base"; bench_cleanup' EXIT
  echo "fanout: not root: in-process runs only, all clients as one user" >&2
fi

"$bench_make_fake_sysfs" "$base/sys" --devices 1000 --events "$base/events" --count "$events" \
  --seed 1 >/dev/null
replayed=$(grep -c '^ACTION=' "$base/events")
mkdir -p "$base/rules"
paced=$((rate * 4 < events ? rate * 4 : events))
run=0

bench_run() {  # fanout-bench arguments
  run=$((run + 1))
  "$bench_fanout" --dev "$base/dev$run" "$@" || echo "fanout: run $run: not every client got every event" >&2
}

for clients in $clients_list; do
  bench_run --clients "$clients" --events "$events" --replay "$base/events"
  bench_run --clients "$clients" --events "$paced" --replay "$base/events" --rate "$rate"
  if bench_is_root; then
    run=$((run + 1))
    "$bench_fanout" --dev "$base/dev$run" --clients "$clients" --events "$replayed" --daemon -- \
      "$bench_vdevd" --replay "$base/events" --sysfs-root "$base/sys" --dev-root "$base/dev$run" \
      --run-dir "$base/run$run" --rules-dir "$base/rules" --devfs tmpfs --log-level warning \
      --uevent-backlog "$replayed" --uevent-clients-per-uid "$((clients + 1))" ||
      echo "fanout: vdevd run: not every client got every event" >&2
  fi
done
bench_run --clients 100 --events "$events" --replay "$base/events" --coalesce-ms 10
