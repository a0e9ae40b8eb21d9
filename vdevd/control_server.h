// ControlServer: the daemon's side of the control socket (RUN/vdev/control; wire format in
// common/control_protocol.h). It lives on the EventLoop and never blocks it; every method is
// for the loop thread only (other threads go through EventLoop::Post).
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "common/uevent.h"
#include "common/unique_fd.h"
#include "event_loop.h"

namespace vdev {

// What the control socket needs from the daemon. Called on the loop thread, from inside the
// server's own callbacks: a handler must not destroy the ControlServer (RequestExit should
// only make the daemon leave its loop; destroy the server after that).
class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  // True when no event is queued or running.
  virtual bool IsSettled() = 0;
  // "exit": called after the client got its "ok"; the daemon should leave its loop soon.
  virtual void RequestExit() = 0;
  // "reload": re-reads config and rules. An error's Message() is sent to the client.
  [[nodiscard]] virtual Status Reload() = 0;
  // "stop-exec-queue" (stop) and "start-exec-queue": while stopped, events are queued but
  // none starts (udevadm control --stop-exec-queue); running events finish. An error's
  // Message() is sent to the client. By default the daemon cannot pause: ENOTSUP.
  [[nodiscard]] virtual Status StopExecQueue(bool stop) {
    (void)stop;
    return Fail(ENOTSUP, "pausing the event queue is not supported");
  }
};

struct ControlServerOptions {
  // Connections beyond this are told "error: too many clients" and closed.
  size_t max_clients = 256;
  // Of max_clients, this many are kept for uid 0, so unprivileged clients that hold
  // connections open cannot lock root out of "exit" or "reload".
  size_t reserved_for_root = 8;
  // Send buffer of each monitor connection: how far a monitor may fall behind before it is
  // disconnected. Forced past net.core.wmem_max when the daemon may (CAP_NET_ADMIN).
  size_t subscriber_send_buffer = 1 << 20;
};

class ControlServer {
 public:
  // Creates and listens on run_path/vdev/control (run_dir_fd is the same directory; the
  // vdev subdirectory is created when missing). A stale socket left by a dead daemon is
  // replaced; EADDRINUSE when a daemon still answers on it, ENAMETOOLONG when the path
  // does not fit a socket address. handler and loop must outlive the server.
  [[nodiscard]] static Result<std::unique_ptr<ControlServer>> Start(
      EventLoop& loop, ControlHandler& handler, int run_dir_fd, const std::string& run_path,
      const ControlServerOptions& options = {});

  // Closes every connection, leaves the loop and removes the socket file if it is still
  // the one this server created.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Call whenever the queue may have drained (an event finished): answers the pending
  // "settle" requests if handler.IsSettled() now holds. Cheap when nobody waits.
  void NotifyProgress();

  // Sends a processed event (its properties, FormatProperties text) to every monitor
  // without blocking. A monitor whose socket is full or gone is disconnected.
  void Publish(const Uevent& processed);

  size_t client_count() const { return clients_.size(); }
  size_t subscriber_count() const { return subscribers_; }
  size_t settle_waiter_count() const;

 private:
  struct Client {
    UniqueFd fd;
    uid_t uid = 0;
    pid_t pid = 0;
    size_t pending_settles = 0;
    bool subscriber = false;
  };

  ControlServer(EventLoop& loop, ControlHandler& handler, const ControlServerOptions& options)
      : loop_(loop), handler_(handler), options_(options) {}

  void AcceptClients();
  void AcceptOne(UniqueFd fd);
  void PauseAccepting();
  void ResumeAccepting();
  void OnClientReadable(int fd);
  // False when the client was disconnected meanwhile (its fd is no longer in clients_).
  [[nodiscard]] bool HandleRequest(int fd, std::string_view text);
  // False when the reply could not be sent; the caller then drops the client.
  [[nodiscard]] bool Reply(Client& client, std::string_view reply);
  // Reply after a handler call that may have reached back into the server (NotifyProgress,
  // Publish) and dropped clients: fd is looked up again. False when the client is gone.
  [[nodiscard]] bool ReplyAfterHandler(int fd, std::string_view reply);
  void DropClient(int fd);

  EventLoop& loop_;
  ControlHandler& handler_;
  ControlServerOptions options_;
  UniqueFd listener_;
  UniqueFd state_dir_;  // run/vdev, for removing the socket file on shutdown
  ino_t socket_inode_ = 0;
  bool accept_paused_ = false;
  std::unordered_map<int, Client> clients_;  // by fd
  size_t subscribers_ = 0;
};

}  // namespace vdev
