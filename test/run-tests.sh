#!/bin/sh
# The README's test command: set up, build, and run every test (unit, root, abi, vm tiers
# that exist). Root-only tests skip, visibly, without root.
set -eu
cd "$(dirname "$0")/.."
test/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
cd build
ctest --output-on-failure --timeout 600 "$@"
