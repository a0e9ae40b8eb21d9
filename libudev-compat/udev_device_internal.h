// The udev_device object, and how the other libudev objects make devices: udev_enumerate
// (from syspaths), udev_monitor (from received events) and udev_queue.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/uevent.h"
#include "device_view.h"
#include "udev_context.h"
#include "udev_list_internal.h"

struct udev_device {
  udev_device(struct udev* owner, vdev::compat::DeviceView device_view)
      : udev(owner), view(std::move(device_view)) {}
  ~udev_device();
  udev_device(const udev_device&) = delete;
  udev_device& operator=(const udev_device&) = delete;

  int refcount = 1;
  struct udev* udev;  // not referenced, as in systemd's libudev; may be NULL
  vdev::compat::DeviceView view;

  // The parent is made once and owned (one reference) by its child.
  bool parent_loaded = false;
  udev_device* parent = nullptr;

  // What the C API hands out, built on first use.
  bool properties_listed = false, devlinks_listed = false, tags_listed = false,
       current_tags_listed = false, sysattrs_listed = false;
  vdev::compat::EntryList properties{vdev::compat::EntryList::Order::kByName};
  vdev::compat::EntryList devlinks{vdev::compat::EntryList::Order::kByName};
  vdev::compat::EntryList tags{vdev::compat::EntryList::Order::kByName};
  vdev::compat::EntryList current_tags{vdev::compat::EntryList::Order::kByName};
  vdev::compat::EntryList sysattrs{vdev::compat::EntryList::Order::kByName};
  // Attribute values returned so far: the pointers given out stay valid (std::map nodes do
  // not move) until set_sysattr_value changes that attribute or the device goes away.
  std::map<std::string, std::string, std::less<>> sysattr_values;
};

namespace vdev::compat {

// All of these return a new device with one reference (release it with udev_device_unref) or
// the error libudev reports (EINVAL, ENODEV, ENXIO ...). They may throw std::bad_alloc: call
// them inside Guard() (abi.h), as every exported function does.

// A device from an event as a monitor receives it: a property list with at least DEVPATH
// (valid) and SUBSYSTEM, normally also ACTION, SEQNUM, DEVNAME, DEVLINKS, TAGS, CURRENT_TAGS,
// USEC_INITIALIZED, DEVTYPE, DRIVER, MAJOR/MINOR, IFINDEX, ID_* ... The device's properties are
// exactly the event's (DEVNAME and DEVLINKS entries relative to the dev root, or spelled
// "/dev/...", are made absolute below it); udev_device_get_action/_seqnum/_devlinks/_tags/
// _current_tags/_usec_since_initialized answer from them; the database is not read;
// attributes and parents come from sysfs while the device is still there. initialized: the
// event was processed by the device manager (what udev_device_get_is_initialized reports;
// true for everything a udev_monitor of group "udev" receives). EINVAL for a bad DEVPATH or
// a missing SUBSYSTEM.
[[nodiscard]] Result<udev_device*> NewDeviceFromEvent(struct udev* udev, const Uevent& event,
                                                      bool initialized);

// udev_device_new_from_syspath: an absolute path below the sysfs root ("/sys/..." is accepted
// too and read below the configured root).
[[nodiscard]] Result<udev_device*> NewDeviceFromSyspath(struct udev* udev,
                                                        std::string_view syspath);

}  // namespace vdev::compat
