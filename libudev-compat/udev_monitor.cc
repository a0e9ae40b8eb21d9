// The udev_monitor object. Group "udev": a client directory below DEV/uevents that vdevd
// links every processed event into (UeventClient); group "kernel": the kernel's uevent
// netlink group, read directly. Filters are applied as events are received.
#include <libudev.h>
#include <linux/netlink.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "abi.h"
#include "common/uevent.h"
#include "common/uevent_client.h"
#include "common/uevent_dir.h"
#include "common/unique_fd.h"
#include "udev_context.h"
#include "udev_device_internal.h"

namespace {

enum class Group { kUdev, kKernel };

struct SubsystemFilter {
  std::string subsystem;
  std::optional<std::string> devtype;  // any devtype when absent
};

}  // namespace

struct udev_monitor {
  int refcount = 1;
  struct udev* udev = nullptr;  // not referenced, as in systemd's libudev; may be NULL
  Group group = Group::kUdev;
  std::shared_ptr<vdev::compat::Context> context;
  // What udev_monitor_get_fd returns, for the monitor's whole life: an epoll set holding the
  // client's fd, the netlink socket, or the watch for DEV/uevents to appear.
  vdev::UniqueFd epoll;
  std::optional<vdev::UeventClient> client;  // kUdev, once registered
  vdev::UniqueFd waiting_for_fanout;         // kUdev: inotify on the dev root until then
  vdev::UniqueFd netlink;                    // kKernel
  bool enabled = false;
  std::vector<SubsystemFilter> subsystems;
  std::vector<std::string> tags;
};

using vdev::compat::Guard;
using vdev::compat::NullWithErrno;

namespace {

int Negative(int error) {
  errno = error;
  return -error;
}

bool AddToEpoll(int epoll_fd, int fd) {
  epoll_event event = {};
  event.events = EPOLLIN;
  event.data.fd = fd;
  return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) == 0;
}

// Registers the client directory. Without a fan-out (no vdevd has run on this dev root yet)
// the monitor watches the dev root for DEV/uevents to appear and registers then: a program
// started before the daemon still gets the events processed after the daemon came up.
int RegisterClient(udev_monitor* monitor) {
  if (monitor->client) return 0;
  auto client = vdev::UeventClient::Register(monitor->context->dev());
  if (client) {
    if (!AddToEpoll(monitor->epoll.get(), client->fd())) return Negative(errno);
    monitor->client.emplace(std::move(*client));
    if (monitor->waiting_for_fanout) {
      epoll_ctl(monitor->epoll.get(), EPOLL_CTL_DEL, monitor->waiting_for_fanout.get(), nullptr);
      monitor->waiting_for_fanout.reset();
    }
    return 0;
  }
  if (client.error().code != ENOENT) return Negative(client.error().code);
  if (!monitor->waiting_for_fanout && monitor->context->dev() >= 0) {
    // inotify takes a path: the dev root's, through the directory fd we hold.
    std::string path = "/proc/self/fd/" + std::to_string(monitor->context->dev());
    vdev::UniqueFd watch(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!watch || inotify_add_watch(watch.get(), path.c_str(), IN_CREATE | IN_MOVED_TO) < 0 ||
        !AddToEpoll(monitor->epoll.get(), watch.get()))
      return Negative(errno);
    monitor->waiting_for_fanout = std::move(watch);
  }
  return 0;
}

void DrainWatch(int fd) {
  char buffer[4096];
  while (read(fd, buffer, sizeof(buffer)) > 0) {
  }
}

bool HasTag(std::string_view tags, std::string_view tag) {
  // TAGS is ":a:b:".
  std::string needle = ":" + std::string(tag) + ":";
  return tags.find(needle) != std::string_view::npos;
}

bool PassesFilters(const udev_monitor* monitor, const vdev::Uevent& event) {
  if (!monitor->subsystems.empty()) {
    std::string_view subsystem = event.subsystem();
    std::string_view devtype = event.devtype();
    bool any = std::any_of(monitor->subsystems.begin(), monitor->subsystems.end(),
                           [&](const SubsystemFilter& filter) {
                             return filter.subsystem == subsystem &&
                                    (!filter.devtype || *filter.devtype == devtype);
                           });
    if (!any) return false;
  }
  if (!monitor->tags.empty()) {
    std::string_view tags = event.GetOr("TAGS");
    bool any = std::any_of(monitor->tags.begin(), monitor->tags.end(),
                           [&](const std::string& tag) { return HasTag(tags, tag); });
    if (!any) return false;
  }
  return true;
}

// The next event from the client directory: 1 with *event set, 0 when there is none now
// (errno EAGAIN), or a negative errno (ENOBUFS: events were lost).
int ReceiveFromClient(udev_monitor* monitor, vdev::Uevent* event) {
  if (!monitor->client) {
    if (monitor->waiting_for_fanout) DrainWatch(monitor->waiting_for_fanout.get());
    if (int registered = RegisterClient(monitor); registered < 0) return registered;
    if (!monitor->client) return Negative(EAGAIN);
  }
  auto received = monitor->client->Receive();
  if (!received) return Negative(received.error().code);
  switch (received->kind) {
    case vdev::UeventClient::Received::Kind::kNothing:
      return Negative(EAGAIN);
    case vdev::UeventClient::Received::Kind::kOverflow:
      return Negative(ENOBUFS);
    case vdev::UeventClient::Received::Kind::kEvent:
      *event = std::move(received->event);
      return 1;
  }
  return Negative(EAGAIN);
}

// The next kernel uevent: checked as vdevd checks them (from the kernel: sender port 0 and
// uid 0; not truncated), 1 with *event set, or a negative errno (EAGAIN: none now). A plain
// socket rather than libnl: a library loaded into every libudev program keeps its
// dependencies to what it must have.
int ReceiveFromKernel(udev_monitor* monitor, vdev::Uevent* event) {
  for (;;) {
    char buffer[8192];
    char control[CMSG_SPACE(sizeof(ucred))];
    sockaddr_nl sender = {};
    iovec iov = {buffer, sizeof(buffer)};
    msghdr message = {};
    message.msg_name = &sender;
    message.msg_namelen = sizeof(sender);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t size = recvmsg(monitor->netlink.get(), &message, MSG_DONTWAIT);
    if (size < 0) {
      if (errno == EINTR) continue;
      return Negative(errno);
    }
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    bool from_root = header != nullptr && header->cmsg_level == SOL_SOCKET &&
                     header->cmsg_type == SCM_CREDENTIALS &&
                     reinterpret_cast<const ucred*>(CMSG_DATA(header))->uid == 0;
    if (sender.nl_pid != 0 || !from_root || (message.msg_flags & MSG_TRUNC) != 0) continue;
    auto parsed = vdev::ParseKernelUevent(std::span<const char>(buffer, size));
    if (!parsed || !vdev::ValidateUevent(*parsed)) continue;  // not a well-formed uevent
    *event = std::move(*parsed);
    return 1;
  }
}

}  // namespace

UDEV_EXPORT udev_monitor* udev_monitor_ref(udev_monitor* udev_monitor) noexcept {
  if (udev_monitor) ++udev_monitor->refcount;
  return udev_monitor;
}

UDEV_EXPORT udev_monitor* udev_monitor_unref(udev_monitor* udev_monitor) noexcept {
  if (udev_monitor && --udev_monitor->refcount == 0) delete udev_monitor;
  return nullptr;
}

UDEV_EXPORT struct udev* udev_monitor_get_udev(udev_monitor* udev_monitor) noexcept {
  if (!udev_monitor) return NullWithErrno(EINVAL);
  return udev_monitor->udev;
}

UDEV_EXPORT udev_monitor* udev_monitor_new_from_netlink(struct udev* udev,
                                                        const char* name) noexcept {
  if (!name) return NullWithErrno(EINVAL);
  std::string_view group = name;
  if (group != "udev" && group != "kernel") return NullWithErrno(EINVAL);
  return Guard<udev_monitor*>(nullptr, [&]() -> udev_monitor* {
    auto monitor = std::make_unique<udev_monitor>();
    monitor->udev = udev;
    monitor->group = group == "udev" ? Group::kUdev : Group::kKernel;
    monitor->context = vdev::compat::ContextOf(udev);
    monitor->epoll = vdev::UniqueFd(epoll_create1(EPOLL_CLOEXEC));
    if (!monitor->epoll) return NullWithErrno(errno);
    if (monitor->group == Group::kUdev) {
      // Registered now, so the fd is real from the start; events that arrive before
      // udev_monitor_enable_receiving are dropped there, as a socket not yet bound drops them.
      if (int registered = RegisterClient(monitor.get()); registered < 0)
        return NullWithErrno(-registered);
    } else {
      monitor->netlink = vdev::UniqueFd(socket(
          AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT));
      int on = 1;
      if (!monitor->netlink ||
          setsockopt(monitor->netlink.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ||
          !AddToEpoll(monitor->epoll.get(), monitor->netlink.get()))
        return NullWithErrno(errno);
    }
    return monitor.release();
  });
}

UDEV_EXPORT int udev_monitor_enable_receiving(udev_monitor* udev_monitor) noexcept {
  if (!udev_monitor) return Negative(EINVAL);
  return Guard<int>(-ENOMEM, [&]() -> int {
    if (udev_monitor->group == Group::kKernel) {
      if (udev_monitor->enabled) return 0;
      sockaddr_nl address = {};
      address.nl_family = AF_NETLINK;
      address.nl_groups = 1;  // the kernel's uevent group
      if (bind(udev_monitor->netlink.get(), reinterpret_cast<sockaddr*>(&address),
               sizeof(address)) < 0)
        return Negative(errno);
      udev_monitor->enabled = true;
      return 0;
    }
    if (int registered = RegisterClient(udev_monitor); registered < 0) return registered;
    if (!udev_monitor->enabled && udev_monitor->client) {
      // What arrived between new and enable is not for this monitor.
      for (int i = 0; i < 100000; ++i) {
        auto received = udev_monitor->client->Receive();
        if (!received || received->kind == vdev::UeventClient::Received::Kind::kNothing) break;
      }
    }
    udev_monitor->enabled = true;
    return 0;
  });
}

// Group "kernel": the socket's buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF). Group "udev":
// the backlog per client is vdevd's (--uevent-backlog); nothing to set on this side.
UDEV_EXPORT int udev_monitor_set_receive_buffer_size(udev_monitor* udev_monitor,
                                                     int size) noexcept {
  if (!udev_monitor || size <= 0) return Negative(EINVAL);
  if (udev_monitor->group == Group::kUdev) return 0;
  int fd = udev_monitor->netlink.get();
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0) return 0;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == 0) return 0;
  return Negative(errno);
}

UDEV_EXPORT int udev_monitor_get_fd(udev_monitor* udev_monitor) noexcept {
  if (!udev_monitor) return Negative(EINVAL);
  return udev_monitor->epoll.get();
}

// Never blocks: the next event that passes the filters, or NULL with errno EAGAIN (none now)
// or ENOBUFS (events were lost: the client fell behind its backlog, or the socket overflowed).
UDEV_EXPORT udev_device* udev_monitor_receive_device(udev_monitor* udev_monitor) noexcept {
  if (!udev_monitor) return NullWithErrno(EINVAL);
  return Guard<udev_device*>(nullptr, [&]() -> udev_device* {
    const bool from_udev = udev_monitor->group == Group::kUdev;
    for (;;) {
      vdev::Uevent event;
      int received = from_udev ? ReceiveFromClient(udev_monitor, &event)
                               : ReceiveFromKernel(udev_monitor, &event);
      if (received < 0) return NullWithErrno(-received);
      if (!PassesFilters(udev_monitor, event)) continue;
      auto device = vdev::compat::NewDeviceFromEvent(udev_monitor->udev, event, from_udev);
      if (!device) continue;  // not a device event (no valid DEVPATH or SUBSYSTEM)
      return *device;
    }
  });
}

UDEV_EXPORT int udev_monitor_filter_add_match_subsystem_devtype(udev_monitor* udev_monitor,
                                                                const char* subsystem,
                                                                const char* devtype) noexcept {
  if (!udev_monitor || !subsystem) return Negative(EINVAL);
  return Guard<int>(-ENOMEM, [&] {
    udev_monitor->subsystems.push_back(
        {subsystem, devtype ? std::optional<std::string>(devtype) : std::nullopt});
    return 0;
  });
}

UDEV_EXPORT int udev_monitor_filter_add_match_tag(udev_monitor* udev_monitor,
                                                  const char* tag) noexcept {
  if (!udev_monitor || !tag) return Negative(EINVAL);
  return Guard<int>(-ENOMEM, [&] {
    udev_monitor->tags.emplace_back(tag);
    return 0;
  });
}

// The filters take effect as they are added (they are applied when events are received).
UDEV_EXPORT int udev_monitor_filter_update(udev_monitor* udev_monitor) noexcept {
  if (!udev_monitor) return Negative(EINVAL);
  return 0;
}

UDEV_EXPORT int udev_monitor_filter_remove(udev_monitor* udev_monitor) noexcept {
  if (!udev_monitor) return Negative(EINVAL);
  udev_monitor->subsystems.clear();
  udev_monitor->tags.clear();
  return 0;
}
