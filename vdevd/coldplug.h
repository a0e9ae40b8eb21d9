// Coldplug: the walk of SYSFS/devices that synthesizes an "add" uevent for every device
// already present (at start-up, and after a netlink overflow to reconcile).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// Walks SYSFS/devices below sysfs_fd and calls on_device once per device, parents strictly
// before their children (pre-order; siblings in name order). A directory is a device when
// it holds a uevent file; only devices with a subsystem link are reported. Symlinks are
// never followed and "power" attribute directories are not entered. Each event carries
// ACTION=add, DEVPATH, SUBSYSTEM, then the uevent file's lines (which include DRIVER when
// a driver is bound) and no SEQNUM. Unreadable directories and uevent files are skipped
// with a debug message; only a missing SYSFS/devices is an error.
[[nodiscard]] Status WalkDevices(int sysfs_fd, const std::function<void(Uevent&&)>& on_device);

// The devpaths of the same devices in the same order, without reading uevent files (so
// it also lists a device whose uevent file WalkDevices would skip as malformed): a cheap
// list of what is present, for reconciling the database after an overflow.
[[nodiscard]] Result<std::vector<std::string>> ListDevpaths(int sysfs_fd);

}  // namespace vdev
