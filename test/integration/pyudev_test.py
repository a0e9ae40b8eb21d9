#!/usr/bin/python3
"""pyudev_test.py: pyudev over vdev's libudev.so.1 and over systemd's, on the same data.

Usage: pyudev_test.py --build-dir BUILD --source-dir SOURCE

As root, in a private mount namespace (unshare -m) with a tmpfs on /run, `vdevd --once`
coldplugs this machine's /sys into a private tmpfs dev root D and writes /run/udev. Then two
child processes list every device with pyudev (Debian's python3-pyudev, /usr/bin/python3):
one with LD_LIBRARY_PATH=BUILD/lib and VDEV_DEV_ROOT=D (vdev's library), one with the stock
library. The device lists, and for each device its properties, node, links, tags, current
tags, subsystem, devtype, driver, sysname, sysnum, initialized flag and parent must agree.

Differences tolerated, and why:
  - Paths below the dev root. The nodes are in D, and vdev's library is told so
    (VDEV_DEV_ROOT=D); the stock library always says /dev. D is rewritten to /dev.
  - The order of the words in DEVLINKS, TAGS and CURRENT_TAGS. systemd joins them in the
    order of a hash table, so they are compared as sets.
Exits 77 (ctest: skipped) without root or unshare; prints "N passed, N failed".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
SET_VALUED = {"DEVLINKS": " ", "TAGS": ":", "CURRENT_TAGS": ":"}


def dump():
    """Child: every device as JSON on stdout, through whichever libudev.so.1 loads."""
    import pyudev  # pylint: disable=import-outside-toplevel

    context = pyudev.Context()
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        library = sorted({line.split()[-1] for line in maps if "libudev.so" in line})
    devices = []
    for device in context.list_devices():
        parent = device.parent
        devices.append({
            "syspath": device.sys_path,
            "properties": dict(device.properties),
            "devnode": device.device_node,
            "links": sorted(device.device_links),
            "tags": sorted(device.tags),
            "current_tags": sorted(device.properties.get("CURRENT_TAGS", "").strip(":").split(":")),
            "subsystem": device.subsystem,
            "devtype": device.device_type,
            "driver": device.driver,
            "sysname": device.sys_name,
            "sysnum": device.sys_number,
            "initialized": device.is_initialized,
            "parent": parent.sys_path if parent is not None else None,
        })
    json.dump({"library": library, "devices": devices}, sys.stdout)


def normalize(value, dev_root):
    if isinstance(value, str):
        return value.replace(dev_root + "/", "/dev/")
    if isinstance(value, list):
        return [normalize(item, dev_root) for item in value]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            item = normalize(item, dev_root)
            if key in SET_VALUED:
                item = sorted(word for word in item.split(SET_VALUED[key]) if word)
            result[key] = item
        return result
    return value


def run_dump(env, label):
    result = subprocess.run([sys.executable, os.path.abspath(__file__), "--dump"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{label} dump failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def inner(args):
    """In the private namespace: coldplug with vdevd, then compare the two libraries."""
    work = tempfile.mkdtemp(prefix="vdev-pyudev.")
    dev_root = os.path.join(work, "dev")
    os.mkdir(dev_root)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", dev_root], check=True)
    try:
        vdevd = os.path.join(args.build_dir, "bin", "vdevd")
        coldplug = subprocess.run(
            [vdevd, "--once", "--dev-root", dev_root, "--run-dir", "/run", "--devfs", "tmpfs",
             "--rules-dir", os.path.join(args.source_dir, "rules"), "--log-level", "error"],
            capture_output=True, text=True, timeout=60, check=False)
        if coldplug.returncode != 0:
            print(f"vdevd --once failed ({coldplug.returncode}): {coldplug.stderr[-2000:]}")
            return 1
        records = os.listdir("/run/udev/data")
        print(f"vdevd wrote {len(records)} database records")

        base = {key: value for key, value in os.environ.items()
                if not key.startswith("VDEV_") and key != "LD_LIBRARY_PATH"}
        ours_env = dict(base, LD_LIBRARY_PATH=os.path.join(args.build_dir, "lib"),
                        VDEV_DEV_ROOT=dev_root)
        ours = run_dump(ours_env, "vdev")
        stock = run_dump(base, "stock")
        print(f"vdev's library: {ours['library']}; stock: {stock['library']}")

        passed = failed = 0

        def check(ok, message):
            nonlocal passed, failed
            if ok:
                passed += 1
            else:
                failed += 1
                if failed <= 20:
                    print("MISMATCH " + message)

        check(any(args.build_dir in path or "build" in path for path in ours["library"]),
              f"the vdev child loaded {ours['library']}")
        check(all(path.startswith(("/lib", "/usr/lib")) for path in stock["library"]),
              f"the stock child loaded {stock['library']}")
        ours_paths = [device["syspath"] for device in ours["devices"]]
        stock_paths = [device["syspath"] for device in stock["devices"]]
        check(ours_paths == stock_paths,
              f"device lists differ: {len(ours_paths)} vs {len(stock_paths)} devices; first "
              f"difference: {next((pair for pair in zip(ours_paths, stock_paths) if pair[0] != pair[1]), None)}")
        stock_by_path = {device["syspath"]: device for device in stock["devices"]}
        initialized = 0
        for device in ours["devices"]:
            expected = stock_by_path.get(device["syspath"])
            if expected is None:
                continue
            initialized += bool(device["initialized"])
            mine = normalize(device, dev_root)
            theirs = normalize(expected, dev_root)
            for field in theirs:
                check(mine[field] == theirs[field],
                      f"{device['syspath']} {field}: vdev {mine[field]!r} stock {theirs[field]!r}")
        print(f"compared {len(ours_paths)} devices ({initialized} initialized)")
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 and initialized > 0 else 1
    finally:
        subprocess.run(["umount", dev_root], check=False)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir")
    parser.add_argument("--source-dir")
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump:
        dump()
        return 0
    if args.inner:
        return inner(args)
    if os.geteuid() != 0:
        print("SKIP: needs root (a private mount namespace with a tmpfs /run)")
        return SKIP
    if shutil.which("unshare") is None:
        print("SKIP: unshare is not installed")
        return SKIP
    args.build_dir = os.path.abspath(args.build_dir)
    args.source_dir = os.path.abspath(args.source_dir)
    result = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                             os.path.abspath(__file__), "--inner", "--build-dir", args.build_dir,
                             "--source-dir", args.source_dir], timeout=110, check=False)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
