// The udev_queue object: the device manager's state as systemd's libudev 252 reads it. The
// daemon is active while its control socket answers (RUN/vdev/control); the queue is busy
// while RUN/udev/queue exists (vdevd creates it when events are pending and removes it once
// settled, as systemd-udevd does, so stock libudev programs read the same state).
#include <fcntl.h>
#include <libudev.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "abi.h"
#include "common/control_protocol.h"
#include "common/unique_fd.h"
#include "udev_context.h"

struct udev_queue {
  int refcount = 1;
  struct udev* udev = nullptr;  // not referenced, as in systemd's libudev; may be NULL
  std::shared_ptr<vdev::compat::Context> context;
  vdev::UniqueFd inotify;  // udev_queue_get_fd: made on first use
};

using vdev::compat::Guard;
using vdev::compat::NullWithErrno;

namespace {

constexpr char kQueueFile[] = "udev/queue";  // below the run dir

int Negative(int error) {
  errno = error;
  return -error;
}

// 1 when no event is pending, 0 while one is, or a negative errno.
int QueueIsEmpty(const udev_queue* queue) {
  int run = queue->context->run();
  if (run < 0) return 1;  // no run dir: no device manager, nothing queued
  if (faccessat(run, kQueueFile, F_OK, AT_SYMLINK_NOFOLLOW) == 0) return 0;
  return errno == ENOENT ? 1 : Negative(errno);
}

}  // namespace

UDEV_EXPORT udev_queue* udev_queue_new(struct udev* udev) noexcept {
  return Guard<udev_queue*>(nullptr, [&] {
    auto queue = std::make_unique<udev_queue>();
    queue->udev = udev;
    queue->context = vdev::compat::ContextOf(udev);
    return queue.release();
  });
}

UDEV_EXPORT udev_queue* udev_queue_ref(udev_queue* udev_queue) noexcept {
  if (udev_queue) ++udev_queue->refcount;
  return udev_queue;
}

UDEV_EXPORT udev_queue* udev_queue_unref(udev_queue* udev_queue) noexcept {
  if (udev_queue && --udev_queue->refcount == 0) delete udev_queue;
  return nullptr;
}

UDEV_EXPORT struct udev* udev_queue_get_udev(udev_queue* udev_queue) noexcept {
  if (!udev_queue) return NullWithErrno(EINVAL);
  return udev_queue->udev;
}

// systemd's libudev stopped tracking sequence numbers (it returns 0 for both); so do we.
UDEV_EXPORT unsigned long long udev_queue_get_kernel_seqnum(udev_queue* udev_queue) noexcept {
  return 0;
}

UDEV_EXPORT unsigned long long udev_queue_get_udev_seqnum(udev_queue* udev_queue) noexcept {
  return 0;
}

UDEV_EXPORT int udev_queue_get_udev_is_active(udev_queue* udev_queue) noexcept {
  if (!udev_queue) return 0;
  return Guard<int>(0, [&] {
    auto connected = vdev::ConnectControlSocket(udev_queue->context->paths().run);
    return connected ? 1 : 0;
  });
}

UDEV_EXPORT int udev_queue_get_queue_is_empty(udev_queue* udev_queue) noexcept {
  if (!udev_queue) return Negative(EINVAL);
  return QueueIsEmpty(udev_queue);
}

// As in systemd's libudev: a sequence number is finished once the whole queue is.
UDEV_EXPORT int udev_queue_get_seqnum_is_finished(udev_queue* udev_queue,
                                                  unsigned long long seqnum) noexcept {
  if (!udev_queue) return Negative(EINVAL);
  return QueueIsEmpty(udev_queue) > 0 ? 1 : 0;
}

UDEV_EXPORT int udev_queue_get_seqnum_sequence_is_finished(udev_queue* udev_queue,
                                                           unsigned long long start,
                                                           unsigned long long end) noexcept {
  if (!udev_queue) return Negative(EINVAL);
  return QueueIsEmpty(udev_queue) > 0 ? 1 : 0;
}

// The list of queued events is not kept (systemd's libudev: ENODATA as well).
UDEV_EXPORT udev_list_entry* udev_queue_get_queued_list_entry(udev_queue* udev_queue) noexcept {
  return NullWithErrno(udev_queue ? ENODATA : EINVAL);
}

// Readable when RUN/udev/queue goes away (or anything else in RUN/udev is removed): poll it,
// then ask udev_queue_get_queue_is_empty and udev_queue_flush.
UDEV_EXPORT int udev_queue_get_fd(udev_queue* udev_queue) noexcept {
  if (!udev_queue) return Negative(EINVAL);
  return Guard<int>(-ENOMEM, [&]() -> int {
    if (udev_queue->inotify) return udev_queue->inotify.get();
    vdev::UniqueFd inotify(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!inotify) return Negative(errno);
    std::string dir = udev_queue->context->paths().run + "/udev";
    if (inotify_add_watch(inotify.get(), dir.c_str(), IN_DELETE) < 0) return Negative(errno);
    udev_queue->inotify = std::move(inotify);
    return udev_queue->inotify.get();
  });
}

UDEV_EXPORT int udev_queue_flush(udev_queue* udev_queue) noexcept {
  if (!udev_queue) return Negative(EINVAL);
  if (!udev_queue->inotify) return Negative(EINVAL);
  char buffer[4096];
  while (read(udev_queue->inotify.get(), buffer, sizeof(buffer)) > 0) {
  }
  return 0;
}
