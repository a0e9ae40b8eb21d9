#include "device_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/device.h"
#include "common/device_info.h"
#include "common/fs_util.h"
#include "common/numbers.h"

namespace vdev::compat {
namespace {

// Sysfs attributes are at most a page; binary ones (descriptors, config) a few pages more.
constexpr size_t kMaxAttributeSize = 1 << 20;
constexpr size_t kMaxWriteSize = 4096;
// Attribute subdirectories nest a few levels ("queues/rx-0/rps_cpus"); this only stops loops.
constexpr int kMaxAttributeDepth = 16;

std::string Relative(std::string_view devpath) { return std::string(devpath.substr(1)); }

bool IsBelowDevices(std::string_view devpath) {
  return devpath == "/devices" || devpath.starts_with("/devices/");
}

// openat2 with RESOLVE_NO_SYMLINKS: ELOOP when any component is a symlink, which tells a
// canonical devpath from one that needs resolving in one system call. ENOSYS on old kernels.
int OpenNoSymlinks(int dirfd, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
  return static_cast<int>(syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how)));
}

Result<std::string> ReadAll(int fd, const std::string& what, size_t max_size) {
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return FailErrno("read " + what);
    }
    if (n == 0) break;
    if (content.size() + n > max_size) return Fail(EFBIG, "read " + what);
    content.append(buffer, n);
  }
  return content;
}

// A file below the sysfs root, without blocking on a fifo a fake tree might hold.
Result<std::string> ReadSysfsFile(int sysfs_fd, const std::string& path, size_t max_size) {
  UniqueFd fd(openat(sysfs_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return FailErrno("open " + path);
  return ReadAll(fd.get(), path, max_size);
}

// Whether the (canonical) devpath names a device; reads the uevent file on the way.
Result<ResolvedDevice> Check(const Context& context, std::string devpath, bool via_openat2) {
  ResolvedDevice device{std::move(devpath), std::nullopt};
  std::string relative = Relative(device.devpath);
  if (IsBelowDevices(device.devpath)) {
    std::string uevent = relative + "/uevent";
    int fd = via_openat2 ? OpenNoSymlinks(context.sysfs(), uevent, O_RDONLY | O_NOCTTY)
                         : openat(context.sysfs(), uevent.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOSYS) return Fail(errno, "open " + uevent);
      // A write-only uevent file still makes a device.
      if (errno == EACCES && faccessat(context.sysfs(), uevent.c_str(), F_OK, 0) == 0)
        return device;
      return Fail(ENODEV, "no device at " + device.devpath);
    }
    UniqueFd owned(fd);
    auto content = ReadAll(fd, uevent, 64 * 1024);
    if (content) device.uevent = std::move(*content);
    return device;
  }
  int fd = via_openat2
               ? OpenNoSymlinks(context.sysfs(), relative, O_PATH | O_DIRECTORY)
               : openat(context.sysfs(), relative.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOSYS) return Fail(errno, "open " + relative);
    return Fail(ENODEV, "no device at " + device.devpath);
  }
  close(fd);
  return device;
}

bool IsDirectoryAt(int dirfd, const std::string& path) {
  struct stat st;
  return fstatat(dirfd, path.c_str(), &st, 0) == 0 && S_ISDIR(st.st_mode);
}

std::string SysnameOf(std::string_view devpath) {
  std::string name(BaseName(devpath));
  std::replace(name.begin(), name.end(), '!', '/');
  return name;
}

// sd-device's trailing number: "sda1" -> "1", "null" and all-digit names ("8250") -> none.
std::optional<std::string> SysnumOf(std::string_view sysname) {
  size_t length = sysname.size();
  while (length > 0 && sysname[length - 1] >= '0' && sysname[length - 1] <= '9') --length;
  if (length == 0 || length == sysname.size()) return std::nullopt;
  return std::string(sysname.substr(length));
}

std::vector<std::string> SplitTags(std::string_view text) {
  std::vector<std::string> tags;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t colon = text.find(':', pos);
    if (colon == std::string_view::npos) colon = text.size();
    if (colon > pos) tags.emplace_back(text.substr(pos, colon - pos));
    pos = colon + 1;
  }
  return tags;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string joined = ":";
  for (const auto& tag : tags) {
    joined += tag;
    joined += ':';
  }
  return joined;
}

// An attribute name may name a file in a subdirectory but not climb out of the device.
bool IsValidAttributeName(std::string_view name) {
  return !name.empty() && name.front() != '/' && IsValidDevpath("/" + std::string(name));
}

void CollectAttributes(int sysfs_fd, const std::string& dir, const std::string& prefix, int depth,
                       std::vector<std::string>& names) {
  auto dir_fd = OpenDirAt(sysfs_fd, dir);
  if (!dir_fd) return;
  DIR* stream = fdopendir(dir_fd->get());
  if (!stream) return;
  dir_fd->release();
  std::unique_ptr<DIR, int (*)(DIR*)> closer(stream, closedir);
  while (const dirent* entry = readdir(stream)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = entry->d_type;
    struct stat st;
    bool have_stat = false;
    if (type == DT_UNKNOWN) {
      if (fstatat(dirfd(stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
      have_stat = true;
      type = S_ISDIR(st.st_mode)   ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
             : S_ISREG(st.st_mode) ? DT_REG
                                   : DT_UNKNOWN;
    }
    if (type == DT_DIR) {
      // A subdirectory that is a device of its own (has a uevent file) is not an attribute.
      std::string uevent = std::string(name) + "/uevent";
      if (depth >= kMaxAttributeDepth || faccessat(dirfd(stream), uevent.c_str(), F_OK, 0) == 0)
        continue;
      CollectAttributes(sysfs_fd, dir + "/" + std::string(name), prefix + std::string(name) + "/",
                        depth + 1, names);
      continue;
    }
    if (type != DT_LNK && type != DT_REG) continue;
    if (!have_stat && fstatat(dirfd(stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if ((st.st_mode & (S_IRUSR | S_IWUSR)) == 0) continue;
    names.push_back(prefix + std::string(name));
  }
}

}  // namespace

Result<ResolvedDevice> CheckDevpath(const Context& context, std::string devpath, bool read_uevent) {
  if (!IsValidDevpath(devpath)) return Fail(EINVAL, "invalid devpath");
  if (!read_uevent) {
    std::string relative = Relative(devpath);
    bool present = IsBelowDevices(devpath)
                       ? faccessat(context.sysfs(), (relative + "/uevent").c_str(), F_OK, 0) == 0
                       : IsDirectoryAt(context.sysfs(), relative);
    if (!present) return Fail(ENODEV, "no device at " + devpath);
    return ResolvedDevice{std::move(devpath), std::nullopt};
  }
  return Check(context, std::move(devpath), /*via_openat2=*/false);
}

Result<ResolvedDevice> ResolveSyspath(const Context& context, std::string_view syspath) {
  auto below = context.DevpathOf(syspath);
  if (!below) return Fail(EINVAL, "'" + std::string(syspath) + "' is not below the sysfs root");
  std::string devpath(*below);
  while (devpath.size() > 1 && devpath.back() == '/') devpath.pop_back();
  if (IsValidDevpath(devpath)) {
    // Fast path: a canonical devpath (what enumeration hands out) is checked and its uevent
    // file read by one openat2 that refuses to pass a symlink.
    auto device = Check(context, devpath, /*via_openat2=*/true);
    if (device || (device.error().code != ELOOP && device.error().code != ENOSYS)) return device;
  }
  auto canonical = CanonicalSysfsPath(context.sysfs(), devpath);
  if (!canonical) {
    int code = canonical.error().code;
    return Fail(code == EINVAL ? EINVAL : ENODEV, canonical.error().context);
  }
  return Check(context, std::move(*canonical), /*via_openat2=*/false);
}

std::optional<std::string> ParentDevpath(const Context& context, std::string_view devpath) {
  bool strict = IsBelowDevices(devpath);
  for (;;) {
    size_t slash = devpath.rfind('/');
    if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
    devpath = devpath.substr(0, slash);
    if (!strict) return std::string(devpath);  // outside /devices every directory is a device
    std::string uevent = Relative(devpath) + "/uevent";
    if (faccessat(context.sysfs(), uevent.c_str(), F_OK, 0) == 0) return std::string(devpath);
  }
}

bool DevpathLess(std::string_view a, std::string_view b) {
  auto late = [](std::string_view path) {
    return path.find("/block/md") != std::string_view::npos ||
           path.find("/block/dm-") != std::string_view::npos;
  };
  bool late_a = late(a), late_b = late(b);
  if (late_a != late_b) return late_b;
  // Component by component, as systemd's path_compare.
  size_t pos_a = 0, pos_b = 0;
  for (;;) {
    while (pos_a < a.size() && a[pos_a] == '/') ++pos_a;
    while (pos_b < b.size() && b[pos_b] == '/') ++pos_b;
    if (pos_a == a.size() || pos_b == b.size()) return pos_a == a.size() && pos_b != b.size();
    size_t end_a = std::min(a.find('/', pos_a), a.size());
    size_t end_b = std::min(b.find('/', pos_b), b.size());
    int order = a.substr(pos_a, end_a - pos_a).compare(b.substr(pos_b, end_b - pos_b));
    if (order != 0) return order < 0;
    pos_a = end_a;
    pos_b = end_b;
  }
}

DeviceView::DeviceView(std::shared_ptr<const Context> context, std::string devpath)
    : context_(std::move(context)),
      devpath_(std::move(devpath)),
      syspath_(context_->Syspath(devpath_)),
      sysname_(SysnameOf(devpath_)),
      sysnum_(SysnumOf(sysname_)) {}

DeviceView::DeviceView(std::shared_ptr<const Context> context, ResolvedDevice device)
    : DeviceView(std::move(context), std::move(device.devpath)) {
  uevent_text_ = std::move(device.uevent);
}

DeviceView DeviceView::FromEvent(std::shared_ptr<const Context> context, const Uevent& event,
                                 bool initialized) {
  DeviceView view(std::move(context), std::string(event.devpath()));
  view.from_event_ = true;
  const Context& roots = *view.context_;
  Uevent properties;
  for (const auto& [key, value] : event.properties()) {
    if (key == "DEVNAME") {
      auto relative = roots.RelativeDevPath(value);
      std::string_view name = relative ? *relative : std::string_view(value);
      if (!name.starts_with('/')) {
        view.devnode_ = roots.DevPath(name);
        properties.Set(key, *view.devnode_);
        continue;
      }
    } else if (key == "DEVLINKS") {
      std::string links;
      size_t pos = 0;
      while (pos < value.size()) {
        size_t space = std::min(value.find(' ', pos), value.size());
        std::string_view link = std::string_view(value).substr(pos, space - pos);
        pos = space + 1;
        if (link.empty()) continue;
        auto relative = roots.RelativeDevPath(link);
        std::string absolute = link.starts_with('/') && !relative
                                   ? std::string(link)
                                   : roots.DevPath(relative ? *relative : link);
        view.links_.push_back(absolute);
        if (!links.empty()) links += ' ';
        links += absolute;
      }
      properties.Set(key, links);
      continue;
    } else if (key == "TAGS") {
      view.tags_ = SplitTags(value);
    } else if (key == "CURRENT_TAGS") {
      view.current_tags_ = SplitTags(value);
    } else if (key == "USEC_INITIALIZED") {
      view.usec_initialized_ = ParseNumber<uint64_t>(value).value_or(0);
    } else if (key == "ACTION") {
      view.action_ = value;
    } else if (key == "SEQNUM") {
      view.seqnum_ = ParseNumber<uint64_t>(value).value_or(0);
    }
    properties.Set(key, value);
  }
  view.devnode_loaded_ = true;
  view.subsystem_loaded_ = true;
  if (auto subsystem = event.Get("SUBSYSTEM")) {
    view.subsystem_ = std::string(*subsystem);
  }
  view.driver_loaded_ = true;
  if (auto driver = event.Get("DRIVER")) view.driver_ = std::string(*driver);
  view.record_loaded_ = true;
  view.initialized_ = initialized;
  view.kernel_ = properties;
  view.properties_ = properties.properties();
  view.properties_built_ = true;
  return view;
}

const Uevent& DeviceView::kernel() {
  if (!kernel_) {
    std::optional<std::string> text = std::move(uevent_text_);
    uevent_text_.reset();
    if (!text) {
      auto read = ReadSysfsFile(context_->sysfs(), Relative(devpath_) + "/uevent", 64 * 1024);
      if (read) text = std::move(*read);
    }
    // A malformed line makes the whole file unusable to ParseUeventFile; sd-device would skip
    // just that line, but the kernel writes only well-formed ones.
    auto parsed = text ? ParseUeventFile(*text) : Result<Uevent>(Uevent());
    kernel_ = parsed ? std::move(*parsed) : Uevent();
  }
  return *kernel_;
}

void DeviceView::LoadSubsystem() {
  if (subsystem_loaded_) return;
  subsystem_loaded_ = true;
  auto link = ReadLinkAt(context_->sysfs(), Relative(devpath_) + "/subsystem");
  if (link) {
    subsystem_ = std::string(BaseName(*link));
    return;
  }
  // sd-device's implicit subsystems for the directories that are no devices of their own.
  std::string_view path = devpath_;
  if (path.starts_with("/module/")) {
    subsystem_ = "module";
    return;
  }
  size_t drivers = path.find("/drivers/");
  if (drivers == std::string_view::npos && path.ends_with("/drivers")) drivers = path.size() - 8;
  if (drivers != std::string_view::npos) {
    std::string_view before = path.substr(0, drivers);
    driver_subsystem_ = std::string(BaseName(before));
    subsystem_ = "drivers";
    return;
  }
  if (path.starts_with("/class/") || path.starts_with("/bus/")) subsystem_ = "subsystem";
}

const std::string* DeviceView::subsystem() {
  LoadSubsystem();
  return subsystem_ ? &*subsystem_ : nullptr;
}

const std::string* DeviceView::devtype() {
  if (from_event_) {
    const std::string* value = property("DEVTYPE");
    return value;
  }
  for (const auto& [key, value] : kernel().properties())
    if (key == "DEVTYPE") return &value;
  return nullptr;
}

const std::string* DeviceView::driver() {
  if (!driver_loaded_) {
    driver_loaded_ = true;
    if (auto value = kernel().Get("DRIVER")) {
      driver_ = std::string(*value);
    } else if (auto link = ReadLinkAt(context_->sysfs(), Relative(devpath_) + "/driver")) {
      driver_ = std::string(BaseName(*link));
    }
  }
  return driver_ ? &*driver_ : nullptr;
}

const std::string* DeviceView::devnode() {
  if (!devnode_loaded_) {
    devnode_loaded_ = true;
    if (auto name = kernel().Get("DEVNAME")) {
      auto relative = context_->RelativeDevPath(*name);
      std::string_view node = relative ? *relative : *name;
      // Old drivers spell DEVNAME absolute ("/dev/x"): that is below the dev root too.
      if (!node.starts_with('/')) devnode_ = context_->DevPath(node);
    }
  }
  return devnode_ ? &*devnode_ : nullptr;
}

const std::string* DeviceView::action() { return action_ ? &*action_ : nullptr; }

uint64_t DeviceView::seqnum() { return seqnum_; }

std::optional<dev_t> DeviceView::devnum() { return kernel().devnum(); }

std::optional<int> DeviceView::ifindex() { return kernel().ifindex(); }

std::string DeviceView::Id() {
  const std::string* subsystem_name = subsystem();
  if (!subsystem_name) return {};
  if (*subsystem_name == "drivers") return "+drivers:" + driver_subsystem_ + ":" + sysname_;
  return DeviceId(*subsystem_name, devnum(), ifindex(), sysname_);
}

void DeviceView::LoadRecord() {
  if (record_loaded_) return;
  record_loaded_ = true;
  const Database* database = context_->database();
  if (!database) return;
  std::string id = Id();
  if (id.empty()) return;
  auto record = database->Read(id);
  if (!record) return;
  initialized_ = true;
  usec_initialized_ = record->usec_initialized;
  links_.reserve(record->links.size());
  for (const auto& link : record->links) links_.push_back(context_->DevPath(link));
  tags_ = std::move(record->tags);
  current_tags_ = std::move(record->current_tags);
  record_properties_ = std::move(record->properties);
}

bool DeviceView::initialized() {
  LoadRecord();
  return initialized_;
}

uint64_t DeviceView::usec_initialized() {
  LoadRecord();
  return usec_initialized_;
}

const std::vector<std::string>& DeviceView::links() {
  LoadRecord();
  return links_;
}

const std::vector<std::string>& DeviceView::tags() {
  LoadRecord();
  return tags_;
}

const std::vector<std::string>& DeviceView::current_tags() {
  LoadRecord();
  return current_tags_;
}

void DeviceView::BuildProperties() {
  properties_built_ = true;
  Uevent merged;
  merged.Set("DEVPATH", devpath_);
  for (const auto& [key, value] : kernel().properties()) {
    if (key == "DEVNAME") {
      if (const std::string* node = devnode()) merged.Set(key, *node);
      continue;
    }
    merged.Set(key, value);
  }
  if (const std::string* subsystem_name = subsystem()) merged.Set("SUBSYSTEM", *subsystem_name);
  LoadRecord();
  if (initialized_) {
    if (usec_initialized_ > 0) merged.Set("USEC_INITIALIZED", std::to_string(usec_initialized_));
    for (const auto& [key, value] : record_properties_) merged.Set(key, value);
    if (!links_.empty()) {
      std::string devlinks;
      for (const auto& link : links_) {
        if (!devlinks.empty()) devlinks += ' ';
        devlinks += link;
      }
      merged.Set("DEVLINKS", devlinks);
    }
    if (!tags_.empty()) merged.Set("TAGS", JoinTags(tags_));
    if (!current_tags_.empty()) merged.Set("CURRENT_TAGS", JoinTags(current_tags_));
  }
  properties_ = merged.properties();
}

const std::vector<Property>& DeviceView::properties() {
  if (!properties_built_) BuildProperties();
  return properties_;
}

const std::string* DeviceView::property(std::string_view key) {
  for (const auto& [name, value] : properties())
    if (name == key) return &value;
  return nullptr;
}

Result<std::string> DeviceView::ReadAttribute(std::string_view name) const {
  if (!IsValidAttributeName(name)) return Fail(EINVAL, "invalid attribute name");
  std::string path = Relative(devpath_) + "/" + std::string(name);
  struct stat st;
  if (fstatat(context_->sysfs(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return FailErrno("stat " + path);
  if (S_ISLNK(st.st_mode)) {
    // Only the core links read as a name; other links are no attributes.
    if (name != "driver" && name != "subsystem" && name != "module")
      return Fail(EINVAL, path + " is a link");
    auto target = ReadLinkAt(context_->sysfs(), path);
    if (!target) return tl::unexpected(target.error());
    return std::string(BaseName(*target));
  }
  if (S_ISDIR(st.st_mode)) return Fail(EISDIR, path);
  if (!(st.st_mode & S_IRUSR)) return Fail(EPERM, path + " is not readable");
  auto content = ReadSysfsFile(context_->sysfs(), path, kMaxAttributeSize);
  if (!content) return content;
  while (!content->empty() && (content->back() == '\n' || content->back() == '\r'))
    content->pop_back();
  return content;
}

Status DeviceView::WriteAttribute(std::string_view name, std::string_view value) const {
  if (!IsValidAttributeName(name)) return Fail(EINVAL, "invalid attribute name");
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
  if (value.size() > kMaxWriteSize) return Fail(EINVAL, "attribute value too long");
  std::string path = Relative(devpath_) + "/" + std::string(name);
  // O_TRUNC means nothing to sysfs, but makes a fake tree's plain file hold just the value.
  UniqueFd fd(openat(context_->sysfs(), path.c_str(),
                     O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) return FailErrno("open " + path);
  // One write: a sysfs store sees the whole value at once, or the attribute rejects it.
  ssize_t written;
  do {
    written = write(fd.get(), value.data(), value.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) return FailErrno("write " + path);
  if (static_cast<size_t>(written) != value.size()) return Fail(EIO, "short write to " + path);
  return Ok();
}

std::vector<std::string> DeviceView::AttributeNames() const {
  std::vector<std::string> names;
  CollectAttributes(context_->sysfs(), Relative(devpath_), "", 0, names);
  return names;
}

}  // namespace vdev::compat
