#include "static_nodes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/unique_fd.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

TEST(StaticNodes, ParsesModulesDevname) {
  auto nodes = ParseModulesDevname(
      "# Device nodes to trigger on-demand module loading.\n"
      "fuse fuse c10:229\n"
      "loop loop-control c10:237\n"
      "tun net/tun c10:200\n"
      "snd_seq snd/seq c116:1\n"
      "dm_mod mapper/control c10:236\n"
      "bad ../escape c1:1\n"
      "bad /abs c1:1\n"
      "bad x x1:1\n"
      "bad y c1\n"
      "short c1:1\n"
      "blk blkname b7:0\n");
  ASSERT_EQ(nodes.size(), 6u);
  EXPECT_EQ(nodes[0].name, "fuse");
  EXPECT_EQ(nodes[0].kind, StaticNode::Kind::kChar);
  EXPECT_EQ(nodes[0].major, 10u);
  EXPECT_EQ(nodes[0].minor, 229u);
  EXPECT_EQ(nodes[0].mode, 0600u);
  EXPECT_EQ(nodes[2].name, "net/tun");
  EXPECT_EQ(nodes[3].name, "snd/seq");
  EXPECT_EQ(nodes[3].major, 116u);
  EXPECT_EQ(nodes[5].name, "blkname");
  EXPECT_EQ(nodes[5].kind, StaticNode::Kind::kBlock);
}

TEST(StaticNodes, BaseSetHasWhatBootNeeds) {
  auto nodes = BaseStaticNodes();
  auto find = [&](const std::string& name) -> const StaticNode* {
    for (const auto& node : nodes)
      if (node.name == name) return &node;
    return nullptr;
  };
  for (const char* name : {"console", "null", "zero", "full", "random", "urandom", "tty", "ptmx",
                           "kmsg", "fd", "stdin", "stdout", "stderr", "core", "pts", "shm"})
    EXPECT_NE(find(name), nullptr) << name;
  ASSERT_NE(find("console"), nullptr);
  EXPECT_EQ(find("console")->mode, 0600u);
  EXPECT_EQ(find("null")->major, 1u);
  EXPECT_EQ(find("null")->minor, 3u);
  EXPECT_EQ(find("shm")->mode, 01777u);
  EXPECT_EQ(find("stderr")->target, "/proc/self/fd/2");
}

TEST(StaticNodes, MissingModulesDevnameAddsNothing) {
  testing::TempDir dir;
  EXPECT_EQ(BootStaticNodes(dir.path()).size(), BaseStaticNodes().size());
  std::ofstream(dir.Sub("modules.devname")) << "fuse fuse c10:229\ntun net/tun c10:200\n";
  EXPECT_EQ(BootStaticNodes(dir.path()).size(), BaseStaticNodes().size() + 2);
}

// mknod needs CAP_MKNOD.
class StaticNodesAsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mknod";
    dev_.reset(open(dir_.path().c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(dev_);
  }

  struct stat Stat(const std::string& name) {
    struct stat st {};
    EXPECT_EQ(lstat(dir_.Sub(name).c_str(), &st), 0) << name;
    return st;
  }

  testing::TempDir dir_;
  UniqueFd dev_;
};

TEST_F(StaticNodesAsRoot, CreatesNodesLinksAndDirectoriesWithTheirModes) {
  std::ofstream(dir_.Sub("modules.devname")) << "fuse fuse c10:229\ntun net/tun c10:200\n";
  std::vector<StaticNode> nodes = BootStaticNodes(dir_.path());
  fs::remove(dir_.Sub("modules.devname"));
  auto created = CreateStaticNodes(dev_.get(), nodes);
  ASSERT_TRUE(created) << created.error().Message();
  EXPECT_EQ(*created, nodes.size());

  struct stat st = Stat("null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);  // not cut by the umask
  st = Stat("console");
  EXPECT_EQ(st.st_rdev, makedev(5, 1));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  st = Stat("ptmx");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  st = Stat("net/tun");
  EXPECT_EQ(st.st_rdev, makedev(10, 200));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(Stat("net").st_mode & 07777, 0755u);
  EXPECT_TRUE(S_ISDIR(Stat("shm").st_mode));
  EXPECT_EQ(Stat("shm").st_mode & 07777, 01777u);
  EXPECT_EQ(Stat("pts").st_mode & 07777, 0755u);
  EXPECT_EQ(fs::read_symlink(dir_.Sub("fd")), "/proc/self/fd");
  EXPECT_EQ(fs::read_symlink(dir_.Sub("stdin")), "/proc/self/fd/0");
  EXPECT_EQ(fs::read_symlink(dir_.Sub("core")), "/proc/kcore");
}

TEST_F(StaticNodesAsRoot, NeverOverwritesWhatExists) {
  // What a devtmpfs (or an earlier stage) left: a node with another mode, a file in
  // place of a node, a link elsewhere.
  ASSERT_EQ(mknodat(dev_.get(), "null", S_IFCHR | 0600, makedev(1, 3)), 0);
  std::ofstream(dir_.Sub("console")) << "not a node";
  ASSERT_EQ(symlinkat("/somewhere", dev_.get(), "fd"), 0);
  auto created = CreateStaticNodes(dev_.get(), BaseStaticNodes());
  ASSERT_TRUE(created);
  EXPECT_EQ(*created, BaseStaticNodes().size() - 3);
  EXPECT_EQ(Stat("null").st_mode & 07777, 0600u);
  EXPECT_TRUE(S_ISREG(Stat("console").st_mode));
  EXPECT_EQ(fs::read_symlink(dir_.Sub("fd")), "/somewhere");
  // A second run makes nothing.
  created = CreateStaticNodes(dev_.get(), BaseStaticNodes());
  ASSERT_TRUE(created);
  EXPECT_EQ(*created, 0u);
}

}  // namespace
}  // namespace vdev
