#include "coldplug.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "common/fs_util.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace vdev {
namespace {

// What one directory listing tells the walk.
struct Listing {
  bool has_uevent = false;
  bool has_subsystem = false;
  std::vector<std::string> subdirs;
};

enum class Kind { kDirectory, kFile, kSymlink, kOther };

Kind KindOf(int dir_fd, const dirent64& entry) {
  switch (entry.d_type) {
    case DT_DIR:
      return Kind::kDirectory;
    case DT_REG:
      return Kind::kFile;
    case DT_LNK:
      return Kind::kSymlink;
    case DT_UNKNOWN:
      break;
    default:
      return Kind::kOther;
  }
  // Some file systems (the fake trees of tests may live on one) leave d_type unset.
  struct stat st;
  if (fstatat(dir_fd, entry.d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) return Kind::kOther;
  if (S_ISDIR(st.st_mode)) return Kind::kDirectory;
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  if (S_ISLNK(st.st_mode)) return Kind::kSymlink;
  return Kind::kOther;
}

class Walker {
 public:
  // read_uevent: build the full event (WalkDevices); otherwise only report devpaths.
  Walker(bool read_uevent, const std::function<void(Uevent&&)>* on_device,
         std::vector<std::string>* devpaths)
      : read_uevent_(read_uevent), on_device_(on_device), devpaths_(devpaths) {}

  // Visits the directory dir_fd whose devpath is devpath_, then its subdirectories. One
  // fd stays open per level of the tree.
  void Visit(const UniqueFd& dir_fd) {
    Listing listing = List(dir_fd.get());
    if (listing.has_uevent && listing.has_subsystem) Report(dir_fd.get());

    // Sorted, so that a walk is reproducible (tests, benchmarks, logs).
    std::sort(listing.subdirs.begin(), listing.subdirs.end());
    for (const std::string& name : listing.subdirs) {
      UniqueFd child(
          openat(dir_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      size_t saved = devpath_.size();
      devpath_ += '/';
      devpath_ += name;
      if (!child) {
        LogDebug("coldplug: cannot open %s: %s, skipping", devpath_.c_str(), strerror(errno));
      } else {
        Visit(child);
      }
      devpath_.resize(saved);
    }
  }

 private:
  // getdents64 straight into a buffer shared by the whole walk: opendir would add an
  // fstat, two fcntls and a 32 KiB allocation per directory, a third of the walk's time.
  Listing List(int dir_fd) {
    Listing listing;
    for (;;) {
      ssize_t got = getdents64(dir_fd, buffer_.data(), buffer_.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        LogDebug("coldplug: reading %s: %s, continuing with what was read", devpath_.c_str(),
                 strerror(errno));
        break;
      }
      if (got == 0) break;
      for (ssize_t pos = 0; pos < got;) {
        const auto* entry = reinterpret_cast<const dirent64*>(buffer_.data() + pos);
        pos += entry->d_reclen;
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (name == "uevent") {
          listing.has_uevent = KindOf(dir_fd, *entry) == Kind::kFile;
        } else if (name == "subsystem") {
          listing.has_subsystem = KindOf(dir_fd, *entry) == Kind::kSymlink;
        } else if (name != "power" && KindOf(dir_fd, *entry) == Kind::kDirectory) {
          // "power" is the attribute group every device has; no device can take the name.
          // Symlinks (driver, subsystem, firmware_node, device, ...) lead to other parts of
          // the tree or back up; they are never followed.
          listing.subdirs.emplace_back(name);
        }
      }
    }
    return listing;
  }

  void Report(int dir_fd) {
    if (!read_uevent_) {
      devpaths_->push_back(devpath_);
      return;
    }
    char target[PATH_MAX];
    ssize_t length = readlinkat(dir_fd, "subsystem", target, sizeof(target));
    if (length <= 0 || static_cast<size_t>(length) >= sizeof(target)) {
      LogDebug("coldplug: cannot read %s/subsystem, skipping", devpath_.c_str());
      return;
    }
    std::string_view subsystem = BaseName(std::string_view(target, length));
    if (!ReadUevent(dir_fd)) return;
    auto properties = ParseUeventFile(content_);
    if (!properties) {
      LogWarning("coldplug: %s/uevent: %s, skipping", devpath_.c_str(),
                 properties.error().context.c_str());
      return;
    }

    Uevent event;
    event.Set("ACTION", "add");
    event.Set("DEVPATH", devpath_);
    event.Set("SUBSYSTEM", subsystem);
    for (const auto& [key, value] : properties->properties()) {
      // The walk, not the file, says what the event is.
      if (key == "ACTION" || key == "DEVPATH" || key == "SUBSYSTEM") continue;
      event.Set(key, value);
    }
    if (auto valid = ValidateUevent(event); !valid) {
      LogWarning("coldplug: %s: %s, skipping", devpath_.c_str(), valid.error().context.c_str());
      return;
    }
    (*on_device_)(std::move(event));
  }

  // Reads dir_fd/uevent into content_, reusing its capacity across devices.
  bool ReadUevent(int dir_fd) {
    UniqueFd file(openat(dir_fd, "uevent", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file) {
      LogDebug("coldplug: cannot open %s/uevent: %s, skipping", devpath_.c_str(), strerror(errno));
      return false;
    }
    content_.clear();
    for (;;) {
      ssize_t got = read(file.get(), buffer_.data(), buffer_.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        // Some drivers fail reads of their uevent (ENODEV from a device going away).
        LogDebug("coldplug: cannot read %s/uevent: %s, skipping", devpath_.c_str(),
                 strerror(errno));
        return false;
      }
      content_.append(buffer_.data(), static_cast<size_t>(got));
      // A short read of a regular file is its end; sysfs hands out an attribute (at most a
      // page) in one read. That saves the extra read() that would only return 0.
      if (static_cast<size_t>(got) < buffer_.size()) return true;
      if (content_.size() > (1 << 20)) {
        LogDebug("coldplug: %s/uevent is too large, skipping", devpath_.c_str());
        return false;
      }
    }
  }

  bool read_uevent_;
  const std::function<void(Uevent&&)>* on_device_;
  std::vector<std::string>* devpaths_;
  std::string devpath_ = "/devices";  // of the directory being visited
  std::string content_;
  std::vector<char> buffer_ = std::vector<char>(32 * 1024);
};

Status Walk(int sysfs_fd, Walker& walker) {
  UniqueFd devices(openat(sysfs_fd, "devices", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!devices) return FailErrno("open devices below the sysfs root");
  walker.Visit(devices);
  return Ok();
}

}  // namespace

Status WalkDevices(int sysfs_fd, const std::function<void(Uevent&&)>& on_device) {
  Walker walker(true, &on_device, nullptr);
  return Walk(sysfs_fd, walker);
}

Result<std::vector<std::string>> ListDevpaths(int sysfs_fd) {
  std::vector<std::string> devpaths;
  Walker walker(false, nullptr, &devpaths);
  if (auto walked = Walk(sysfs_fd, walker); !walked) return tl::unexpected(walked.error());
  return devpaths;
}

}  // namespace vdev
