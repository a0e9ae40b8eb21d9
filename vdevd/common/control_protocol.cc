#include "common/control_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace vdev {
namespace {

constexpr std::string_view kLogLevelPrefix = "log-level=";
constexpr std::string_view kErrorPrefix = "error: ";

int64_t MonotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

Result<ControlRequest> ParseControlRequest(std::string_view text) {
  ControlRequest request;
  if (text == "ping") {
    request.command = ControlCommand::kPing;
  } else if (text == "settle") {
    request.command = ControlCommand::kSettle;
  } else if (text == "is-settled") {
    request.command = ControlCommand::kIsSettled;
  } else if (text == "monitor") {
    request.command = ControlCommand::kMonitor;
  } else if (text == "exit") {
    request.command = ControlCommand::kExit;
  } else if (text == "reload") {
    request.command = ControlCommand::kReload;
  } else if (text == "stop-exec-queue") {
    request.command = ControlCommand::kStopExecQueue;
  } else if (text == "start-exec-queue") {
    request.command = ControlCommand::kStartExecQueue;
  } else if (text.starts_with(kLogLevelPrefix)) {
    auto level = ParseLogLevel(text.substr(kLogLevelPrefix.size()));
    if (!level) return Fail(EINVAL, "invalid log level");
    request.command = ControlCommand::kLogLevel;
    request.level = *level;
  } else {
    return Fail(EINVAL, "unknown request");
  }
  return request;
}

std::string FormatControlRequest(const ControlRequest& request) {
  switch (request.command) {
    case ControlCommand::kPing:
      return "ping";
    case ControlCommand::kSettle:
      return "settle";
    case ControlCommand::kIsSettled:
      return "is-settled";
    case ControlCommand::kMonitor:
      return "monitor";
    case ControlCommand::kExit:
      return "exit";
    case ControlCommand::kReload:
      return "reload";
    case ControlCommand::kLogLevel:
      return std::string(kLogLevelPrefix) + std::to_string(static_cast<int>(request.level));
    case ControlCommand::kStopExecQueue:
      return "stop-exec-queue";
    case ControlCommand::kStartExecQueue:
      return "start-exec-queue";
  }
  return "ping";
}

bool IsPrivilegedCommand(ControlCommand command) {
  switch (command) {
    case ControlCommand::kExit:
    case ControlCommand::kReload:
    case ControlCommand::kLogLevel:
    case ControlCommand::kStopExecQueue:
    case ControlCommand::kStartExecQueue:
      return true;
    case ControlCommand::kPing:
    case ControlCommand::kSettle:
    case ControlCommand::kIsSettled:
    case ControlCommand::kMonitor:
      return false;
  }
  return true;
}

bool MayRunCommand(ControlCommand command, uid_t peer_uid) {
  return peer_uid == 0 || !IsPrivilegedCommand(command);
}

std::string FormatErrorReply(std::string_view reason) {
  return std::string(kErrorPrefix) + std::string(reason);
}

std::optional<std::string> ReplyError(std::string_view reply) {
  if (reply == kControlReplyOk) return std::nullopt;
  if (reply.starts_with(kErrorPrefix)) return std::string(reply.substr(kErrorPrefix.size()));
  return "unexpected reply from vdevd: '" + std::string(reply.substr(0, 64)) + "'";
}

Result<sockaddr_un> ControlSocketAddress(const std::string& run_path) {
  std::string path = run_path;
  if (!path.empty() && path.back() != '/') path += '/';
  path += kControlDirName;
  path += '/';
  path += kControlSocketName;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // Leave room for the NUL: the kernel accepts an unterminated full sun_path, but a path
  // that long is truncated by every tool that prints it.
  if (path.size() >= sizeof(address.sun_path)) return Fail(ENAMETOOLONG, "socket path " + path);
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

Result<UniqueFd> ConnectControlSocket(const std::string& run_path) {
  auto address = ControlSocketAddress(run_path);
  if (!address) return tl::unexpected(address.error());
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return FailErrno("socket");
  int connected;
  do {
    connected = connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address));
  } while (connected < 0 && errno == EINTR);
  if (connected < 0) return FailErrno(std::string("connect to ") + address->sun_path);
  return fd;
}

Status SendControlMessage(int fd, std::string_view message) {
  ssize_t sent;
  do {
    sent = send(fd, message.data(), message.size(), MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return FailErrno("send to vdevd");
  return Ok();
}

Result<std::string> ReceiveControlMessage(int fd, int timeout_ms, size_t max_size) {
  const int64_t deadline = timeout_ms < 0 ? -1 : MonotonicMs() + timeout_ms;
  for (;;) {
    int wait_ms = -1;
    if (deadline >= 0) wait_ms = static_cast<int>(std::max<int64_t>(0, deadline - MonotonicMs()));
    pollfd entry{fd, POLLIN, 0};
    int ready = poll(&entry, 1, wait_ms);
    if (ready < 0) return FailErrno("poll");  // EINTR included: the caller decides
    if (ready == 0) return Fail(ETIMEDOUT, "waiting for vdevd");
    std::string buffer(max_size + 1, '\0');
    // MSG_TRUNC makes recv return the real length, so an oversized message is detected.
    ssize_t length = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (length < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;  // spurious wakeup
      return FailErrno("receive from vdevd");
    }
    if (length == 0) return Fail(ECONNRESET, "vdevd closed the connection");
    if (static_cast<size_t>(length) > max_size) return Fail(EMSGSIZE, "message from vdevd");
    buffer.resize(length);
    return buffer;
  }
}

Result<UniqueFd> SubscribeToEvents(const std::string& run_path, int timeout_ms) {
  auto fd = ConnectControlSocket(run_path);
  if (!fd) return fd;
  if (auto sent = SendControlMessage(fd->get(), FormatControlRequest({ControlCommand::kMonitor}));
      !sent)
    return tl::unexpected(sent.error());
  auto reply = ReceiveControlMessage(fd->get(), timeout_ms, kMaxControlRequestSize);
  if (!reply) return tl::unexpected(reply.error());
  if (auto error = ReplyError(*reply))
    return Fail(EPERM, "vdevd refused to send events: " + *error);
  return fd;
}

Status SendControlRequest(int fd, const ControlRequest& request, int timeout_ms) {
  if (auto sent = SendControlMessage(fd, FormatControlRequest(request)); !sent) return sent;
  auto reply = ReceiveControlMessage(fd, timeout_ms, kMaxControlRequestSize);
  if (!reply) return tl::unexpected(reply.error());
  if (auto error = ReplyError(*reply))
    return Fail(*error == "permission denied" ? EPERM : EIO, *error);
  return Ok();
}

}  // namespace vdev
