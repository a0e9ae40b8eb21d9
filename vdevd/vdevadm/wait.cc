// `vdevadm wait`: waits until devices named by their node or link (/dev/...) or their
// syspath (/sys/...) exist and vdevd has handled them (or exist at all, or are gone), and
// with --settle until vdevd's queue is empty too. Nothing is polled: inotify on the dev root
// and on the database directory, and the kernel's uevents for syspaths, wake it up.
#include <getopt.h>
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
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/database.h"
#include "common/device_info.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/roots.h"
#include "common/uevent.h"
#include "common/unique_fd.h"
#include "netlink_source.h"
#include "vdevadm/commands.h"
#include "vdevadm/option_values.h"

namespace vdev {
namespace {

enum class WaitUntil { kAdded, kInitialized, kRemoved };

constexpr uint32_t kDirEvents = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB |
                                IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
// The kernel's uevents only wake the waiter up; a small buffer is plenty (a lost event is
// noticed as an overflow and everything is checked again).
constexpr size_t kNetlinkBuffer = 1 << 20;

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm wait [OPTIONS] DEVICE...\n"
          "Wait for devices or their links to appear and be handled by vdevd, or to go.\n\n"
          "  -h --help             show this help\n"
          "  -V --version          print the version\n"
          "  -t --timeout=SECONDS  give up after SECONDS (default: wait forever)\n"
          "     --initialized=BOOL yes (default): until vdevd has handled the devices;\n"
          "                        no: until they exist\n"
          "     --removed          until the devices are gone\n"
          "     --settle           then also until vdevd's queue is empty\n\n"
          "DEVICE is a path below /dev (a node or a link such as /dev/disk/by-diskseq/5) or\n"
          "below /sys. Exit status: 0, or 1 (also on timeout).\n");
}

int64_t MonotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

std::optional<bool> ParseBoolean(std::string_view text) {
  for (std::string_view yes : {"1", "yes", "y", "true", "t", "on"})
    if (text == yes) return true;
  for (std::string_view no : {"0", "no", "n", "false", "f", "off"})
    if (text == no) return false;
  return std::nullopt;
}

struct Target {
  std::string argument;      // as given
  bool in_dev = false;       // below the dev root, else below the sysfs root
  std::string relative;      // below that root
  std::string devpath;       // of the device it was last seen as
  bool remove_seen = false;  // a kernel "remove" for devpath arrived
};

class Waiter {
 public:
  Waiter(const Roots& roots, WaitUntil until) : roots_(roots), until_(until) {}

  [[nodiscard]] Status Add(const std::string& argument) {
    Target target;
    target.argument = argument;
    const RootPaths& paths = roots_.paths();
    if (auto below = Below(argument, paths.dev, "/dev")) {
      target.in_dev = true;
      target.relative = *below;
    } else if (auto below_sys = Below(argument, paths.sysfs, "/sys")) {
      target.relative = *below_sys;
    } else {
      return Fail(EINVAL, "'" + argument + "' does not start with /dev/ or /sys/");
    }
    if (target.relative.empty() || !IsValidDevpath("/" + target.relative))
      return Fail(EINVAL, "'" + argument + "' names no device");
    targets_.push_back(std::move(target));
    return Ok();
  }

  // Opens the wake-up sources. ENOENT-free: a root that does not exist yet is watched
  // through its nearest existing parent.
  [[nodiscard]] Status Open() {
    inotify_.reset(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!inotify_) return FailErrno("inotify_init1");
    bool sysfs_targets = std::any_of(targets_.begin(), targets_.end(),
                                     [](const Target& target) { return !target.in_dev; });
    if (sysfs_targets) {
      // sysfs does not report new directories to inotify; the kernel's events do.
      NetlinkSource::Options options;
      options.receive_buffer = kNetlinkBuffer;
      auto netlink = NetlinkSource::Open(options);
      if (!netlink) return tl::unexpected(netlink.error());
      netlink_ = std::move(*netlink);
    }
    return Ok();
  }

  // Returns once every target is in the wanted state; ETIMEDOUT at deadline_ms
  // (INT64_MAX: never).
  [[nodiscard]] Status Wait(int64_t deadline_ms) {
    for (;;) {
      // Watches first, then the check: whatever changes after the check wakes us.
      AddWatches();
      if (std::all_of(targets_.begin(), targets_.end(),
                      [this](Target& target) { return Satisfied(target); }))
        return Ok();
      int timeout = -1;
      if (deadline_ms != INT64_MAX)
        timeout = static_cast<int>(std::clamp<int64_t>(deadline_ms - MonotonicMs(), 0, INT_MAX));
      if (timeout == 0) return Fail(ETIMEDOUT, "waiting for the devices");
      pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {netlink_ ? netlink_->fd() : -1, POLLIN, 0}};
      int ready = poll(fds, 2, timeout);
      if (ready < 0 && errno != EINTR) return FailErrno("poll");
      if (fds[0].revents) {
        char buffer[8192];
        while (read(inotify_.get(), buffer, sizeof(buffer)) > 0) {
        }
      }
      if (fds[1].revents) {
        netlink_->Drain([this](Uevent&& event) { Note(event); });
      }
    }
  }

 private:
  static std::optional<std::string> Below(std::string_view path, std::string_view root,
                                          std::string_view default_root) {
    for (std::string_view prefix : {root, default_root}) {
      if (prefix.empty() || !path.starts_with(prefix)) continue;
      std::string_view rest = path.substr(prefix.size());
      if (!prefix.ends_with('/')) {
        if (!rest.starts_with('/')) continue;
        rest.remove_prefix(1);
      }
      while (rest.ends_with('/')) rest.remove_suffix(1);
      return std::string(rest);
    }
    return std::nullopt;
  }

  // Watches root_path and each existing directory on the way down to the target's parent.
  void WatchPath(const std::string& root_path, std::string_view relative_dir) {
    std::string path = root_path;
    inotify_add_watch(inotify_.get(), path.c_str(), kDirEvents);
    size_t pos = 0;
    while (pos < relative_dir.size()) {
      size_t slash = relative_dir.find('/', pos);
      if (slash == std::string_view::npos) slash = relative_dir.size();
      path += "/";
      path += relative_dir.substr(pos, slash - pos);
      if (inotify_add_watch(inotify_.get(), path.c_str(),
                            kDirEvents | IN_ONLYDIR | IN_DONT_FOLLOW) < 0)
        return;
      pos = slash + 1;
    }
  }

  void AddWatches() {
    const RootPaths& paths = roots_.paths();
    for (const auto& target : targets_) {
      if (!target.in_dev) {
        // The kernel's sysfs reports nothing to inotify (its uevents do); a sysfs tree
        // that is a plain directory, as in tests, does.
        // The device's own directory too: a plain tree gets its uevent file after it.
        WatchPath(paths.sysfs, target.relative);
        continue;
      }
      WatchPath(paths.dev, std::string(DirName(target.relative)));
      // A link's node may be made after the link, and in another directory.
      if (auto node = LinkTarget(target.relative))
        WatchPath(paths.dev, std::string(DirName(*node)));
    }
    // Records are written to a temporary name and renamed into place.
    if (until_ == WaitUntil::kInitialized) WatchPath(paths.run, "udev/data");
  }

  // Where the symlink at relative (below the dev root) points, below the dev root; nullopt
  // for no link or one that leaves the dev root.
  std::optional<std::string> LinkTarget(const std::string& relative) {
    auto target = ReadLinkAt(roots_.dev(), relative);
    if (!target || target->starts_with('/')) return std::nullopt;
    std::vector<std::string_view> parts;
    std::string joined = std::string(DirName(relative)) + "/" + *target;
    std::string_view rest = joined;
    while (!rest.empty()) {
      size_t slash = rest.find('/');
      std::string_view part = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (parts.empty()) return std::nullopt;
        parts.pop_back();
      } else {
        parts.push_back(part);
      }
    }
    std::string path;
    for (auto part : parts) {
      if (!path.empty()) path += '/';
      path += part;
    }
    return path;
  }

  void Note(const Uevent& event) {
    for (auto& target : targets_) {
      if (target.devpath.empty() || event.devpath() != target.devpath) continue;
      target.remove_seen = event.action() == "remove";
    }
  }

  // The device's devpath when it exists; nullopt when it does not (yet, or any more).
  std::optional<std::string> Find(const Target& target) {
    Result<std::string> devpath =
        target.in_dev ? DevpathFromNode(roots_.dev(), roots_.sysfs(), target.relative)
                      : CanonicalSysfsPath(roots_.sysfs(), target.relative);
    if (!devpath) return std::nullopt;
    // The kernel announces a removal before its sysfs directory goes.
    if (!target.in_dev && target.remove_seen && *devpath == target.devpath) return std::nullopt;
    if (faccessat(roots_.sysfs(), (devpath->substr(1) + "/uevent").c_str(), F_OK, 0) != 0)
      return std::nullopt;
    return *devpath;
  }

  bool Satisfied(Target& target) {
    auto devpath = Find(target);
    if (devpath && *devpath != target.devpath) {
      target.devpath = *devpath;
      target.remove_seen = false;
    }
    switch (until_) {
      case WaitUntil::kRemoved:
        return !devpath;
      case WaitUntil::kAdded:
        return devpath.has_value();
      case WaitUntil::kInitialized: {
        if (!devpath) return false;
        // Reopened every time: the daemon may create the database only now.
        auto database = Database::Open(roots_.run(), false);
        if (!database) return false;
        auto info = LoadDeviceInfo(roots_.sysfs(), &*database, roots_.paths().dev, *devpath);
        return info && info->initialized;
      }
    }
    return false;
  }

  const Roots& roots_;
  WaitUntil until_;
  std::vector<Target> targets_;
  UniqueFd inotify_;
  std::unique_ptr<NetlinkSource> netlink_;
};

const char* Describe(WaitUntil until) {
  switch (until) {
    case WaitUntil::kAdded:
      return "added";
    case WaitUntil::kInitialized:
      return "initialized";
    case WaitUntil::kRemoved:
      return "removed";
  }
  return "";
}

}  // namespace

int RunWait(int argc, char** argv) {
  enum LongOnly { kOptionInitialized = 0x100, kOptionRemoved, kOptionSettle };
  static const option kOptions[] = {
      {"timeout", required_argument, nullptr, 't'},
      {"initialized", required_argument, nullptr, kOptionInitialized},
      {"removed", no_argument, nullptr, kOptionRemoved},
      {"settle", no_argument, nullptr, kOptionSettle},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  double timeout = std::numeric_limits<double>::infinity();
  WaitUntil until = WaitUntil::kInitialized;
  bool settle = false;
  optind = 0;
  opterr = 0;
  for (;;) {
    int option = getopt_long(argc, argv, ":t:Vh", kOptions, nullptr);
    if (option == -1) break;
    switch (option) {
      case 't':
        if (auto seconds = ParseTimespan(optarg)) {
          timeout = *seconds;
        } else {
          fprintf(stderr, "vdevadm wait: invalid timeout '%s'\n", optarg);
          return 1;
        }
        break;
      case kOptionInitialized:
        if (auto initialized = ParseBoolean(optarg)) {
          until = *initialized ? WaitUntil::kInitialized : WaitUntil::kAdded;
        } else {
          fprintf(stderr, "vdevadm wait: invalid --initialized= value '%s'\n", optarg);
          return 1;
        }
        break;
      case kOptionRemoved:
        until = WaitUntil::kRemoved;
        break;
      case kOptionSettle:
        settle = true;
        break;
      case 'V':
        printf("%s\n", VDEV_VERSION);
        return 0;
      case 'h':
        PrintUsage(stdout);
        return 0;
      default:
        return ReportBadOption("wait", option, argv);
    }
  }
  if (optind >= argc) {
    fprintf(stderr,
            "vdevadm wait: too few arguments: a device is required\n"
            "Try 'vdevadm wait --help'.\n");
    return 1;
  }
  const int64_t deadline =
      std::isinf(timeout)
          ? INT64_MAX
          : MonotonicMs() + static_cast<int64_t>(std::ceil(std::min(timeout, 1e12) * 1000));

  RootPaths paths = RootPaths::FromEnvironment();
  auto roots = Roots::Open(paths, false);
  if (!roots) {
    fprintf(stderr, "vdevadm wait: %s\n", roots.error().Message().c_str());
    return 1;
  }
  Waiter waiter(*roots, until);
  for (int i = optind; i < argc; ++i) {
    if (auto added = waiter.Add(argv[i]); !added) {
      fprintf(stderr, "vdevadm wait: %s\n", added.error().context.c_str());
      return 1;
    }
  }
  if (auto opened = waiter.Open(); !opened) {
    fprintf(stderr, "vdevadm wait: %s\n", opened.error().Message().c_str());
    return 1;
  }
  if (auto waited = waiter.Wait(deadline); !waited) {
    if (waited.error().code == ETIMEDOUT)
      fprintf(stderr, "vdevadm wait: timed out waiting for the devices to be %s\n",
              Describe(until));
    else
      fprintf(stderr, "vdevadm wait: %s\n", waited.error().Message().c_str());
    return 1;
  }
  if (!settle) return 0;
  double left = deadline == INT64_MAX ? std::numeric_limits<double>::infinity()
                                      : std::max<double>(0, (deadline - MonotonicMs()) / 1000.0);
  return Settle(paths, left);
}

}  // namespace vdev
