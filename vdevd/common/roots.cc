#include "common/roots.h"

#include <fcntl.h>

#include <cstdlib>

#include "common/fs_util.h"

namespace vdev {

RootPaths RootPaths::FromEnvironment() {
  RootPaths paths;
  if (const char* value = getenv("VDEV_SYSFS_ROOT"); value && *value) paths.sysfs = value;
  if (const char* value = getenv("VDEV_DEV_ROOT"); value && *value) paths.dev = value;
  if (const char* value = getenv("VDEV_RUN_DIR"); value && *value) paths.run = value;
  return paths;
}

Result<Roots> Roots::Open(const RootPaths& paths, bool create_state) {
  Roots roots;
  roots.paths_ = paths;
  auto sysfs = OpenDirAt(AT_FDCWD, paths.sysfs);
  if (!sysfs) return tl::unexpected(sysfs.error());
  auto dev = OpenDirAt(AT_FDCWD, paths.dev);
  if (!dev) return tl::unexpected(dev.error());
  if (create_state) {
    if (auto made = MakeDirsAt(AT_FDCWD, paths.run, 0755); !made) return tl::unexpected(made.error());
  }
  auto run = OpenDirAt(AT_FDCWD, paths.run);
  if (!run) return tl::unexpected(run.error());
  if (create_state) {
    for (const char* dir : {"udev/data", "udev/tags", "vdev"}) {
      if (auto made = MakeDirsAt(run->get(), dir, 0755); !made) return tl::unexpected(made.error());
    }
  }
  roots.sysfs_ = std::move(*sysfs);
  roots.dev_ = std::move(*dev);
  roots.run_ = std::move(*run);
  return roots;
}

}  // namespace vdev
