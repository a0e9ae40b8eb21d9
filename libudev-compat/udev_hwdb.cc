// The udev_hwdb object: systemd's compiled hardware database (hwdb.bin), read with
// vdev::Hwdb from where systemd 252 looks for it (below VDEV_HWDB_ROOT, default "/").
#include <fcntl.h>
#include <libudev.h>

#include <cstdlib>
#include <memory>

#include "abi.h"
#include "common/fs_util.h"
#include "common/hwdb.h"
#include "udev_list_internal.h"

struct udev_hwdb {
  explicit udev_hwdb(vdev::Hwdb opened) : hwdb(std::move(opened)) {}

  int refcount = 1;
  vdev::Hwdb hwdb;
  // As in systemd's libudev: one entry per property name, sorted by name.
  vdev::compat::EntryList properties{vdev::compat::EntryList::Order::kByName};
};

using vdev::compat::Guard;
using vdev::compat::NullWithErrno;

// ENOENT when no hwdb.bin is installed, as systemd's libudev.
UDEV_EXPORT udev_hwdb* udev_hwdb_new(struct udev* udev) noexcept {
  return Guard<udev_hwdb*>(nullptr, [&]() -> udev_hwdb* {
    const char* root_path = getenv("VDEV_HWDB_ROOT");
    auto root = vdev::OpenDirAt(AT_FDCWD, root_path && *root_path ? root_path : "/");
    if (!root) return NullWithErrno(root.error().code);
    auto opened = vdev::OpenInstalledHwdb(root->get());
    if (!opened) return NullWithErrno(opened.error().code);
    return new udev_hwdb(std::move(*opened));
  });
}

UDEV_EXPORT udev_hwdb* udev_hwdb_ref(udev_hwdb* hwdb) noexcept {
  if (hwdb) ++hwdb->refcount;
  return hwdb;
}

UDEV_EXPORT udev_hwdb* udev_hwdb_unref(udev_hwdb* hwdb) noexcept {
  if (hwdb && --hwdb->refcount == 0) delete hwdb;
  return nullptr;
}

// The properties of every entry matching modalias; NULL with ENODATA when none matches. The
// list stays valid until the next lookup on this hwdb or its release.
UDEV_EXPORT udev_list_entry* udev_hwdb_get_properties_list_entry(udev_hwdb* hwdb,
                                                                 const char* modalias,
                                                                 unsigned int flags) noexcept {
  if (!hwdb || !modalias) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&]() -> udev_list_entry* {
    hwdb->properties.Clear();
    auto found = hwdb->hwdb.Lookup(modalias);
    if (!found) return NullWithErrno(found.error().code);
    for (const auto& [name, value] : *found) hwdb->properties.Add(name, value);
    udev_list_entry* first = hwdb->properties.First();
    return first ? first : NullWithErrno(ENODATA);
  });
}
