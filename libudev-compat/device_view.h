// DeviceView: one device the way systemd's libudev (252) presents it, read lazily: its sysfs
// directory (uevent file, subsystem and driver links, attributes) merged with the device
// manager's database record -- or, for a device an event describes, that event's properties.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/database.h"
#include "common/result.h"
#include "common/uevent.h"
#include "udev_context.h"

namespace vdev::compat {

// A devpath checked to name a device, and the uevent file when the check read it.
struct ResolvedDevice {
  std::string devpath;
  std::optional<std::string> uevent;
};

// What systemd's sd_device_new_from_syspath accepts: an absolute path below the sysfs root
// (or "/sys"), symlinks resolved; below /devices a directory with a uevent file, elsewhere
// (/bus, /class, /module, drivers) any directory. EINVAL for a path outside sysfs, ENODEV
// when nothing (or no device) is there.
[[nodiscard]] Result<ResolvedDevice> ResolveSyspath(const Context& context,
                                                    std::string_view syspath);
// The same check for a devpath already known to be canonical (no symlink in it); read_uevent
// false only checks that the uevent file exists.
[[nodiscard]] Result<ResolvedDevice> CheckDevpath(const Context& context, std::string devpath,
                                                  bool read_uevent = true);
// The nearest ancestor that is a device (see ResolveSyspath), nullopt at the top.
std::optional<std::string> ParentDevpath(const Context& context, std::string_view devpath);

// sd-device's ordering of enumerated devices: md and dm block devices last, otherwise by
// path component (so "/a/b" sorts before "/a-c").
bool DevpathLess(std::string_view a, std::string_view b);

class DeviceView {
 public:
  DeviceView(std::shared_ptr<const Context> context, ResolvedDevice device);
  // A device as a received event describes it: its properties are the event's (DEVNAME and
  // DEVLINKS made absolute below the dev root, TAGS and CURRENT_TAGS split); the database is
  // not read; attributes and parents still come from sysfs. initialized: the event comes from
  // the device manager (udev events are always initialized).
  static DeviceView FromEvent(std::shared_ptr<const Context> context, const Uevent& event,
                              bool initialized);

  const Context& context() const { return *context_; }
  const std::shared_ptr<const Context>& shared_context() const { return context_; }
  bool from_event() const { return from_event_; }

  const std::string& devpath() const { return devpath_; }
  const std::string& syspath() const { return syspath_; }
  const std::string& sysname() const { return sysname_; }
  const std::string* sysnum() const { return sysnum_ ? &*sysnum_ : nullptr; }
  // Each returns nullptr when the device has none.
  const std::string* subsystem();
  const std::string* devtype();
  const std::string* driver();
  const std::string* devnode();  // absolute, below the dev root
  const std::string* action();   // events only
  std::optional<dev_t> devnum();
  std::optional<int> ifindex();
  uint64_t seqnum();  // 0 unless an event gave one

  // The database record's view: a device is initialized once the device manager wrote its
  // record (an event device: see FromEvent).
  bool initialized();
  uint64_t usec_initialized();
  const std::vector<std::string>& links();  // absolute paths below the dev root
  const std::vector<std::string>& tags();
  const std::vector<std::string>& current_tags();

  // All properties: DEVPATH, the uevent file's (DEVNAME absolute), SUBSYSTEM, then the
  // record's USEC_INITIALIZED, E: lines (replacing kernel values), DEVLINKS, TAGS, CURRENT_TAGS.
  const std::vector<Property>& properties();
  const std::string* property(std::string_view key);

  // The database id ("c1:3", "b8:0", "n2", "+subsystem:sysname"); empty without a subsystem.
  std::string Id();

  // sd_device_get_sysattr_value: the value without trailing newlines; the links driver,
  // subsystem and module give their target's name. EINVAL for another link or a name that
  // climbs out of the device, EISDIR, EPERM (not readable), ENOENT.
  [[nodiscard]] Result<std::string> ReadAttribute(std::string_view name) const;
  // Writes value (trailing newlines dropped, at most 4096 bytes) to an existing attribute.
  [[nodiscard]] Status WriteAttribute(std::string_view name, std::string_view value) const;
  // Every attribute name as libudev lists them: files and links the owner may read or write,
  // in subdirectories too ("power/control") except subdirectories that are devices.
  std::vector<std::string> AttributeNames() const;

 private:
  DeviceView(std::shared_ptr<const Context> context, std::string devpath);
  const Uevent& kernel();
  void LoadSubsystem();
  void LoadRecord();
  void BuildProperties();

  std::shared_ptr<const Context> context_;
  std::string devpath_, syspath_, sysname_;
  std::optional<std::string> sysnum_;
  bool from_event_ = false;

  std::optional<std::string> uevent_text_;  // read before the view was made, parsed on use
  std::optional<Uevent> kernel_;            // the uevent file's or the event's properties
  bool subsystem_loaded_ = false;
  std::optional<std::string> subsystem_;
  std::string driver_subsystem_;  // for "drivers" devices: the bus they belong to
  bool driver_loaded_ = false;
  std::optional<std::string> driver_;
  bool devnode_loaded_ = false;
  std::optional<std::string> devnode_;
  std::optional<std::string> action_;
  uint64_t seqnum_ = 0;

  bool record_loaded_ = false;
  bool initialized_ = false;
  uint64_t usec_initialized_ = 0;
  std::vector<std::string> links_, tags_, current_tags_;
  std::vector<Property> record_properties_;

  bool properties_built_ = false;
  std::vector<Property> properties_;
};

}  // namespace vdev::compat
