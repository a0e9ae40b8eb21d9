// vdevadm control: sends requests to the running vdevd (exit, reload, log level, exec queue,
// ping).
#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/control_protocol.h"
#include "common/log.h"
#include "common/numbers.h"
#include "vdevadm/commands.h"
#include "vdevadm/option_values.h"

namespace vdev {
namespace {

constexpr double kDefaultTimeoutSeconds = 60;

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm control OPTION...\n"
          "Control the running vdevd.\n\n"
          "  -h --help                show this help\n"
          "  -V --version             print the version\n"
          "  -e --exit                ask vdevd to exit and wait until it has\n"
          "  -l --log-level=LEVEL     set vdevd's log level (err, warning, notice, info, debug,\n"
          "                           or 0-7)\n"
          "  -s --stop-exec-queue     queue events but start none\n"
          "  -S --start-exec-queue    start queued events again\n"
          "  -R --reload              re-read the rules\n"
          "  -p --property=KEY=VALUE  (not supported by vdevd: fails)\n"
          "  -m --children-max=N      accepted for compatibility; vdevd's worker count is set\n"
          "                           when it starts (--workers)\n"
          "     --ping                check that vdevd answers\n"
          "  -t --timeout=SECONDS     wait at most SECONDS for each reply (default %g)\n\n"
          "Requests are sent in the order given, --exit last. Exit status: 0, or 1.\n",
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
  enum LongOnly { kOptionPing = 0x100 };
  static const option kOptions[] = {
      {"exit", no_argument, nullptr, 'e'},
      {"log-level", required_argument, nullptr, 'l'},
      {"log-priority", required_argument, nullptr, 'l'},  // older udevadm spelling
      {"stop-exec-queue", no_argument, nullptr, 's'},
      {"start-exec-queue", no_argument, nullptr, 'S'},
      {"reload", no_argument, nullptr, 'R'},
      {"reload-rules", no_argument, nullptr, 'R'},  // older udevadm spelling
      {"property", required_argument, nullptr, 'p'},
      {"env", required_argument, nullptr, 'p'},  // older udevadm spelling
      {"children-max", required_argument, nullptr, 'm'},
      {"ping", no_argument, nullptr, kOptionPing},
      {"timeout", required_argument, nullptr, 't'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  std::vector<ControlRequest> requests;
  bool exit_requested = false;
  double timeout = kDefaultTimeoutSeconds;
  optind = 0;
  opterr = 0;
  for (;;) {
    int option = getopt_long(argc, argv, ":el:sSRp:m:t:Vh", kOptions, nullptr);
    if (option == -1) break;
    switch (option) {
      case 'e':
        exit_requested = true;
        break;
      case 'R':
        requests.push_back({ControlCommand::kReload});
        break;
      case 's':
        requests.push_back({ControlCommand::kStopExecQueue});
        break;
      case 'S':
        requests.push_back({ControlCommand::kStartExecQueue});
        break;
      case 'l': {
        auto level = ParseLogLevel(optarg);
        if (!level) {
          fprintf(stderr, "vdevadm control: invalid log level '%s'\n", optarg);
          return 1;
        }
        requests.push_back({ControlCommand::kLogLevel, *level});
        break;
      }
      case 'p':
        if (!strchr(optarg, '=')) {
          fprintf(stderr, "vdevadm control: expected KEY=VALUE instead of '%s'\n", optarg);
          return 1;
        }
        // udevd adds such a property to every later event; vdevd has no such setting, and
        // pretending to set it would hide that from the caller.
        fprintf(stderr, "vdevadm control: --property is not supported by vdevd\n");
        return 1;
      case 'm': {
        auto count = ParseNumber<unsigned>(optarg);
        if (!count) {
          fprintf(stderr, "vdevadm control: invalid number of children '%s'\n", optarg);
          return 1;
        }
        // Accepted as udevadm takes it; the daemon is still asked to answer, so that the
        // exit status says whether it runs.
        LogDebug("vdevadm control: --children-max=%u has no effect on vdevd, ignoring", *count);
        requests.push_back({ControlCommand::kPing});
        break;
      }
      case kOptionPing:
        requests.push_back({ControlCommand::kPing});
        break;
      case 't': {
        auto seconds = ParseTimespan(optarg);
        if (!seconds || *seconds <= 0) {
          fprintf(stderr, "vdevadm control: invalid timeout '%s'\n", optarg);
          return 1;
        }
        timeout = *seconds;
        break;
      }
      case 'V':
        printf("%s\n", VDEV_VERSION);
        return 0;
      case 'h':
        PrintUsage(stdout);
        return 0;
      default:
        return ReportBadOption("control", option, argv);
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vdevadm control: extraneous argument '%s'\n", argv[optind]);
    return 1;
  }
  // Whatever else was asked for has to reach the daemon before it goes away.
  if (exit_requested) requests.push_back({ControlCommand::kExit});
  if (requests.empty()) {
    fprintf(stderr, "vdevadm control: this command expects one or more options\n");
    fprintf(stderr, "Try 'vdevadm control --help'.\n");
    return 1;
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
