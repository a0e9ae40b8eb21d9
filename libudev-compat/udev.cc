// The udev context object.
#include <libudev.h>

#include "abi.h"
#include "udev_context.h"

using vdev::compat::Guard;
using vdev::compat::NullWithErrno;

UDEV_EXPORT struct udev* udev_new(void) noexcept {
  return Guard<struct udev*>(nullptr,
                             [] { return new udev(vdev::compat::Context::FromEnvironment()); });
}

UDEV_EXPORT struct udev* udev_ref(struct udev* udev) noexcept {
  if (udev) ++udev->refcount;
  return udev;
}

UDEV_EXPORT struct udev* udev_unref(struct udev* udev) noexcept {
  if (udev && --udev->refcount == 0) delete udev;
  return nullptr;
}

UDEV_EXPORT void udev_set_log_fn(struct udev* udev,
                                 void (*log_fn)(struct udev* udev, int priority, const char* file,
                                                int line, const char* fn, const char* format,
                                                va_list args)) noexcept {
  // Kept but never called: the library does not log (systemd 252's libudev ignores it too).
  if (udev) udev->log_fn = log_fn;
}

UDEV_EXPORT int udev_get_log_priority(struct udev* udev) noexcept {
  if (!udev) return -EINVAL;
  return udev->log_priority;
}

UDEV_EXPORT void udev_set_log_priority(struct udev* udev, int priority) noexcept {
  if (udev) udev->log_priority = priority;
}

UDEV_EXPORT void* udev_get_userdata(struct udev* udev) noexcept {
  if (!udev) return NullWithErrno(EINVAL);
  return udev->userdata;
}

UDEV_EXPORT void udev_set_userdata(struct udev* udev, void* userdata) noexcept {
  if (udev) udev->userdata = userdata;
}
