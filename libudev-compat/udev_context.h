// Context: the roots one libudev context reads (sysfs, the dev root, the run dir with the
// device database), opened once from the environment and shared by every object made from it.
#pragma once

#include <cstdarg>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/database.h"
#include "common/roots.h"
#include "common/unique_fd.h"

namespace vdev::compat {

class Context {
 public:
  // Opens what it can of paths: a root that cannot be opened stays closed (its fd is -1) and
  // every lookup below it fails.
  explicit Context(RootPaths paths);
  // Roots from VDEV_SYSFS_ROOT, VDEV_DEV_ROOT and VDEV_RUN_DIR (default /sys, /dev, /run).
  static std::shared_ptr<Context> FromEnvironment();

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int sysfs() const { return sysfs_.get(); }
  int dev() const { return dev_.get(); }
  int run() const { return run_.get(); }
  const RootPaths& paths() const { return paths_; }

  // The absolute syspath of a devpath: the sysfs root followed by devpath.
  std::string Syspath(std::string_view devpath) const {
    return sysfs_prefix_ + std::string(devpath);
  }
  // A devpath from an absolute path below the sysfs root (or below "/sys", which programs
  // spell literally); nullopt for any other path.
  std::optional<std::string_view> DevpathOf(std::string_view syspath) const;
  // The absolute path of a name relative to the dev root ("sda" -> "/dev/sda").
  std::string DevPath(std::string_view relative) const;
  // A path relative to the dev root for an absolute one below it (or below "/dev/").
  std::optional<std::string_view> RelativeDevPath(std::string_view path) const;

  // The device database, or nullptr while RUN/udev/data does not exist (no device manager
  // has run yet): then every device is uninitialized. Asked again on the next call.
  const Database* database() const;

 private:
  RootPaths paths_;
  std::string sysfs_prefix_;  // the sysfs root without a trailing '/' ("" for "/")
  std::string dev_prefix_;    // the same for the dev root
  UniqueFd sysfs_, dev_, run_;
  mutable std::mutex database_mutex_;
  mutable std::optional<Database> database_;
};

}  // namespace vdev::compat

// The opaque libudev context.
struct udev {
  explicit udev(std::shared_ptr<vdev::compat::Context> roots) : context(std::move(roots)) {}

  using LogFunction = void (*)(struct udev* udev, int priority, const char* file, int line,
                               const char* fn, const char* format, va_list args);

  int refcount = 1;
  void* userdata = nullptr;
  int log_priority = 6;          // LOG_INFO, what systemd's libudev reports by default
  LogFunction log_fn = nullptr;  // kept, never called: the library does not log
  std::shared_ptr<vdev::compat::Context> context;
};

namespace vdev::compat {
// The context of udev, or a fresh one from the environment when udev is NULL (systemd's
// libudev accepts a NULL context everywhere).
std::shared_ptr<Context> ContextOf(struct udev* udev);
}  // namespace vdev::compat
