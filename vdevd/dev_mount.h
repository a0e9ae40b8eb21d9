// The dev root's file system, read from the mount table with libmount: is the kernel
// making nodes there (devtmpfs) or are we (tmpfs)? And mounting a tmpfs on it.
#pragma once

#include <string>

#include "common/result.h"
#include "daemon_options.h"

namespace vdev {

// kDevtmpfs when a devtmpfs is mounted on dev_root, else kTmpfs (a tmpfs or a plain
// directory: either way nodes are ours to make).
[[nodiscard]] Result<DevfsMode> DetectDevfs(const std::string& dev_root);

// Mounts a tmpfs (mode 0755, nosuid) on dev_root unless a tmpfs or devtmpfs is already
// mounted there.
[[nodiscard]] Status MountTmpfs(const std::string& dev_root);

}  // namespace vdev
