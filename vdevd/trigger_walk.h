// The `vdevadm trigger` command: selects devices and subsystems in sysfs the way udevadm's
// enumerator does and writes an action into their uevent files, so the kernel re-sends
// their events (vdevadm/trigger.cc is the front end and adds --settle).
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/database.h"
#include "common/result.h"
#include "common/roots.h"

namespace vdev {

enum class TriggerType { kDevices, kSubsystems, kAll };

// One thing that can be triggered: a device ("/devices/..."), a bus ("/bus/pci",
// subsystem "subsystem"), a driver ("/bus/pci/drivers/ahci", "drivers") or a module
// ("/module/loop", "module"), as sd-device names them.
struct TriggerEntry {
  std::string devpath;
  std::string subsystem;

  bool operator==(const TriggerEntry&) const = default;
};

// udevadm's enumerator matches. Patterns are fnmatch globs. An entry is selected when
// every kind of match given selects it: subsystems, sysnames, properties and parents
// select on any one match; not_subsystems and not_attributes exclude on any one;
// attributes and tags must all match.
struct DeviceMatch {
  using AttributeMatch = std::pair<std::string, std::optional<std::string>>;  // name, value

  std::vector<std::string> subsystems;
  std::vector<std::string> not_subsystems;
  std::vector<std::string> sysnames;
  std::vector<AttributeMatch> attributes;      // no value: the attribute is readable
  std::vector<AttributeMatch> not_attributes;
  std::vector<std::pair<std::string, std::string>> properties;  // key glob, value glob
  std::vector<std::string> tags;
  std::vector<std::string> parents;  // devpaths: the device itself or any below it

  bool operator==(const DeviceMatch&) const = default;
};

struct TriggerOptions {
  std::string action = "change";  // as udevadm
  TriggerType type = TriggerType::kDevices;
  DeviceMatch match;
  // Resolved to parent matches when the command runs, like udevadm: each selects the
  // device it names and everything below it.
  std::vector<std::string> devices;         // positional: node, syspath, devpath or id
  std::vector<std::string> name_matches;    // --name-match: nodes
  std::vector<std::string> parent_matches;  // -b: syspaths
  bool dry_run = false;
  bool verbose = false;
  bool quiet = false;
  bool settle = false;
  bool help = false;
  bool list_actions = false;  // --action=help

  bool operator==(const TriggerOptions&) const = default;
};

// Parses the arguments of `vdevadm trigger` (argv[0] is "trigger"), in udevadm's
// spellings (--action=A, --action A, -c A, -t, -s, -S, -a, -A, -p, -g, -y, --name-match,
// -b, -n, -v, -q, -w, devices). An unknown action or type is a usage error; the Error's
// context is the message.
[[nodiscard]] Result<TriggerOptions> ParseTriggerOptions(int argc, char** argv);

// bus/*, bus/*/drivers/* and module/* entries that have a uevent file, sorted by devpath.
[[nodiscard]] Result<std::vector<TriggerEntry>> ListSubsystemEntries(int sysfs_fd);

// Whether entry passes match. database (may be null) answers tag matches and, with the
// uevent file, property matches.
bool MatchesEntry(const Roots& roots, const Database* database, const TriggerEntry& entry,
                  const DeviceMatch& match);

// What `trigger` writes to, in order: subsystems before devices, parents before children.
[[nodiscard]] Result<std::vector<TriggerEntry>> SelectTriggerEntries(const Roots& roots,
                                                                     TriggerType type,
                                                                     const DeviceMatch& match);

// Writes action into the uevent file of devpath below sysfs_fd.
[[nodiscard]] Status WriteUevent(int sysfs_fd, std::string_view devpath, std::string_view action);

// Runs the command without --settle (the front end settles afterwards). Returns the exit
// status: 0; 1 when a device argument is unknown or a write failed (the other devices are
// still triggered; a device that vanished meanwhile is no failure); 2 for usage.
int RunTriggerCommand(const TriggerOptions& options, const RootPaths& paths, FILE* out,
                      FILE* err);

// Waits for the daemon's queue to drain; returns an exit status (Settle in vdevadm).
using SettleFunction = std::function<int(const RootPaths& paths, double timeout_seconds)>;

// The whole command: ParseTriggerOptions (usage errors exit 2), RunTriggerCommand, then
// with --settle and a trigger that wrote events and did not fail, settle(paths, 120).
int TriggerMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err,
                const SettleFunction& settle);

}  // namespace vdev
