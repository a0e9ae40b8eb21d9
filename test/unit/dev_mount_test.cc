#include "dev_mount.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

// What the mount table says is mounted on path ("" for none), read independently of
// libmount: the fifth field of /proc/self/mountinfo is the mount point, the type follows
// the " - " separator.
std::string TypeFromMountinfo(const std::string& path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line, type;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, devnum, root, mount_point;
    fields >> id >> parent >> devnum >> root >> mount_point;
    if (mount_point != path) continue;
    size_t separator = line.find(" - ");
    std::istringstream rest(line.substr(separator + 3));
    rest >> type;
  }
  return type;
}

TEST(DetectDevfs, PlainDirectoryIsOurs) {
  testing::TempDir dir;
  EXPECT_EQ(DetectDevfs(dir.path()), DevfsMode::kTmpfs);
}

TEST(DetectDevfs, AgreesWithTheMountTableOnDev) {
  std::string type = TypeFromMountinfo("/dev");
  if (type.empty()) GTEST_SKIP() << "nothing is mounted on /dev here";
  EXPECT_EQ(DetectDevfs("/dev"), type == "devtmpfs" ? DevfsMode::kDevtmpfs : DevfsMode::kTmpfs);
}

TEST(DetectDevfs, MissingDirectoryIsAnError) {
  EXPECT_FALSE(DetectDevfs("/nonexistent/vdev/dev"));
}

}  // namespace
}  // namespace vdev
