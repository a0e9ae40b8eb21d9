// Mounting a tmpfs on a private dev root, as root, through libmount.
#include "dev_mount.h"

#include <sys/mount.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "fixtures/mountinfo.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

TEST(MountTmpfs, MountsOnceAndDetects) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  testing::TempDir dir;
  ASSERT_TRUE(MountTmpfs(dir.path())) << "first mount";
  EXPECT_EQ(testing::MountedTypeAt(dir.path()), "tmpfs");
  ASSERT_TRUE(MountTmpfs(dir.path())) << "already a tmpfs: nothing to do";
  EXPECT_EQ(DetectDevfs(dir.path()), DevfsMode::kTmpfs);
  EXPECT_EQ(umount(dir.path().c_str()), 0) << "mounted exactly once";
  EXPECT_NE(umount(dir.path().c_str()), 0);
}

}  // namespace
}  // namespace vdev
