// udev_queue: placeholder until vdevd's queue state is read here. Every call fails with ENOSYS
// (never a pretended success: "is active", "is empty" and "is finished" are answers, so they
// are not given); udev_queue_new makes no object, so the others only ever see NULL.
#include <libudev.h>

#include "abi.h"

namespace {
int NotImplemented() {
  errno = ENOSYS;
  return -ENOSYS;
}
}  // namespace

using vdev::compat::NullWithErrno;

UDEV_EXPORT udev_queue* udev_queue_ref(udev_queue* udev_queue) noexcept { return udev_queue; }
UDEV_EXPORT udev_queue* udev_queue_unref(udev_queue* udev_queue) noexcept { return nullptr; }
UDEV_EXPORT struct udev* udev_queue_get_udev(udev_queue* udev_queue) noexcept {
  return NullWithErrno(ENOSYS);
}
UDEV_EXPORT udev_queue* udev_queue_new(struct udev* udev) noexcept { return NullWithErrno(ENOSYS); }
UDEV_EXPORT unsigned long long udev_queue_get_kernel_seqnum(udev_queue* udev_queue) noexcept {
  errno = ENOSYS;
  return 0;
}
UDEV_EXPORT unsigned long long udev_queue_get_udev_seqnum(udev_queue* udev_queue) noexcept {
  errno = ENOSYS;
  return 0;
}
UDEV_EXPORT int udev_queue_get_udev_is_active(udev_queue* udev_queue) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_queue_get_queue_is_empty(udev_queue* udev_queue) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_queue_get_seqnum_is_finished(udev_queue* udev_queue,
                                                  unsigned long long seqnum) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_queue_get_seqnum_sequence_is_finished(udev_queue* udev_queue,
                                                           unsigned long long start,
                                                           unsigned long long end) noexcept {
  return NotImplemented();
}
UDEV_EXPORT int udev_queue_get_fd(udev_queue* udev_queue) noexcept { return NotImplemented(); }
UDEV_EXPORT int udev_queue_flush(udev_queue* udev_queue) noexcept { return NotImplemented(); }
UDEV_EXPORT udev_list_entry* udev_queue_get_queued_list_entry(udev_queue* udev_queue) noexcept {
  return NullWithErrno(ENOSYS);
}
