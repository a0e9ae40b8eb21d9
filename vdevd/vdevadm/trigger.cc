// `vdevadm trigger`: TriggerMain over the roots named by the environment, with vdevd reached
// through its control socket: --wait-daemon pings it, --settle subscribes to the events it
// finishes and waits for the triggered ones (by devpath and SYNTH_UUID).
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/control_protocol.h"
#include "common/log.h"
#include "common/uevent.h"
#include "common/unique_fd.h"
#include "trigger_walk.h"
#include "vdevadm/commands.h"

namespace vdev {
namespace {

constexpr int kSubscribeTimeoutMs = 5000;
// Between bind() and listen() the daemon's socket exists but refuses connections, and no
// inotify event marks the moment it starts listening: retried this often meanwhile.
constexpr int kRefusedRetryMs = 50;

int64_t MonotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

int64_t DeadlineAfter(double seconds) {
  if (!std::isfinite(seconds)) return INT64_MAX;
  return MonotonicMs() + static_cast<int64_t>(std::ceil(std::min(seconds, 1e12) * 1000));
}

int MsLeft(int64_t deadline) {
  if (deadline == INT64_MAX) return -1;
  return static_cast<int>(std::clamp<int64_t>(deadline - MonotonicMs(), 0, INT_MAX));
}

class VdevdTriggerDaemon : public TriggerDaemon {
 public:
  explicit VdevdTriggerDaemon(std::string run_path) : run_path_(std::move(run_path)) {}

  Status WaitUntilRunning(double timeout_seconds) override {
    const int64_t deadline = DeadlineAfter(timeout_seconds);
    // Watches run/ and run/vdev for the socket to appear (the directory may come first).
    UniqueFd inotify(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    for (;;) {
      if (inotify) {
        inotify_add_watch(inotify.get(), run_path_.c_str(), IN_CREATE | IN_MOVED_TO);
        inotify_add_watch(inotify.get(), (run_path_ + "/" + kControlDirName).c_str(),
                          IN_CREATE | IN_MOVED_TO | IN_ATTRIB);
      }
      Status answered = Ping(MsLeft(deadline));
      if (answered) return answered;
      int code = answered.error().code;
      if (code != ENOENT && code != ECONNREFUSED) return answered;
      int wait_ms = MsLeft(deadline);
      if (wait_ms == 0) return Fail(ETIMEDOUT, "waiting for vdevd to answer");
      if (code == ECONNREFUSED || !inotify)
        wait_ms = std::min(wait_ms < 0 ? INT_MAX : wait_ms, kRefusedRetryMs);
      pollfd entry{inotify.get(), POLLIN, 0};
      if (poll(&entry, 1, wait_ms) > 0) {
        char buffer[4096];
        while (read(inotify.get(), buffer, sizeof(buffer)) > 0) {
        }
      }
    }
  }

  Status Watch() override {
    auto subscribed = SubscribeToEvents(run_path_, kSubscribeTimeoutMs);
    if (!subscribed) return tl::unexpected(subscribed.error());
    monitor_ = std::move(*subscribed);
    return Ok();
  }

  Status WaitForEvents(std::vector<TriggeredEvent> events, double timeout_seconds,
                       const std::function<void(const TriggeredEvent&)>& processed) override {
    if (!monitor_) return Fail(ENOTCONN, "not watching vdevd's events");
    const int64_t deadline = DeadlineAfter(timeout_seconds);
    std::unordered_map<std::string, std::string> pending;  // devpath -> uuid
    for (auto& event : events) pending[event.devpath] = std::move(event.uuid);

    // An event of a device that vanished meanwhile never comes; once the daemon reports
    // its queue empty, everything this trigger caused has been processed.
    UniqueFd settle;
    if (auto fd = ConnectControlSocket(run_path_)) {
      if (SendControlMessage(fd->get(), FormatControlRequest({ControlCommand::kSettle})))
        settle = std::move(*fd);
    }
    for (;;) {
      pollfd fds[2] = {{monitor_.get(), POLLIN, 0}, {settle ? settle.get() : -1, POLLIN, 0}};
      int ready = poll(fds, 2, MsLeft(deadline));
      if (ready < 0) {
        if (errno == EINTR) continue;
        return FailErrno("poll");
      }
      if (ready == 0) return Fail(ETIMEDOUT, "waiting for the triggered events");
      bool settled = false;
      if (fds[1].revents) {
        auto reply = ReceiveControlMessage(settle.get(), 0, kMaxControlRequestSize);
        settled = reply && !ReplyError(*reply);
        if (!settled) settle.reset();  // the monitor alone decides, then
      }
      // After "settled" every processed event is already in the monitor's socket: the
      // daemon publishes an event before it answers a settle.
      if (fds[0].revents || settled) {
        if (auto drained = Drain(pending, processed); !drained) return drained;
      }
      if (pending.empty()) return Ok();
      if (settled) {
        for (const auto& [devpath, uuid] : pending)
          LogDebug("vdevadm trigger: no processed event for %s, ignoring", devpath.c_str());
        return Ok();
      }
    }
  }

 private:
  Status Ping(int timeout_ms) {
    auto fd = ConnectControlSocket(run_path_);
    if (!fd) return tl::unexpected(fd.error());
    return SendControlRequest(fd->get(), {ControlCommand::kPing}, timeout_ms);
  }

  // Reads every event queued on the subscription and crosses off the triggered ones.
  Status Drain(std::unordered_map<std::string, std::string>& pending,
               const std::function<void(const TriggeredEvent&)>& processed) {
    for (;;) {
      auto message = ReceiveControlMessage(monitor_.get(), 0, kMaxControlEventSize);
      if (!message) {
        int code = message.error().code;
        if (code == ETIMEDOUT || code == EINTR) return Ok();
        if (code == ECONNRESET)
          return Fail(ECONNRESET, "vdevd closed the connection before the events were processed");
        return tl::unexpected(message.error());
      }
      auto event = ParseUeventFile(*message);
      if (!event) continue;
      auto found = pending.find(std::string(event->devpath()));
      if (found == pending.end()) continue;
      // Another event of the same device (someone else's trigger, the kernel's own) does
      // not count: only the one carrying our UUID.
      if (!found->second.empty() && event->GetOr("SYNTH_UUID") != found->second) continue;
      processed({found->first, found->second});
      pending.erase(found);
    }
  }

  std::string run_path_;
  UniqueFd monitor_;
};

}  // namespace

int RunTrigger(int argc, char** argv) {
  RootPaths paths = RootPaths::FromEnvironment();
  VdevdTriggerDaemon daemon(paths.run);
  return TriggerMain(argc, argv, paths, stdout, stderr, daemon);
}

}  // namespace vdev
