// Roots: directory fds for the sysfs, dev and run roots that every module works relative to.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

struct RootPaths {
  std::string sysfs = "/sys";
  std::string dev = "/dev";
  std::string run = "/run";  // database in run/udev, vdevd's own state in run/vdev

  // Defaults overridden by VDEV_SYSFS_ROOT, VDEV_DEV_ROOT and VDEV_RUN_DIR.
  static RootPaths FromEnvironment();
};

class Roots {
 public:
  // Opens the three roots. With create_state, creates run/udev/{data,tags} and run/vdev
  // (the daemon does; readers such as vdevadm do not).
  [[nodiscard]] static Result<Roots> Open(const RootPaths& paths, bool create_state);

  int sysfs() const { return sysfs_.get(); }
  int dev() const { return dev_.get(); }
  int run() const { return run_.get(); }
  const RootPaths& paths() const { return paths_; }

 private:
  RootPaths paths_;
  UniqueFd sysfs_, dev_, run_;
};

}  // namespace vdev
