// vdevadm monitor: prints kernel uevents (netlink) and the events vdevd finished processing
// (the control socket's "monitor" subscription), in udevadm monitor's format.
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/control_protocol.h"
#include "common/log.h"
#include "common/roots.h"
#include "common/uevent.h"
#include "common/unique_fd.h"
#include "netlink_source.h"
#include "vdevadm/commands.h"

namespace vdev {
namespace {

// How long vdevd may take to acknowledge the subscription.
constexpr int kSubscribeTimeoutMs = 5000;

struct SubsystemMatch {
  std::string subsystem;
  std::string devtype;  // empty: any
};

struct MonitorOptions {
  bool kernel = false;
  bool udev = false;
  bool properties = false;
  // Kept paired: "block/disk" must not turn into "block" or "disk" matching separately.
  std::vector<SubsystemMatch> subsystems;
  std::vector<std::string> tags;
};

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm monitor [OPTIONS]\n"
          "Print kernel uevents and the events vdevd processed.\n\n"
          "  -h --help                                show this help\n"
          "  -V --version                             print the version\n"
          "  -p --property                            print the properties of each event\n"
          "  -k --kernel                              print kernel uevents\n"
          "  -u --udev                                print events processed by vdevd\n"
          "  -s --subsystem-match=SUBSYSTEM[/DEVTYPE] only events of this subsystem\n"
          "  -t --tag-match=TAG                       only events with this tag\n\n"
          "Without -k or -u both are printed. Ends on SIGINT or SIGTERM.\n");
}

bool Matches(const MonitorOptions& options, const Uevent& event) {
  if (!options.subsystems.empty()) {
    bool matched = false;
    for (const auto& match : options.subsystems) {
      if (event.subsystem() != match.subsystem) continue;
      if (!match.devtype.empty() && event.devtype() != match.devtype) continue;
      matched = true;
      break;
    }
    if (!matched) return false;
  }
  // TAGS is ":a:b:"; every requested tag has to be present.
  std::string_view tags = event.GetOr("TAGS");
  for (const auto& tag : options.tags) {
    if (tags.find(":" + tag + ":") == std::string_view::npos) return false;
  }
  return true;
}

void PrintEvent(const MonitorOptions& options, const char* source, const Uevent& event) {
  if (!Matches(options, event)) return;
  // Time of reception, as udevadm monitor prints it.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  // "n/a" for what is missing, as udevadm prints it.
  auto field = [](std::string_view value) {
    return value.empty() ? std::string("n/a") : std::string(value);
  };
  std::string action = field(event.action()), devpath = field(event.devpath()),
              subsystem = field(event.subsystem());
  printf("%-6s[%" PRIu64 ".%06" PRIu64 "] %-8s %s (%s)\n", source,
         static_cast<uint64_t>(now.tv_sec), static_cast<uint64_t>(now.tv_nsec / 1000),
         action.c_str(), devpath.c_str(), subsystem.c_str());
  if (options.properties) printf("%s\n", FormatProperties(event).c_str());
  fflush(stdout);
}

// SIGINT and SIGTERM arrive through a signalfd: the handler-free way to end the loop.
Result<UniqueFd> OpenSignalFd() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) < 0) return FailErrno("sigprocmask");
  UniqueFd fd(signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return FailErrno("signalfd");
  return fd;
}

// Prints every event queued on the subscription. False when the connection is over.
bool ReadUdevEvents(const MonitorOptions& options, int fd) {
  for (;;) {
    auto message = ReceiveControlMessage(fd, 0, kMaxControlEventSize);
    if (!message) {
      int code = message.error().code;
      if (code == ETIMEDOUT || code == EINTR) return true;  // drained
      if (code == ECONNRESET) {
        fprintf(stderr,
                "vdevadm monitor: vdevd closed the connection (it exited, or this monitor "
                "fell too far behind)\n");
      } else {
        fprintf(stderr, "vdevadm monitor: %s\n", message.error().Message().c_str());
      }
      return false;
    }
    auto event = ParseUeventFile(*message);
    if (!event) {
      fprintf(stderr, "vdevadm monitor: malformed event from vdevd: %s, ignoring\n",
              event.error().Message().c_str());
      continue;
    }
    PrintEvent(options, "UDEV", *event);
  }
}

int Monitor(const MonitorOptions& options) {
  auto signals = OpenSignalFd();
  if (!signals) {
    fprintf(stderr, "vdevadm monitor: %s\n", signals.error().Message().c_str());
    return 1;
  }

  std::unique_ptr<NetlinkSource> kernel;
  if (options.kernel) {
    auto opened = NetlinkSource::Open({});
    if (!opened) {
      fprintf(stderr, "vdevadm monitor: %s\n", opened.error().Message().c_str());
      return 1;
    }
    kernel = std::move(*opened);
  }

  UniqueFd udev;
  if (options.udev) {
    auto subscribed = SubscribeToEvents(RootPaths::FromEnvironment().run, kSubscribeTimeoutMs);
    if (subscribed) {
      udev = std::move(*subscribed);
    } else {
      int code = subscribed.error().code;
      bool no_daemon = code == ENOENT || code == ECONNREFUSED;
      fprintf(stderr, "vdevadm monitor: %s%s\n", no_daemon ? "vdevd is not running: " : "",
              subscribed.error().Message().c_str());
      // Kernel events alone are still worth printing; with nothing to print, give up.
      if (!kernel) return 1;
    }
  }

  printf("monitor will print the received events for:\n");
  if (options.udev) printf("UDEV - the event which udev sends out after rule processing\n");
  if (options.kernel) printf("KERNEL - the kernel uevent\n");
  printf("\n");
  fflush(stdout);

  for (;;) {
    pollfd fds[3] = {{signals->get(), POLLIN, 0},
                     {kernel ? kernel->fd() : -1, POLLIN, 0},
                     {udev.get(), POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "vdevadm monitor: poll: %s\n", strerror(errno));
      return 1;
    }
    if (fds[0].revents) return 0;  // SIGINT or SIGTERM
    if (fds[1].revents) {
      auto drained = kernel->Drain([&](Uevent&& event) { PrintEvent(options, "KERNEL", event); });
      if (drained.overflowed)
        fprintf(stderr, "vdevadm monitor: kernel events were lost (receive buffer overflow)\n");
    }
    if (fds[2].revents && !ReadUdevEvents(options, udev.get())) {
      udev.reset();
      if (!kernel) return 1;
    }
  }
}

}  // namespace

int RunMonitor(int argc, char** argv) {
  static const option kOptions[] = {
      {"kernel", no_argument, nullptr, 'k'},
      {"udev", no_argument, nullptr, 'u'},
      {"property", no_argument, nullptr, 'p'},
      {"environment", no_argument, nullptr, 'e'},  // older udevadm spelling of --property
      {"subsystem-match", required_argument, nullptr, 's'},
      {"tag-match", required_argument, nullptr, 't'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  MonitorOptions options;
  optind = 0;
  opterr = 0;
  for (;;) {
    int option = getopt_long(argc, argv, ":kupes:t:Vh", kOptions, nullptr);
    if (option == -1) break;
    switch (option) {
      case 'k':
        options.kernel = true;
        break;
      case 'u':
        options.udev = true;
        break;
      case 'p':
      case 'e':
        options.properties = true;
        break;
      case 's': {
        std::string_view text = optarg;
        size_t slash = text.find('/');
        SubsystemMatch match;
        match.subsystem = std::string(text.substr(0, slash));
        if (slash != std::string_view::npos) match.devtype = std::string(text.substr(slash + 1));
        options.subsystems.push_back(std::move(match));
        break;
      }
      case 't':
        options.tags.emplace_back(optarg);
        break;
      case 'V':
        printf("%s\n", VDEV_VERSION);
        return 0;
      case 'h':
        PrintUsage(stdout);
        return 0;
      default:
        return ReportBadOption("monitor", option, argv);
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vdevadm monitor: extraneous argument '%s'\n", argv[optind]);
    return 1;
  }
  if (!options.kernel && !options.udev) options.kernel = options.udev = true;
  return Monitor(options);
}

}  // namespace vdev
