#include "enumerator.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "common/device.h"
#include "common/device_info.h"
#include "common/fs_util.h"

namespace vdev::compat {
namespace {

// sd-device-enumerator's crawl limit below a parent.
constexpr int kMaxChildDepth = 256;

using DirCloser = std::unique_ptr<DIR, int (*)(DIR*)>;

Result<DirCloser> OpenDirStream(int dirfd, const std::string& path) {
  auto fd = OpenDirAt(dirfd, path);
  if (!fd) return tl::unexpected(fd.error());
  DIR* dir = fdopendir(fd->get());
  if (!dir) return FailErrno("fdopendir " + path);
  fd->release();
  return DirCloser(dir, closedir);
}

// The entry's type, asking the file system when readdir did not say.
unsigned char EntryType(DIR* dir, const dirent* entry) {
  if (entry->d_type != DT_UNKNOWN) return entry->d_type;
  struct stat st;
  if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) return DT_UNKNOWN;
  if (S_ISDIR(st.st_mode)) return DT_DIR;
  if (S_ISLNK(st.st_mode)) return DT_LNK;
  return DT_REG;
}

// What can be a device in a bus/, class/ or module/ listing: a directory or a link to one.
bool IsRelevantEntry(DIR* dir, const dirent* entry) {
  if (entry->d_name[0] == '.') return false;
  unsigned char type = EntryType(dir, entry);
  return type == DT_DIR || type == DT_LNK;
}

bool AnyMatches(const std::vector<std::string>& patterns, const std::string& text) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
  });
}

void AddAlternative(std::vector<std::pair<std::string, std::vector<std::string>>>& filters,
                    std::string_view name, std::optional<std::string_view> value,
                    bool clear_on_null) {
  auto it = std::find_if(filters.begin(), filters.end(),
                         [&](const auto& filter) { return filter.first == name; });
  if (it == filters.end()) {
    filters.emplace_back(std::string(name), std::vector<std::string>());
    it = filters.end() - 1;
  }
  if (!value) {
    if (clear_on_null) it->second.clear();
    return;
  }
  if (std::find(it->second.begin(), it->second.end(), *value) == it->second.end())
    it->second.emplace_back(*value);
}

void AddUnique(std::vector<std::string>& set, std::string_view item) {
  if (std::find(set.begin(), set.end(), item) == set.end()) set.emplace_back(item);
}

}  // namespace

void Enumerator::AddMatchSubsystem(std::string_view pattern, bool match) {
  AddUnique(match ? match_subsystem_ : nomatch_subsystem_, pattern);
  Invalidate();
}

void Enumerator::AddMatchSysattr(std::string_view name, std::optional<std::string_view> value,
                                 bool match) {
  AddAlternative(match ? match_sysattr_ : nomatch_sysattr_, name, value, /*clear_on_null=*/true);
  Invalidate();
}

void Enumerator::AddMatchProperty(std::string_view pattern, std::optional<std::string_view> value) {
  AddAlternative(match_property_, pattern, value, /*clear_on_null=*/false);
  Invalidate();
}

void Enumerator::AddMatchSysname(std::string_view pattern) {
  AddUnique(match_sysname_, pattern);
  Invalidate();
}

void Enumerator::AddMatchTag(std::string_view tag) {
  AddUnique(match_tag_, tag);
  Invalidate();
}

void Enumerator::SetMatchParent(std::string devpath) {
  match_parent_ = std::move(devpath);
  Invalidate();
}

void Enumerator::MatchIsInitialized() {
  match_initialized_ = true;
  Invalidate();
}

void Enumerator::AddDevice(std::string devpath) { Add(std::move(devpath)); }

bool Enumerator::Add(std::string devpath) {
  if (!added_.insert(devpath).second) return false;
  devices_.push_back(std::move(devpath));
  sorted_ = false;
  return true;
}

void Enumerator::Reset() {
  devices_.clear();
  added_.clear();
  ancestors_.clear();
  sorted_ = true;
}

const std::vector<std::string>& Enumerator::devpaths() {
  if (scan_ == ScanKind::kNone) return none_;
  if (!sorted_) {
    std::sort(devices_.begin(), devices_.end(),
              [](const std::string& a, const std::string& b) { return DevpathLess(a, b); });
    sorted_ = true;
  }
  return devices_;
}

bool Enumerator::MatchSubsystem(std::string_view subsystem) const {
  std::string name(subsystem);
  if (AnyMatches(nomatch_subsystem_, name)) return false;
  return match_subsystem_.empty() || AnyMatches(match_subsystem_, name);
}

bool Enumerator::MatchSysname(std::string_view sysname) const {
  return match_sysname_.empty() || AnyMatches(match_sysname_, std::string(sysname));
}

bool Enumerator::MatchParent(std::string_view devpath) const {
  if (!match_parent_) return true;
  std::string_view parent = *match_parent_;
  return devpath.starts_with(parent) &&
         (devpath.size() == parent.size() || devpath[parent.size()] == '/');
}

bool Enumerator::MatchProperties(DeviceView& device) const {
  if (match_property_.empty()) return true;
  for (const auto& [pattern, values] : match_property_) {
    for (const auto& [key, value] : device.properties()) {
      if (fnmatch(pattern.c_str(), key.c_str(), 0) != 0) continue;
      if (AnyMatches(values, value)) return true;
    }
  }
  return false;
}

bool Enumerator::MatchSysattrs(DeviceView& device) const {
  auto matches = [&](const Alternatives& filter) {
    auto value = device.ReadAttribute(filter.first);
    return value && (filter.second.empty() || AnyMatches(filter.second, *value));
  };
  return std::all_of(match_sysattr_.begin(), match_sysattr_.end(), matches) &&
         std::none_of(nomatch_sysattr_.begin(), nomatch_sysattr_.end(), matches);
}

bool Enumerator::TestMatches(DeviceView& device, bool check_initialized) const {
  // is_initialized (libudev's "compat" flavour): only devices with a node or a network
  // interface wait for the device manager.
  if (check_initialized && match_initialized_ && !device.initialized() &&
      (device.devnum() || device.ifindex()))
    return false;
  return MatchProperties(device) && MatchSysattrs(device);
}

Status Enumerator::ScanDevices() {
  if (scan_ == ScanKind::kDevices) return Ok();
  Reset();
  Status status = !match_tag_.empty() ? ScanTags() : match_parent_ ? ScanChildren() : ScanAll();
  scan_ = ScanKind::kDevices;
  return status;
}

Status Enumerator::ScanSubsystems() {
  if (scan_ == ScanKind::kSubsystems) return Ok();
  Reset();
  Status status = Ok();
  auto keep_first_error = [&status](Status scanned) {
    if (!scanned && status) status = std::move(scanned);
  };
  if (MatchSubsystem("module")) keep_first_error(ScanDirAndAddDevices("module"));
  if (MatchSubsystem("subsystem")) keep_first_error(ScanDirAndAddDevices("bus"));
  if (MatchSubsystem("drivers")) keep_first_error(ScanDir("bus", "drivers", "drivers"));
  scan_ = ScanKind::kSubsystems;
  return status;
}

Status Enumerator::ScanAll() {
  Status status = ScanDir("bus", "devices", nullptr);
  Status classes = ScanDir("class", nullptr, nullptr);
  return status ? classes : status;
}

Status Enumerator::ScanDir(const std::string& dir, const char* subdir, const char* subsystem) {
  auto stream = OpenDirStream(context_->sysfs(), dir);
  if (!stream) return tl::unexpected(stream.error());
  Status status = Ok();
  while (const dirent* entry = readdir(stream->get())) {
    if (!IsRelevantEntry(stream->get(), entry)) continue;
    if (!MatchSubsystem(subsystem ? subsystem : entry->d_name)) continue;
    std::string path = dir + "/" + entry->d_name;
    if (subdir) path += std::string("/") + subdir;
    Status scanned = ScanDirAndAddDevices(path);
    // A subsystem without devices/ or drivers/ is no error (nor one that just went away).
    if (!scanned && scanned.error().code != ENOENT && status) status = std::move(scanned);
  }
  return status;
}

Status Enumerator::ScanDirAndAddDevices(const std::string& dir) {
  auto stream = OpenDirStream(context_->sysfs(), dir);
  if (!stream) return tl::unexpected(stream.error());
  while (const dirent* entry = readdir(stream->get())) {
    if (!IsRelevantEntry(stream->get(), entry)) continue;
    if (!MatchSysname(entry->d_name)) continue;
    std::optional<std::string> devpath;
    if (EntryType(stream->get(), entry) == DT_LNK) {
      char target[4096];
      ssize_t length = readlinkat(dirfd(stream->get()), entry->d_name, target, sizeof(target));
      if (length <= 0 || static_cast<size_t>(length) == sizeof(target)) continue;
      devpath = ResolveDevpathLink(dir, std::string_view(target, length));
    } else {
      devpath = "/" + dir + "/" + entry->d_name;
    }
    if (!devpath) continue;
    // Devices come and go while we look: one that is gone is simply not listed.
    auto device = CheckDevpath(*context_, std::move(*devpath), /*read_uevent=*/false);
    if (!device) continue;
    DeviceView view(context_, std::move(*device));
    if (!TestMatches(view, /*check_initialized=*/true)) continue;
    std::string found = view.devpath();
    Add(found);
    // Root buses (/devices/pci0000:00, /devices/pnp0 ...) are in no bus/ or class/ listing:
    // they come in as ancestors of what is.
    AddAncestors(found);
  }
  return Ok();
}

void Enumerator::AddAncestors(const std::string& devpath) {
  bool strict = devpath.starts_with("/devices/");
  std::string_view path = devpath;
  for (;;) {
    size_t slash = path.rfind('/');
    if (slash == 0 || slash == std::string_view::npos) return;
    path = path.substr(0, slash);
    std::string ancestor(path);
    // Every ancestor of a directory seen before has been walked then.
    if (!ancestors_.insert(ancestor).second) return;
    if (strict) {
      std::string uevent = ancestor.substr(1) + "/uevent";
      if (faccessat(context_->sysfs(), uevent.c_str(), F_OK, 0) < 0) continue;  // not a device
    }
    DeviceView view(context_, ResolvedDevice{ancestor, std::nullopt});
    const std::string* subsystem = view.subsystem();
    if (!subsystem || !MatchSubsystem(*subsystem) || !MatchSysname(view.sysname())) continue;
    if (!TestMatches(view, /*check_initialized=*/true)) continue;
    if (!Add(ancestor)) return;  // known already, and so are its ancestors
  }
}

Status Enumerator::ScanTags() {
  for (const auto& tag : match_tag_) {
    if (tag.empty() || tag == "." || tag == ".." || tag.find('/') != std::string::npos) continue;
    auto stream = OpenDirStream(context_->run(), "udev/tags/" + tag);
    if (!stream) continue;  // no device has the tag (yet)
    while (const dirent* entry = readdir(stream->get())) {
      if (entry->d_name[0] == '.') continue;
      auto devpath = DevpathFromDeviceId(context_->sysfs(), entry->d_name);
      if (!devpath) continue;  // a stale entry of a device that is gone
      auto device = CheckDevpath(*context_, std::move(*devpath), /*read_uevent=*/false);
      if (!device) continue;
      DeviceView view(context_, std::move(*device));
      const std::string* subsystem = view.subsystem();
      if (!subsystem || !MatchSubsystem(*subsystem) || !MatchSysname(view.sysname())) continue;
      if (!MatchParent(view.devpath())) continue;
      if (!TestMatches(view, /*check_initialized=*/false)) continue;
      Add(view.devpath());
    }
  }
  return Ok();
}

Status Enumerator::ScanChildren() {
  std::string parent = *match_parent_;
  AddChild(parent);
  CrawlChildren(parent, kMaxChildDepth);
  return Ok();
}

void Enumerator::CrawlChildren(const std::string& devpath, int depth) {
  auto stream = OpenDirStream(context_->sysfs(), devpath.substr(1));
  if (!stream) return;
  while (const dirent* entry = readdir(stream->get())) {
    if (entry->d_name[0] == '.' || EntryType(stream->get(), entry) != DT_DIR) continue;
    std::string child = devpath + "/" + entry->d_name;
    AddChild(child);
    if (depth > 0) CrawlChildren(child, depth - 1);
  }
}

void Enumerator::AddChild(const std::string& devpath) {
  auto device = CheckDevpath(*context_, devpath, /*read_uevent=*/false);
  if (!device) return;
  DeviceView view(context_, std::move(*device));
  const std::string* subsystem = view.subsystem();
  if (!subsystem || !MatchSubsystem(*subsystem) || !MatchSysname(view.sysname())) return;
  if (!TestMatches(view, /*check_initialized=*/true)) return;
  Add(view.devpath());
}

}  // namespace vdev::compat
