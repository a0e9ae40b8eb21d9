// The udev_enumerate object: the C API over Enumerator.
#include <libudev.h>

#include "abi.h"
#include "enumerator.h"
#include "udev_device_internal.h"
#include "udev_list_internal.h"

struct udev_enumerate {
  udev_enumerate(struct udev* owner, std::shared_ptr<const vdev::compat::Context> context)
      : udev(owner), enumerator(std::move(context)) {}

  int refcount = 1;
  struct udev* udev;  // not referenced, as in systemd's libudev; may be NULL
  vdev::compat::Enumerator enumerator;
  vdev::compat::EntryList list{vdev::compat::EntryList::Order::kInsertion};
  bool list_uptodate = false;
};

using vdev::compat::Guard;
using vdev::compat::NullWithErrno;

namespace {

// Every filter call: NULL arguments are ignored (return 0), as in systemd's libudev.
template <class Function>
int AddFilter(udev_enumerate* udev_enumerate, Function&& add) noexcept {
  if (!udev_enumerate) return -EINVAL;
  return Guard<int>(-ENOMEM, [&] {
    add(udev_enumerate->enumerator);
    udev_enumerate->list_uptodate = false;
    return 0;
  });
}

std::optional<std::string_view> Optional(const char* value) {
  return value ? std::optional<std::string_view>(value) : std::nullopt;
}

}  // namespace

UDEV_EXPORT udev_enumerate* udev_enumerate_new(struct udev* udev) noexcept {
  return Guard<udev_enumerate*>(
      nullptr, [&] { return new udev_enumerate(udev, vdev::compat::ContextOf(udev)); });
}

UDEV_EXPORT udev_enumerate* udev_enumerate_ref(udev_enumerate* udev_enumerate) noexcept {
  if (udev_enumerate) ++udev_enumerate->refcount;
  return udev_enumerate;
}

UDEV_EXPORT udev_enumerate* udev_enumerate_unref(udev_enumerate* udev_enumerate) noexcept {
  if (udev_enumerate && --udev_enumerate->refcount == 0) delete udev_enumerate;
  return nullptr;
}

UDEV_EXPORT struct udev* udev_enumerate_get_udev(udev_enumerate* udev_enumerate) noexcept {
  if (!udev_enumerate) return NullWithErrno(EINVAL);
  return udev_enumerate->udev;
}

UDEV_EXPORT int udev_enumerate_add_match_subsystem(udev_enumerate* udev_enumerate,
                                                   const char* subsystem) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (subsystem) enumerator.AddMatchSubsystem(subsystem, /*match=*/true);
  });
}

UDEV_EXPORT int udev_enumerate_add_nomatch_subsystem(udev_enumerate* udev_enumerate,
                                                     const char* subsystem) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (subsystem) enumerator.AddMatchSubsystem(subsystem, /*match=*/false);
  });
}

UDEV_EXPORT int udev_enumerate_add_match_sysattr(udev_enumerate* udev_enumerate,
                                                 const char* sysattr, const char* value) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (sysattr) enumerator.AddMatchSysattr(sysattr, Optional(value), /*match=*/true);
  });
}

UDEV_EXPORT int udev_enumerate_add_nomatch_sysattr(udev_enumerate* udev_enumerate,
                                                   const char* sysattr,
                                                   const char* value) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (sysattr) enumerator.AddMatchSysattr(sysattr, Optional(value), /*match=*/false);
  });
}

UDEV_EXPORT int udev_enumerate_add_match_property(udev_enumerate* udev_enumerate,
                                                  const char* property,
                                                  const char* value) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (property) enumerator.AddMatchProperty(property, Optional(value));
  });
}

UDEV_EXPORT int udev_enumerate_add_match_sysname(udev_enumerate* udev_enumerate,
                                                 const char* sysname) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (sysname) enumerator.AddMatchSysname(sysname);
  });
}

UDEV_EXPORT int udev_enumerate_add_match_tag(udev_enumerate* udev_enumerate,
                                             const char* tag) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (tag) enumerator.AddMatchTag(tag);
  });
}

UDEV_EXPORT int udev_enumerate_add_match_parent(udev_enumerate* udev_enumerate,
                                                udev_device* parent) noexcept {
  return AddFilter(udev_enumerate, [&](vdev::compat::Enumerator& enumerator) {
    if (parent) enumerator.SetMatchParent(parent->view.devpath());
  });
}

UDEV_EXPORT int udev_enumerate_add_match_is_initialized(udev_enumerate* udev_enumerate) noexcept {
  return AddFilter(udev_enumerate,
                   [](vdev::compat::Enumerator& enumerator) { enumerator.MatchIsInitialized(); });
}

UDEV_EXPORT int udev_enumerate_add_syspath(udev_enumerate* udev_enumerate,
                                           const char* syspath) noexcept {
  if (!udev_enumerate) return -EINVAL;
  if (!syspath) return 0;
  return Guard<int>(-ENOMEM, [&] {
    auto device = vdev::compat::ResolveSyspath(udev_enumerate->enumerator.context(), syspath);
    if (!device) return -device.error().code;
    udev_enumerate->enumerator.AddDevice(std::move(device->devpath));
    udev_enumerate->list_uptodate = false;
    return 0;
  });
}

UDEV_EXPORT int udev_enumerate_scan_devices(udev_enumerate* udev_enumerate) noexcept {
  if (!udev_enumerate) return -EINVAL;
  return Guard<int>(-ENOMEM, [&] {
    auto scanned = udev_enumerate->enumerator.ScanDevices();
    // systemd's libudev keeps a list built before the scan; a stale list helps no one.
    udev_enumerate->list_uptodate = false;
    return scanned ? 0 : -scanned.error().code;
  });
}

UDEV_EXPORT int udev_enumerate_scan_subsystems(udev_enumerate* udev_enumerate) noexcept {
  if (!udev_enumerate) return -EINVAL;
  return Guard<int>(-ENOMEM, [&] {
    auto scanned = udev_enumerate->enumerator.ScanSubsystems();
    udev_enumerate->list_uptodate = false;
    return scanned ? 0 : -scanned.error().code;
  });
}

UDEV_EXPORT udev_list_entry* udev_enumerate_get_list_entry(
    udev_enumerate* udev_enumerate) noexcept {
  if (!udev_enumerate) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&]() -> udev_list_entry* {
    if (!udev_enumerate->list_uptodate) {
      udev_enumerate->list.Clear();
      const vdev::compat::Context& context = udev_enumerate->enumerator.context();
      for (const auto& devpath : udev_enumerate->enumerator.devpaths())
        udev_enumerate->list.Add(context.Syspath(devpath));
      udev_enumerate->list_uptodate = true;
    }
    udev_list_entry* first = udev_enumerate->list.First();
    return first ? first : NullWithErrno(ENODATA);
  });
}
