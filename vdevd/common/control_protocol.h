// The control socket's wire format, shared by vdevd (ControlServer) and vdevadm.
//
// Transport: an AF_UNIX SOCK_SEQPACKET socket at RUN/vdev/control, mode 0666. SEQPACKET
// keeps message boundaries, so a message is exactly one send(): ASCII text, no trailing NUL
// or newline. Each request gets exactly one reply, in request order; a reply is "ok" or
// "error: <reason>".
//
//   request           reply                                                    who
//   ping              "ok"                                                     anyone
//   settle            "ok" once no event is queued or running; may take long  anyone
//   is-settled        "ok" when nothing is queued now, else "error: busy"      anyone
//   monitor           "ok", then one message per processed event               anyone
//   exit              "ok", then the daemon shuts down                         uid 0
//   reload            "ok" after config and rules were re-read, or the error   uid 0
//   log-level=LEVEL   "ok" (LEVEL as ParseLogLevel accepts it)                 uid 0
//   stop-exec-queue   "ok" once no new event will start (running ones finish)  uid 0
//   start-exec-queue  "ok"; queued events start again                          uid 0
//
// Refusals are "error: permission denied", "error: unknown request" and "error: too many
// clients" (then the daemon closes the connection). After "monitor" the connection only
// receives: each message is one processed event as FormatProperties text (KEY=VALUE lines).
// A monitor that falls behind far enough to fill its socket is disconnected, so a stuck
// client never stalls the daemon; it sees end-of-file.
#pragma once

#include <sys/types.h>
#include <sys/un.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

// Relative to the run root (RootPaths::run).
inline constexpr char kControlDirName[] = "vdev";
inline constexpr char kControlSocketName[] = "control";

// Requests are short; anything longer is refused without being parsed.
inline constexpr size_t kMaxControlRequestSize = 256;
// Upper bound for one event message on a monitor connection.
inline constexpr size_t kMaxControlEventSize = 64 * 1024;

inline constexpr std::string_view kControlReplyOk = "ok";
inline constexpr std::string_view kControlReplyBusy = "error: busy";

enum class ControlCommand {
  kPing,
  kSettle,
  kIsSettled,
  kMonitor,
  kExit,
  kReload,
  kLogLevel,
  kStopExecQueue,
  kStartExecQueue,
};

struct ControlRequest {
  ControlCommand command = ControlCommand::kPing;
  LogLevel level = LogLevel::kNotice;  // kLogLevel only
};

// EINVAL for anything that is not one of the requests above.
[[nodiscard]] Result<ControlRequest> ParseControlRequest(std::string_view text);
std::string FormatControlRequest(const ControlRequest& request);

// exit, reload, log-level and the exec-queue requests change the daemon; everything else
// only observes it.
bool IsPrivilegedCommand(ControlCommand command);
// The daemon's access decision for a peer whose SO_PEERCRED uid is peer_uid.
bool MayRunCommand(ControlCommand command, uid_t peer_uid);

std::string FormatErrorReply(std::string_view reason);
// nullopt for "ok"; otherwise the reason ("error: x" -> "x"; anything else is described).
std::optional<std::string> ReplyError(std::string_view reply);

// run_path + "/vdev/control" as a socket address. ENAMETOOLONG when it does not fit
// sun_path (bind and connect take a path, not a directory fd).
[[nodiscard]] Result<sockaddr_un> ControlSocketAddress(const std::string& run_path);

// Client side. Connects to the daemon's socket (blocking, close-on-exec). ENOENT or
// ECONNREFUSED mean that no daemon is listening.
[[nodiscard]] Result<UniqueFd> ConnectControlSocket(const std::string& run_path);
// Sends one message; EPIPE/ECONNRESET when the daemon went away (no SIGPIPE).
[[nodiscard]] Status SendControlMessage(int fd, std::string_view message);
// Waits up to timeout_ms (-1: forever) for one message of at most max_size bytes.
// ETIMEDOUT on timeout, ECONNRESET when the daemon closed the connection, EMSGSIZE for a
// longer (truncated) message, EINTR when a signal interrupted the wait.
[[nodiscard]] Result<std::string> ReceiveControlMessage(int fd, int timeout_ms, size_t max_size);

// Connects, sends "monitor" and waits up to timeout_ms for the daemon's "ok": from then on
// every processed event arrives on the returned connection. Errors as ConnectControlSocket,
// or the daemon's refusal (context "vdevd refused to send events: ...").
[[nodiscard]] Result<UniqueFd> SubscribeToEvents(const std::string& run_path, int timeout_ms);

// Sends one request on fd and waits up to timeout_ms for its reply. The daemon's refusal is
// an error whose context is the reason (EPERM for "permission denied", else EIO).
[[nodiscard]] Status SendControlRequest(int fd, const ControlRequest& request, int timeout_ms);

}  // namespace vdev
