#include "control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "common/control_protocol.h"
#include "common/fs_util.h"
#include "common/log.h"

namespace vdev {
namespace {

constexpr int kListenBacklog = 64;
// Work done per wakeup, so that one busy client cannot starve the rest of the loop; the
// level-triggered loop comes back for the remainder.
constexpr int kMaxAcceptsPerWakeup = 16;
constexpr int kMaxRequestsPerWakeup = 32;

// Sends without ever blocking the loop, and without SIGPIPE for a vanished peer.
bool SendNonBlocking(int fd, std::string_view message) {
  ssize_t sent;
  do {
    sent = send(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(message.size());
}

void SetSendBuffer(int fd, size_t requested) {
  int size = static_cast<int>(std::min<size_t>(requested, INT_MAX / 2));
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) == 0) return;
  // Without CAP_NET_ADMIN the kernel caps this at net.core.wmem_max: the monitor is then
  // disconnected after a shorter backlog, which is all that is lost.
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
    LogDebug("control: SO_SNDBUF %d: %s, ignoring", size, strerror(errno));
}

// A socket file at the address is either a live daemon's (refuse to start) or left by one
// that died (replace it). Anything else there is not ours to remove.
Status ClaimSocketPath(int state_dir, const sockaddr_un& address) {
  struct stat st {};
  if (fstatat(state_dir, kControlSocketName, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return Ok();
    return FailErrno(std::string("stat ") + address.sun_path);
  }
  if (!S_ISSOCK(st.st_mode)) return Fail(EEXIST, std::string(address.sun_path) + " is no socket");
  UniqueFd probe(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe) return FailErrno("socket");
  int connected =
      connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  // EAGAIN: a listener whose backlog is full is alive all the same.
  if (connected == 0 || errno == EAGAIN || errno == EINPROGRESS)
    return Fail(EADDRINUSE, std::string("another vdevd answers on ") + address.sun_path);
  if (errno != ECONNREFUSED) return FailErrno(std::string("probe ") + address.sun_path);
  if (unlinkat(state_dir, kControlSocketName, 0) < 0 && errno != ENOENT)
    return FailErrno(std::string("remove stale ") + address.sun_path);
  LogInfo("control: removed stale socket %s", address.sun_path);
  return Ok();
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::Start(EventLoop& loop,
                                                            ControlHandler& handler, int run_dir_fd,
                                                            const std::string& run_path,
                                                            const ControlServerOptions& options) {
  auto address = ControlSocketAddress(run_path);
  if (!address) return tl::unexpected(address.error());
  if (auto made = MakeDirsAt(run_dir_fd, kControlDirName, 0755); !made)
    return tl::unexpected(made.error());
  auto state_dir = OpenDirAt(run_dir_fd, kControlDirName, O_NOFOLLOW);
  if (!state_dir) return tl::unexpected(state_dir.error());
  if (auto claimed = ClaimSocketPath(state_dir->get(), *address); !claimed)
    return tl::unexpected(claimed.error());

  std::unique_ptr<ControlServer> server(new ControlServer(loop, handler, options));
  server->state_dir_ = std::move(*state_dir);
  server->listener_.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!server->listener_) return FailErrno("socket");
  if (bind(server->listener_.get(), reinterpret_cast<const sockaddr*>(&*address),
           sizeof(*address)) < 0)
    return FailErrno(std::string("bind ") + address->sun_path);
  // World-accessible on purpose: settle and monitor are for every user; the privileged
  // requests are checked per peer (SO_PEERCRED), not by the file mode.
  if (fchmodat(server->state_dir_.get(), kControlSocketName, 0666, 0) < 0)
    return FailErrno(std::string("chmod ") + address->sun_path);
  struct stat st {};
  if (fstatat(server->state_dir_.get(), kControlSocketName, &st, AT_SYMLINK_NOFOLLOW) == 0)
    server->socket_inode_ = st.st_ino;
  if (listen(server->listener_.get(), kListenBacklog) < 0)
    return FailErrno(std::string("listen ") + address->sun_path);
  ControlServer* raw = server.get();
  if (auto added =
          loop.Add(server->listener_.get(), EPOLLIN, [raw](uint32_t) { raw->AcceptClients(); });
      !added)
    return tl::unexpected(added.error());
  LogDebug("control: listening on %s", address->sun_path);
  return server;
}

ControlServer::~ControlServer() {
  for (auto& [fd, client] : clients_) loop_.Remove(fd);
  clients_.clear();
  if (listener_) loop_.Remove(listener_.get());
  listener_.reset();
  // Only our own socket: a successor daemon may already have replaced it.
  struct stat st {};
  if (socket_inode_ != 0 &&
      fstatat(state_dir_.get(), kControlSocketName, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISSOCK(st.st_mode) && st.st_ino == socket_inode_)
    unlinkat(state_dir_.get(), kControlSocketName, 0);
}

size_t ControlServer::settle_waiter_count() const {
  size_t count = 0;
  for (const auto& [fd, client] : clients_) count += client.pending_settles;
  return count;
}

void ControlServer::AcceptClients() {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd) {
      AcceptOne(std::move(fd));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // The pending connection stays queued and the level-triggered loop would spin on it:
      // stop listening until a client leaves or the daemon makes progress.
      LogWarning("control: accept: %s, pausing new connections", strerror(errno));
      PauseAccepting();
    } else if (errno != EAGAIN) {
      LogWarning("control: accept: %s, ignoring", strerror(errno));
    }
    return;
  }
}

void ControlServer::AcceptOne(UniqueFd fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) {
    LogWarning("control: SO_PEERCRED: %s, dropping connection", strerror(errno));
    return;
  }
  size_t limit = options_.max_clients;
  if (credentials.uid != 0) limit -= std::min(options_.reserved_for_root, options_.max_clients);
  if (clients_.size() >= limit) {
    LogInfo("control: too many clients, refusing pid %d (uid %u)", credentials.pid,
            credentials.uid);
    (void)SendNonBlocking(fd.get(), FormatErrorReply("too many clients"));
    return;
  }
  int raw_fd = fd.get();
  if (auto added =
          loop_.Add(raw_fd, EPOLLIN, [this, raw_fd](uint32_t) { OnClientReadable(raw_fd); });
      !added) {
    LogWarning("control: %s, dropping connection", added.error().Message().c_str());
    return;
  }
  Client client;
  client.fd = std::move(fd);
  client.uid = credentials.uid;
  client.pid = credentials.pid;
  clients_.emplace(raw_fd, std::move(client));
  LogDebug("control: client pid %d uid %u connected", credentials.pid, credentials.uid);
}

void ControlServer::PauseAccepting() {
  if (accept_paused_) return;
  if (loop_.Modify(listener_.get(), 0)) accept_paused_ = true;
}

void ControlServer::ResumeAccepting() {
  if (!accept_paused_) return;
  if (loop_.Modify(listener_.get(), EPOLLIN)) accept_paused_ = false;
}

void ControlServer::OnClientReadable(int fd) {
  for (int i = 0; i < kMaxRequestsPerWakeup; ++i) {
    auto found = clients_.find(fd);
    if (found == clients_.end()) return;  // stale wakeup for a dropped client
    char buffer[kMaxControlRequestSize + 1];
    ssize_t length = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT | MSG_TRUNC);
    if (length < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      LogDebug("control: receive from pid %d: %s, disconnecting", found->second.pid,
               strerror(errno));
      DropClient(fd);
      return;
    }
    // End of file (the protocol has no empty messages).
    if (length == 0) {
      DropClient(fd);
      return;
    }
    // A monitor only receives; whatever it sends is read so that it cannot pile up.
    if (found->second.subscriber) continue;
    if (static_cast<size_t>(length) > kMaxControlRequestSize) {
      if (!Reply(found->second, FormatErrorReply("request too long"))) {
        DropClient(fd);
        return;
      }
      continue;
    }
    if (!HandleRequest(fd, std::string_view(buffer, length))) return;
  }
}

bool ControlServer::HandleRequest(int fd, std::string_view text) {
  Client& client = clients_.at(fd);
  auto request = ParseControlRequest(text);
  std::string reply(kControlReplyOk);
  if (!request) {
    reply = FormatErrorReply(request.error().context);
  } else if (!MayRunCommand(request->command, client.uid)) {
    LogInfo("control: refusing '%.*s' from pid %d (uid %u): not root",
            static_cast<int>(text.size()), text.data(), client.pid, client.uid);
    reply = FormatErrorReply("permission denied");
  } else {
    switch (request->command) {
      case ControlCommand::kPing:
        break;
      case ControlCommand::kSettle:
        // Earlier settles still waiting mean the queue was busy since; keep the order.
        if (client.pending_settles > 0 || !handler_.IsSettled()) {
          ++client.pending_settles;
          return true;
        }
        break;
      case ControlCommand::kIsSettled:
        if (!handler_.IsSettled()) reply = kControlReplyBusy;
        break;
      case ControlCommand::kMonitor:
        if (!client.subscriber) {
          SetSendBuffer(fd, options_.subscriber_send_buffer);
          client.subscriber = true;
          ++subscribers_;
          LogDebug("control: pid %d monitors events", client.pid);
        }
        break;
      case ControlCommand::kExit:
        LogInfo("control: exit requested by pid %d", client.pid);
        if (!Reply(client, reply)) DropClient(fd);
        handler_.RequestExit();
        return clients_.contains(fd);
      case ControlCommand::kReload: {
        LogInfo("control: reload requested by pid %d", client.pid);
        Status reloaded = handler_.Reload();
        if (!reloaded) reply = FormatErrorReply(reloaded.error().Message());
        return ReplyAfterHandler(fd, reply);
      }
      case ControlCommand::kStopExecQueue:
      case ControlCommand::kStartExecQueue: {
        const bool stop = request->command == ControlCommand::kStopExecQueue;
        LogInfo("control: %s requested by pid %d", stop ? "stop-exec-queue" : "start-exec-queue",
                client.pid);
        Status paused = handler_.StopExecQueue(stop);
        if (!paused) reply = FormatErrorReply(paused.error().Message());
        return ReplyAfterHandler(fd, reply);
      }
      case ControlCommand::kLogLevel:
        SetLogLevel(request->level);
        LogInfo("control: log level set to %d by pid %d", static_cast<int>(request->level),
                client.pid);
        break;
    }
  }
  if (!Reply(client, reply)) {
    DropClient(fd);
    return false;
  }
  return true;
}

bool ControlServer::ReplyAfterHandler(int fd, std::string_view reply) {
  auto found = clients_.find(fd);
  if (found == clients_.end()) return false;
  if (!Reply(found->second, reply)) {
    DropClient(fd);
    return false;
  }
  return true;
}

bool ControlServer::Reply(Client& client, std::string_view reply) {
  if (SendNonBlocking(client.fd.get(), reply)) return true;
  // A client that does not read its replies has filled its socket; never wait for it.
  LogDebug("control: reply to pid %d: %s, disconnecting", client.pid, strerror(errno));
  return false;
}

void ControlServer::DropClient(int fd) {
  auto found = clients_.find(fd);
  if (found == clients_.end()) return;
  if (found->second.subscriber) --subscribers_;
  loop_.Remove(fd);
  clients_.erase(found);  // closes the fd
  ResumeAccepting();
}

void ControlServer::NotifyProgress() {
  ResumeAccepting();
  bool waiting = false;
  for (const auto& [fd, client] : clients_) waiting |= client.pending_settles > 0;
  if (!waiting || !handler_.IsSettled()) return;
  std::vector<int> failed;
  for (auto& [fd, client] : clients_) {
    for (; client.pending_settles > 0; --client.pending_settles) {
      if (!Reply(client, kControlReplyOk)) {
        failed.push_back(fd);
        break;
      }
    }
  }
  for (int fd : failed) DropClient(fd);
}

void ControlServer::Publish(const Uevent& processed) {
  if (subscribers_ == 0) return;
  std::string message = FormatProperties(processed);
  if (message.empty()) return;  // would read as end-of-file
  if (message.size() > kMaxControlEventSize) {
    LogWarning("control: event %s has %zu bytes of properties, not sent to monitors",
               std::string(processed.devpath()).c_str(), message.size());
    return;
  }
  std::vector<int> failed;
  for (auto& [fd, client] : clients_) {
    if (!client.subscriber || SendNonBlocking(fd, message)) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      LogInfo("control: monitor pid %d fell behind, disconnecting it", client.pid);
    } else {
      LogInfo("control: monitor pid %d: %s, disconnecting it", client.pid, strerror(errno));
    }
    failed.push_back(fd);
  }
  for (int fd : failed) DropClient(fd);
}

}  // namespace vdev
