// PartitionTable: what a disk's partition table says, read with libblkid, against what
// the kernel currently has (its partitions in sysfs), so the partition table is re-read
// (BLKRRPART) only when it really changed: a needless re-read is itself a source of the
// EBUSY race of partition tools (seed 002).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace vdev {

struct PartitionExtent {
  int number = 0;
  uint64_t start = 0;  // 512-byte sectors, as sysfs counts
  uint64_t size = 0;
  bool operator==(const PartitionExtent&) const = default;
  bool operator<(const PartitionExtent& other) const { return number < other.number; }
};

// The devpaths of the partitions the kernel has for the disk at disk_devpath (below
// sysfs_fd), in name order: the child directories with a "partition" attribute.
[[nodiscard]] Result<std::vector<std::string>> PartitionDevpaths(int sysfs_fd,
                                                                 const std::string& disk_devpath);

// The partitions of the table on the open disk fd (empty when it has none), by number.
[[nodiscard]] Result<std::vector<PartitionExtent>> ReadPartitionTable(int disk_fd);

// The partitions the kernel has for the disk at devpath (below sysfs_fd), by number.
[[nodiscard]] Result<std::vector<PartitionExtent>> KernelPartitions(int sysfs_fd,
                                                                    const std::string& devpath);

// Asks the kernel to re-read the table of the open disk when ReadPartitionTable and
// KernelPartitions disagree. True when it asked (and the kernel accepted).
[[nodiscard]] Result<bool> RereadIfChanged(int disk_fd, int sysfs_fd, const std::string& devpath);

}  // namespace vdev
