#!/usr/bin/python3
"""Checks the report the VM guest printed (test/vm/guest-init.sh) against
test/vm/expected-names.txt: devices found through sysfs, the names vdevd gave them, node
modes and owners, and the drivers vdevd loaded. Exit status 0 when nothing failed.

Usage: check-report.py CONSOLE_LOG EXPECTED RULES_DIR MODULES_DEP
"""
import fnmatch
import glob
import os
import re
import sys


def parse_report(path):
    report = {"sysdev": {}, "name": {}, "partname": {}, "attr": {}, "nodes": {}, "links": {},
              "modules": set(), "inserted": set(), "times": {}, "errors": [], "warnings": [],
              "log": [], "net": [], "netprop": {}, "begin": None, "end": False}
    with open(path, errors="replace") as console:
        for raw in console:
            line = raw.rstrip("\r\n")
            at = line.find("VDEVVM ")
            if at < 0:
                continue
            words = line[at + 7:].split(" ")
            kind, rest = words[0], words[1:]
            if kind == "begin":
                report["begin"] = " ".join(rest)
            elif kind == "end":
                report["end"] = True
            elif kind == "time":
                for item in rest:
                    key, _, value = item.partition("=")
                    report["times"][key] = int(value)
            elif kind == "error":
                report["errors"].append(" ".join(rest))
            elif kind == "warning":
                report["warnings"].append(" ".join(rest))
            elif kind == "module":
                report["modules"].add(rest[0])
            elif kind == "inserted":
                report["inserted"].add(rest[0])
            elif kind == "sysdev":  # block|char MAJ:MIN /devices/...
                report["sysdev"][(rest[0], rest[1])] = rest[2]
            elif kind == "uevent":  # block|char MAJ:MIN KEY=VALUE
                key, _, value = " ".join(rest[2:]).partition("=")
                report["name" if key == "DEVNAME" else "partname"][(rest[0], rest[1])] = value
            elif kind == "attr":  # MAJ:MIN serial|dm/name VALUE
                report["attr"][(rest[0], rest[1])] = " ".join(rest[2:])
            elif kind == "node":  # PATH MODESTRING OCTAL HEXMAJ:HEXMIN OWNER GROUP
                major, minor = (int(x, 16) for x in rest[3].split(":"))
                node_kind = "block" if rest[1].startswith("b") else "char"
                report["nodes"][rest[0]] = {"kind": node_kind, "devnum": f"{major}:{minor}",
                                            "mode": rest[2], "owner": rest[4], "group": rest[5]}
            elif kind == "link":  # '/dev/a' -> 'target'
                match = re.match(r"'(.*)' -> '(.*)'$", " ".join(rest))
                if match:
                    report["links"][match.group(1)] = match.group(2)
            elif kind == "net":
                report["net"].append(rest[0])
            elif kind == "netprop":  # IFNAME KEY=VALUE (vdevd's database record)
                name, _, value = rest[1].partition("=")
                report["netprop"][(rest[0], name)] = value
            elif kind == "vdevd-log":
                report["log"].append(" ".join(rest))
    return report


def devices(report):
    """One dict per device number the kernel has."""
    found = []
    for (kind, devnum), devpath in report["sysdev"].items():
        found.append({"kind": kind, "devnum": devnum, "devpath": devpath,
                      "name": report["name"].get((kind, devnum), ""),
                      "partname": report["partname"].get((kind, devnum), ""),
                      "serial": report["attr"].get((devnum, "serial"), "")
                      if kind == "block" else "",
                      "dm": report["attr"].get((devnum, "dm/name"), "") if kind == "block" else ""})
    return found


def matches(device, terms):
    for term in terms:
        key, _, value = term.partition("=")
        if key in ("devpath", "name"):
            if not fnmatch.fnmatchcase(device[key], value):
                return False
        elif device.get(key) != value:
            return False
    return True


def rule_lines(rules_dir, file_glob):
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.rules"))):
        if not fnmatch.fnmatchcase(os.path.basename(path), file_glob):
            continue
        with open(path) as rules:
            for line in rules:
                stripped = line.strip()
                if stripped and not stripped.startswith(("#", ";")):
                    yield stripped


def producer_missing(rules_dir, requires):
    """None when the producer is wired into the rules, else the reason it is not."""
    if requires == "-":
        return None
    file_glob, _, regex = requires.partition(":")
    if any(re.search(regex, line) for line in rule_lines(rules_dir, file_glob)):
        return None
    return f"no rule in {file_glob} uses '{regex}' yet"


def module_closure(modules_dep, roots):
    """roots and every module they depend on (names with '_', as /proc/modules has them)."""
    deps = {}
    with open(modules_dep) as dep_file:
        for line in dep_file:
            module, _, rest = line.partition(":")
            name = lambda path: os.path.basename(path).split(".ko")[0].replace("-", "_")
            deps[name(module)] = [name(d) for d in rest.split()]
    closure, todo = set(), list(roots)
    while todo:
        module = todo.pop()
        if module not in closure:
            closure.add(module)
            todo.extend(deps.get(module, []))
    return closure


def main(console_log, expected_path, rules_dir, modules_dep):
    report = parse_report(console_log)
    results = {"ok": [], "expected-missing": [], "FAIL": [], "now-produced": []}

    def record(kind, text):
        results[kind].append(text)
        print(f"vm: {kind:16} {text}")

    if report["begin"] is None:
        print("vm: FAIL the guest never started its report (see the console log)")
        return 1
    print(f"vm: guest {report['begin']}")
    times = report["times"]
    print("vm: times (guest clock): kernel to /init %s ms; from vdevd's start: ready %s ms, "
          "settled %s ms, all devices %s ms; LVM and md provisioning %s ms" % (
              times.get("init_ms"), times.get("vdevd_ready_ms"), times.get("settle_ms"),
              times.get("devices_complete_ms"), times.get("provision_ms")))
    for error in report["errors"]:
        record("FAIL", f"guest: {error}")
    for warning in report["warnings"]:
        print(f"vm: guest warning: {warning}")
    for line in report["log"]:
        print(f"vm: vdevd log: {line}")
    if not report["end"]:
        record("FAIL", "the report has no end: the guest died or timed out")

    all_devices = devices(report)
    keys = {}
    by_devnum = {}
    for (path, node) in report["nodes"].items():
        by_devnum.setdefault((node["kind"], node["devnum"]), []).append(path)

    with open(expected_path) as expected:
        entries = [line.split() for line in expected
                   if line.strip() and not line.lstrip().startswith("#")]
    for entry in entries:
        if entry[0] != "device":
            continue
        key, terms = entry[1], entry[2:]
        hits = [d for d in all_devices if matches(d, terms)]
        if len(hits) == 1:
            keys[key] = hits[0]
        else:
            record("FAIL", f"device {key}: {len(hits)} devices match {' '.join(terms)}"
                   + (": " + ", ".join(d["name"] or d["devpath"] for d in hits) if hits else ""))

    for entry in entries:
        kind = entry[0]
        if kind == "link":
            link_glob, key, requires = entry[1], entry[2], entry[3]
            device = keys.get(key)
            if device is None:
                record("FAIL", f"link {link_glob}: no device {key}")
                continue
            nodes = set(by_devnum.get((device["kind"], device["devnum"]), []))
            candidates = {path: target for path, target in report["links"].items()
                          if fnmatch.fnmatchcase(path[len("/dev/"):], link_glob)}
            good = [path for path, target in candidates.items()
                    if os.path.normpath(os.path.join(os.path.dirname(path), target)) in nodes]
            missing_because = producer_missing(rules_dir, requires)
            if good:
                if missing_because:
                    record("now-produced", f"{good[0]} -> {device['name']} ({missing_because}, "
                           "but the name exists: tighten its REQUIRES)")
                else:
                    record("ok", f"{good[0]} -> {device['name']}")
            elif candidates:
                wrong = ", ".join(f"{p} -> {t}" for p, t in candidates.items())
                record("FAIL", f"link {link_glob} should name {device['name']}: {wrong}")
            elif missing_because:
                record("expected-missing", f"link {link_glob} ({missing_because})")
            else:
                record("FAIL", f"link {link_glob} -> {device['name']} is missing")
        elif kind == "node":
            key, mode, owner, group = entry[1:5]
            device = keys.get(key)
            if device is None:
                record("FAIL", f"node {key}: no such device")
                continue
            paths = by_devnum.get((device["kind"], device["devnum"]), [])
            if not paths:
                record("FAIL", f"node {key}: no node for {device['name']} ({device['devnum']})")
                continue
            for path in paths:
                node = report["nodes"][path]
                have = (node["mode"], node["owner"], node["group"])
                if have == (mode, owner, group):
                    record("ok", f"{path} {mode} {owner}:{group}")
                else:
                    record("FAIL", f"{path} is {have[0]} {have[1]}:{have[2]}, "
                           f"expected {mode} {owner}:{group}")
        elif kind == "netprop":
            if_glob, name, value, requires = entry[1:5]
            have = {ifname: v for (ifname, key), v in report["netprop"].items()
                    if key == name and fnmatch.fnmatchcase(ifname, if_glob)}
            missing_because = producer_missing(rules_dir, requires)
            good = [ifname for ifname, v in have.items() if v == value]
            if good:
                if missing_because:
                    record("now-produced", f"{good[0]} {name}={value} ({missing_because}, "
                           "but the property exists: tighten its REQUIRES)")
                else:
                    record("ok", f"{good[0]} {name}={value}")
            elif have:
                wrong = ", ".join(f"{i} {name}={v}" for i, v in have.items())
                record("FAIL", f"netprop {if_glob} {name} should be {value}: {wrong}")
            elif missing_because:
                record("expected-missing", f"netprop {if_glob} {name}={value} ({missing_because})")
            else:
                record("FAIL", f"netprop {if_glob} {name}={value} is missing")
        elif kind == "module":
            name = entry[1]
            autoloaded = module_closure(modules_dep, report["inserted"])
            if name not in report["modules"]:
                record("FAIL", f"module {name} is not loaded")
            elif name not in autoloaded:
                record("FAIL", f"module {name} is loaded, but vdevd did not insert it")
            else:
                how = "inserted by vdevd" if name in report["inserted"] else "a dependency"
                record("ok", f"module {name} ({how})")

    print(f"vm: inserted by vdevd: {' '.join(sorted(report['inserted']))}")
    print(f"vm: {len(results['ok'])} checks verified, {len(results['expected-missing'])} "
          f"expected-missing, {len(results['now-produced'])} produced early, "
          f"{len(results['FAIL'])} failed")
    return 1 if results["FAIL"] else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
