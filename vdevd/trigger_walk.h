// The `vdevadm trigger` command: selects devices and subsystems in sysfs the way udevadm's
// enumerator does, writes an action into their uevent files so that the kernel re-sends
// their events, and with --settle waits until the daemon has processed those events
// (vdevadm/trigger.cc is the front end and talks to the daemon).
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
  using PropertyMatch = std::pair<std::string, std::optional<std::string>>;   // key, value

  std::vector<std::string> subsystems;
  std::vector<std::string> not_subsystems;
  std::vector<std::string> sysnames;
  std::vector<AttributeMatch> attributes;  // no value: the attribute is readable
  std::vector<AttributeMatch> not_attributes;
  std::vector<PropertyMatch> properties;  // no value: the property is set
  std::vector<std::string> tags;
  std::vector<std::string> parents;  // devpaths: the device itself or any below it
  // --initialized-match (true) / --initialized-nomatch (false): whether the device has a
  // database record.
  std::optional<bool> initialized;

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
  // --prioritized-subsystem: these subsystems' devices (and their selected parents) first,
  // in this order.
  std::vector<std::string> prioritized_subsystems;
  bool dry_run = false;
  bool verbose = false;
  bool quiet = false;
  bool settle = false;
  bool uuid = false;                  // --uuid: tag each event and print the UUID
  std::optional<double> wait_daemon;  // --wait-daemon[=SECONDS]: seconds (5 by default)
  bool help = false;
  bool version = false;
  bool list_actions = false;  // --action=help

  bool operator==(const TriggerOptions&) const = default;
};

// Parses the arguments of `vdevadm trigger` (argv[0] is "trigger"), in udevadm's
// spellings (--opt=V, --opt V, -c A, -t, -s, -S, -a, -A, -p, -g, -y, --name-match, -b, -n,
// -v, -q, -w, --uuid, --wait-daemon[=S], --prioritized-subsystem=A,B,
// --initialized-match, --initialized-nomatch, -V, devices). An unknown action or type is a
// usage error; the Error's context is the message.
[[nodiscard]] Result<TriggerOptions> ParseTriggerOptions(int argc, char** argv);

// bus/*, bus/*/drivers/* and module/* entries that have a uevent file, sorted by devpath.
[[nodiscard]] Result<std::vector<TriggerEntry>> ListSubsystemEntries(int sysfs_fd);

// Whether entry passes match. database (may be null) answers tag, initialized and, with
// the uevent file, property matches.
bool MatchesEntry(const Roots& roots, const Database* database, const TriggerEntry& entry,
                  const DeviceMatch& match);

// Puts entries in udevadm's trigger order: first, for each prioritized subsystem in turn,
// its entries together with those of their parents that are among entries; then the rest.
// Within each group parents come before children, siblings in name order, and md and dm
// block devices (which need their members first) after everything else.
void SortTriggerEntries(std::vector<TriggerEntry>& entries,
                        const std::vector<std::string>& prioritized_subsystems);

// What `trigger` writes to, in SortTriggerEntries' order.
[[nodiscard]] Result<std::vector<TriggerEntry>> SelectTriggerEntries(
    const Roots& roots, TriggerType type, const DeviceMatch& match,
    const std::vector<std::string>& prioritized_subsystems = {});

// Writes action into the uevent file of devpath below sysfs_fd; with a uuid, "ACTION UUID"
// (the kernel then adds SYNTH_UUID=UUID to the event, since Linux 4.13).
[[nodiscard]] Status WriteUevent(int sysfs_fd, std::string_view devpath, std::string_view action,
                                 std::string_view uuid = {});

// A random version-4 UUID in its usual text form, from getrandom().
[[nodiscard]] Result<std::string> RandomUuid();

// One event a trigger caused, as --settle waits for it.
struct TriggeredEvent {
  std::string devpath;
  std::string uuid;  // empty when the kernel did not take one

  bool operator==(const TriggeredEvent&) const = default;
};

// The device manager as `trigger` talks to it (vdevadm/trigger.cc talks to vdevd over its
// control socket; tests substitute their own).
class TriggerDaemon {
 public:
  virtual ~TriggerDaemon() = default;
  // --wait-daemon: returns once the daemon answers, ETIMEDOUT after timeout_seconds.
  [[nodiscard]] virtual Status WaitUntilRunning(double timeout_seconds) = 0;
  // --settle, before the first write, so that no processed event can be missed: starts
  // watching the events the daemon finishes. ENOENT or ECONNREFUSED: no daemon runs.
  [[nodiscard]] virtual Status Watch() = 0;
  // --settle, after the last write: returns once each of events was processed (calling
  // processed for each, in the order they finish) or the daemon's queue is empty, which
  // includes events of devices that vanished meanwhile. ETIMEDOUT after timeout_seconds.
  [[nodiscard]] virtual Status WaitForEvents(
      std::vector<TriggeredEvent> events, double timeout_seconds,
      const std::function<void(const TriggeredEvent&)>& processed) = 0;
};

// The whole command: ParseTriggerOptions, --wait-daemon, the selection, the writes (and
// their report on out with -v and --uuid), then --settle (for at most 120 s). Returns the
// exit status as udevadm does: 0; 1 for a usage error, an unknown device argument, a
// failed write (the other devices are still triggered; a device that vanished meanwhile,
// or a driver that refuses uevent writes, is no failure) or a settle that timed out.
int TriggerMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err,
                TriggerDaemon& daemon);

}  // namespace vdev
