#!/usr/bin/python3
"""Compares, name by name, the /dev that vdevd built in the VM with the one Debian's udev
built on the same virtual hardware (two reports of test/vm/guest-init.sh). A name is the
path of a link or node below /dev; it is compared by the device it leads to, identified
by its sysfs devpath (device numbers and kernel names can differ between two boots), and
for nodes by mode, owner and group.

Every difference must be listed in the accepted-differences file with its reason; an
unlisted one fails the comparison. Listed differences that no longer occur are printed,
so that the list shrinks as vdev catches up.

Usage: compare-names.py VDEVD_CONSOLE UDEV_CONSOLE ACCEPTED
Accepted file lines: KIND GLOB REASON...   KIND: only-udev | only-vdev | target | node
"""
import fnmatch
import importlib.util
import os
import re
import sys

_spec = importlib.util.spec_from_file_location(
    "check_report", os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-report.py"))
check_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_report)

# Made before any device manager runs (the kernel's, the initramfs's, or the guest's own
# mounts), or the kernel's devtmpfs alone: not a device manager's names.
IGNORED = ["/dev/console", "/dev/pts", "/dev/pts/*", "/dev/shm", "/dev/shm/*",
           "/dev/uevents", "/dev/uevents/*"]


# What differs between two boots of the same machine: what the kernel numbers in the order
# drivers probe (SCSI hosts, sd and sg names, input and hidraw numbers, disk sequence
# numbers, device numbers of those), and the UUIDs LVM gives a VG and its LVs. The devpath
# keeps each name's controller and port, so a link to the wrong device still differs.
VOLATILE = [(re.compile(r"host[0-9]+"), "host*"),
            (re.compile(r"target[0-9]+:[0-9]+:[0-9]+"), "target*"),
            (re.compile(r"(^|/)[0-9]+:[0-9]+:[0-9]+:[0-9]+(?=/|$)"), r"\1H:C:T:L"),
            (re.compile(r"(^|/)sd[a-z]+(?=[0-9]*(/|$))"), r"\1sd*"),
            (re.compile(r"(^|/)(sg|input|event|mouse|hidraw)[0-9]+(?=/|$)"), r"\1\2*"),
            (re.compile(r"(^|/)[0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{4}\.[0-9A-F]{4}(?=/|$)"), r"\1HID"),
            (re.compile(r"(^|/)(block|char)/[0-9]+:[0-9]+$"), r"\1\2/MAJ:MIN"),
            (re.compile(r"by-diskseq/[0-9]+"), "by-diskseq/N"),
            (re.compile(r"dm-uuid-LVM-[0-9A-Za-z]{64}"), "dm-uuid-LVM-{uuid}")]


def normalized(text):
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def names(report):
    """{(name, devpath)} for every node and link that resolves to a node, and
    {devpath: (node, mode, owner, group)}, both normalized."""
    node_devpath = {}
    for path, node in report["nodes"].items():
        devpath = report["sysdev"].get((node["kind"], node["devnum"]))
        if devpath:
            node_devpath[path] = devpath
    resolved = dict(node_devpath)
    for link, target in report["links"].items():
        path, hops = link, 0
        while path in report["links"] and hops < 16:
            path = os.path.normpath(os.path.join(os.path.dirname(path),
                                                 report["links"][path]))
            hops += 1
        if path in node_devpath:
            resolved[link] = node_devpath[path]
    nodes = {normalized(node_devpath[p]): (p, n["mode"], n["owner"], n["group"])
             for p, n in report["nodes"].items() if p in node_devpath}
    pairs = {(normalized(k), normalized(v)) for k, v in resolved.items()
             if not any(fnmatch.fnmatch(k, g) for g in IGNORED)}
    return pairs, nodes


def main(vdevd_log, udev_log, accepted_path):
    accepted = []
    with open(accepted_path) as listing:
        for line in listing:
            line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
            if line:
                kind, pattern, *reason = line.split()
                accepted.append([kind, pattern, " ".join(reason), 0])

    def allowed(kind, name):
        for entry in accepted:
            if entry[0] == kind and fnmatch.fnmatch(name, entry[1]):
                entry[3] += 1
                return entry[2]
        return None

    ours, ours_nodes = names(check_report.parse_report(vdevd_log))
    theirs, their_nodes = names(check_report.parse_report(udev_log))
    failures = 0

    def record(kind, name, text):
        nonlocal failures
        reason = allowed(kind, name)
        if reason is None:
            failures += 1
            print(f"compare: DIFFERENT {kind:9} {name}: {text}")
        else:
            print(f"compare: accepted  {kind:9} {name}: {text} ({reason})")

    our_names = {name for name, _ in ours}
    their_names = {name for name, _ in theirs}
    for name, devpath in sorted(theirs - ours):
        kind = "target" if name in our_names else "only-udev"
        record(kind, name, f"udev -> {devpath}")
    for name, devpath in sorted(ours - theirs):
        kind = "target" if name in their_names else "only-vdev"
        record(kind, name, f"vdevd -> {devpath}")
    for devpath in sorted(set(ours_nodes) & set(their_nodes)):
        mine, other = ours_nodes[devpath], their_nodes[devpath]
        if mine[1:] != other[1:]:
            record("node", mine[0], f"vdevd {' '.join(mine[1:])}, udev {' '.join(other[1:])}")
    same = len(ours & theirs)
    for kind, pattern, reason, hits in accepted:
        if hits == 0:
            print(f"compare: no longer different: {kind} {pattern} ({reason})")
    print(f"compare: {same} names identical, {failures} unaccepted differences")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
