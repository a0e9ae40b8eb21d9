// vdev-blkid: prints what the blkid builtin would add for a block device node or a disk
// image file, as KEY=VALUE lines (for `import = vdev-blkid ...`, scripts and debugging).
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "block_probe.h"
#include "common/device.h"
#include "common/fs_util.h"
#include "common/roots.h"
#include "common/unique_fd.h"

namespace vdev {
namespace {

constexpr char kUsage[] =
    "Usage: vdev-blkid [--offset=BYTES] [--hint=NAME=VALUE] [--noraid] [--lock-timeout=SECONDS]\n"
    "                  DEVICE-OR-IMAGE\n"
    "\n"
    "Prints udev's ID_FS_*, ID_PART_TABLE_*, ID_PART_ENTRY_* and ID_LOOP_BACKING_* properties\n"
    "of a block device node or a disk image file as KEY=VALUE lines. A block device is found\n"
    "in sysfs (VDEV_SYSFS_ROOT, default /sys); a partition's table entry is read from its\n"
    "whole disk below VDEV_DEV_ROOT (default /dev). While a partitioning tool holds the disk's\n"
    "lock, waits for it up to the lock timeout (default 10 s), then probes anyway.\n";

void Print(const std::vector<Property>& properties) {
  for (const auto& [key, value] : properties) printf("%s=%s\n", key.c_str(), value.c_str());
}

// A block device: found in sysfs by its number, probed with the daemon's care (the whole
// disk's lock, its table for a partition's entry).
Result<std::vector<Property>> ProbeNode(UniqueFd node, dev_t devnum,
                                        const BlockProbeOptions& options, double lock_timeout) {
  RootPaths paths = RootPaths::FromEnvironment();
  auto sysfs = OpenDirAt(AT_FDCWD, paths.sysfs);
  if (!sysfs) return tl::unexpected(sysfs.error());
  auto devpath = DevpathFromDevnum(sysfs->get(), /*block=*/true, devnum);
  if (!devpath) return tl::unexpected(devpath.error());
  auto device = Device::Open(sysfs->get(), *devpath);
  if (!device) return tl::unexpected(device.error());
  auto dev = OpenDirAt(AT_FDCWD, paths.dev);
  int dev_fd = dev ? dev->get() : -1;  // without it, a partition gets no table entry

  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<long>(lock_timeout * 1000));
  for (;;) {
    bool last = std::chrono::steady_clock::now() >= deadline;
    // A fresh descriptor of the same node for every try: ProbeDevice closes what it gets.
    UniqueFd fd(fcntl(node.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return FailErrno("dup");
    auto probed = ProbeDevice(*device, dev_fd, options, last, std::move(fd));
    if (!probed) return tl::unexpected(probed.error());
    if (!probed->busy) return std::move(probed->properties);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int Main(int argc, char** argv) {
  std::vector<std::string> probe_args;
  std::string path;
  double lock_timeout = 10;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (arg.starts_with("--lock-timeout=")) {
      char* end = nullptr;
      lock_timeout = strtod(arg.c_str() + 15, &end);
      if (*end != '\0' || !(lock_timeout >= 0 && lock_timeout < 3600)) {
        fprintf(stderr, "vdev-blkid: invalid lock timeout '%s'\n", arg.c_str());
        return 2;
      }
    } else if (arg.starts_with("-") && arg != "-") {
      probe_args.push_back(arg);
    } else if (path.empty()) {
      path = arg;
    } else {
      fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  auto options = ParseBlockProbeArgs(probe_args);
  if (path.empty() || !options) {
    if (!options) fprintf(stderr, "vdev-blkid: %s\n", options.error().context.c_str());
    fputs(kUsage, stderr);
    return 2;
  }

  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) < 0) {
    fprintf(stderr, "vdev-blkid: %s: %s\n", path.c_str(), strerror(errno));
    return 1;
  }
  Result<std::vector<Property>> properties;
  if (S_ISBLK(st.st_mode)) {
    properties = ProbeNode(std::move(fd), st.st_rdev, *options, lock_timeout);
  } else if (S_ISREG(st.st_mode)) {
    properties = ProbeOpenDevice(fd.get(), *options, ProbeContext{});
  } else {
    fprintf(stderr, "vdev-blkid: %s: not a block device or image file\n", path.c_str());
    return 1;
  }
  if (!properties) {
    fprintf(stderr, "vdev-blkid: %s: %s\n", path.c_str(), properties.error().Message().c_str());
    return 1;
  }
  Print(*properties);
  return 0;
}

}  // namespace
}  // namespace vdev

int main(int argc, char** argv) { return vdev::Main(argc, argv); }
