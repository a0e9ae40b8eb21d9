// Device: a read-only view of one device in sysfs (attributes, subsystem, driver, devnum,
// parents), always relative to a sysfs root fd.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

class Device {
 public:
  // Reads devpath's uevent file and subsystem/driver links below sysfs_fd (not owned; it
  // must outlive the Device). ENOENT when the device is not (or no longer) in sysfs.
  [[nodiscard]] static Result<Device> Open(int sysfs_fd, std::string_view devpath);

  // A view built from an event's properties, for devices that may already be gone from
  // sysfs (remove events); attributes are still read from sysfs when they exist.
  static Device FromEvent(int sysfs_fd, const Uevent& event);

  const std::string& devpath() const { return devpath_; }
  // The sysfs root it was opened below (not owned), for builtins that read further afield.
  int sysfs_fd() const { return sysfs_fd_; }
  // A parent's subsystem and properties are read on first use: a rule walking the parent
  // chain for one attribute should not pay for every ancestor's uevent file.
  const std::string& subsystem() const;
  // Read from the driver link on first use (most events never ask).
  const std::string& driver() const;
  // Kernel properties (from the uevent file or the event).
  const Uevent& properties() const;
  std::string_view devtype() const { return properties().devtype(); }
  std::optional<dev_t> devnum() const { return properties().devnum(); }
  bool is_block() const { return subsystem() == "block"; }

  // The last devpath component with '!' turned into '/' (e.g. "cciss!c0d0" -> "cciss/c0d0").
  std::string sysname() const;
  // The trailing digits of the sysname ("sda1" -> "1"), empty when there are none.
  std::string sysnum() const;

  // A sysfs attribute of this device without its trailing newline. name may name a file
  // in a subdirectory ("queue/rotational") but may not climb out of the device.
  std::optional<std::string> Attribute(std::string_view name) const;

  // The nearest ancestor directory that is a device (has a uevent file).
  std::optional<Device> Parent() const;

  // The database id: "b8:0", "c1:3", "n3" or "+subsystem:sysname".
  std::string Id() const;

 private:
  Device(int sysfs_fd, std::string devpath) : sysfs_fd_(sysfs_fd), devpath_(std::move(devpath)) {}
  std::string RelativePath() const { return devpath_.substr(1); }

  int sysfs_fd_;
  std::string devpath_;
  mutable std::optional<std::string> subsystem_;
  mutable std::optional<std::string> driver_;
  mutable std::optional<Uevent> properties_;
};

// The database id from its parts (see Device::Id).
std::string DeviceId(std::string_view subsystem, std::optional<dev_t> devnum,
                     std::optional<int> ifindex, std::string_view sysname);
std::string DeviceId(const Uevent& event);

// The devpath a relative sysfs link found in directory link_dir (below the sysfs root, with
// or without a leading '/') points at: "../../devices/x" in "dev/block" is "/devices/x".
// The kernel's links point at real directories, so resolving ".." textually is exact.
// nullopt for an absolute target, one that climbs out of the sysfs root, or no devpath.
std::optional<std::string> ResolveDevpathLink(std::string_view link_dir, std::string_view target);

// The devpath of the device with this node number, found through sysfs's dev/block or
// dev/char links. ENOENT when no such device exists.
[[nodiscard]] Result<std::string> DevpathFromDevnum(int sysfs_fd, bool block, dev_t devnum);

}  // namespace vdev
