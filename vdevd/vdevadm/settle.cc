// vdevadm settle: waits until vdevd has processed every queued event.
#include <getopt.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/control_protocol.h"
#include "common/log.h"
#include "vdevadm/commands.h"
#include "vdevadm/option_values.h"

namespace vdev {
namespace {

constexpr double kDefaultTimeoutSeconds = 120;
// With --timeout=0 the daemon is only asked, and answers at once; this bounds a daemon that
// is busy in a long reload.
constexpr int kCheckReplyTimeoutMs = 5000;

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm settle [OPTIONS]\n"
          "Wait until vdevd has processed all queued events.\n\n"
          "  -h --help                 show this help\n"
          "  -V --version              print the version\n"
          "  -t --timeout=SECONDS      give up after SECONDS (default %g; 0: only check)\n"
          "  -E --exit-if-exists=FILE  stop waiting when FILE exists\n\n"
          "The obsolete --seq-start, --seq-end and --quiet are accepted and ignored.\n"
          "Exit status: 0 settled (or no vdevd running), 1 timeout or error.\n",
          kDefaultTimeoutSeconds);
}

int64_t MonotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

// Asks once: --timeout=0 means "exit 0 if the queue is empty now, 1 otherwise".
int CheckSettled(int fd) {
  if (auto sent = SendControlMessage(fd, FormatControlRequest({ControlCommand::kIsSettled}));
      !sent) {
    fprintf(stderr, "vdevadm settle: %s\n", sent.error().Message().c_str());
    return 1;
  }
  auto reply = ReceiveControlMessage(fd, kCheckReplyTimeoutMs, kMaxControlRequestSize);
  if (!reply) {
    if (reply.error().code == ETIMEDOUT || reply.error().code == ECONNRESET) return 1;
    fprintf(stderr, "vdevadm settle: %s\n", reply.error().Message().c_str());
    return 1;
  }
  if (*reply == kControlReplyBusy) return 1;
  if (auto error = ReplyError(*reply)) {
    fprintf(stderr, "vdevadm settle: %s\n", error->c_str());
    return 1;
  }
  return 0;
}

int SettleUntil(const RootPaths& paths, double timeout_seconds, const char* exit_if_exists) {
  auto fd = ConnectControlSocket(paths.run);
  if (!fd) {
    int code = fd.error().code;
    // udevadm settle succeeds when there is no daemon: nothing is queued anywhere.
    if (code == ENOENT || code == ECONNREFUSED) {
      LogDebug("vdevadm settle: no vdevd is running (%s)", fd.error().Message().c_str());
      return 0;
    }
    fprintf(stderr, "vdevadm settle: %s\n", fd.error().Message().c_str());
    return 1;
  }
  if (timeout_seconds <= 0) return CheckSettled(fd->get());

  if (auto sent = SendControlMessage(fd->get(), FormatControlRequest({ControlCommand::kSettle}));
      !sent) {
    fprintf(stderr, "vdevadm settle: %s\n", sent.error().Message().c_str());
    return 1;
  }
  const double timeout_ms = std::min(timeout_seconds * 1000, 1e15);
  const int64_t deadline = MonotonicMs() + static_cast<int64_t>(std::ceil(timeout_ms));
  for (;;) {
    int64_t left = std::max<int64_t>(0, deadline - MonotonicMs());
    auto reply = ReceiveControlMessage(
        fd->get(), static_cast<int>(std::min<int64_t>(left, INT_MAX)), kMaxControlRequestSize);
    if (reply) {
      if (auto error = ReplyError(*reply)) {
        fprintf(stderr, "vdevadm settle: %s\n", error->c_str());
        return 1;
      }
      return 0;
    }
    int code = reply.error().code;
    if (code == EINTR) continue;
    if (code == ETIMEDOUT && deadline - MonotonicMs() > 0) continue;  // waited in INT_MAX-ms slices
    if (exit_if_exists && access(exit_if_exists, F_OK) == 0) return 0;
    if (code == ETIMEDOUT) {
      fprintf(stderr, "vdevadm settle: timeout\n");
      return 1;
    }
    if (code == ECONNRESET) {
      fprintf(stderr, "vdevadm settle: vdevd went away before the queue settled\n");
      return 1;
    }
    fprintf(stderr, "vdevadm settle: %s\n", reply.error().Message().c_str());
    return 1;
  }
}

}  // namespace

int Settle(const RootPaths& paths, double timeout_seconds) {
  return SettleUntil(paths, timeout_seconds, nullptr);
}

int RunSettle(int argc, char** argv) {
  static const option kOptions[] = {
      {"timeout", required_argument, nullptr, 't'},
      {"exit-if-exists", required_argument, nullptr, 'E'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      // Obsolete in udevadm; accepted and ignored so that old scripts keep working.
      {"seq-start", required_argument, nullptr, 's'},
      {"seq-end", required_argument, nullptr, 'e'},
      {"quiet", no_argument, nullptr, 'q'},
      {nullptr, 0, nullptr, 0},
  };
  double timeout = kDefaultTimeoutSeconds;
  const char* exit_if_exists = nullptr;
  optind = 0;
  opterr = 0;
  for (;;) {
    int option = getopt_long(argc, argv, ":t:E:s:e:qVh", kOptions, nullptr);
    if (option == -1) break;
    switch (option) {
      case 't':
        if (auto seconds = ParseTimespan(optarg)) {
          timeout = *seconds;
        } else {
          fprintf(stderr, "vdevadm settle: invalid timeout '%s'\n", optarg);
          return 1;
        }
        break;
      case 'E':
        exit_if_exists = optarg;
        break;
      case 's':
      case 'e':
      case 'q':
        LogDebug("vdevadm settle: option -%c is obsolete, ignoring", option);
        break;
      case 'V':
        printf("%s\n", VDEV_VERSION);
        return 0;
      case 'h':
        PrintUsage(stdout);
        return 0;
      default:
        return ReportBadOption("settle", option, argv);
    }
  }
  // udevadm settle takes no arguments and ignores any it is given.
  for (int i = optind; i < argc; ++i)
    fprintf(stderr, "vdevadm settle: ignoring extra argument '%s'\n", argv[i]);
  // The file may be what the caller is really waiting for; no need to ask the daemon.
  if (exit_if_exists && access(exit_if_exists, F_OK) == 0) return 0;
  return SettleUntil(RootPaths::FromEnvironment(), timeout, exit_if_exists);
}

}  // namespace vdev
