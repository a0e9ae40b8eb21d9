#!/bin/sh
# Checks the syntax of vdev's init scripts as the build writes them for its prefix
# (BUILD/vdevd/init/configured: sysvinit, OpenRC, runit, s6, initramfs-tools): every script
# must parse with sh -n (and dash -n when dash is there, the /bin/sh of Debian and of
# initramfs-tools' hooks), and pass shellcheck when it is installed. A script that does not
# parse is skipped silently by mkinitramfs (hook-functions: "ignored: bad syntax"), so this
# is the check that catches it.
#
# Usage: test/vm/init-scripts-check.sh BUILD_DIR      Exit status: 0 pass, 1 fail.
set -eu

dir=${1:?usage: init-scripts-check.sh BUILD_DIR}/vdevd/init/configured
[ -d "$dir" ] || { echo "init-scripts: FAIL: no $dir (configure the build first)"; exit 1; }

failed=0
count=0
for script in $(find "$dir" -type f | LC_ALL=C sort); do
  case $(head -c 2 "$script") in '#!') ;; *) continue ;; esac
  count=$((count + 1))
  name=${script#"$dir"/}
  for shell in sh dash; do
    command -v "$shell" > /dev/null || continue
    if ! "$shell" -n "$script"; then
      echo "init-scripts: FAIL: $name does not parse with $shell"
      failed=1
    fi
  done
  if grep -q '@[A-Z_]*@' "$script"; then
    echo "init-scripts: FAIL: $name keeps an unconfigured @VARIABLE@"
    failed=1
  fi
  if command -v shellcheck > /dev/null; then
    # OpenRC scripts set variables openrc-run reads (SC2034) and use its functions.
    extra=""
    case $name in openrc/*) extra="-e SC2034,SC2154" ;; esac
    # shellcheck disable=SC2086
    if ! shellcheck -s sh -S warning $extra "$script"; then
      echo "init-scripts: FAIL: shellcheck $name"
      failed=1
    fi
  fi
done
[ "$count" -ge 8 ] || { echo "init-scripts: FAIL: only $count scripts in $dir"; exit 1; }
[ "$failed" -eq 0 ] && echo "init-scripts: $count scripts parse"
exit "$failed"
