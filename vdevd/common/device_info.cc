#include "common/device_info.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>
#include <deque>
#include <memory>

#include "common/fs_util.h"
#include "common/numbers.h"
#include "common/log.h"

namespace vdev {
namespace {

// Sysfs links are a few levels deep; this only stops a loop.
constexpr int kMaxSymlinks = 40;

std::string_view TrimTrailingSlashes(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

// The rest of path when it lies below root (a directory path), nullopt otherwise.
std::optional<std::string_view> StripRoot(std::string_view path, std::string_view root) {
  root = TrimTrailingSlashes(root);
  if (!path.starts_with(root) || path.size() <= root.size() || path[root.size()] != '/')
    return std::nullopt;
  return path.substr(root.size() + 1);
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string joined;
  for (const auto& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined;
}

std::string TagList(const std::vector<std::string>& tags) { return ":" + Join(tags, ":") + ":"; }

bool IsSafeComponent(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

std::optional<dev_t> ParseDevnumId(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto major_number = ParseNumber<unsigned>(text.substr(0, colon));
  auto minor_number = ParseNumber<unsigned>(text.substr(colon + 1));
  if (!major_number || !minor_number) return std::nullopt;
  return makedev(*major_number, *minor_number);
}

Result<std::string> NetDevpathFromIfindex(int sysfs_fd, int ifindex) {
  auto dir_fd = OpenDirAt(sysfs_fd, "class/net");
  if (!dir_fd) return tl::unexpected(dir_fd.error());
  DIR* dir = fdopendir(dir_fd->get());
  if (!dir) return FailErrno("fdopendir class/net");
  dir_fd->release();
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, closedir);
  while (const dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.starts_with('.')) continue;
    std::string link = "class/net/" + std::string(name);
    auto value = ReadAttributeAt(sysfs_fd, link + "/ifindex");
    if (value && ParseNumber<int>(*value) == ifindex)
      return CanonicalSysfsPath(sysfs_fd, link);
  }
  return Fail(ENOENT, "no network interface with index " + std::to_string(ifindex));
}

bool LooksLikeDeviceId(std::string_view text) {
  if (text.size() < 2) return false;
  if (text[0] == 'b' || text[0] == 'c') return ParseDevnumId(text.substr(1)).has_value();
  if (text[0] == 'n') return ParseNumber<int>(text.substr(1)).has_value();
  return text[0] == '+' && text.find(':') != std::string_view::npos;
}

Status RequireDevice(int sysfs_fd, const std::string& devpath) {
  std::string uevent = devpath.substr(1) + "/uevent";
  if (faccessat(sysfs_fd, uevent.c_str(), F_OK, 0) < 0) return FailErrno("no device at " + devpath);
  return Ok();
}

}  // namespace

std::string JoinRootPath(std::string_view root, std::string_view relative) {
  return std::string(TrimTrailingSlashes(root)) + "/" + std::string(relative);
}

Result<DeviceInfo> LoadDeviceInfo(int sysfs_fd, const Database* database,
                                  std::string_view dev_root, std::string_view devpath) {
  auto device = Device::Open(sysfs_fd, devpath);
  if (!device) return tl::unexpected(device.error());
  DeviceInfo info(std::move(*device));
  const Device& kernel = info.device;
  Uevent& merged = info.properties;

  // sd-device reads the uevent file line by line but sets the device number once the whole
  // file is read: udevadm shows MAJOR and MINOR after the other kernel keys.
  merged.Set("DEVPATH", kernel.devpath());
  for (const auto& [key, value] : kernel.properties().properties()) {
    if (key == "DEVPATH" || key == "SUBSYSTEM" || key == "MAJOR" || key == "MINOR") continue;
    if (key == "DEVNAME") {
      std::string_view name = value;
      if (name.starts_with("/dev/")) name.remove_prefix(5);  // old drivers spell it absolute
      info.devnode = name;
      merged.Set(key, JoinRootPath(dev_root, name));
      continue;
    }
    merged.Set(key, value);
  }
  for (const char* key : {"MAJOR", "MINOR"}) {
    if (auto value = kernel.properties().Get(key)) merged.Set(key, *value);
  }
  if (!kernel.subsystem().empty()) merged.Set("SUBSYSTEM", kernel.subsystem());

  if (!database) return info;
  auto record = database->Read(kernel.Id());
  if (!record) {
    if (record.error().code != ENOENT)
      LogDebug("%s: %s, ignoring the record", kernel.devpath().c_str(),
               record.error().Message().c_str());
    return info;
  }
  info.initialized = true;
  info.links = std::move(record->links);
  info.link_priority = record->link_priority;
  info.tags = std::move(record->tags);
  info.current_tags = std::move(record->current_tags);
  info.usec_initialized = record->usec_initialized;

  if (info.usec_initialized > 0)
    merged.Set("USEC_INITIALIZED", std::to_string(info.usec_initialized));
  for (const auto& [key, value] : record->properties) merged.Set(key, value);
  if (!info.links.empty()) {
    std::string devlinks;
    for (const auto& link : info.links) {
      if (!devlinks.empty()) devlinks += ' ';
      devlinks += JoinRootPath(dev_root, link);
    }
    merged.Set("DEVLINKS", devlinks);
  }
  if (!info.tags.empty()) merged.Set("TAGS", TagList(info.tags));
  if (!info.current_tags.empty()) merged.Set("CURRENT_TAGS", TagList(info.current_tags));
  return info;
}

std::optional<std::string> NodeNameRelative(std::string_view name, std::string_view dev_root) {
  std::string_view relative;
  if (auto below = StripRoot(name, dev_root)) {
    relative = *below;
  } else if (name.starts_with("/dev/")) {
    relative = name.substr(5);
  } else if (name.starts_with('/')) {
    return std::nullopt;
  } else {
    relative = name;
  }
  if (!IsValidDevpath("/" + std::string(relative))) return std::nullopt;
  return std::string(relative);
}

Result<std::string> DevpathFromNode(int dev_fd, int sysfs_fd, std::string_view name) {
  std::string path(name);
  struct stat st;
  // Following links is what resolves "disk/by-id/x"; the dev root is the device manager's.
  if (fstatat(dev_fd, path.c_str(), &st, 0) < 0) return FailErrno("stat " + path);
  if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
    return Fail(ENODEV, path + " is not a device node");
  return DevpathFromDevnum(sysfs_fd, S_ISBLK(st.st_mode), st.st_rdev);
}

Result<std::string> CanonicalSysfsPath(int sysfs_fd, std::string_view path) {
  std::deque<std::string> pending;
  auto push_parts = [&pending](std::string_view text) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t slash = text.find('/', pos);
      if (slash == std::string_view::npos) slash = text.size();
      if (slash > pos) parts.emplace_back(text.substr(pos, slash - pos));
      pos = slash + 1;
    }
    pending.insert(pending.begin(), parts.begin(), parts.end());
  };
  push_parts(path);

  std::vector<std::string> resolved;
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (resolved.empty()) return Fail(EINVAL, std::string(path) + " leaves the sysfs root");
      resolved.pop_back();
      continue;
    }
    resolved.push_back(std::move(part));
    std::string current = Join(resolved, "/");
    auto target = ReadLinkAt(sysfs_fd, current);
    if (!target) {
      if (target.error().code == EINVAL) continue;  // not a symlink
      return tl::unexpected(target.error());
    }
    if (++links > kMaxSymlinks) return Fail(ELOOP, "resolve " + std::string(path));
    if (target->starts_with('/')) return Fail(EINVAL, current + " points outside the sysfs root");
    resolved.pop_back();
    push_parts(*target);
  }
  if (resolved.empty()) return Fail(EINVAL, "the sysfs root is not a device");
  return "/" + Join(resolved, "/");
}

Result<std::string> DevpathFromSyspath(int sysfs_fd, std::string_view sysfs_root,
                                       std::string_view path) {
  std::string_view relative;
  if (auto below = StripRoot(path, sysfs_root)) {
    relative = *below;
  } else if (path.starts_with("/sys/")) {
    relative = path.substr(5);
  } else if (path.starts_with('/')) {
    relative = path.substr(1);  // already a devpath
  } else {
    return Fail(EINVAL, "'" + std::string(path) + "' is not a sysfs path");
  }
  return CanonicalSysfsPath(sysfs_fd, relative);
}

Result<std::string> DevpathFromDeviceId(int sysfs_fd, std::string_view id) {
  if (id.size() >= 2 && (id[0] == 'b' || id[0] == 'c')) {
    if (auto devnum = ParseDevnumId(id.substr(1)))
      return DevpathFromDevnum(sysfs_fd, id[0] == 'b', *devnum);
  }
  if (auto ifindex = id.starts_with('n') ? ParseNumber<int>(id.substr(1)) : std::nullopt;
      ifindex && *ifindex > 0)
    return NetDevpathFromIfindex(sysfs_fd, *ifindex);
  size_t colon = id.find(':');
  if (id.starts_with('+') && colon != std::string_view::npos) {
    std::string subsystem(id.substr(1, colon - 1));
    std::string sysname(id.substr(colon + 1));
    if (!IsSafeComponent(subsystem)) return Fail(EINVAL, "invalid device id");
    std::vector<std::string> candidates;
    if (subsystem == "drivers") {
      // "+drivers:BUS:NAME"
      size_t bus_end = sysname.find(':');
      if (bus_end == std::string::npos) return Fail(EINVAL, "invalid device id");
      std::string bus = sysname.substr(0, bus_end), driver = sysname.substr(bus_end + 1);
      if (!IsSafeComponent(bus) || !IsSafeComponent(driver))
        return Fail(EINVAL, "invalid device id");
      candidates.push_back("bus/" + bus + "/drivers/" + driver);
    } else {
      for (char& c : sysname)
        if (c == '/') c = '!';  // the sysname "cciss/c0d0" is the directory "cciss!c0d0"
      if (!IsSafeComponent(sysname)) return Fail(EINVAL, "invalid device id");
      if (subsystem == "module") {
        candidates.push_back("module/" + sysname);
      } else if (subsystem == "subsystem") {
        candidates.push_back("bus/" + sysname);
      } else {
        candidates.push_back("class/" + subsystem + "/" + sysname);
        candidates.push_back("bus/" + subsystem + "/devices/" + sysname);
      }
    }
    for (const auto& candidate : candidates) {
      auto devpath = CanonicalSysfsPath(sysfs_fd, candidate);
      if (devpath || devpath.error().code != ENOENT) return devpath;
    }
    return Fail(ENOENT, "no device " + std::string(id));
  }
  return Fail(EINVAL, "'" + std::string(id) + "' is not a device id");
}

Result<std::string> ResolveDeviceArgument(const Roots& roots, std::string_view argument) {
  const RootPaths& paths = roots.paths();
  // When one root lies inside the other, the longer match is the meant one.
  auto below_dev = StripRoot(argument, paths.dev);
  auto below_sysfs = StripRoot(argument, paths.sysfs);
  if (below_dev && below_sysfs) {
    if (TrimTrailingSlashes(paths.dev).size() > TrimTrailingSlashes(paths.sysfs).size())
      below_sysfs.reset();
    else
      below_dev.reset();
  }

  Result<std::string> devpath;
  bool node = below_dev || (!below_sysfs && argument.starts_with("/dev/")) ||
              (!argument.starts_with('/') && !LooksLikeDeviceId(argument));
  if (node) {
    auto name = NodeNameRelative(argument, paths.dev);
    if (!name) return Fail(EINVAL, "'" + std::string(argument) + "' is not a device node name");
    devpath = DevpathFromNode(roots.dev(), roots.sysfs(), *name);
  } else if (argument.starts_with('/')) {
    devpath = DevpathFromSyspath(roots.sysfs(), paths.sysfs, argument);
  } else {
    devpath = DevpathFromDeviceId(roots.sysfs(), argument);
  }
  if (!devpath) return devpath;
  if (auto present = RequireDevice(roots.sysfs(), *devpath); !present)
    return tl::unexpected(present.error());
  return devpath;
}

}  // namespace vdev
