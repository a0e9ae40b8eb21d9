#include "netlink_source.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <string_view>

#include "common/log.h"

namespace vdev {
namespace {

// The kernel builds a uevent in a 2 KiB environment buffer plus the "action@devpath"
// header; anything that does not fit here is not a kernel uevent and is dropped.
constexpr size_t kDatagramSize = 16 * 1024;

// Datagrams read per Drain while nothing overflowed: during a storm the loop still gets to
// answer the control socket and collect finished events (epoll reports the rest again).
constexpr size_t kDrainBatch = 4096;

// libnl returns its own negative NLE_* codes; the errno of the failed system call is the
// more useful one to carry, when there is one.
tl::unexpected<Error> FailNl(int nl_error, int saved_errno, const std::string& what) {
  return Fail(saved_errno != 0 ? saved_errno : EIO, what + " (" + nl_geterror(nl_error) + ")");
}

void SetReceiveBuffer(int fd, size_t requested) {
  int size = static_cast<int>(std::min<size_t>(requested, INT_MAX));
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
    // Without CAP_NET_ADMIN the buffer is capped by net.core.rmem_max: a burst of events
    // at boot may then overflow it, which the daemon survives by re-walking sysfs.
    int error = errno;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) {
      LogWarning("netlink: setting the receive buffer to %d bytes: %s, ignoring", size,
                 strerror(errno));
    } else {
      LogWarning("netlink: SO_RCVBUFFORCE: %s, using SO_RCVBUF (capped by rmem_max)",
                 strerror(error));
    }
  }
  int effective = 0;
  socklen_t length = sizeof(effective);
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &length) == 0)
    LogDebug("netlink: receive buffer is %d bytes", effective);
}

enum class Verdict { kAccept, kIgnore, kReject };

// Checks that a datagram comes from the kernel and arrived whole. Userspace (a udevd, a
// libudev monitor, anyone with CAP_NET_ADMIN) can send to the multicast group too.
Verdict CheckDatagram(const msghdr& message, const sockaddr_nl& sender, std::string_view data,
                      const char** reason) {
  if (message.msg_flags & MSG_TRUNC) {
    *reason = "truncated datagram";
    return Verdict::kReject;
  }
  if (data.starts_with("libudev")) {
    *reason = "libudev-format message";
    return Verdict::kIgnore;
  }
  if (message.msg_namelen < sizeof(sockaddr_nl) || sender.nl_family != AF_NETLINK ||
      sender.nl_pid != 0) {
    *reason = "sender is not the kernel";
    return Verdict::kReject;
  }
  const ucred* credentials = nullptr;
  for (cmsghdr* header = CMSG_FIRSTHDR(const_cast<msghdr*>(&message)); header != nullptr;
       header = CMSG_NXTHDR(const_cast<msghdr*>(&message), header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS &&
        header->cmsg_len >= CMSG_LEN(sizeof(ucred)))
      credentials = reinterpret_cast<const ucred*>(CMSG_DATA(header));
  }
  if (credentials == nullptr) {
    *reason = "no credentials";
    return Verdict::kReject;
  }
  if (credentials->uid != 0) {
    *reason = "sender uid is not 0";
    return Verdict::kReject;
  }
  if (data.empty()) {
    *reason = "empty datagram";
    return Verdict::kReject;
  }
  return Verdict::kAccept;
}

}  // namespace

void NetlinkSource::SocketDeleter::operator()(nl_sock* socket) const { nl_socket_free(socket); }

NetlinkSource::NetlinkSource(PassKey, SocketPtr socket) : socket_(std::move(socket)) {}

NetlinkSource::~NetlinkSource() = default;

Result<std::unique_ptr<NetlinkSource>> NetlinkSource::Open(const Options& options) {
  SocketPtr socket(nl_socket_alloc());
  if (!socket) return Fail(ENOMEM, "nl_socket_alloc");
  // Uevents are multicast datagrams, not replies to requests: no sequence numbers.
  nl_socket_disable_seq_check(socket.get());

  errno = 0;
  if (int error = nl_connect(socket.get(), NETLINK_KOBJECT_UEVENT); error < 0)
    return FailNl(error, errno, "netlink: connect to NETLINK_KOBJECT_UEVENT");
  int fd = nl_socket_get_fd(socket.get());
  // libnl opens with SOCK_CLOEXEC in current versions; make sure of it for older ones, so
  // helpers never inherit the socket.
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return FailErrno("netlink: set FD_CLOEXEC");

  errno = 0;
  if (int error = nl_socket_add_membership(socket.get(), static_cast<int>(options.group));
      error < 0)
    return FailNl(error, errno, "netlink: join group " + std::to_string(options.group));
  errno = 0;
  if (int error = nl_socket_set_nonblocking(socket.get()); error < 0)
    return FailNl(error, errno, "netlink: set non-blocking");
  errno = 0;
  if (int error = nl_socket_set_passcred(socket.get(), 1); error < 0)
    return FailNl(error, errno, "netlink: enable SO_PASSCRED");
  // After nl_connect: it sets libnl's 32 KiB default, which would undo ours.
  SetReceiveBuffer(fd, options.receive_buffer);

  return std::make_unique<NetlinkSource>(PassKey(), std::move(socket));
}

int NetlinkSource::fd() const { return nl_socket_get_fd(socket_.get()); }

NetlinkSource::DrainResult NetlinkSource::Drain(const std::function<void(Uevent&&)>& on_event) {
  DrainResult result;
  std::array<char, kDatagramSize> buffer;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred))> control;
  for (size_t read_count = 0; result.overflowed || read_count < kDrainBatch; ++read_count) {
    sockaddr_nl sender{};
    iovec io{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof(sender);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();

    ssize_t length = recvmsg(fd(), &message, MSG_DONTWAIT);
    if (length < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {
        // The kernel reports the overflow once and then keeps dropping until the queue
        // has room: keep reading, so that the caller's re-walk starts from a drained socket.
        if (!result.overflowed) LogWarning("netlink: receive buffer overflowed, events were lost");
        result.overflowed = true;
        continue;
      }
      LogWarning("netlink: recvmsg: %s, ignoring", strerror(errno));
      break;
    }

    std::string_view data(buffer.data(), static_cast<size_t>(length));
    const char* reason = "";
    switch (CheckDatagram(message, sender, data, &reason)) {
      case Verdict::kIgnore:
        LogDebug("netlink: %s, ignoring", reason);
        continue;
      case Verdict::kReject:
        LogWarning("netlink: %s (%zd bytes from port %u), ignoring", reason, length, sender.nl_pid);
        ++result.rejected;
        continue;
      case Verdict::kAccept:
        break;
    }
    auto event = ParseKernelUevent(std::span<const char>(data.data(), data.size()));
    if (!event) {
      LogWarning("netlink: malformed uevent (%s): %s, ignoring",
                 std::string(data.substr(0, std::min<size_t>(data.find('\0'), 128))).c_str(),
                 event.error().context.c_str());
      ++result.rejected;
      continue;
    }
    ++result.delivered;
    on_event(std::move(*event));
  }
  return result;
}

}  // namespace vdev
