// LoopBacking: the file behind a loop device (LOOP_GET_STATUS64), as udev's
// ID_LOOP_BACKING_* properties that name disk/by-loop-inode and disk/by-loop-ref links.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// For a loop device or one of its partitions open as fd: appends ID_LOOP_BACKING_DEVICE
// (MAJ:MIN of the filesystem holding the backing file), ID_LOOP_BACKING_INODE, and, when
// userspace named the file (lo_file_name, a free-form string) and the kernel did not cut
// the name, ID_LOOP_BACKING_FILENAME and its encoded form ID_LOOP_BACKING_FILENAME_ENC.
// Appends nothing for other devices (sysname not loop*, or no loop ioctl) and for a loop
// device with no file attached.
[[nodiscard]] Status AppendLoopBacking(int fd, std::string_view sysname,
                                       std::vector<Property>* out);

}  // namespace vdev
