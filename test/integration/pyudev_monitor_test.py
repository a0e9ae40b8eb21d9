#!/usr/bin/python3
"""A pyudev Monitor on "udev", through build/lib/libudev.so.1, receives the events a running
build/bin/vdevd publishes: the `change` of mem/null, with the daemon's DEVNAME, in order.

Root only (vdevd mounts a private tmpfs dev root and listens to the kernel); exits 77
(skipped) otherwise. Usage: pyudev_monitor_test.py --build-dir B --source-dir S
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("pyudev_monitor_test: needs root (a tmpfs dev root, kernel uevents)")
        return SKIP
    if not os.path.exists("/sys/devices/virtual/mem/null/uevent"):
        print("pyudev_monitor_test: no /sys/devices/virtual/mem/null")
        return SKIP
    work = tempfile.mkdtemp(prefix="vdev-pyudev-monitor.")
    dev, run = os.path.join(work, "dev"), os.path.join(work, "run")
    os.makedirs(dev)
    os.makedirs(run)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", dev], check=True)
    ready_read, ready_write = os.pipe()
    daemon = subprocess.Popen(
        [os.path.join(args.build_dir, "bin/vdevd"), "--dev-root", dev, "--run-dir", run,
         "--devfs", "tmpfs", "--rules-dir", os.path.join(args.source_dir, "rules"),
         "--log-level", "error", "--ready-fd", str(ready_write)],
        pass_fds=(ready_write,))
    os.close(ready_write)
    try:
        if not os.read(ready_read, 1):
            print("vdevd exited before it was ready")
            return 1
        # The client: pyudev through our library, in a child with the library and roots set.
        client = r"""
import os, sys, pyudev
context = pyudev.Context()
monitor = pyudev.Monitor.from_netlink(context, source="udev")
monitor.filter_by(subsystem="mem")
monitor.start()
for _ in range(3):
    with open("/sys/devices/virtual/mem/null/uevent", "w") as uevent:
        uevent.write("change")
seqnums = []
for _ in range(3):
    device = monitor.poll(timeout=20)
    if device is None:
        print("no event within 20 s"); sys.exit(1)
    if device.action != "change" or device.sys_name != "null":
        print("unexpected event", device.action, device.sys_name); sys.exit(1)
    if device.properties.get("DEVNAME") != os.environ["VDEV_DEV_ROOT"] + "/null":
        print("DEVNAME", device.properties.get("DEVNAME")); sys.exit(1)
    if not device.is_initialized:
        print("not initialized"); sys.exit(1)
    seqnums.append(int(device.properties["SEQNUM"]))
if seqnums != sorted(seqnums) or len(set(seqnums)) != 3:
    print("out of order", seqnums); sys.exit(1)
print("received", seqnums)
"""
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(args.build_dir, "lib"),
                   VDEV_DEV_ROOT=dev, VDEV_RUN_DIR=run)
        result = subprocess.run(["/usr/bin/python3", "-c", client], env=env, timeout=90)
        return result.returncode
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
        subprocess.run(["umount", "-l", dev])
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
