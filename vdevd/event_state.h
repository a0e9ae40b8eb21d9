// EventState: one event while it is being processed: the device, the properties it will be
// published with, and what the rules decided (node owner/mode, links, tags, programs).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/database.h"
#include "common/device.h"
#include "common/uevent.h"

namespace vdev {

struct EventState {
  EventState(Device device_in, Uevent properties_in)
      : device(std::move(device_in)), properties(std::move(properties_in)) {}

  Device device;
  // The dev root, for builtins that open the device's node (it exists by the time rules
  // run, also on a tmpfs); -1 when there is none (tests without nodes).
  int dev_fd = -1;
  // The dev root's path, for $devnode and $root in the command lines of helpers.
  std::string dev_root = "/dev";
  // The database, for rules that import a parent's properties; nullptr when there is none.
  const Database* database = nullptr;
  // The event's properties, then what the database and the rules added. This is what is
  // published and stored (E: lines for everything beyond the kernel's own properties).
  Uevent properties;

  std::optional<uid_t> uid;   // node owner; rules set it, else DEVUID, else root
  std::optional<gid_t> gid;   // node group; rules set it, else DEVGID, else root
  std::optional<mode_t> mode; // node mode; rules set it, else DEVMODE, else 0600/0660
  std::vector<std::string> links;  // symlinks relative to the dev root, no duplicates
  int link_priority = 0;
  std::vector<std::string> tags;          // no duplicates
  std::vector<std::string> run_programs;  // command lines to run after the event is applied
  // Sysfs attributes (relative to the device: "../uevent" is its parent's) and the values
  // to write into them, in rule order, after the event is applied, before run_programs.
  std::vector<std::pair<std::string, std::string>> attribute_writes;

  // Set by a builtin that found the device busy (a tool holds the disk's lock): nothing of
  // this attempt is applied and the event runs again a little later. last_attempt: no
  // retry will follow, so builtins probe anyway.
  bool busy = false;
  bool last_attempt = false;
  bool watch = false;  // the rules ask for the node to be watched (see BlockWatch)
};

}  // namespace vdev
