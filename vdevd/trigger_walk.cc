#include "trigger_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "coldplug.h"
#include "common/device_info.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/uevent.h"
#include "common/unique_fd.h"

namespace vdev {
namespace {

constexpr char kUsage[] =
    "Usage: vdevadm trigger [OPTIONS] [DEVICE...]\n"
    "Ask the kernel to send the events of devices (or subsystems) again.\n"
    "\n"
    "  -c --action=ACTION           add, remove, change (default), move, online, offline,\n"
    "                               bind, unbind; 'help' lists them\n"
    "  -t --type=TYPE               devices (default), subsystems or all\n"
    "  -s --subsystem-match=SUBSYSTEM    only devices of a matching subsystem\n"
    "  -S --subsystem-nomatch=SUBSYSTEM  not devices of a matching subsystem\n"
    "  -y --sysname-match=NAME      only devices with a matching kernel name\n"
    "  -a --attr-match=FILE[=VALUE]      only devices with a matching attribute\n"
    "  -A --attr-nomatch=FILE[=VALUE]    not devices with a matching attribute\n"
    "  -p --property-match=KEY=VALUE     only devices with a matching property\n"
    "  -g --tag-match=TAG           only devices with this tag\n"
    "     --name-match=NAME         the device with this node and the devices below it\n"
    "  -b --parent-match=SYSPATH    the device at this path and the devices below it\n"
    "  -n --dry-run                 select, but write nothing\n"
    "  -v --verbose                 print the path of every device triggered\n"
    "  -q --quiet                   do not report failed writes\n"
    "  -w --settle                  wait until the events are handled\n"
    "  -h --help                    this text\n";

enum LongOnly { kOptionNameMatch = 0x100 };

const option kOptions[] = {
    {"action", required_argument, nullptr, 'c'},
    {"type", required_argument, nullptr, 't'},
    {"subsystem-match", required_argument, nullptr, 's'},
    {"subsystem-nomatch", required_argument, nullptr, 'S'},
    {"sysname-match", required_argument, nullptr, 'y'},
    {"attr-match", required_argument, nullptr, 'a'},
    {"attr-nomatch", required_argument, nullptr, 'A'},
    {"property-match", required_argument, nullptr, 'p'},
    {"tag-match", required_argument, nullptr, 'g'},
    {"name-match", required_argument, nullptr, kOptionNameMatch},
    {"parent-match", required_argument, nullptr, 'b'},
    {"dry-run", no_argument, nullptr, 'n'},
    {"verbose", no_argument, nullptr, 'v'},
    {"quiet", no_argument, nullptr, 'q'},
    {"settle", no_argument, nullptr, 'w'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

// udevadm's default for --settle.
constexpr double kSettleTimeoutSeconds = 120;

constexpr const char* kActions[] = {"add",    "remove",  "change", "move",
                                    "online", "offline", "bind",   "unbind"};

tl::unexpected<Error> Usage(std::string message) { return Fail(EINVAL, std::move(message)); }

DeviceMatch::AttributeMatch ParseAttributeMatch(std::string_view text) {
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

}  // namespace

Result<TriggerOptions> ParseTriggerOptions(int argc, char** argv) {
  TriggerOptions options;
  optind = 0;  // glibc: a full re-initialisation, so the parser can run more than once
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":c:t:s:S:y:a:A:p:g:b:nvqwh", kOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'c':
        if (strcmp(optarg, "help") == 0) {
          options.list_actions = true;
        } else if (!IsKnownAction(optarg)) {
          return Usage("unknown action '" + std::string(optarg) + "'");
        } else {
          options.action = optarg;
        }
        break;
      case 't':
        if (strcmp(optarg, "devices") == 0) {
          options.type = TriggerType::kDevices;
        } else if (strcmp(optarg, "subsystems") == 0) {
          options.type = TriggerType::kSubsystems;
        } else if (strcmp(optarg, "all") == 0) {
          options.type = TriggerType::kAll;
        } else {
          return Usage("unknown type '" + std::string(optarg) + "'");
        }
        break;
      case 's': options.match.subsystems.emplace_back(optarg); break;
      case 'S': options.match.not_subsystems.emplace_back(optarg); break;
      case 'y': options.match.sysnames.emplace_back(optarg); break;
      case 'a': options.match.attributes.push_back(ParseAttributeMatch(optarg)); break;
      case 'A': options.match.not_attributes.push_back(ParseAttributeMatch(optarg)); break;
      case 'p': {
        std::string_view text = optarg;
        size_t equals = text.find('=');
        if (equals == std::string_view::npos)
          return Usage("expected KEY=VALUE instead of '" + std::string(text) + "'");
        options.match.properties.emplace_back(text.substr(0, equals), text.substr(equals + 1));
        break;
      }
      case 'g': options.match.tags.emplace_back(optarg); break;
      case kOptionNameMatch: options.name_matches.emplace_back(optarg); break;
      case 'b': options.parent_matches.emplace_back(optarg); break;
      case 'n': options.dry_run = true; break;
      case 'v': options.verbose = true; break;
      case 'q': options.quiet = true; break;
      case 'w': options.settle = true; break;
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
  if (match.properties.empty() && match.tags.empty()) return true;

  // Buses, drivers and modules have no readable uevent file and no record: only their
  // DEVPATH and SUBSYSTEM can match.
  Uevent properties;
  std::vector<std::string> tags;
  if (auto info = LoadDeviceInfo(roots.sysfs(), database, roots.paths().dev, entry.devpath)) {
    properties = info->properties;
    tags = info->tags;
  } else {
    properties.Set("DEVPATH", entry.devpath);
    properties.Set("SUBSYSTEM", entry.subsystem);
  }
  for (const auto& tag : match.tags)
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) return false;
  if (match.properties.empty()) return true;
  return std::any_of(match.properties.begin(), match.properties.end(), [&](const auto& wanted) {
    const auto& list = properties.properties();
    return std::any_of(list.begin(), list.end(), [&](const Property& property) {
      return Glob(wanted.first, property.first) && Glob(wanted.second, property.second);
    });
  });
}

Result<std::vector<TriggerEntry>> SelectTriggerEntries(const Roots& roots, TriggerType type,
                                                       const DeviceMatch& match) {
  auto database = Database::Open(roots.run(), false);
  const Database* records = database ? &*database : nullptr;
  std::vector<TriggerEntry> selected;
  // Subsystems first: a driver that loads on a bus event may create the devices that the
  // device events then find (and init scripts trigger them in this order too).
  if (type != TriggerType::kDevices) {
    auto entries = ListSubsystemEntries(roots.sysfs());
    if (!entries) return tl::unexpected(entries.error());
    for (auto& entry : *entries)
      if (MatchesEntry(roots, records, entry, match)) selected.push_back(std::move(entry));
  }
  if (type != TriggerType::kSubsystems) {
    // The walk is in pre-order: parents are triggered before their children.
    auto devpaths = ListDevpaths(roots.sysfs());
    if (!devpaths) return tl::unexpected(devpaths.error());
    for (auto& devpath : *devpaths) {
      TriggerEntry entry{std::move(devpath), {}};
      entry.subsystem = SubsystemOf(roots.sysfs(), entry.devpath);
      if (MatchesEntry(roots, records, entry, match)) selected.push_back(std::move(entry));
    }
  }
  return selected;
}

Status WriteUevent(int sysfs_fd, std::string_view devpath, std::string_view action) {
  if (!IsValidDevpath(devpath)) return Fail(EINVAL, "invalid devpath");
  std::string path = std::string(devpath.substr(1)) + "/uevent";
  // O_TRUNC is what a shell's "echo add > uevent" does; sysfs ignores it, and a plain
  // file (a test's fake tree) ends up holding just the action.
  UniqueFd fd(openat(sysfs_fd, path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return FailErrno("open " + path);
  ssize_t written;
  do {
    written = write(fd.get(), action.data(), action.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) return FailErrno("write " + path);
  if (static_cast<size_t>(written) != action.size()) return Fail(EIO, "short write to " + path);
  return Ok();
}

int RunTriggerCommand(const TriggerOptions& options, const RootPaths& paths, FILE* out,
                      FILE* err) {
  if (options.help) {
    fputs(kUsage, out);
    return 0;
  }
  if (options.list_actions) {
    for (const char* action : kActions) fprintf(out, "%s\n", action);
    return 0;
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
  for (const auto& device : options.devices)
    if (!add_parent(device, ResolveDeviceArgument(*roots, device))) return 1;
  for (const auto& name : options.name_matches) {
    auto relative = NodeNameRelative(name, paths.dev);
    Result<std::string> devpath =
        relative ? DevpathFromNode(roots->dev(), roots->sysfs(), *relative)
                 : Fail(EINVAL, "'" + name + "' is not a device node name");
    if (!add_parent(name, std::move(devpath))) return 1;
  }
  for (const auto& path : options.parent_matches) {
    std::string absolute = path.starts_with('/') ? path : "/" + path;
    if (!add_parent(path, DevpathFromSyspath(roots->sysfs(), paths.sysfs, absolute))) return 1;
  }

  auto entries = SelectTriggerEntries(*roots, options.type, match);
  if (!entries) {
    fprintf(err, "vdevadm trigger: %s\n", entries.error().Message().c_str());
    return 1;
  }
  int status = 0;
  for (const auto& entry : *entries) {
    if (options.verbose) {
      fprintf(out, "%s\n", JoinRootPath(paths.sysfs, entry.devpath.substr(1)).c_str());
      fflush(out);
    }
    if (options.dry_run) continue;
    auto written = WriteUevent(roots->sysfs(), entry.devpath, options.action);
    if (written) continue;
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
    if (code == EROFS) break;
  }
  return status;
}

int TriggerMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err,
                const SettleFunction& settle) {
  auto options = ParseTriggerOptions(argc, argv);
  if (!options) {
    fprintf(err, "vdevadm trigger: %s\nTry 'vdevadm trigger --help'.\n",
            options.error().context.c_str());
    return 2;
  }
  int status = RunTriggerCommand(*options, paths, out, err);
  bool triggered = !options->help && !options->list_actions && !options->dry_run;
  if (status == 0 && options->settle && triggered) status = settle(paths, kSettleTimeoutSeconds);
  return status;
}

}  // namespace vdev
