#include "info_format.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "coldplug.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/numbers.h"
#include "common/unique_fd.h"
#include "vdevadm/option_values.h"

namespace vdev {
namespace {

constexpr char kUsage[] =
    "Usage: vdevadm info [OPTIONS] [DEVPATH|FILE|ID...]\n"
    "Query sysfs and the device database for one device or all of them.\n"
    "\n"
    "  -h --help                   this text\n"
    "  -V --version                print the version\n"
    "  -q --query=TYPE             what to show: name (the node), symlink, path (devpath),\n"
    "                              property, all (default)\n"
    "     --property=NAME[,NAME]   only these properties\n"
    "     --value                  only the values of properties and links\n"
    "  -p --path=SYSPATH           the device at this sysfs path or devpath\n"
    "  -n --name=NAME              the device with this node or symlink\n"
    "  -r --root                   names with the dev root's path in front\n"
    "  -a --attribute-walk         the match keys of the device and of each parent\n"
    "  -d --device-id-of-file=FILE MAJOR:MINOR of the file system holding FILE\n"
    "  -x --export                 properties as KEY='VALUE'\n"
    "  -P --export-prefix=PREFIX   properties as PREFIXKEY='VALUE'\n"
    "  -e --export-db              every device's record\n"
    "  -c --cleanup-db             remove the records, tags and link claims (before vdevd\n"
    "                              starts on the real root, after the initramfs)\n"
    "  -w --wait-for-initialization[=SECONDS]\n"
    "                              wait until vdevd has handled the device\n"
    "     --no-pager               accepted; vdevadm never pages\n"
    "\n"
    "A device is a node (/dev/sda, sda, disk/by-id/...), a syspath (/sys/class/net/lo), a\n"
    "devpath (/devices/...) or a device id (b8:0). Exit status: 0, or 1.\n";

enum LongOnly { kOptionProperty = 0x100, kOptionValue, kOptionNoPager };

const option kOptions[] = {
    {"attribute-walk", no_argument, nullptr, 'a'},
    {"cleanup-db", no_argument, nullptr, 'c'},
    {"device-id-of-file", required_argument, nullptr, 'd'},
    {"export", no_argument, nullptr, 'x'},
    {"export-db", no_argument, nullptr, 'e'},
    {"export-prefix", required_argument, nullptr, 'P'},
    {"help", no_argument, nullptr, 'h'},
    {"name", required_argument, nullptr, 'n'},
    {"path", required_argument, nullptr, 'p'},
    {"property", required_argument, nullptr, kOptionProperty},
    {"query", required_argument, nullptr, 'q'},
    {"root", no_argument, nullptr, 'r'},
    {"value", no_argument, nullptr, kOptionValue},
    {"version", no_argument, nullptr, 'V'},
    {"wait-for-initialization", optional_argument, nullptr, 'w'},
    {"no-pager", no_argument, nullptr, kOptionNoPager},
    {nullptr, 0, nullptr, 0},
};

// Attributes the walk does not show: printed as their own keys, or meaningless in a rule.
constexpr std::string_view kSkippedAttributes[] = {"uevent", "dev",       "modalias", "resource",
                                                   "driver", "subsystem", "module"};

tl::unexpected<Error> Usage(std::string message) { return Fail(EINVAL, std::move(message)); }

std::string Name(std::string_view relative, const InfoOptions& options,
                 std::string_view dev_root) {
  return options.root ? JoinRootPath(dev_root, relative) : std::string(relative);
}

bool Wanted(const InfoOptions& options, std::string_view key) {
  if (!options.property_names) return true;
  const auto& names = *options.property_names;
  return std::find(names.begin(), names.end(), key) != names.end();
}

// Loads the device, waiting for its database record when asked to.
Result<DeviceInfo> LoadForQuery(const Roots& roots, const std::string& devpath,
                                const InfoOptions& options) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::time_point::max();
  if (options.wait_for_initialization && *options.wait_for_initialization >= 0) {
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(*options.wait_for_initialization));
  }
  for (;;) {
    // Reopened on every round: the daemon creates the database when it starts.
    auto database = Database::Open(roots.run(), false);
    auto info = LoadDeviceInfo(roots.sysfs(), database ? &*database : nullptr, roots.paths().dev,
                               devpath);
    if (!info || info->initialized || !options.wait_for_initialization) return info;
    if (Clock::now() >= deadline) return Fail(ETIMEDOUT, "wait for initialization");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// The entries of dir (below dirfd) with their types, sorted by name; "." names skipped.
std::vector<std::pair<std::string, unsigned char>> ListDir(int dirfd, const std::string& dir) {
  std::vector<std::pair<std::string, unsigned char>> entries;
  auto dir_fd = OpenDirAt(dirfd, dir, O_NOFOLLOW);
  if (!dir_fd) return entries;
  DIR* listing = fdopendir(dir_fd->get());
  if (!listing) return entries;
  int fd = dir_fd->release();
  std::unique_ptr<DIR, int (*)(DIR*)> closer(listing, closedir);
  while (const dirent* entry = readdir(listing)) {
    if (entry->d_name[0] == '.') continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISDIR(st.st_mode)   ? DT_DIR
             : S_ISREG(st.st_mode) ? DT_REG
             : S_ISLNK(st.st_mode) ? DT_LNK
                                   : DT_UNKNOWN;
    }
    entries.emplace_back(entry->d_name, type);
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

bool IsSkippedAttribute(std::string_view name) {
  return std::find(std::begin(kSkippedAttributes), std::end(kSkippedAttributes), name) !=
         std::end(kSkippedAttributes);
}

// sd-device's attribute list: the files of the device directory and of its subdirectories
// that are no device of their own ("power/control", "queue/rotational"). Links are left
// out: the only ones with a value (driver, subsystem, module) have keys of their own.
void CollectAttributes(int sysfs_fd, const std::string& device_dir, const std::string& prefix,
                       std::vector<std::pair<std::string, std::string>>* attributes) {
  std::string dir = prefix.empty() ? device_dir : device_dir + "/" + prefix;
  if (!prefix.empty() && faccessat(sysfs_fd, (dir + "/uevent").c_str(), F_OK, 0) == 0) return;
  for (const auto& [name, type] : ListDir(sysfs_fd, dir)) {
    std::string attribute = prefix.empty() ? name : prefix + "/" + name;
    if (type == DT_DIR) {
      CollectAttributes(sysfs_fd, device_dir, attribute, attributes);
      continue;
    }
    if (type != DT_REG || IsSkippedAttribute(attribute)) continue;
    struct stat st {};
    std::string path = device_dir + "/" + attribute;
    if (fstatat(sysfs_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if ((st.st_mode & (S_IRUSR | S_IWUSR)) == 0) continue;
    std::string value;
    auto content = (st.st_mode & S_IRUSR) ? ReadFileAt(sysfs_fd, path) : Fail(EPERM, path);
    if (content) {
      value = std::move(*content);
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      // Paths and binary contents are no use in a rule.
      if (value.starts_with('/')) continue;
      if (std::any_of(value.begin(), value.end(),
                      [](char c) { return !isprint(static_cast<unsigned char>(c)); }))
        continue;
    } else if (content.error().code == EPERM || content.error().code == EACCES) {
      value = "(not readable)";
    } else {
      continue;
    }
    attributes->emplace_back(std::move(attribute), std::move(value));
  }
}

// One paragraph of the attribute walk.
Result<std::string> DescribeForWalk(int sysfs_fd, const std::string& devpath, bool parent) {
  const std::string dir = devpath.substr(1);
  if (faccessat(sysfs_fd, dir.c_str(), F_OK, 0) != 0) return FailErrno("no device at " + devpath);
  auto link_name = [&](const char* link) {
    auto target = ReadLinkAt(sysfs_fd, dir + "/" + link);
    return target ? std::string(BaseName(*target)) : std::string();
  };
  std::string sysname(BaseName(devpath));
  std::replace(sysname.begin(), sysname.end(), '!', '/');
  std::string text =
      "  looking at " + std::string(parent ? "parent " : "") + "device '" + devpath + "':\n";
  text += std::string("    ") + (parent ? "KERNELS" : "KERNEL") + "==\"" + sysname + "\"\n";
  text += std::string("    ") + (parent ? "SUBSYSTEMS" : "SUBSYSTEM") + "==\"" +
          link_name("subsystem") + "\"\n";
  text +=
      std::string("    ") + (parent ? "DRIVERS" : "DRIVER") + "==\"" + link_name("driver") + "\"\n";
  std::vector<std::pair<std::string, std::string>> attributes;
  CollectAttributes(sysfs_fd, dir, "", &attributes);
  std::sort(attributes.begin(), attributes.end());
  for (const auto& [name, value] : attributes)
    text += std::string("    ") + (parent ? "ATTRS{" : "ATTR{") + name + "}==\"" + value + "\"\n";
  text += "\n";
  return text;
}

// udev's cleanup_dir: removes what is below path (relative to run_fd) down to depth levels,
// keeping entries whose mode has a bit of keep, and the directory itself.
void CleanupDirAt(int run_fd, const std::string& path, mode_t keep, int depth) {
  if (depth <= 0) return;
  auto dir_fd = OpenDirAt(run_fd, path, O_NOFOLLOW);
  if (!dir_fd) return;
  for (const auto& [name, type] : ListDir(run_fd, path)) {
    struct stat st {};
    if (fstatat(dir_fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if ((st.st_mode & keep) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      CleanupDirAt(run_fd, path + "/" + name, keep, depth - 1);
      unlinkat(dir_fd->get(), name.c_str(), AT_REMOVEDIR);  // fails while something is kept
    } else {
      unlinkat(dir_fd->get(), name.c_str(), 0);
    }
  }
}

}  // namespace

std::optional<InfoQuery> ParseInfoQuery(std::string_view text) {
  if (text == "name") return InfoQuery::kName;
  if (text == "symlink") return InfoQuery::kSymlink;
  if (text == "path") return InfoQuery::kPath;
  if (text == "property" || text == "env") return InfoQuery::kProperty;
  if (text == "all") return InfoQuery::kAll;
  return std::nullopt;
}

Result<InfoOptions> ParseInfoOptions(int argc, char** argv) {
  InfoOptions options;
  optind = 0;  // glibc: a full re-initialisation, so the parser can run more than once
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":aced:n:p:q:rxP:w::Vh", kOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'q': {
        auto query = ParseInfoQuery(optarg);
        if (!query) return Usage("unknown query type '" + std::string(optarg) + "'");
        options.action = InfoAction::kQuery;
        options.query = *query;
        break;
      }
      case 'n':
        options.devices.push_back({InfoDeviceArgument::Kind::kName, optarg});
        break;
      case 'p':
        options.devices.push_back({InfoDeviceArgument::Kind::kPath, optarg});
        break;
      case 'r': options.root = true; break;
      case 'a': options.action = InfoAction::kAttributeWalk; break;
      case 'd':
        options.action = InfoAction::kDeviceIdOfFile;
        options.file = optarg;
        break;
      case 'x': options.export_values = true; break;
      case 'P':
        options.export_values = true;
        options.export_prefix = optarg;
        break;
      // udevadm exports or cleans up as soon as it reads -e or -c; what follows is not read.
      case 'e': options.action = InfoAction::kExportDb; return options;
      case 'c': options.action = InfoAction::kCleanupDb; return options;
      case kOptionProperty: {
        if (!options.property_names) options.property_names.emplace();
        for (auto& name : SplitCommas(optarg)) options.property_names->push_back(std::move(name));
        break;
      }
      case kOptionValue: options.value_only = true; break;
      case kOptionNoPager: break;
      case 'w':
        if (!optarg) {
          options.wait_for_initialization = -1;
        } else if (auto seconds = ParseTimespan(optarg)) {
          options.wait_for_initialization = std::isinf(*seconds) ? -1 : *seconds;
        } else {
          return Usage("invalid timeout '" + std::string(optarg) + "'");
        }
        break;
      case 'V': options.version = true; return options;
      case 'h': options.help = true; return options;
      case ':': return Usage("option '" + std::string(argv[optind - 1]) + "' needs an argument");
      default:
        if (optopt != 0) return Usage("unknown option '-" + std::string(1, char(optopt)) + "'");
        return Usage("unknown option '" + std::string(argv[optind - 1]) + "'");
    }
  }
  if (options.action == InfoAction::kDeviceIdOfFile) {
    if (optind < argc)
      return Usage("positional arguments are not allowed with -d/--device-id-of-file");
    return options;
  }
  for (int i = optind; i < argc; ++i)
    options.devices.push_back({InfoDeviceArgument::Kind::kAny, argv[i]});

  if (options.devices.empty()) return Usage("a device name or path is required");
  if (options.action == InfoAction::kAttributeWalk && options.devices.size() > 1)
    return Usage("only one device may be specified with -a/--attribute-walk");
  if (options.export_values && options.value_only)
    return Usage("-x/--export or -P/--export-prefix cannot be used with --value");
  return options;
}

std::string FormatInfoRecord(const DeviceInfo& info) {
  const Device& device = info.device;
  std::string text;
  auto line = [&text](char type, std::string_view value) {
    text += type;
    text += ": ";
    text += value;
    text += '\n';
  };
  line('P', device.devpath());
  line('M', device.sysname());
  if (std::string sysnum = device.sysnum(); !sysnum.empty()) line('R', sysnum);
  if (!device.subsystem().empty()) line('U', device.subsystem());
  if (!device.devtype().empty()) line('T', device.devtype());
  if (auto devnum = device.devnum()) {
    line('D', std::string(device.is_block() ? "b " : "c ") + std::to_string(major(*devnum)) +
                  ":" + std::to_string(minor(*devnum)));
  }
  if (auto ifindex = device.properties().ifindex()) line('I', std::to_string(*ifindex));
  if (!info.devnode.empty()) {
    line('N', info.devnode);
    line('L', std::to_string(info.link_priority));
    for (const auto& link : info.links) line('S', link);
  }
  if (auto diskseq = info.properties.Get("DISKSEQ")) line('Q', *diskseq);
  if (!device.driver().empty()) line('V', device.driver());
  for (const auto& [key, value] : info.properties.properties()) {
    text += "E: ";
    text += key;
    text += '=';
    text += value;
    text += '\n';
  }
  text += '\n';
  return text;
}

Result<std::string> FormatInfoQuery(const DeviceInfo& info, const InfoOptions& options,
                                    std::string_view dev_root) {
  std::string text;
  switch (options.query) {
    case InfoQuery::kName:
      if (info.devnode.empty()) return Fail(ENOENT, info.device.devpath() + " has no device node");
      return Name(info.devnode, options, dev_root) + "\n";
    case InfoQuery::kSymlink:
      for (const auto& link : info.links) {
        if (!options.value_only && !text.empty()) text += ' ';
        text += Name(link, options, dev_root);
        if (options.value_only) text += '\n';
      }
      if (!options.value_only) text += '\n';
      return text;
    case InfoQuery::kPath: return info.device.devpath() + "\n";
    case InfoQuery::kProperty:
      for (const auto& [key, value] : info.properties.properties()) {
        if (!Wanted(options, key)) continue;
        if (options.export_values) {
          text += options.export_prefix.value_or("") + key + "='" + value + "'\n";
        } else if (options.value_only) {
          text += value + "\n";
        } else {
          text += key + "=" + value + "\n";
        }
      }
      return text;
    case InfoQuery::kAll: return FormatInfoRecord(info);
  }
  return Fail(EINVAL, "unknown query");
}

Result<std::string> ResolveInfoDevice(const Roots& roots, const InfoDeviceArgument& argument) {
  Result<std::string> devpath;
  switch (argument.kind) {
    case InfoDeviceArgument::Kind::kName: {
      auto name = NodeNameRelative(argument.text, roots.paths().dev);
      if (!name) return Fail(EINVAL, "'" + argument.text + "' is not a device node name");
      devpath = DevpathFromNode(roots.dev(), roots.sysfs(), *name);
      break;
    }
    case InfoDeviceArgument::Kind::kPath: {
      // A relative path lies below the sysfs root, as udevadm reads it with "/sys/" in front.
      std::string path = argument.text.starts_with('/') ? argument.text : "/" + argument.text;
      devpath = DevpathFromSyspath(roots.sysfs(), roots.paths().sysfs, path);
      break;
    }
    case InfoDeviceArgument::Kind::kAny: return ResolveDeviceArgument(roots, argument.text);
  }
  if (!devpath) return devpath;
  std::string uevent = devpath->substr(1) + "/uevent";
  if (faccessat(roots.sysfs(), uevent.c_str(), F_OK, 0) < 0)
    return FailErrno("no device at " + *devpath);
  return devpath;
}

Status ExportDatabase(const Roots& roots, const Database* database, FILE* out) {
  auto devpaths = ListDevpaths(roots.sysfs());
  if (!devpaths) return tl::unexpected(devpaths.error());
  // Records are collected into one buffer and written in large pieces: an export of
  // thousands of devices is one pass over sysfs and the database, not a write per line.
  std::string buffer;
  for (const std::string& devpath : *devpaths) {
    auto info = LoadDeviceInfo(roots.sysfs(), database, roots.paths().dev, devpath);
    if (!info) {
      // A device removed while the walk ran is simply not shown.
      if (info.error().code != ENOENT)
        LogDebug("%s: %s, skipping", devpath.c_str(), info.error().Message().c_str());
      continue;
    }
    buffer += FormatInfoRecord(*info);
    if (buffer.size() >= (1 << 16)) {
      fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  fwrite(buffer.data(), 1, buffer.size(), out);
  if (fflush(out) != 0 || ferror(out)) return FailErrno("write the export");
  return Ok();
}

Result<std::string> FormatAttributeWalk(int sysfs_fd, std::string_view devpath) {
  if (!IsValidDevpath(devpath)) return Fail(EINVAL, "invalid devpath");
  std::string text =
      "\n"
      "vdevadm info starts with the device given and walks up through its parents. For\n"
      "each device it prints the keys a rule can match on, in the rules' key format. A\n"
      "rule may combine keys of the device with keys of one single parent device.\n"
      "\n";
  auto described = DescribeForWalk(sysfs_fd, std::string(devpath), false);
  if (!described) return tl::unexpected(described.error());
  text += *described;
  // Parents: every ancestor below /devices that is a device (has a uevent file).
  std::string_view path = devpath;
  for (size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0;
       slash = path.rfind('/', slash - 1)) {
    std::string parent(path.substr(0, slash));
    if (parent == "/devices") break;
    if (faccessat(sysfs_fd, (parent.substr(1) + "/uevent").c_str(), F_OK, 0) != 0) continue;
    if (auto described_parent = DescribeForWalk(sysfs_fd, parent, true))
      text += *described_parent;
  }
  return text;
}

void CleanupDatabase(int run_fd) {
  // udev's own layout: records, then the indexes that point at them.
  CleanupDirAt(run_fd, "udev/data", S_ISVTX, 1);
  CleanupDirAt(run_fd, "udev/links", 0, 2);
  CleanupDirAt(run_fd, "udev/tags", 0, 2);
  CleanupDirAt(run_fd, "udev/static_node-tags", 0, 2);
  CleanupDirAt(run_fd, "udev/watch", 0, 1);
  // vdevd's link claims name the records just removed; a claim left behind would keep
  // pointing a link at a device whose rules no longer want it.
  CleanupDirAt(run_fd, "vdev/links", 0, 2);
}

Result<std::string> FormatDeviceIdOfFile(const std::string& file, bool export_values,
                                         const std::optional<std::string>& prefix) {
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) return FailErrno(file);
  unsigned maj = major(st.st_dev), min = minor(st.st_dev);
  if (!export_values) return std::to_string(maj) + ":" + std::to_string(min) + "\n";
  std::string name = prefix.value_or("INFO_");
  return name + "MAJOR=" + std::to_string(maj) + "\n" + name + "MINOR=" + std::to_string(min) +
         "\n";
}

int RunInfoCommand(const InfoOptions& options, const RootPaths& paths, FILE* out, FILE* err) {
  if (options.help) {
    fputs(kUsage, out);
    return 0;
  }
  if (options.version) {
    fprintf(out, "%s\n", VDEV_VERSION);
    return 0;
  }
  if (options.action == InfoAction::kDeviceIdOfFile) {
    auto id = FormatDeviceIdOfFile(options.file, options.export_values, options.export_prefix);
    if (!id) {
      fprintf(err, "vdevadm info: %s\n", id.error().Message().c_str());
      return 1;
    }
    fputs(id->c_str(), out);
    return fflush(out) == 0 ? 0 : 1;
  }
  if (options.action == InfoAction::kCleanupDb) {
    // Only the run dir: cleaning up works before the other roots are there.
    UniqueFd run(open(paths.run.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (run) CleanupDatabase(run.get());
    return 0;
  }
  auto roots = Roots::Open(paths, false);
  if (!roots) {
    fprintf(err, "vdevadm info: %s\n", roots.error().Message().c_str());
    return 1;
  }
  if (options.action == InfoAction::kExportDb) {
    auto database = Database::Open(roots->run(), false);
    auto exported = ExportDatabase(*roots, database ? &*database : nullptr, out);
    if (!exported) {
      fprintf(err, "vdevadm info: %s\n", exported.error().Message().c_str());
      return 1;
    }
    return 0;
  }

  int status = 0;
  for (const auto& argument : options.devices) {
    const char* text = argument.text.c_str();
    auto devpath = ResolveInfoDevice(*roots, argument);
    if (!devpath) {
      if (devpath.error().code == ENOENT)
        fprintf(err, "vdevadm info: device '%s' not found\n", text);
      else
        fprintf(err, "vdevadm info: device '%s': %s\n", text, devpath.error().Message().c_str());
      status = 1;
      continue;
    }
    auto info = LoadForQuery(*roots, *devpath, options);
    if (!info) {
      if (info.error().code == ENOENT)
        fprintf(err, "vdevadm info: device '%s' not found\n", text);
      else if (info.error().code == ETIMEDOUT)
        fprintf(err, "vdevadm info: device '%s' was not initialized in time\n", text);
      else
        fprintf(err, "vdevadm info: device '%s': %s\n", text, info.error().Message().c_str());
      status = 1;
      continue;
    }
    Result<std::string> answer = options.action == InfoAction::kAttributeWalk
                                     ? FormatAttributeWalk(roots->sysfs(), *devpath)
                                     : FormatInfoQuery(*info, options, paths.dev);
    if (!answer) {
      if (answer.error().code == ENOENT)
        fprintf(err, "vdevadm info: device '%s' has no device node\n", text);
      else
        fprintf(err, "vdevadm info: device '%s': %s\n", text, answer.error().Message().c_str());
      status = 1;
      continue;
    }
    fwrite(answer->data(), 1, answer->size(), out);
  }
  if (fflush(out) != 0) {
    fprintf(err, "vdevadm info: write: %s\n", strerror(errno));
    return 1;
  }
  return status;
}

int InfoMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err) {
  auto options = ParseInfoOptions(argc, argv);
  if (!options) {
    fprintf(err, "vdevadm info: %s\nTry 'vdevadm info --help'.\n",
            options.error().context.c_str());
    return 1;
  }
  return RunInfoCommand(*options, paths, out, err);
}

}  // namespace vdev
