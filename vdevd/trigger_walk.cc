#include "trigger_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "coldplug.h"
#include "common/device_info.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/uevent.h"
#include "common/unique_fd.h"
#include "vdevadm/option_values.h"

namespace vdev {
namespace {

constexpr char kUsage[] =
    "Usage: vdevadm trigger [OPTIONS] [DEVICE...]\n"
    "Ask the kernel to send the events of devices (or subsystems) again.\n"
    "\n"
    "  -h --help                         this text\n"
    "  -V --version                      print the version\n"
    "  -v --verbose                      print the path of every device triggered\n"
    "  -n --dry-run                      select, but write nothing\n"
    "  -q --quiet                        do not report failed writes\n"
    "  -t --type=TYPE                    devices (default), subsystems (buses, drivers,\n"
    "                                    modules) or all\n"
    "  -c --action=ACTION|help           add, remove, change (default), move, online,\n"
    "                                    offline, bind, unbind; 'help' lists them\n"
    "  -s --subsystem-match=SUBSYSTEM    only devices of a matching subsystem\n"
    "  -S --subsystem-nomatch=SUBSYSTEM  not devices of a matching subsystem\n"
    "  -a --attr-match=FILE[=VALUE]      only devices with a matching attribute\n"
    "  -A --attr-nomatch=FILE[=VALUE]    not devices with a matching attribute\n"
    "  -p --property-match=KEY[=VALUE]   only devices with a matching property\n"
    "  -g --tag-match=TAG                only devices with this tag\n"
    "  -y --sysname-match=NAME           only devices with a matching kernel name\n"
    "     --name-match=NAME              the device with this node and the devices below it\n"
    "  -b --parent-match=SYSPATH         the device at this path and the devices below it\n"
    "     --initialized-match            only devices vdevd has handled (with a record)\n"
    "     --initialized-nomatch          only devices vdevd has not handled yet\n"
    "  -w --settle                       wait until vdevd has handled the events (120 s)\n"
    "     --wait-daemon[=SECONDS]        wait for vdevd to answer first (default 5 s)\n"
    "     --uuid                         tag each event with a UUID and print it\n"
    "     --prioritized-subsystem=SUBSYSTEM[,SUBSYSTEM...]\n"
    "                                    trigger the devices of these subsystems first\n"
    "\n"
    "DEVICE is a node (/dev/sda), a syspath (/sys/class/net/lo), a devpath or a device id\n"
    "(b8:0); it selects that device and everything below it. Patterns are shell globs.\n"
    "Exit status: 0, or 1 when an argument is wrong, a write failed or --settle timed out.\n";

enum LongOnly {
  kOptionNameMatch = 0x100,
  kOptionWaitDaemon,
  kOptionUuid,
  kOptionPrioritizedSubsystem,
  kOptionInitializedMatch,
  kOptionInitializedNomatch,
};

const option kOptions[] = {
    {"verbose", no_argument, nullptr, 'v'},
    {"dry-run", no_argument, nullptr, 'n'},
    {"quiet", no_argument, nullptr, 'q'},
    {"type", required_argument, nullptr, 't'},
    {"action", required_argument, nullptr, 'c'},
    {"subsystem-match", required_argument, nullptr, 's'},
    {"subsystem-nomatch", required_argument, nullptr, 'S'},
    {"attr-match", required_argument, nullptr, 'a'},
    {"attr-nomatch", required_argument, nullptr, 'A'},
    {"property-match", required_argument, nullptr, 'p'},
    {"tag-match", required_argument, nullptr, 'g'},
    {"sysname-match", required_argument, nullptr, 'y'},
    {"name-match", required_argument, nullptr, kOptionNameMatch},
    {"parent-match", required_argument, nullptr, 'b'},
    {"initialized-match", no_argument, nullptr, kOptionInitializedMatch},
    {"initialized-nomatch", no_argument, nullptr, kOptionInitializedNomatch},
    {"settle", no_argument, nullptr, 'w'},
    {"wait-daemon", optional_argument, nullptr, kOptionWaitDaemon},
    {"version", no_argument, nullptr, 'V'},
    {"help", no_argument, nullptr, 'h'},
    {"uuid", no_argument, nullptr, kOptionUuid},
    {"prioritized-subsystem", required_argument, nullptr, kOptionPrioritizedSubsystem},
    {nullptr, 0, nullptr, 0},
};

// udevadm's --settle has no limit; a boot script stuck forever is worse than one that goes
// on after two minutes (the default of `udevadm settle`).
constexpr double kSettleTimeoutSeconds = 120;
// udevadm's default for --wait-daemon.
constexpr double kWaitDaemonSeconds = 5;

constexpr const char* kActions[] = {"add",    "remove",  "change", "move",
                                    "online", "offline", "bind",   "unbind"};

tl::unexpected<Error> Usage(std::string message) { return Fail(EINVAL, std::move(message)); }

// "KEY=VALUE" or just "KEY".
std::pair<std::string, std::optional<std::string>> ParseKeyValue(std::string_view text) {
  size_t equals = text.find('=');
  if (equals == std::string_view::npos) return {std::string(text), std::nullopt};
  return {std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

bool Glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool AnyGlob(const std::vector<std::string>& patterns, const std::string& text) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return Glob(pattern, text); });
}

std::string SysnameOf(std::string_view devpath) {
  std::string name(BaseName(devpath));
  std::replace(name.begin(), name.end(), '!', '/');
  return name;
}

bool IsBelow(const std::string& devpath, const std::string& parent) {
  return devpath == parent ||
         (devpath.starts_with(parent) && devpath.size() > parent.size() &&
          devpath[parent.size()] == '/');
}

// sd-device's attribute match: the attribute must be readable and, when a value is
// given, match it as a glob.
bool AttributeMatches(int sysfs_fd, const std::string& devpath,
                      const DeviceMatch::AttributeMatch& match) {
  if (!IsValidDevpath("/" + match.first)) return false;  // may not climb out of the device
  auto value = ReadAttributeAt(sysfs_fd, devpath.substr(1) + "/" + match.first);
  if (!value) return false;
  return !match.second || Glob(*match.second, *value);
}

// Names the directory entries of dir (below dirfd) that have a uevent file.
std::vector<std::string> ListWithUevent(int dirfd, const std::string& dir) {
  std::vector<std::string> names;
  auto dir_fd = OpenDirAt(dirfd, dir);
  if (!dir_fd) return names;
  DIR* listing = fdopendir(dir_fd->get());
  if (!listing) return names;
  dir_fd->release();
  std::unique_ptr<DIR, int (*)(DIR*)> closer(listing, closedir);
  while (const dirent* entry = readdir(listing)) {
    std::string_view name = entry->d_name;
    if (name.starts_with('.')) continue;
    // bus/*/uevent is write-only: presence, not readability, is what counts.
    std::string uevent = dir + "/" + std::string(name) + "/uevent";
    if (faccessat(dirfd, uevent.c_str(), F_OK, 0) == 0) names.emplace_back(name);
  }
  return names;
}

// The subsystem of a device from its link, as the walk does not report it.
std::string SubsystemOf(int sysfs_fd, const std::string& devpath) {
  auto link = ReadLinkAt(sysfs_fd, devpath.substr(1) + "/subsystem");
  return link ? std::string(BaseName(*link)) : std::string();
}

// systemd's path_compare: component by component, so a parent sorts before its children
// and "a/b" before "a-b" (which plain strcmp would reverse).
int ComparePaths(std::string_view a, std::string_view b) {
  for (;;) {
    while (a.starts_with('/')) a.remove_prefix(1);
    while (b.starts_with('/')) b.remove_prefix(1);
    if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? -1 : 1);
    std::string_view head_a = a.substr(0, a.find('/'));
    std::string_view head_b = b.substr(0, b.find('/'));
    if (int order = head_a.compare(head_b); order != 0) return order < 0 ? -1 : 1;
    a.remove_prefix(head_a.size());
    b.remove_prefix(head_b.size());
  }
}

// md and dm devices are assembled from other block devices: those go first.
bool IsLateBlock(std::string_view devpath) {
  return devpath.find("/block/md") != std::string_view::npos ||
         devpath.find("/block/dm-") != std::string_view::npos;
}

// A sound card's control device goes after the card's other devices: applications take
// the control node's ACL change as the sign that the whole card is ready.
int CompareSound(std::string_view a, std::string_view b) {
  constexpr std::string_view kCard = "/sound/card";
  size_t card = a.find(kCard);
  if (card == std::string_view::npos) return 0;
  size_t end = a.find('/', card + kCard.size());
  if (end == std::string_view::npos) return 0;
  if (b.substr(0, end) != a.substr(0, end)) return 0;
  bool control_a = a.substr(end).starts_with("/controlC");
  bool control_b = b.substr(end).starts_with("/controlC");
  return control_a == control_b ? 0 : (control_a ? 1 : -1);
}

// udevadm's device order (sd-device-enumerator's device_compare).
bool TriggerOrder(const TriggerEntry& a, const TriggerEntry& b) {
  if (int sound = CompareSound(a.devpath, b.devpath); sound != 0) return sound < 0;
  bool late_a = IsLateBlock(a.devpath), late_b = IsLateBlock(b.devpath);
  if (late_a != late_b) return late_b;
  return ComparePaths(a.devpath, b.devpath) < 0;
}

// The kernel refuses "ACTION UUID" with EINVAL before Linux 4.13.
bool IsUuidRefusal(const Error& error) { return error.code == EINVAL; }

}  // namespace

Result<TriggerOptions> ParseTriggerOptions(int argc, char** argv) {
  TriggerOptions options;
  optind = 0;  // glibc: a full re-initialisation, so the parser can run more than once
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":vnqt:c:s:S:a:A:p:g:y:b:wVh", kOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'c':
        if (strcmp(optarg, "help") == 0) {
          // udevadm lists the actions and stops at once, whatever follows.
          options.list_actions = true;
          return options;
        }
        if (!IsKnownAction(optarg)) return Usage("unknown action '" + std::string(optarg) + "'");
        options.action = optarg;
        break;
      case 't':
        if (strcmp(optarg, "devices") == 0) {
          options.type = TriggerType::kDevices;
        } else if (strcmp(optarg, "subsystems") == 0) {
          options.type = TriggerType::kSubsystems;
        } else if (strcmp(optarg, "all") == 0) {
          options.type = TriggerType::kAll;
        } else {
          return Usage("unknown type --type=" + std::string(optarg));
        }
        break;
      case 's': options.match.subsystems.emplace_back(optarg); break;
      case 'S': options.match.not_subsystems.emplace_back(optarg); break;
      case 'y': options.match.sysnames.emplace_back(optarg); break;
      case 'a': options.match.attributes.push_back(ParseKeyValue(optarg)); break;
      case 'A': options.match.not_attributes.push_back(ParseKeyValue(optarg)); break;
      case 'p': options.match.properties.push_back(ParseKeyValue(optarg)); break;
      case 'g': options.match.tags.emplace_back(optarg); break;
      case kOptionNameMatch: options.name_matches.emplace_back(optarg); break;
      case 'b': options.parent_matches.emplace_back(optarg); break;
      case kOptionInitializedMatch: options.match.initialized = true; break;
      case kOptionInitializedNomatch: options.match.initialized = false; break;
      case 'n': options.dry_run = true; break;
      case 'v': options.verbose = true; break;
      case 'q': options.quiet = true; break;
      case 'w': options.settle = true; break;
      case kOptionUuid: options.uuid = true; break;
      case kOptionWaitDaemon:
        options.wait_daemon = kWaitDaemonSeconds;
        if (optarg) {
          // udevadm reports a bad value and keeps its default.
          if (auto seconds = ParseTimespan(optarg)) {
            options.wait_daemon = *seconds;
          } else {
            LogWarning("vdevadm trigger: invalid timeout '%s', using %g s, ignoring", optarg,
                       kWaitDaemonSeconds);
          }
        }
        break;
      case kOptionPrioritizedSubsystem:
        for (auto& subsystem : SplitCommas(optarg))
          options.prioritized_subsystems.push_back(std::move(subsystem));
        break;
      case 'V': options.version = true; return options;
      case 'h': options.help = true; return options;
      case ':': return Usage("option '" + std::string(argv[optind - 1]) + "' needs an argument");
      default:
        if (optopt != 0) return Usage("unknown option '-" + std::string(1, char(optopt)) + "'");
        return Usage("unknown option '" + std::string(argv[optind - 1]) + "'");
    }
  }
  for (int i = optind; i < argc; ++i) options.devices.emplace_back(argv[i]);
  return options;
}

Result<std::vector<TriggerEntry>> ListSubsystemEntries(int sysfs_fd) {
  std::vector<TriggerEntry> entries;
  for (const auto& bus : ListWithUevent(sysfs_fd, "bus")) {
    entries.push_back({"/bus/" + bus, "subsystem"});
    for (const auto& driver : ListWithUevent(sysfs_fd, "bus/" + bus + "/drivers"))
      entries.push_back({"/bus/" + bus + "/drivers/" + driver, "drivers"});
  }
  // Only loadable modules have a uevent file; built-in ones are skipped by the listing.
  for (const auto& module : ListWithUevent(sysfs_fd, "module"))
    entries.push_back({"/module/" + module, "module"});
  std::sort(entries.begin(), entries.end(),
            [](const TriggerEntry& a, const TriggerEntry& b) { return a.devpath < b.devpath; });
  return entries;
}

bool MatchesEntry(const Roots& roots, const Database* database, const TriggerEntry& entry,
                  const DeviceMatch& match) {
  // Cheap matches first: most entries are decided by their path and subsystem alone.
  if (!match.parents.empty() &&
      std::none_of(match.parents.begin(), match.parents.end(),
                   [&](const std::string& parent) { return IsBelow(entry.devpath, parent); }))
    return false;
  if (AnyGlob(match.not_subsystems, entry.subsystem)) return false;
  if (!match.subsystems.empty() && !AnyGlob(match.subsystems, entry.subsystem)) return false;
  if (!match.sysnames.empty() && !AnyGlob(match.sysnames, SysnameOf(entry.devpath))) return false;
  for (const auto& attribute : match.attributes)
    if (!AttributeMatches(roots.sysfs(), entry.devpath, attribute)) return false;
  for (const auto& attribute : match.not_attributes)
    if (AttributeMatches(roots.sysfs(), entry.devpath, attribute)) return false;
  if (match.properties.empty() && match.tags.empty() && !match.initialized) return true;

  // Buses, drivers and modules have no readable uevent file and no record: only their
  // DEVPATH and SUBSYSTEM can match.
  Uevent properties;
  std::vector<std::string> tags;
  bool initialized = false;
  if (auto info = LoadDeviceInfo(roots.sysfs(), database, roots.paths().dev, entry.devpath)) {
    properties = info->properties;
    tags = info->tags;
    initialized = info->initialized;
  } else {
    properties.Set("DEVPATH", entry.devpath);
    properties.Set("SUBSYSTEM", entry.subsystem);
  }
  if (match.initialized && *match.initialized != initialized) return false;
  for (const auto& tag : match.tags)
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) return false;
  if (match.properties.empty()) return true;
  return std::any_of(match.properties.begin(), match.properties.end(), [&](const auto& wanted) {
    const auto& list = properties.properties();
    return std::any_of(list.begin(), list.end(), [&](const Property& property) {
      return Glob(wanted.first, property.first) &&
             (!wanted.second || Glob(*wanted.second, property.second));
    });
  });
}

void SortTriggerEntries(std::vector<TriggerEntry>& entries,
                        const std::vector<std::string>& prioritized_subsystems) {
  std::vector<TriggerEntry> sorted;
  sorted.reserve(entries.size());
  std::vector<bool> taken(entries.size(), false);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < entries.size(); ++i) index.emplace(entries[i].devpath, i);
  for (const auto& subsystem : prioritized_subsystems) {
    size_t group_start = sorted.size();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (taken[i] || entries[i].subsystem != subsystem) continue;
      // The device's selected parents come along, so that they still go first.
      std::string_view path = entries[i].devpath;
      for (size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0;
           slash = path.rfind('/', slash - 1)) {
        auto parent = index.find(std::string(path.substr(0, slash)));
        if (parent != index.end() && !taken[parent->second]) {
          taken[parent->second] = true;
          sorted.push_back(entries[parent->second]);
        }
      }
      taken[i] = true;
      sorted.push_back(entries[i]);
    }
    std::sort(sorted.begin() + group_start, sorted.end(), TriggerOrder);
  }
  size_t rest_start = sorted.size();
  for (size_t i = 0; i < entries.size(); ++i)
    if (!taken[i]) sorted.push_back(std::move(entries[i]));
  std::sort(sorted.begin() + rest_start, sorted.end(), TriggerOrder);
  entries = std::move(sorted);
}

Result<std::vector<TriggerEntry>> SelectTriggerEntries(
    const Roots& roots, TriggerType type, const DeviceMatch& match,
    const std::vector<std::string>& prioritized_subsystems) {
  auto database = Database::Open(roots.run(), false);
  const Database* records = database ? &*database : nullptr;
  std::vector<TriggerEntry> selected;
  if (type != TriggerType::kDevices) {
    auto entries = ListSubsystemEntries(roots.sysfs());
    if (!entries) return tl::unexpected(entries.error());
    for (auto& entry : *entries)
      if (MatchesEntry(roots, records, entry, match)) selected.push_back(std::move(entry));
  }
  if (type != TriggerType::kSubsystems) {
    auto devpaths = ListDevpaths(roots.sysfs());
    if (!devpaths) return tl::unexpected(devpaths.error());
    for (auto& devpath : *devpaths) {
      TriggerEntry entry{std::move(devpath), {}};
      entry.subsystem = SubsystemOf(roots.sysfs(), entry.devpath);
      if (MatchesEntry(roots, records, entry, match)) selected.push_back(std::move(entry));
    }
  }
  SortTriggerEntries(selected, prioritized_subsystems);
  return selected;
}

Status WriteUevent(int sysfs_fd, std::string_view devpath, std::string_view action,
                   std::string_view uuid) {
  if (!IsValidDevpath(devpath)) return Fail(EINVAL, "invalid devpath");
  std::string path = std::string(devpath.substr(1)) + "/uevent";
  std::string text(action);
  if (!uuid.empty()) {
    text += ' ';
    text += uuid;
  }
  // O_TRUNC is what a shell's "echo add > uevent" does; sysfs ignores it, and a plain
  // file (a test's fake tree) ends up holding just what was written.
  UniqueFd fd(openat(sysfs_fd, path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return FailErrno("open " + path);
  ssize_t written;
  do {
    written = write(fd.get(), text.data(), text.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) return FailErrno("write " + path);
  if (static_cast<size_t>(written) != text.size()) return Fail(EIO, "short write to " + path);
  return Ok();
}

Result<std::string> RandomUuid() {
  uint8_t bytes[16];
  size_t filled = 0;
  while (filled < sizeof(bytes)) {
    ssize_t got = getrandom(bytes + filled, sizeof(bytes) - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return FailErrno("getrandom");
    }
    filled += static_cast<size_t>(got);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char text[37];
  snprintf(text, sizeof(text),
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
           bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
           bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return std::string(text);
}

int TriggerMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err,
                TriggerDaemon& daemon) {
  auto parsed = ParseTriggerOptions(argc, argv);
  if (!parsed) {
    fprintf(err, "vdevadm trigger: %s\nTry 'vdevadm trigger --help'.\n",
            parsed.error().context.c_str());
    return 1;
  }
  const TriggerOptions& options = *parsed;
  if (options.help) {
    fputs(kUsage, out);
    return 0;
  }
  if (options.version) {
    fprintf(out, "%s\n", VDEV_VERSION);
    return 0;
  }
  if (options.list_actions) {
    for (const char* action : kActions) fprintf(out, "%s\n", action);
    return 0;
  }
  if (options.wait_daemon) {
    if (auto running = daemon.WaitUntilRunning(*options.wait_daemon); !running) {
      fprintf(err, "vdevadm trigger: vdevd did not answer: %s\n",
              running.error().Message().c_str());
      return 1;
    }
  }
  auto roots = Roots::Open(paths, false);
  if (!roots) {
    fprintf(err, "vdevadm trigger: %s\n", roots.error().Message().c_str());
    return 1;
  }

  DeviceMatch match = options.match;
  auto add_parent = [&](const std::string& text, Result<std::string> devpath) {
    if (!devpath) {
      if (devpath.error().code == ENOENT)
        fprintf(err, "vdevadm trigger: device '%s' not found\n", text.c_str());
      else
        fprintf(err, "vdevadm trigger: device '%s': %s\n", text.c_str(),
                devpath.error().Message().c_str());
      return false;
    }
    match.parents.push_back(std::move(*devpath));
    return true;
  };
  for (const auto& path : options.parent_matches) {
    std::string absolute = path.starts_with('/') ? path : "/" + path;
    if (!add_parent(path, DevpathFromSyspath(roots->sysfs(), paths.sysfs, absolute))) return 1;
  }
  for (const auto& name : options.name_matches) {
    auto relative = NodeNameRelative(name, paths.dev);
    Result<std::string> devpath =
        relative ? DevpathFromNode(roots->dev(), roots->sysfs(), *relative)
                 : Fail(EINVAL, "'" + name + "' is not a device node name");
    if (!add_parent(name, std::move(devpath))) return 1;
  }
  for (const auto& device : options.devices)
    if (!add_parent(device, ResolveDeviceArgument(*roots, device))) return 1;

  auto entries = SelectTriggerEntries(*roots, options.type, match, options.prioritized_subsystems);
  if (!entries) {
    fprintf(err, "vdevadm trigger: %s\n", entries.error().Message().c_str());
    return 1;
  }

  // The daemon is watched before the first write: an event processed while the walk goes
  // on must not be missed.
  bool settle = options.settle && !options.dry_run;
  if (settle) {
    if (auto watching = daemon.Watch(); !watching) {
      int code = watching.error().code;
      if (code != ENOENT && code != ECONNREFUSED) {
        fprintf(err, "vdevadm trigger: %s\n", watching.error().Message().c_str());
        return 1;
      }
      // Like `settle`: with no daemon nothing is queued anywhere.
      LogDebug("vdevadm trigger: no vdevd is running, not settling");
      settle = false;
    }
  }

  int status = 0;
  // With --settle the events are tagged, so that ours are recognised (as udevadm does).
  bool tag_events = options.uuid || settle;
  std::vector<TriggeredEvent> triggered;
  for (const auto& entry : *entries) {
    if (options.verbose) {
      fprintf(out, "%s\n", JoinRootPath(paths.sysfs, entry.devpath.substr(1)).c_str());
      fflush(out);
    }
    if (options.dry_run) continue;
    std::string uuid;
    if (tag_events) {
      auto random = RandomUuid();
      if (!random) {
        fprintf(err, "vdevadm trigger: %s\n", random.error().Message().c_str());
        return 1;
      }
      uuid = std::move(*random);
    }
    auto written = WriteUevent(roots->sysfs(), entry.devpath, options.action, uuid);
    if (!written && !uuid.empty() && !options.uuid && IsUuidRefusal(written.error())) {
      // A kernel older than 4.13 takes no UUID; --settle then waits for the queue only.
      uuid.clear();
      tag_events = false;
      written = WriteUevent(roots->sysfs(), entry.devpath, options.action);
    }
    if (written) {
      if (options.uuid) {
        fprintf(out, "%s\n", uuid.c_str());
        fflush(out);
      }
      if (settle) triggered.push_back({entry.devpath, uuid});
      continue;
    }
    int code = written.error().code;
    // ENOENT: the device went away since the walk. ENODEV: some drivers refuse uevent
    // writes (udevadm only warns). Neither fails the command.
    bool ignored = code == ENOENT || code == ENODEV;
    if (!options.quiet && code != ENOENT) {
      fprintf(err, "vdevadm trigger: cannot write '%s' to %s/uevent: %s%s\n",
              options.action.c_str(), entry.devpath.c_str(), strerror(code),
              ignored ? ", ignoring" : "");
    }
    if (ignored) continue;
    status = 1;
    // A read-only sysfs fails every write the same way.
    if (code == EROFS) return 1;
  }
  if (status != 0 || !settle || triggered.empty()) return status;

  auto processed = [&](const TriggeredEvent& event) {
    if (options.verbose)
      fprintf(out, "settle %s\n", JoinRootPath(paths.sysfs, event.devpath.substr(1)).c_str());
    if (options.uuid) fprintf(out, "settle %s\n", event.uuid.c_str());
    fflush(out);
  };
  if (auto waited = daemon.WaitForEvents(std::move(triggered), kSettleTimeoutSeconds, processed);
      !waited) {
    if (waited.error().code == ETIMEDOUT)
      fprintf(err, "vdevadm trigger: the events were not processed within %g s\n",
              kSettleTimeoutSeconds);
    else
      fprintf(err, "vdevadm trigger: %s\n", waited.error().Message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace vdev
