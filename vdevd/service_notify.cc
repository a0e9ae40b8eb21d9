#include "service_notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "common/unique_fd.h"

namespace vdev {

ServiceNotifier ServiceNotifier::FromEnvironment() {
  const char* value = getenv("NOTIFY_SOCKET");
  std::string path = value ? value : "";
  unsetenv("NOTIFY_SOCKET");
  // Only absolute paths and abstract names are addresses (as sd_notify accepts them).
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@')) return ServiceNotifier();
  return ServiceNotifier(std::move(path));
}

Status ServiceNotifier::Ready() { return Send("READY=1\nMAINPID=" + std::to_string(getpid())); }

Status ServiceNotifier::Stopping() { return Send("STOPPING=1"); }

Status ServiceNotifier::Send(std::string_view state) {
  if (!enabled()) return Ok();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.size() > sizeof(address.sun_path))
    return Fail(ENAMETOOLONG, "NOTIFY_SOCKET " + socket_);
  std::memcpy(address.sun_path, socket_.data(), socket_.size());
  socklen_t length = offsetof(sockaddr_un, sun_path) + socket_.size();
  if (socket_[0] == '@') {
    address.sun_path[0] = '\0';  // abstract: the length, not a NUL, ends the name
  } else if (socket_.size() < sizeof(address.sun_path)) {
    ++length;  // the path's NUL
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return FailErrno("socket");
  if (sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&address), length) < 0)
    return FailErrno("notify " + socket_);
  return Ok();
}

}  // namespace vdev
