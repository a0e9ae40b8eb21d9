// NetlinkSource: the kernel's uevent netlink socket, read without blocking and checked the
// way mdevd checks it (sender, credentials, truncation) before an event is parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/result.h"
#include "common/uevent.h"

struct nl_sock;

namespace vdev {

class NetlinkSource {
 public:
  struct Options {
    // Forced with SO_RCVBUFFORCE (the kernel doubles it); a burst of events larger than
    // this is lost and reported as an overflow.
    size_t receive_buffer = 128 << 20;
    uint32_t group = 1;  // 1 = the kernel's uevents; 2 = udev-style processed events
  };

  struct DrainResult {
    size_t delivered = 0;     // events handed to on_event
    size_t rejected = 0;      // datagrams dropped: wrong sender, truncated, malformed
    bool overflowed = false;  // the kernel reported ENOBUFS: events were lost
  };

  // Opens, binds and joins the group; the socket is non-blocking and close-on-exec.
  [[nodiscard]] static Result<std::unique_ptr<NetlinkSource>> Open(const Options& options);

  ~NetlinkSource();
  NetlinkSource(const NetlinkSource&) = delete;
  NetlinkSource& operator=(const NetlinkSource&) = delete;

  // For epoll (EPOLLIN). Owned by this object.
  int fd() const;

  // Reads the queued datagrams (a bounded batch; all of them after an overflow) without
  // blocking and hands each valid kernel uevent to
  // on_event. ENOBUFS is reported once as overflowed=true and the socket is then drained
  // completely, so that the caller can re-walk sysfs afterwards and miss nothing (a walk
  // before the drain could miss a device that vanished meanwhile). Errors are logged and
  // end the drain; none is fatal.
  DrainResult Drain(const std::function<void(Uevent&&)>& on_event);

 private:
  struct SocketDeleter {
    void operator()(nl_sock* socket) const;
  };
  using SocketPtr = std::unique_ptr<nl_sock, SocketDeleter>;
  // Lets Open() use std::make_unique while nobody else can construct one.
  class PassKey {
    friend class NetlinkSource;
    PassKey() = default;
  };

 public:
  NetlinkSource(PassKey, SocketPtr socket);

 private:
  SocketPtr socket_;
};

}  // namespace vdev
