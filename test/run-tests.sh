#!/bin/sh
# The README's test command: set up, build, and run every test (unit, root, abi, vm tiers
# that exist). Root-only tests skip, visibly, without root.
set -eu
cd "$(dirname "$0")/.."
test/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
# A real hwdb.bin (from Debian's udev package, never installed) for the hwdb tests.
test/fixtures/make-hwdb.sh build >/dev/null ||
  echo "run-tests.sh: no real hwdb.bin, RealHwdbTest will skip" >&2
# Debian's kernel and its modules tree (for ModuleLoaderTest and the VM tier), once.
test/vm/fetch-kernel.sh build >/dev/null ||
  echo "run-tests.sh: no Debian kernel fetched, ModuleLoaderTest and vm_boot will skip" >&2
cd build
ctest --output-on-failure --timeout 600 "$@"
