// ServiceNotifier: readiness and stopping by the sd_notify protocol, for a supervisor that
// sets NOTIFY_SOCKET (one datagram per state to an AF_UNIX socket; '@' = abstract name).
// Written here, without libsystemd.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace vdev {

class ServiceNotifier {
 public:
  // Takes NOTIFY_SOCKET out of the environment (rules' programs must not inherit it);
  // a notifier with no socket when it is unset or not a usable address.
  static ServiceNotifier FromEnvironment();
  explicit ServiceNotifier(std::string socket_path = {}) : socket_(std::move(socket_path)) {}

  bool enabled() const { return !socket_.empty(); }

  // "READY=1\nMAINPID=<pid>"
  [[nodiscard]] Status Ready();
  // "STOPPING=1"
  [[nodiscard]] Status Stopping();
  // Sends one datagram; nothing (Ok) when not enabled.
  [[nodiscard]] Status Send(std::string_view state);

 private:
  std::string socket_;
};

}  // namespace vdev
