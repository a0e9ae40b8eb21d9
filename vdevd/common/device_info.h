// DeviceInfo: everything known about one device (its sysfs view merged with its database
// record), and the resolution of the names users give devices (node, syspath, devpath, id).
// Pure data, no printing: vdevadm and libudev-compat both build on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/database.h"
#include "common/device.h"
#include "common/result.h"
#include "common/roots.h"
#include "common/uevent.h"

namespace vdev {

struct DeviceInfo {
  explicit DeviceInfo(Device kernel_view) : device(std::move(kernel_view)) {}

  Device device;
  bool initialized = false;  // the device manager has written a database record
  // Merged in udev's order: DEVPATH, the uevent file (DEVNAME absolute, MAJOR and MINOR
  // last), SUBSYSTEM, USEC_INITIALIZED, the record's E: lines (replacing a kernel value
  // of the same key in place), DEVLINKS, TAGS, CURRENT_TAGS.
  Uevent properties;
  std::string devnode;             // relative to the dev root ("sda"); empty without a node
  std::vector<std::string> links;  // relative to the dev root, as recorded
  int link_priority = 0;
  std::vector<std::string> tags;
  std::vector<std::string> current_tags;
  uint64_t usec_initialized = 0;
};

// Reads devpath from sysfs and merges its record from database (nullptr, or no record:
// the kernel's view only, initialized false). dev_root is the dev root's path: DEVNAME
// and DEVLINKS are spelled below it, as udev spells them below /dev. ENOENT when the
// device is not in sysfs.
[[nodiscard]] Result<DeviceInfo> LoadDeviceInfo(int sysfs_fd, const Database* database,
                                                std::string_view dev_root,
                                                std::string_view devpath);

// root + "/" + relative, without doubling a slash when root is "/" or ends in one.
std::string JoinRootPath(std::string_view root, std::string_view relative);

// What a user typed for a node ("sda", "/dev/sda", DEVROOT/sda, "disk/by-id/x") as a path
// relative to the dev root. nullopt for an absolute path elsewhere, an empty name or one
// with a ".." component.
std::optional<std::string> NodeNameRelative(std::string_view name, std::string_view dev_root);

// The devpath of the device whose node (or a symlink to it) is name, relative to dev_fd:
// stats it, then looks the device number up in sysfs. ENODEV when name is neither a block
// nor a character device.
[[nodiscard]] Result<std::string> DevpathFromNode(int dev_fd, int sysfs_fd,
                                                  std::string_view name);

// Resolves a path relative to the sysfs root that may pass through symlinks
// ("class/net/lo") to the devpath it names ("/devices/virtual/net/lo"), following only
// relative links that stay inside the sysfs root.
[[nodiscard]] Result<std::string> CanonicalSysfsPath(int sysfs_fd, std::string_view path);

// A --path argument: "/devices/x", "/sys/devices/x", SYSFSROOT/devices/x or
// "/class/net/lo"; links are resolved. EINVAL for a path outside the sysfs root.
[[nodiscard]] Result<std::string> DevpathFromSyspath(int sysfs_fd, std::string_view sysfs_root,
                                                     std::string_view path);

// The devpath of a device id as the database names it: "b8:0", "c1:3", "n3",
// "+subsystem:sysname". EINVAL when id is not one.
[[nodiscard]] Result<std::string> DevpathFromDeviceId(int sysfs_fd, std::string_view id);

// A device argument as udevadm takes it: a node below the dev root or "/dev/", a syspath
// below the sysfs root or "/sys/", a devpath ("/devices/..."), a device id ("b8:0"), or a
// bare node name ("sda", "disk/by-label/x"). The device must exist in sysfs (ENOENT).
[[nodiscard]] Result<std::string> ResolveDeviceArgument(const Roots& roots,
                                                        std::string_view argument);

}  // namespace vdev
