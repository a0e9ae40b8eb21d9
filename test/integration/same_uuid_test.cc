// Two loop-attached images carrying one filesystem UUID and label (issue 3): the by-uuid and
// by-label links (and, for partitions, by-partuuid and by-partlabel) always point at a live
// claimant, stay with the oldest claim while it lives, follow to the other image when it
// goes, and vanish with the last one, whichever of the two is detached first.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include "fixtures/disk_images.h"
#include "link_claims.h"
#include "vdevd_fixture.h"

namespace vdev::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr auto kLinkTimeout = seconds(20);

std::string RandomUuid() { return Trim(ReadFile("/proc/sys/kernel/random/uuid")); }

std::string ReadLink(const std::string& path) {
  std::error_code error;
  fs::path target = fs::read_symlink(path, error);
  return error ? std::string() : target.string();
}

// One attachment of an image: the loop device and the node that carries the filesystem
// (the whole device, or its first partition).
struct Attached {
  std::string loop;  // "/dev/loop3" as losetup names it
  std::string name;  // "loop3"
  std::string node;  // "loop3" or "loop3p1", relative to the dev root
};

struct Layout {
  bool partitioned;  // GPT with the filesystem in partition 1, or the filesystem on the disk
  bool owner_first;  // detach the link's owner first, or the other claimant first
};

class SameUuidTest : public VdevdFixture, public ::testing::WithParamInterface<Layout> {
 protected:
  void SetUp() override {
    VdevdFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!HaveImageTools() || !FindTool("losetup") || !FindTool("partx"))
      GTEST_SKIP() << "needs losetup, partx, sfdisk and mkfs.ext4";
    ASSERT_NO_FATAL_FAILURE(MountTmpfs(run_, "mode=0755"));
    uuid_ = RandomUuid();
    part_uuid_ = RandomUuid();
    // Other engineers' tests attach images in the same kernel and their events reach this
    // daemon too: a label of this run's own keeps their "twin" out of our links.
    label_ = "twin-" + uuid_.substr(0, 8);
    part_label_ = "twinpart-" + part_uuid_.substr(0, 6);
  }

  void TearDown() override {
    // Detach whatever is still attached to our images (a failed assertion leaves some),
    // before the daemon stops. partx -d fails with EBUSY while a probe has the partition
    // open, so it is retried.
    for (const std::string& image : images_) {
      std::istringstream lines(RunCommand({"losetup", "-j", image}).output);
      std::string line;
      while (std::getline(lines, line)) {
        std::string loop = line.substr(0, line.find(':'));
        if (loop.empty()) continue;
        if (HasPartitions(fs::path(loop).filename())) RemovePartitions(loop);
        RunCommand({"losetup", "-d", loop});
      }
    }
    VdevdFixture::TearDown();
  }

  // An image of 8 MiB: ext4 with our UUID and label over the whole file, or a GPT whose
  // partition 1 (partition UUID and name ours too) holds it. Each image gets its own mkfs
  // (the brief of the issue: two filesystems that merely share the UUID), the GPT images
  // share the partition table's identity as a copied disk would.
  std::string MakeImage(const std::string& file, bool partitioned) {
    std::string path = dir_.Sub(file);
    images_.push_back(path);
    EXPECT_TRUE(MakeSparseFile(path, 8 * kMiB));
    if (!partitioned) {
      EXPECT_TRUE(MakeExt4(path, label_, uuid_));
      return path;
    }
    EXPECT_TRUE(WritePartitionTable(
        path,
        "label: gpt\nstart=2048, size=8192, uuid=" + part_uuid_ + ", name=" + part_label_ + "\n",
        dir_.path()));
    std::string part = dir_.Sub("part.img");
    EXPECT_TRUE(MakeSparseFile(part, 8192 * 512));
    EXPECT_TRUE(MakeExt4(part, label_, uuid_));
    EXPECT_TRUE(CopyInto(path, 2048 * 512, part));
    unlink(part.c_str());
    return path;
  }

  static bool HasPartitions(const std::string& name) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/sys/block/" + name, error))
      if (entry.path().filename().string().starts_with(name + "p")) return true;
    return false;
  }

  // partx -d, retried while a probe (ours or another daemon's) holds a partition open.
  // True when it succeeded.
  bool RemovePartitions(const std::string& loop) {
    for (int attempt = 0; attempt < 30; ++attempt) {
      auto removed = RunCommand({"partx", "-d", loop}, {}, /*with_stderr=*/true);
      if (removed.status == 0) {
        if (attempt > 0) std::cerr << "partx -d " << loop << ": needed " << attempt << " retries\n";
        return true;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  // losetup -f --show, partx -a when partitioned, settle, and wait until the daemon has
  // processed the filesystem's node (its by-loop-inode link, made by the same event as the
  // by-uuid claim, exists).
  Attached Attach(const std::string& image, bool partitioned) {
    Attached attached;
    auto shown = RunCommand({"losetup", "-f", "--show", image});
    EXPECT_EQ(shown.status, 0);
    attached.loop = Trim(shown.output);
    if (attached.loop.empty()) return attached;
    attached.name = fs::path(attached.loop).filename();
    attached.node = attached.name + (partitioned ? "p1" : "");
    // partx partitions outlive a detach (no partition scanning on loop devices here); an
    // earlier user of this loop device may have left some, and partx -a fails on them.
    if (HasPartitions(attached.name)) {
      EXPECT_TRUE(RemovePartitions(attached.loop));
    }
    if (partitioned) {
      EXPECT_EQ(RunCommand({"partx", "-a", attached.loop}).status, 0);
    }
    EXPECT_EQ(Settle(), 0);
    EXPECT_TRUE(WaitForPath(Marker(image, partitioned), true, kLinkTimeout))
        << attached.node << " was not processed: no " << Marker(image, partitioned);
    return attached;
  }

  // partx -d when partitioned, losetup -d, settle, and wait until the daemon has processed
  // the loss of the filesystem (the node's by-loop-inode link is gone).
  void Detach(const Attached& attached, const std::string& image, bool partitioned) {
    if (partitioned) {
      EXPECT_TRUE(RemovePartitions(attached.loop)) << "partx -d " << attached.loop;
    }
    EXPECT_EQ(RunCommand({"losetup", "-d", attached.loop}).status, 0);
    EXPECT_EQ(Settle(), 0);
    EXPECT_TRUE(WaitForPath(Marker(image, partitioned), false, kLinkTimeout))
        << Marker(image, partitioned) << " outlived " << attached.node;
  }

  // The link only the attachment of this image has: by-loop-inode/<dev>-<ino>[-part1].
  std::string Marker(const std::string& image, bool partitioned) const {
    struct stat st;
    EXPECT_EQ(stat(image.c_str(), &st), 0);
    return dev_ + "/disk/by-loop-inode/" + std::to_string(major(st.st_dev)) + ":" +
           std::to_string(minor(st.st_dev)) + "-" + std::to_string(st.st_ino) +
           (partitioned ? "-part1" : "");
  }

  // The links the twins share, relative to the dev root.
  std::vector<std::string> SharedLinks(bool partitioned) const {
    std::vector<std::string> links = {"disk/by-uuid/" + uuid_, "disk/by-label/" + label_};
    if (partitioned) {
      links.push_back("disk/by-partuuid/" + part_uuid_);
      links.push_back("disk/by-partlabel/" + part_label_);
    }
    return links;
  }

  // Each shared link and its target ("" when absent).
  std::map<std::string, std::string> Targets(bool partitioned) const {
    std::map<std::string, std::string> targets;
    for (const auto& link : SharedLinks(partitioned)) targets[link] = ReadLink(dev_ + "/" + link);
    return targets;
  }

  // Every shared link points at node (node "" : every one is absent).
  std::map<std::string, std::string> Expected(bool partitioned, const std::string& node) const {
    std::map<std::string, std::string> targets;
    for (const auto& link : SharedLinks(partitioned))
      targets[link] = node.empty() ? "" : "../../" + node;
    return targets;
  }

  static std::string Describe(const std::map<std::string, std::string>& targets) {
    std::string text;
    for (const auto& [link, target] : targets)
      text += "  " + link + " -> " + (target.empty() ? "(none)" : target) + "\n";
    return text;
  }

  // Waits for every shared link to point at node (or to be gone), then settles and checks
  // that this holds still, and that each link reaches that very device.
  void ExpectLinksAt(bool partitioned, const std::string& node, const std::string& when) {
    auto expected = Expected(partitioned, node);
    bool reached = WaitUntil([&] { return Targets(partitioned) == expected; }, kLinkTimeout);
    EXPECT_TRUE(reached) << when << ": expected\n"
                         << Describe(expected) << "got\n"
                         << Describe(Targets(partitioned));
    EXPECT_EQ(Settle(), 0);
    EXPECT_EQ(Targets(partitioned), expected) << when << ": changed after settling";
    EXPECT_TRUE(DaemonRunning()) << when;
    // The claims store (RUN/vdev/links/<escaped link>/) records a link while anyone claims
    // it, and forgets it with the last claim.
    for (const auto& link : SharedLinks(partitioned))
      EXPECT_EQ(PathExists(run_ + "/vdev/links/" + EscapeStoreName(link)), !node.empty())
          << when << ": the claims store of " << link;
    if (node.empty()) return;
    std::string sys = "/sys/class/block/" + node + "/dev";
    std::string devnum = Trim(ReadFile(sys));
    ASSERT_FALSE(devnum.empty()) << when << ": " << sys;
    for (const auto& link : SharedLinks(partitioned)) {
      struct stat st;
      ASSERT_EQ(stat((dev_ + "/" + link).c_str(), &st), 0) << when << ": " << link << " dangles";
      EXPECT_TRUE(S_ISBLK(st.st_mode)) << when << ": " << link;
      EXPECT_EQ(std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)), devnum)
          << when << ": " << link << " reaches another device than " << node;
    }
  }

  std::string uuid_, label_, part_uuid_, part_label_;
  std::vector<std::string> images_;
};

// A attached first owns the links, B attached next waits behind it. Then one of them goes
// (the owner or the other, by the parameter), comes back, the other goes, and finally both:
// at every step the links point at the oldest live claim, or are gone with the last.
TEST_P(SameUuidTest, LinksFollowTheOldestLiveTwin) {
  const bool partitioned = GetParam().partitioned;
  std::string image_a = MakeImage("a.img", partitioned);
  std::string image_b = MakeImage("b.img", partitioned);
  ASSERT_FALSE(HasFailure()) << "could not build the images";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));

  Attached a = Attach(image_a, partitioned);
  ASSERT_FALSE(a.loop.empty());
  ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, a.node, "A attached"));
  Attached b = Attach(image_b, partitioned);
  ASSERT_FALSE(b.loop.empty());
  ASSERT_NE(a.name, b.name);
  ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, a.node, "B attached after A"));

  if (GetParam().owner_first) {
    Detach(a, image_a, partitioned);
    ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, b.node, "A (owner) detached"));
    a = Attach(image_a, partitioned);
    ASSERT_FALSE(a.loop.empty());
    ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, b.node, "A attached again"));
    Detach(b, image_b, partitioned);
    ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, a.node, "B (owner) detached"));
    Detach(a, image_a, partitioned);
  } else {
    Detach(b, image_b, partitioned);
    ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, a.node, "B (not the owner) detached"));
    b = Attach(image_b, partitioned);
    ASSERT_FALSE(b.loop.empty());
    ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, a.node, "B attached again"));
    Detach(a, image_a, partitioned);
    ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, b.node, "A (owner) detached"));
    Detach(b, image_b, partitioned);
  }
  ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, "", "both detached"));
}

// Both twins attached back to back, without settling between them: which one claimed
// first is up to the daemon's workers, but the links point at one of the two, and survive
// its detach by moving to the other.
// The layout's owner_first plays no part here.
class SameUuidAtOnceTest : public SameUuidTest {};

TEST_P(SameUuidAtOnceTest, TwinsAttachedAtOnceHandTheLinksOver) {
  const bool partitioned = GetParam().partitioned;
  std::string image_a = MakeImage("a.img", partitioned);
  std::string image_b = MakeImage("b.img", partitioned);
  ASSERT_FALSE(HasFailure()) << "could not build the images";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));

  Attached twins[2];
  const std::string images[2] = {image_a, image_b};
  for (int i = 0; i < 2; ++i) {
    auto shown = RunCommand({"losetup", "-f", "--show", images[i]});
    ASSERT_EQ(shown.status, 0);
    twins[i].loop = Trim(shown.output);
    ASSERT_FALSE(twins[i].loop.empty());
    twins[i].name = fs::path(twins[i].loop).filename();
    twins[i].node = twins[i].name + (partitioned ? "p1" : "");
    if (HasPartitions(twins[i].name)) {
      ASSERT_TRUE(RemovePartitions(twins[i].loop));
    }
  }
  if (partitioned) {
    for (const auto& twin : twins) ASSERT_EQ(RunCommand({"partx", "-a", twin.loop}).status, 0);
  }
  ASSERT_EQ(Settle(), 0);
  for (const auto& image : images)
    ASSERT_TRUE(WaitForPath(Marker(image, partitioned), true, kLinkTimeout)) << image;

  std::string owner_target = ReadLink(dev_ + "/disk/by-uuid/" + uuid_);
  int owner = owner_target == "../../" + twins[1].node ? 1 : 0;
  ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, twins[owner].node, "both attached"));
  int other = 1 - owner;

  Detach(twins[owner], images[owner], partitioned);
  ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, twins[other].node, "owner detached"));
  Detach(twins[other], images[other], partitioned);
  ASSERT_NO_FATAL_FAILURE(ExpectLinksAt(partitioned, "", "both detached"));
}

std::string LayoutName(const ::testing::TestParamInfo<Layout>& info) {
  return std::string(info.param.partitioned ? "Partition" : "WholeDisk") +
         (info.param.owner_first ? "OwnerFirst" : "OtherFirst");
}

INSTANTIATE_TEST_SUITE_P(Layouts, SameUuidTest,
                         ::testing::Values(Layout{false, true}, Layout{false, false},
                                           Layout{true, true}, Layout{true, false}),
                         LayoutName);
INSTANTIATE_TEST_SUITE_P(Layouts, SameUuidAtOnceTest,
                         ::testing::Values(Layout{false, true}, Layout{true, true}),
                         [](const ::testing::TestParamInfo<Layout>& info) {
                           return std::string(info.param.partitioned ? "Partition" : "WholeDisk");
                         });

}  // namespace
}  // namespace vdev::testing
