#include "dev_mount.h"

#include <string>

#include <gtest/gtest.h>

#include "fixtures/mountinfo.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

TEST(DetectDevfs, PlainDirectoryIsOurs) {
  testing::TempDir dir;
  EXPECT_EQ(DetectDevfs(dir.path()), DevfsMode::kTmpfs);
}

TEST(DetectDevfs, AgreesWithTheMountTableOnDev) {
  std::string type = testing::MountedTypeAt("/dev");
  if (type.empty()) GTEST_SKIP() << "nothing is mounted on /dev here";
  EXPECT_EQ(DetectDevfs("/dev"), type == "devtmpfs" ? DevfsMode::kDevtmpfs : DevfsMode::kTmpfs);
}

TEST(DetectDevfs, MissingDirectoryIsAnError) {
  EXPECT_FALSE(DetectDevfs("/nonexistent/vdev/dev"));
}

}  // namespace
}  // namespace vdev
