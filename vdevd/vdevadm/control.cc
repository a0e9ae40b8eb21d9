// vdevadm control: sends requests to the running vdevd (exit, reload, log level, ping).
#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/control_protocol.h"
#include "common/log.h"
#include "common/numbers.h"
#include "vdevadm/commands.h"

namespace vdev {
namespace {

constexpr double kDefaultTimeoutSeconds = 60;

void PrintUsage(FILE* out) {
  fprintf(
      out,
      "Usage: vdevadm control OPTION...\n"
      "Control the running vdevd.\n\n"
      "  -e, --exit                 ask vdevd to exit and wait until it has\n"
      "  -R, --reload               re-read the configuration and the rules\n"
      "  -l, --log-level=LEVEL      set the log level (err, warning, notice, info, debug, 0-7)\n"
      "      --ping                 check that vdevd answers\n"
      "  -t, --timeout=SECONDS      wait at most SECONDS for each reply (default %g)\n"
      "  -h, --help                 show this help\n",
      kDefaultTimeoutSeconds);
}

int TimeoutMs(double seconds) { return static_cast<int>(std::min(std::ceil(seconds * 1000), 2e9)); }

// The daemon closes every connection when it exits: end-of-file is the confirmation.
int WaitForExit(int fd, double timeout_seconds) {
  for (;;) {
    auto message = ReceiveControlMessage(fd, TimeoutMs(timeout_seconds), kMaxControlEventSize);
    if (message) continue;  // nothing else is expected; keep waiting for the close
    if (message.error().code == ECONNRESET) return 0;
    if (message.error().code == ETIMEDOUT) {
      fprintf(stderr, "vdevadm control: vdevd did not exit within %g s\n", timeout_seconds);
    } else {
      fprintf(stderr, "vdevadm control: %s\n", message.error().Message().c_str());
    }
    return 1;
  }
}

int Request(int fd, const ControlRequest& request, double timeout_seconds) {
  std::string text = FormatControlRequest(request);
  if (auto sent = SendControlMessage(fd, text); !sent) {
    fprintf(stderr, "vdevadm control: %s\n", sent.error().Message().c_str());
    return 1;
  }
  auto reply = ReceiveControlMessage(fd, TimeoutMs(timeout_seconds), kMaxControlRequestSize);
  if (!reply) {
    if (reply.error().code == ETIMEDOUT) {
      fprintf(stderr, "vdevadm control: no reply to '%s' within %g s\n", text.c_str(),
              timeout_seconds);
    } else {
      fprintf(stderr, "vdevadm control: %s: %s\n", text.c_str(), reply.error().Message().c_str());
    }
    return 1;
  }
  if (auto error = ReplyError(*reply)) {
    fprintf(stderr, "vdevadm control: %s: %s\n", text.c_str(), error->c_str());
    return 1;
  }
  if (request.command == ControlCommand::kExit) return WaitForExit(fd, timeout_seconds);
  return 0;
}

}  // namespace

int RunControl(int argc, char** argv) {
  constexpr int kPingOption = 1000;
  static const option kOptions[] = {
      {"exit", no_argument, nullptr, 'e'},
      {"reload", no_argument, nullptr, 'R'},
      {"reload-rules", no_argument, nullptr, 'R'},  // older udevadm spelling
      {"log-level", required_argument, nullptr, 'l'},
      {"log-priority", required_argument, nullptr, 'l'},  // older udevadm spelling
      {"ping", no_argument, nullptr, kPingOption},
      {"timeout", required_argument, nullptr, 't'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  std::vector<ControlRequest> requests;
  bool exit_requested = false;
  double timeout = kDefaultTimeoutSeconds;
  optind = 0;
  for (;;) {
    int option = getopt_long(argc, argv, "eRl:t:h", kOptions, nullptr);
    if (option == -1) break;
    switch (option) {
      case 'e':
        exit_requested = true;
        break;
      case 'R':
        requests.push_back({ControlCommand::kReload});
        break;
      case 'l': {
        auto level = ParseLogLevel(optarg);
        if (!level) {
          fprintf(stderr, "vdevadm control: invalid log level '%s'\n", optarg);
          return 2;
        }
        requests.push_back({ControlCommand::kLogLevel, *level});
        break;
      }
      case kPingOption:
        requests.push_back({ControlCommand::kPing});
        break;
      case 't': {
        auto seconds = ParseSeconds(optarg);
        if (!seconds || *seconds <= 0) {
          fprintf(stderr, "vdevadm control: invalid timeout '%s'\n", optarg);
          return 2;
        }
        timeout = *seconds;
        break;
      }
      case 'h':
        PrintUsage(stdout);
        return 0;
      default:
        PrintUsage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vdevadm control: unexpected argument '%s'\n", argv[optind]);
    PrintUsage(stderr);
    return 2;
  }
  // Whatever else was asked for has to reach the daemon before it goes away.
  if (exit_requested) requests.push_back({ControlCommand::kExit});
  if (requests.empty()) {
    fprintf(stderr, "vdevadm control: no request given\n");
    PrintUsage(stderr);
    return 2;
  }

  auto fd = ConnectControlSocket(RootPaths::FromEnvironment().run);
  if (!fd) {
    fprintf(stderr, "vdevadm control: cannot reach vdevd: %s\n", fd.error().Message().c_str());
    return 1;
  }
  for (const auto& request : requests) {
    if (int status = Request(fd->get(), request, timeout); status != 0) return status;
  }
  return 0;
}

}  // namespace vdev
