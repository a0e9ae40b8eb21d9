// The udev_device object: the C API over DeviceView.
#include <libudev.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "abi.h"
#include "common/device.h"
#include "common/device_info.h"
#include "common/numbers.h"
#include "udev_device_internal.h"

extern char** environ;

udev_device::~udev_device() {
  if (parent) udev_device_unref(parent);
}

namespace vdev::compat {
namespace {

udev_device* Make(struct udev* udev, DeviceView view) {
  return new udev_device(udev, std::move(view));
}

// Makes a device of a devpath found by a lookup (dev/char links, class/ and bus/ entries).
Result<udev_device*> FromSyspathOrNoDevice(struct udev* udev, std::string_view syspath) {
  auto device = NewDeviceFromSyspath(udev, syspath);
  if (!device && device.error().code == EINVAL) return Fail(ENODEV, device.error().context);
  return device;
}

bool IsSafeName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

Result<udev_device*> FromSubsystemSysname(struct udev* udev, std::string_view subsystem,
                                          std::string_view sysname) {
  std::shared_ptr<Context> context = ContextOf(udev);
  std::string name(sysname);
  std::replace(name.begin(), name.end(), '/', '!');  // "cciss/c0d0" lives in "cciss!c0d0"
  std::vector<std::string> candidates;
  if (subsystem == "subsystem") {
    if (IsSafeName(name)) candidates = {"bus/" + name, "class/" + name};
  } else if (subsystem == "module") {
    if (IsSafeName(name)) candidates = {"module/" + name};
  } else if (subsystem == "drivers") {
    // "BUS:DRIVER"
    size_t colon = sysname.find(':');
    if (colon != std::string_view::npos) {
      std::string bus(sysname.substr(0, colon)), driver(sysname.substr(colon + 1));
      if (IsSafeName(bus) && IsSafeName(driver)) candidates = {"bus/" + bus + "/drivers/" + driver};
    }
  } else if (IsSafeName(subsystem) && IsSafeName(name)) {
    std::string subsystem_name(subsystem);
    candidates = {"bus/" + subsystem_name + "/devices/" + name,
                  "class/" + subsystem_name + "/" + name};
  }
  for (const auto& candidate : candidates) {
    auto device = FromSyspathOrNoDevice(udev, context->Syspath("/" + candidate));
    if (device || device.error().code != ENODEV) return device;
  }
  return Fail(ENODEV, "no device " + std::string(subsystem) + "/" + std::string(sysname));
}

Result<udev_device*> FromDevnum(struct udev* udev, char type, dev_t devnum) {
  if (type != 'b' && type != 'c') return Fail(EINVAL, "device type must be 'b' or 'c'");
  std::shared_ptr<Context> context = ContextOf(udev);
  auto devpath = DevpathFromDevnum(context->sysfs(), type == 'b', devnum);
  if (!devpath) return Fail(ENODEV, devpath.error().context);
  auto resolved = CheckDevpath(*context, std::move(*devpath));
  if (!resolved) return tl::unexpected(resolved.error());
  DeviceView view(context, std::move(*resolved));
  // The dev/ link must lead to the device of that number and kind, as sd-device checks.
  if (view.devnum() != devnum) return Fail(ENXIO, "device number mismatch");
  if (const std::string* subsystem = view.subsystem();
      subsystem && (*subsystem == "block") != (type == 'b'))
    return Fail(ENXIO, "device kind mismatch");
  return Make(udev, std::move(view));
}

Result<udev_device*> FromDeviceId(struct udev* udev, std::string_view id) {
  if (id.size() >= 2 && (id[0] == 'b' || id[0] == 'c')) {
    std::string_view numbers = id.substr(1);
    size_t colon = numbers.find(':');
    if (colon != std::string_view::npos) {
      auto major_number = ParseNumber<unsigned>(numbers.substr(0, colon));
      auto minor_number = ParseNumber<unsigned>(numbers.substr(colon + 1));
      if (major_number && minor_number)
        return FromDevnum(udev, id[0], makedev(*major_number, *minor_number));
    }
    return Fail(EINVAL, "invalid device id");
  }
  if (id.starts_with('n')) {
    auto ifindex = ParseNumber<int>(id.substr(1));
    if (!ifindex || *ifindex <= 0) return Fail(EINVAL, "invalid device id");
    std::shared_ptr<Context> context = ContextOf(udev);
    auto devpath = DevpathFromDeviceId(context->sysfs(), id);
    if (!devpath) return Fail(ENODEV, devpath.error().context);
    return FromSyspathOrNoDevice(udev, context->Syspath(*devpath));
  }
  if (id.starts_with('+')) {
    size_t colon = id.find(':');
    if (colon == std::string_view::npos || colon == 1) return Fail(EINVAL, "invalid device id");
    return FromSubsystemSysname(udev, id.substr(1, colon - 1), id.substr(colon + 1));
  }
  return Fail(EINVAL, "invalid device id");
}

// What sd_device_new_from_strv requires of an environment: a device, its subsystem, an action
// and a sequence number.
Result<udev_device*> FromEnvironment(struct udev* udev) {
  Uevent event;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view line = *entry;
    size_t equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    event.Set(line.substr(0, equals), line.substr(equals + 1));
  }
  if (!IsValidDevpath(event.devpath()) || event.subsystem().empty() || event.action().empty() ||
      event.seqnum() == 0)
    return Fail(EINVAL, "the environment describes no device event");
  return NewDeviceFromEvent(udev, event, /*initialized=*/false);
}

template <class Strings>
void ListNames(vdev::compat::EntryList& list, const Strings& names) {
  list.Clear();
  for (const auto& name : names) list.Add(name);
}

uint64_t NowMonotonicUsec() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

// Returns the value of result, or nullptr with errno set from its error.
udev_device* Unwrap(Result<udev_device*> result) {
  if (!result) return NullWithErrno(result.error().code);
  return *result;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

Result<udev_device*> NewDeviceFromEvent(struct udev* udev, const Uevent& event, bool initialized) {
  if (!IsValidDevpath(event.devpath())) return Fail(EINVAL, "event without a valid DEVPATH");
  if (event.subsystem().empty()) return Fail(EINVAL, "event without SUBSYSTEM");
  return Make(udev, DeviceView::FromEvent(ContextOf(udev), event, initialized));
}

Result<udev_device*> NewDeviceFromSyspath(struct udev* udev, std::string_view syspath) {
  std::shared_ptr<Context> context = ContextOf(udev);
  auto resolved = ResolveSyspath(*context, syspath);
  if (!resolved) return tl::unexpected(resolved.error());
  return Make(udev, DeviceView(context, std::move(*resolved)));
}

}  // namespace vdev::compat

using vdev::compat::Guard;
using vdev::compat::NullWithErrno;

UDEV_EXPORT udev_device* udev_device_ref(udev_device* udev_device) noexcept {
  if (udev_device) ++udev_device->refcount;
  return udev_device;
}

UDEV_EXPORT udev_device* udev_device_unref(udev_device* udev_device) noexcept {
  if (udev_device && --udev_device->refcount == 0) delete udev_device;
  return nullptr;
}

UDEV_EXPORT struct udev* udev_device_get_udev(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return udev_device->udev;
}

UDEV_EXPORT udev_device* udev_device_new_from_syspath(struct udev* udev,
                                                      const char* syspath) noexcept {
  if (!syspath) return NullWithErrno(EINVAL);
  return Guard<udev_device*>(nullptr, [&] {
    return vdev::compat::Unwrap(vdev::compat::NewDeviceFromSyspath(udev, syspath));
  });
}

UDEV_EXPORT udev_device* udev_device_new_from_devnum(struct udev* udev, char type,
                                                     dev_t devnum) noexcept {
  return Guard<udev_device*>(
      nullptr, [&] { return vdev::compat::Unwrap(vdev::compat::FromDevnum(udev, type, devnum)); });
}

UDEV_EXPORT udev_device* udev_device_new_from_subsystem_sysname(struct udev* udev,
                                                                const char* subsystem,
                                                                const char* sysname) noexcept {
  if (!subsystem || !sysname) return NullWithErrno(EINVAL);
  return Guard<udev_device*>(nullptr, [&] {
    return vdev::compat::Unwrap(vdev::compat::FromSubsystemSysname(udev, subsystem, sysname));
  });
}

UDEV_EXPORT udev_device* udev_device_new_from_device_id(struct udev* udev,
                                                        const char* id) noexcept {
  if (!id) return NullWithErrno(EINVAL);
  return Guard<udev_device*>(
      nullptr, [&] { return vdev::compat::Unwrap(vdev::compat::FromDeviceId(udev, id)); });
}

UDEV_EXPORT udev_device* udev_device_new_from_environment(struct udev* udev) noexcept {
  return Guard<udev_device*>(
      nullptr, [&] { return vdev::compat::Unwrap(vdev::compat::FromEnvironment(udev)); });
}

UDEV_EXPORT udev_device* udev_device_get_parent(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<struct udev_device*>(
      nullptr, [&]() -> struct udev_device* {
        if (!udev_device->parent_loaded) {
          const vdev::compat::Context& context = udev_device->view.context();
          auto devpath = vdev::compat::ParentDevpath(context, udev_device->view.devpath());
          if (devpath) {
            auto resolved = vdev::compat::CheckDevpath(context, std::move(*devpath));
            if (resolved) {
              udev_device->parent = vdev::compat::Make(
                  udev_device->udev, vdev::compat::DeviceView(udev_device->view.shared_context(),
                                                              std::move(*resolved)));
            }
          }
          udev_device->parent_loaded = true;
        }
        if (!udev_device->parent) return NullWithErrno(ENOENT);
        return udev_device->parent;
      });
}

UDEV_EXPORT udev_device* udev_device_get_parent_with_subsystem_devtype(
    udev_device* udev_device, const char* subsystem, const char* devtype) noexcept {
  if (!udev_device || !subsystem) return NullWithErrno(EINVAL);
  return Guard<struct udev_device*>(
      nullptr, [&]() -> struct udev_device* {
        for (struct udev_device* parent = udev_device_get_parent(udev_device); parent;
             parent = udev_device_get_parent(parent)) {
          const std::string* parent_subsystem = parent->view.subsystem();
          if (!parent_subsystem || *parent_subsystem != subsystem) continue;
          if (!devtype) return parent;
          const std::string* parent_devtype = parent->view.devtype();
          if (parent_devtype && *parent_devtype == devtype) return parent;
        }
        return NullWithErrno(ENOENT);
      });
}

UDEV_EXPORT const char* udev_device_get_devpath(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return udev_device->view.devpath().c_str();
}

UDEV_EXPORT const char* udev_device_get_syspath(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return udev_device->view.syspath().c_str();
}

UDEV_EXPORT const char* udev_device_get_sysname(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return udev_device->view.sysname().c_str();
}

UDEV_EXPORT const char* udev_device_get_sysnum(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  const std::string* sysnum = udev_device->view.sysnum();
  return sysnum ? sysnum->c_str() : nullptr;  // no number is no error
}

UDEV_EXPORT const char* udev_device_get_subsystem(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<const char*>(nullptr, [&]() -> const char* {
    const std::string* subsystem = udev_device->view.subsystem();
    return subsystem ? subsystem->c_str() : NullWithErrno(ENOENT);
  });
}

UDEV_EXPORT const char* udev_device_get_devtype(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<const char*>(nullptr, [&]() -> const char* {
    const std::string* devtype = udev_device->view.devtype();
    return devtype ? devtype->c_str() : nullptr;  // no devtype is no error
  });
}

UDEV_EXPORT const char* udev_device_get_devnode(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<const char*>(nullptr, [&]() -> const char* {
    const std::string* devnode = udev_device->view.devnode();
    return devnode ? devnode->c_str() : NullWithErrno(ENOENT);
  });
}

UDEV_EXPORT const char* udev_device_get_driver(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<const char*>(nullptr, [&]() -> const char* {
    const std::string* driver = udev_device->view.driver();
    return driver ? driver->c_str() : NullWithErrno(ENOENT);
  });
}

UDEV_EXPORT const char* udev_device_get_action(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  const std::string* action = udev_device->view.action();
  return action ? action->c_str() : nullptr;  // devices read from sysfs have none
}

UDEV_EXPORT unsigned long long udev_device_get_seqnum(udev_device* udev_device) noexcept {
  if (!udev_device) {
    errno = EINVAL;
    return 0;
  }
  return udev_device->view.seqnum();
}

UDEV_EXPORT dev_t udev_device_get_devnum(udev_device* udev_device) noexcept {
  if (!udev_device) {
    errno = EINVAL;
    return makedev(0, 0);
  }
  return Guard<dev_t>(makedev(0, 0), [&] {
    return udev_device->view.devnum().value_or(makedev(0, 0));  // no node is no error
  });
}

UDEV_EXPORT int udev_device_get_is_initialized(udev_device* udev_device) noexcept {
  if (!udev_device) return -EINVAL;
  return Guard<int>(-ENOMEM, [&] { return udev_device->view.initialized() ? 1 : 0; });
}

UDEV_EXPORT unsigned long long udev_device_get_usec_since_initialized(
    udev_device* udev_device) noexcept {
  if (!udev_device) {
    errno = EINVAL;
    return 0;
  }
  return Guard<unsigned long long>(0, [&]() -> unsigned long long {
    if (!udev_device->view.initialized()) {
      errno = EBUSY;  // as sd-device: not initialized yet
      return 0;
    }
    uint64_t initialized = udev_device->view.usec_initialized();
    if (initialized == 0) {
      errno = ENODATA;
      return 0;
    }
    uint64_t now = vdev::compat::NowMonotonicUsec();
    if (now < initialized) {
      errno = EIO;
      return 0;
    }
    return now - initialized;
  });
}

UDEV_EXPORT udev_list_entry* udev_device_get_properties_list_entry(
    udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&] {
    if (!udev_device->properties_listed) {
      udev_device->properties.Clear();
      for (const auto& [key, value] : udev_device->view.properties())
        udev_device->properties.Add(key, value);
      udev_device->properties_listed = true;
    }
    return udev_device->properties.First();
  });
}

UDEV_EXPORT udev_list_entry* udev_device_get_devlinks_list_entry(
    udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&] {
    if (!udev_device->devlinks_listed) {
      vdev::compat::ListNames(udev_device->devlinks, udev_device->view.links());
      udev_device->devlinks_listed = true;
    }
    return udev_device->devlinks.First();
  });
}

UDEV_EXPORT udev_list_entry* udev_device_get_tags_list_entry(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&] {
    if (!udev_device->tags_listed) {
      vdev::compat::ListNames(udev_device->tags, udev_device->view.tags());
      udev_device->tags_listed = true;
    }
    return udev_device->tags.First();
  });
}

UDEV_EXPORT udev_list_entry* udev_device_get_current_tags_list_entry(
    udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&] {
    if (!udev_device->current_tags_listed) {
      vdev::compat::ListNames(udev_device->current_tags, udev_device->view.current_tags());
      udev_device->current_tags_listed = true;
    }
    return udev_device->current_tags.First();
  });
}

UDEV_EXPORT udev_list_entry* udev_device_get_sysattr_list_entry(udev_device* udev_device) noexcept {
  if (!udev_device) return NullWithErrno(EINVAL);
  return Guard<udev_list_entry*>(nullptr, [&] {
    if (!udev_device->sysattrs_listed) {
      vdev::compat::ListNames(udev_device->sysattrs, udev_device->view.AttributeNames());
      udev_device->sysattrs_listed = true;
    }
    return udev_device->sysattrs.First();
  });
}

UDEV_EXPORT const char* udev_device_get_property_value(udev_device* udev_device,
                                                       const char* key) noexcept {
  if (!udev_device || !key) return NullWithErrno(EINVAL);
  return Guard<const char*>(nullptr, [&]() -> const char* {
    const std::string* value = udev_device->view.property(key);
    return value ? value->c_str() : NullWithErrno(ENOENT);
  });
}

UDEV_EXPORT const char* udev_device_get_sysattr_value(udev_device* udev_device,
                                                      const char* sysattr) noexcept {
  if (!udev_device || !sysattr) return NullWithErrno(EINVAL);
  return Guard<const char*>(nullptr, [&]() -> const char* {
    auto& cache = udev_device->sysattr_values;
    // Values are read once, as sd-device caches them: a pointer handed out stays valid.
    if (auto it = cache.find(std::string_view(sysattr)); it != cache.end())
      return it->second.c_str();
    auto value = udev_device->view.ReadAttribute(sysattr);
    if (!value) return NullWithErrno(value.error().code);
    return cache.emplace(sysattr, std::move(*value)).first->second.c_str();
  });
}

UDEV_EXPORT int udev_device_set_sysattr_value(udev_device* udev_device, const char* sysattr,
                                              const char* value) noexcept {
  if (!udev_device || !sysattr) return -EINVAL;
  return Guard<int>(-ENOMEM, [&] {
    auto& cache = udev_device->sysattr_values;
    auto cached = cache.find(std::string_view(sysattr));
    if (!value) {
      // NULL drops the cached value: the next read asks sysfs again.
      if (cached != cache.end()) cache.erase(cached);
      return 0;
    }
    auto written = udev_device->view.WriteAttribute(sysattr, value);
    if (!written) {
      // Whatever the attribute holds now is unknown.
      if (cached != cache.end()) cache.erase(cached);
      return -written.error().code;
    }
    // What was written to uevent is an action to trigger, not the attribute's value.
    if (std::string_view(sysattr) == "uevent") return 0;
    std::string_view stored = value;
    while (!stored.empty() && (stored.back() == '\n' || stored.back() == '\r'))
      stored.remove_suffix(1);
    cache.insert_or_assign(std::string(sysattr), std::string(stored));
    return 0;
  });
}

UDEV_EXPORT int udev_device_has_tag(udev_device* udev_device, const char* tag) noexcept {
  if (!udev_device || !tag) return 0;
  return Guard<int>(0,
                    [&] { return vdev::compat::Contains(udev_device->view.tags(), tag) ? 1 : 0; });
}

UDEV_EXPORT int udev_device_has_current_tag(udev_device* udev_device, const char* tag) noexcept {
  if (!udev_device || !tag) return 0;
  return Guard<int>(
      0, [&] { return vdev::compat::Contains(udev_device->view.current_tags(), tag) ? 1 : 0; });
}
