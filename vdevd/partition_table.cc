#include "partition_table.h"

#include <blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "common/fs_util.h"
#include "common/numbers.h"

namespace vdev {
namespace {

struct ProbeFree {
  void operator()(blkid_probe probe) const { blkid_free_probe(probe); }
};

}  // namespace

Result<std::vector<PartitionExtent>> ReadPartitionTable(int disk_fd) {
  std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree> probe(blkid_new_probe());
  if (!probe) return Fail(ENOMEM, "blkid_new_probe");
  if (blkid_probe_set_device(probe.get(), disk_fd, 0, 0) != 0)
    return Fail(errno ? errno : EIO, "blkid_probe_set_device");
  blkid_probe_enable_superblocks(probe.get(), 0);
  blkid_probe_enable_partitions(probe.get(), 1);
  std::vector<PartitionExtent> extents;
  blkid_partlist list = blkid_probe_get_partitions(probe.get());
  if (!list) return extents;  // no table
  int count = blkid_partlist_numof_partitions(list);
  for (int i = 0; i < count; ++i) {
    blkid_partition partition = blkid_partlist_get_partition(list, i);
    if (!partition) continue;
    extents.push_back({blkid_partition_get_partno(partition),
                       static_cast<uint64_t>(blkid_partition_get_start(partition)),
                       static_cast<uint64_t>(blkid_partition_get_size(partition))});
  }
  std::sort(extents.begin(), extents.end());
  return extents;
}

Result<std::vector<std::string>> PartitionDevpaths(int sysfs_fd, const std::string& disk_devpath) {
  auto dir = OpenDirAt(sysfs_fd, disk_devpath.substr(1), O_NOFOLLOW);
  if (!dir) return tl::unexpected(dir.error());
  DIR* listing = fdopendir(dir->release());
  if (!listing) return FailErrno("fdopendir " + disk_devpath);
  std::vector<std::string> devpaths;
  while (dirent* entry = readdir(listing)) {
    std::string name = entry->d_name;
    if (name.starts_with('.') || entry->d_type != DT_DIR) continue;
    std::string marker = disk_devpath.substr(1) + "/" + name + "/partition";
    // Not a partition: queue/, holders/, power/ ...
    if (faccessat(sysfs_fd, marker.c_str(), F_OK, 0) == 0) devpaths.push_back(disk_devpath + "/" + name);
  }
  closedir(listing);
  std::sort(devpaths.begin(), devpaths.end());
  return devpaths;
}

Result<std::vector<PartitionExtent>> KernelPartitions(int sysfs_fd, const std::string& devpath) {
  auto partitions = PartitionDevpaths(sysfs_fd, devpath);
  if (!partitions) return tl::unexpected(partitions.error());
  std::vector<PartitionExtent> extents;
  for (const auto& partition : *partitions) {
    std::string base = partition.substr(1) + "/";
    auto number = ReadAttributeAt(sysfs_fd, base + "partition");
    auto start = ReadAttributeAt(sysfs_fd, base + "start");
    auto size = ReadAttributeAt(sysfs_fd, base + "size");
    extents.push_back({number ? ParseNumber<int>(*number).value_or(0) : 0,
                       start ? ParseNumber<uint64_t>(*start).value_or(0) : 0,
                       size ? ParseNumber<uint64_t>(*size).value_or(0) : 0});
  }
  std::sort(extents.begin(), extents.end());
  return extents;
}

Result<bool> RereadIfChanged(int disk_fd, int sysfs_fd, const std::string& devpath) {
  auto on_disk = ReadPartitionTable(disk_fd);
  if (!on_disk) return tl::unexpected(on_disk.error());
  auto in_kernel = KernelPartitions(sysfs_fd, devpath);
  if (!in_kernel) return tl::unexpected(in_kernel.error());
  if (*on_disk == *in_kernel) return false;
  if (ioctl(disk_fd, BLKRRPART, 0) < 0) return FailErrno("BLKRRPART " + devpath);
  return true;
}

}  // namespace vdev
