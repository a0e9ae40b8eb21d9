#include "info_format.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "coldplug.h"
#include "common/log.h"
#include "common/numbers.h"

namespace vdev {
namespace {

constexpr char kUsage[] =
    "Usage: vdevadm info [OPTIONS] [DEVPATH|FILE|ID...]\n"
    "Query the device database and sysfs for one device or all of them.\n"
    "\n"
    "  -q --query=TYPE            what to show: name, symlink, path, property, all\n"
    "                             (default all)\n"
    "     --property=NAME[,NAME]  only these properties\n"
    "     --value                 only the values of properties and links\n"
    "  -p --path=SYSPATH          the device at this sysfs path or devpath\n"
    "  -n --name=NAME             the device with this node or symlink\n"
    "  -r --root                  names with the dev root's path in front\n"
    "  -x --export                properties as KEY='VALUE'\n"
    "  -P --export-prefix=PREFIX  properties as PREFIXKEY='VALUE'\n"
    "  -e --export-db             every device's record\n"
    "  -w --wait-for-initialization[=SECONDS]\n"
    "                             wait until the device manager has handled the device\n"
    "  -h --help                  this text\n";

enum LongOnly { kOptionProperty = 0x100, kOptionValue };

const option kOptions[] = {
    {"query", required_argument, nullptr, 'q'},
    {"name", required_argument, nullptr, 'n'},
    {"path", required_argument, nullptr, 'p'},
    {"root", no_argument, nullptr, 'r'},
    {"export", no_argument, nullptr, 'x'},
    {"export-prefix", required_argument, nullptr, 'P'},
    {"export-db", no_argument, nullptr, 'e'},
    {"property", required_argument, nullptr, kOptionProperty},
    {"value", no_argument, nullptr, kOptionValue},
    {"wait-for-initialization", optional_argument, nullptr, 'w'},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    if (comma > pos) parts.emplace_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return parts;
}

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
    int c = getopt_long(argc, argv, ":q:n:p:rxP:ew::h", kOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'q': {
        auto query = ParseInfoQuery(optarg);
        if (!query) return Usage("unknown query type '" + std::string(optarg) + "'");
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
      case 'x': options.export_values = true; break;
      case 'P':
        options.export_values = true;
        options.export_prefix = optarg;
        break;
      case 'e': options.export_db = true; break;
      case kOptionProperty: {
        if (!options.property_names) options.property_names.emplace();
        for (auto& name : SplitCommas(optarg)) options.property_names->push_back(std::move(name));
        break;
      }
      case kOptionValue: options.value_only = true; break;
      case 'w':
        if (!optarg) {
          options.wait_for_initialization = -1;
        } else if (auto seconds = ParseSeconds(optarg)) {
          options.wait_for_initialization = *seconds;
        } else {
          return Usage("invalid timeout '" + std::string(optarg) + "'");
        }
        break;
      case 'h': options.help = true; return options;
      case ':': return Usage("option '" + std::string(argv[optind - 1]) + "' needs an argument");
      default:
        if (optopt != 0) return Usage("unknown option '-" + std::string(1, char(optopt)) + "'");
        return Usage("unknown option '" + std::string(argv[optind - 1]) + "'");
    }
  }
  for (int i = optind; i < argc; ++i)
    options.devices.push_back({InfoDeviceArgument::Kind::kAny, argv[i]});

  if (options.export_db && !options.devices.empty())
    return Usage("--export-db takes no device arguments");
  if (!options.export_db && options.devices.empty())
    return Usage("a device name or path is required");
  if (options.export_values && options.value_only)
    return Usage("--export and --export-prefix cannot be used with --value");
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
  if (!device.subsystem().empty()) {
    line('J', device.Id());
    line('U', device.subsystem());
  }
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
          text += options.export_prefix + key + "='" + value + "'\n";
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

int RunInfoCommand(const InfoOptions& options, const RootPaths& paths, FILE* out, FILE* err) {
  if (options.help) {
    fputs(kUsage, out);
    return 0;
  }
  auto roots = Roots::Open(paths, false);
  if (!roots) {
    fprintf(err, "vdevadm info: %s\n", roots.error().Message().c_str());
    return 1;
  }
  if (options.export_db) {
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
    auto answer = FormatInfoQuery(*info, options, paths.dev);
    if (!answer) {
      fprintf(err, "vdevadm info: device '%s' has no device node\n", text);
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
    return 2;
  }
  return RunInfoCommand(*options, paths, out, err);
}

}  // namespace vdev
