// udev_monitor: placeholder until the /dev/uevents client lands. Every call fails with ENOSYS
// (never a pretended success); udev_monitor_new_from_netlink makes no object, so the others
// are only ever called with NULL. Uses NewDeviceFromEvent (udev_device_internal.h) once real.
#include <libudev.h>

#include "abi.h"

namespace {
int NotImplemented() {
  errno = ENOSYS;
  return -ENOSYS;
}
}  // namespace

using vdev::compat::NullWithErrno;

UDEV_EXPORT udev_monitor* udev_monitor_ref(udev_monitor* udev_monitor) noexcept {
  return udev_monitor;
}
UDEV_EXPORT udev_monitor* udev_monitor_unref(udev_monitor* udev_monitor) noexcept {
  return nullptr;
}
UDEV_EXPORT struct udev* udev_monitor_get_udev(udev_monitor* udev_monitor) noexcept {
  return NullWithErrno(ENOSYS);
}
UDEV_EXPORT udev_monitor* udev_monitor_new_from_netlink(struct udev* udev,
                                                        const char* name) noexcept {
  return NullWithErrno(ENOSYS);
}
UDEV_EXPORT int udev_monitor_enable_receiving(udev_monitor* udev_monitor) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_monitor_set_receive_buffer_size(udev_monitor* udev_monitor,
                                                     int size) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_monitor_get_fd(udev_monitor* udev_monitor) noexcept {
  return NotImplemented();
}
UDEV_EXPORT udev_device* udev_monitor_receive_device(udev_monitor* udev_monitor) noexcept {
  return NullWithErrno(ENOSYS);
}
UDEV_EXPORT int udev_monitor_filter_add_match_subsystem_devtype(udev_monitor* udev_monitor,
                                                                const char* subsystem,
                                                                const char* devtype) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_monitor_filter_add_match_tag(udev_monitor* udev_monitor,
                                                  const char* tag) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_monitor_filter_update(udev_monitor* udev_monitor) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_monitor_filter_remove(udev_monitor* udev_monitor) noexcept {
  return NotImplemented();
}
