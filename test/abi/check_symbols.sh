#!/bin/sh
# check_symbols.sh STOCK OURS: every symbol@@VERSION that STOCK (systemd's libudev.so.1)
# exports must be exported by OURS with the same version, OURS must export nothing else, the
# version nodes must inherit alike, and both SONAMEs must be libudev.so.1. Prints the
# differences and exits 1 on any.
set -eu
stock=$1
ours=$2
status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "name@@VERSION" for every defined, versioned dynamic symbol, and the version nodes (ABS).
exports() {
  readelf --dyn-syms -W "$1" | awk '$7 != "UND" && ($8 ~ /@/ || $7 == "ABS") { print $8 }' | sort -u
}
# "NODE <- PARENT" lines from the version definitions.
nodes() {
  readelf -V -W "$1" | awk '/Name: LIBUDEV_/ { node = $NF; print node } /Parent 1:/ { print node " <- " $NF }' | sort -u
}
soname() {
  readelf -d "$1" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p'
}

exports "$stock" >"$work/stock"
exports "$ours" >"$work/ours"
if [ ! -s "$work/stock" ]; then
  echo "no versioned symbols found in $stock" >&2
  exit 1
fi
missing=$(comm -23 "$work/stock" "$work/ours")
extra=$(comm -13 "$work/stock" "$work/ours")
if [ -n "$missing" ]; then
  echo "missing from $ours:"; echo "$missing"; status=1
fi
if [ -n "$extra" ]; then
  echo "exported by $ours only:"; echo "$extra"; status=1
fi
# Nothing unversioned may leak (C++ internals, vdev_common).
leaked=$(readelf --dyn-syms -W "$ours" | awk '$7 != "UND" && $7 != "ABS" && $5 == "GLOBAL" && $8 !~ /@/ { print $8 }')
if [ -n "$leaked" ]; then
  echo "unversioned exports in $ours:"; echo "$leaked"; status=1
fi
nodes "$stock" >"$work/stock-nodes"
nodes "$ours" >"$work/our-nodes"
if ! diff -u "$work/stock-nodes" "$work/our-nodes"; then
  echo "version nodes differ"; status=1
fi
for library in "$stock" "$ours"; do
  if [ "$(soname "$library")" != "libudev.so.1" ]; then
    echo "$library: SONAME is '$(soname "$library")', not libudev.so.1"; status=1
  fi
done
count=$(wc -l <"$work/stock")
if [ "$status" -eq 0 ]; then
  echo "symbols: all $count symbol@@version exports of $stock match; SONAME libudev.so.1"
fi
exit "$status"
