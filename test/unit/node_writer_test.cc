#include "node_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

class DevNodeWriterTest : public ::testing::Test {
 protected:
  std::string Link(const std::string& name) {
    return ReadLinkAt(dev_.get(), name).value_or("<none>");
  }
  bool Exists(const std::string& name) {
    struct stat st;
    return fstatat(dev_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

  testing::TempDir dir_;
  UniqueFd dev_ = std::move(*OpenDirAt(AT_FDCWD, dir_.path()));
  DevNodeWriter writer_{dev_.get()};
};

TEST(RelativeLinkTarget, ClimbsOutOfTheLinksDirectory) {
  EXPECT_EQ(RelativeLinkTarget("cdrom", "sr0"), "sr0");
  EXPECT_EQ(RelativeLinkTarget("block/8:0", "sda"), "../sda");
  EXPECT_EQ(RelativeLinkTarget("disk/by-id/ata-x", "sda"), "../../sda");
  EXPECT_EQ(RelativeLinkTarget("char/13:67", "input/event3"), "../input/event3");
}

TEST_F(DevNodeWriterTest, LinksAreCreatedReplacedAndRemovedOnlyByTheirOwner) {
  ASSERT_TRUE(writer_.CreateLink("disk/by-label/root", "sda1"));
  EXPECT_EQ(Link("disk/by-label/root"), "../../sda1");
  ASSERT_TRUE(writer_.CreateLink("disk/by-label/root", "sda1"));  // unchanged: fine
  // Another device takes the name over: replaced in place.
  ASSERT_TRUE(writer_.CreateLink("disk/by-label/root", "sdb1"));
  EXPECT_EQ(Link("disk/by-label/root"), "../../sdb1");
  // The old owner going away must not remove the new owner's link.
  ASSERT_TRUE(writer_.RemoveLink("disk/by-label/root", "sda1"));
  EXPECT_EQ(Link("disk/by-label/root"), "../../sdb1");
  ASSERT_TRUE(writer_.RemoveLink("disk/by-label/root", "sdb1"));
  EXPECT_FALSE(Exists("disk/by-label/root"));
  EXPECT_FALSE(Exists("disk"));  // empty directories go with their last link
  EXPECT_TRUE(writer_.RemoveLink("disk/by-label/root", "sdb1"));  // already gone: fine
  // No temporary names are left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()),
                          std::filesystem::directory_iterator()),
            0);
}

TEST_F(DevNodeWriterTest, NodesNeedRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "mknod needs root";
  NodeSpec null{"null", false, makedev(1, 3), 0666, 0, 5};
  ASSERT_TRUE(writer_.CreateNode(null));
  struct stat st;
  ASSERT_EQ(fstatat(dev_.get(), "null", &st, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  EXPECT_EQ(st.st_gid, 5u);

  // Nested names get their directories.
  ASSERT_TRUE(writer_.CreateNode({"input/event3", false, makedev(13, 67), 0660, 0, 0}));
  EXPECT_TRUE(Exists("input/event3"));

  // A name reused by another device number is replaced, not kept.
  ASSERT_TRUE(writer_.CreateNode({"loop0", true, makedev(7, 0), 0660, 0, 6}));
  ASSERT_TRUE(writer_.CreateNode({"loop0", true, makedev(7, 8), 0600, 0, 0}));
  ASSERT_EQ(fstatat(dev_.get(), "loop0", &st, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_EQ(st.st_rdev, makedev(7, 8));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // A late remove of the old instance must not delete the new one.
  ASSERT_TRUE(writer_.RemoveNode("loop0", true, makedev(7, 0)));
  EXPECT_TRUE(Exists("loop0"));
  ASSERT_TRUE(writer_.RemoveNode("loop0", true, makedev(7, 8)));
  EXPECT_FALSE(Exists("loop0"));
  ASSERT_TRUE(writer_.RemoveNode("input/event3", false, makedev(13, 67)));
  EXPECT_FALSE(Exists("input"));

  // devtmpfs mode: permissions only, and only on the right node.
  ASSERT_TRUE(writer_.SetNodePermissions({"null", false, makedev(1, 3), 0640, 0, 0}));
  ASSERT_EQ(fstatat(dev_.get(), "null", &st, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_FALSE(writer_.SetNodePermissions({"null", false, makedev(1, 5), 0666, 0, 0}));
  // A symlink planted at a node's name is replaced, never followed.
  ASSERT_EQ(symlinkat("/etc/passwd", dev_.get(), "zero"), 0);
  ASSERT_TRUE(writer_.CreateNode({"zero", false, makedev(1, 5), 0666, 0, 0}));
  ASSERT_EQ(fstatat(dev_.get(), "zero", &st, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(RecordingNodeWriter, RecordsWithoutTouchingAnything) {
  RecordingNodeWriter writer;
  ASSERT_TRUE(writer.CreateNode({"snd/pcmC0D0p", false, makedev(116, 16), 0660, 0, 29}));
  ASSERT_TRUE(writer.CreateLink("char/116:16", "snd/pcmC0D0p"));
  ASSERT_TRUE(writer.RemoveNode("snd/pcmC0D0p", false, makedev(116, 16)));
  EXPECT_EQ(writer.TakeLines(), (std::vector<std::string>{"mknod c 116:16 0660 0:29 snd/pcmC0D0p",
                                                          "ln char/116:16 -> ../snd/pcmC0D0p",
                                                          "rm c 116:16 snd/pcmC0D0p"}));
  EXPECT_TRUE(writer.TakeLines().empty());
}

}  // namespace
}  // namespace vdev
