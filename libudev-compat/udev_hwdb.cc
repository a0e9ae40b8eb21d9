// udev_hwdb: placeholder until the hwdb reader lands. Every call fails with ENOSYS (never a
// pretended empty answer); udev_hwdb_new makes no object, so the others only ever see NULL.
// Uses EntryList (udev_list_internal.h, Order::kByName) for its property list once real.
#include <libudev.h>

#include "abi.h"

using vdev::compat::NullWithErrno;

UDEV_EXPORT udev_hwdb* udev_hwdb_new(struct udev* udev) noexcept { return NullWithErrno(ENOSYS); }
UDEV_EXPORT udev_hwdb* udev_hwdb_ref(udev_hwdb* hwdb) noexcept { return hwdb; }
UDEV_EXPORT udev_hwdb* udev_hwdb_unref(udev_hwdb* hwdb) noexcept { return nullptr; }
UDEV_EXPORT udev_list_entry* udev_hwdb_get_properties_list_entry(udev_hwdb* hwdb,
                                                                 const char* modalias,
                                                                 unsigned flags) noexcept {
  return NullWithErrno(ENOSYS);
}
