// Persistent storage links with real loop devices: vdevd on a private tmpfs dev root with
// the shipped rules, images attached with losetup and their partitions added with partx
// (this kernel has no partition-table parsers of its own).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "block_probe.h"
#include "fixtures/disk_images.h"
#include "vdevd_fixture.h"

namespace vdev::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = 1024 * 1024;

std::string RandomUuid() { return Trim(ReadFile("/proc/sys/kernel/random/uuid")); }

std::string ReadLink(const std::string& path) {
  std::error_code error;
  fs::path target = fs::read_symlink(path, error);
  return error ? std::string() : target.string();
}

class StorageLinksTest : public VdevdFixture {
 protected:
  void SetUp() override {
    VdevdFixture::SetUp();
    if (IsSkipped()) return;
    if (!HaveImageTools() || !FindTool("losetup") || !FindTool("partx"))
      GTEST_SKIP() << "needs losetup, partx, sfdisk, mkfs.ext4 and mkfs.vfat";
  }

  void TearDown() override {
    // Detach before the daemon stops, so a failed test leaves no loop device behind.
    for (const std::string& loop : attached_) {
      RunCommand({"partx", "-d", loop});
      RunCommand({"losetup", "-d", loop});
    }
    VdevdFixture::TearDown();
  }

  // A 16 MiB GPT image: 1 ext4 "root part", 2 FAT "esp", 3 ext4 labelled "../../evil" in a
  // partition named "../../evil". UUIDs are fresh, so no other test's disk claims them.
  struct GptImage {
    std::string path;
    std::string root_uuid, evil_uuid;
    std::string part_uuid[3];
  };

  GptImage MakeGptImage(const std::string& name) {
    GptImage image;
    image.path = dir_.Sub(name);
    image.root_uuid = RandomUuid();
    image.evil_uuid = RandomUuid();
    std::string script = "label: gpt\n";
    for (int i = 0; i < 3; ++i) {
      image.part_uuid[i] = RandomUuid();
      static const char* const kNames[] = {"\"root part\"", "esp", "\"../../evil\""};
      script += "start=" + std::to_string(2048 + i * 8192) +
                ", size=8192, uuid=" + image.part_uuid[i] + ", name=" + kNames[i] + "\n";
    }
    EXPECT_TRUE(MakeSparseFile(image.path, 16 * kMiB));
    EXPECT_TRUE(WritePartitionTable(image.path, script, dir_.path()));
    std::string part = dir_.Sub("part.img");
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(MakeSparseFile(part, 8192 * 512));
      if (i == 0) {
        EXPECT_TRUE(MakeExt4(part, "vdev-it-root", image.root_uuid));
      }
      if (i == 1) {
        EXPECT_TRUE(MakeVfat(part, "VDEVESP", "CAFE0001"));
      }
      if (i == 2) {
        EXPECT_TRUE(MakeExt4(part, "../../evil", image.evil_uuid));
      }
      EXPECT_TRUE(CopyInto(image.path, (2048 + i * 8192) * 512ull, part));
    }
    unlink(part.c_str());
    return image;
  }

  // losetup -f --show; the loop device's path ("/dev/loop3"), empty on failure.
  std::string Attach(const std::string& image) {
    auto attached = RunCommand({"losetup", "-f", "--show", image});
    EXPECT_EQ(attached.status, 0);
    std::string loop = Trim(attached.output);
    if (loop.empty()) return loop;
    attached_.push_back(loop);
    // An earlier user may have detached this device without `partx -d`: partitions added
    // with partx outlive the medium (no partition scanning on loop devices here), and
    // `partx -a` would then fail on them.
    std::string name = fs::path(loop).filename();
    for (const auto& entry : fs::directory_iterator("/sys/block/" + name)) {
      if (entry.path().filename().string().starts_with(name + "p")) {
        RunCommand({"partx", "-d", loop});
        break;
      }
    }
    return loop;
  }

  // partitions: partx added some, and removing them must work (a probe holding a
  // partition open would make partx -d fail with EBUSY).
  void Detach(const std::string& loop, bool partitions = true) {
    if (partitions) {
      EXPECT_EQ(RunCommand({"partx", "-d", loop}).status, 0);
    }
    EXPECT_EQ(RunCommand({"losetup", "-d", loop}).status, 0);
    attached_.erase(std::remove(attached_.begin(), attached_.end(), loop), attached_.end());
  }

  // Every link below D/disk that points at name or one of its partitions: link -> target.
  // Other tests' loop devices may come and go meanwhile; their links are left out.
  std::map<std::string, std::string> LinksTo(const std::string& name) {
    std::map<std::string, std::string> links;
    std::error_code error;
    if (!fs::exists(dev_ + "/disk")) return links;
    for (auto it = fs::recursive_directory_iterator(dev_ + "/disk", error);
         it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) break;
      if (!it->is_symlink()) continue;
      std::string target = ReadLink(it->path());
      std::string node = fs::path(target).filename();
      if (node == name || (node.starts_with(name + "p") && node.size() > name.size() + 1))
        links[it->path().lexically_relative(dev_).string()] = target;
    }
    return links;
  }

  // The links of the image on loop (name "loopN") that the rules must make.
  std::map<std::string, std::string> ExpectedLinks(const GptImage& image, const std::string& name) {
    std::string disk = "../../" + name;
    std::string part[3] = {disk + "p1", disk + "p2", disk + "p3"};
    std::map<std::string, std::string> links = {
        {"disk/by-uuid/" + image.root_uuid, part[0]},
        {"disk/by-label/vdev-it-root", part[0]},
        {"disk/by-partlabel/root\\x20part", part[0]},
        {"disk/by-uuid/CAFE-0001", part[1]},
        {"disk/by-label/VDEVESP", part[1]},
        {"disk/by-partlabel/esp", part[1]},
        {"disk/by-uuid/" + image.evil_uuid, part[2]},
        {"disk/by-label/..\\x2f..\\x2fevil", part[2]},
        {"disk/by-partlabel/..\\x2f..\\x2fevil", part[2]},
        {"disk/by-diskseq/" + Trim(ReadFile("/sys/block/" + name + "/diskseq")), disk},
    };
    for (int i = 0; i < 3; ++i) links["disk/by-partuuid/" + image.part_uuid[i]] = part[i];
    struct stat st;
    EXPECT_EQ(stat(image.path.c_str(), &st), 0);
    std::string inode = "disk/by-loop-inode/" + std::to_string(major(st.st_dev)) + ":" +
                        std::to_string(minor(st.st_dev)) + "-" + std::to_string(st.st_ino);
    links[inode] = disk;
    std::string ref;
    std::string real = fs::canonical(image.path).string();
    if (real.size() < 63) ref = "disk/by-loop-ref/" + EncodeBlkidString(real);  // else cut: none
    if (!ref.empty()) links[ref] = disk;
    for (int i = 0; i < 3; ++i) {
      std::string suffix = "-part" + std::to_string(i + 1);
      links[inode + suffix] = part[i];
      if (!ref.empty()) links[ref + suffix] = part[i];
    }
    return links;
  }

  std::vector<std::string> attached_;
};

std::string Describe(const std::map<std::string, std::string>& links) {
  std::string text;
  for (const auto& [link, target] : links) text += "  " + link + " -> " + target + "\n";
  return text;
}

TEST_F(StorageLinksTest, GptImageGetsEveryLinkAndDetachingRemovesThem) {
  GptImage image = MakeGptImage("gpt.img");
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  std::string loop = Attach(image.path);
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  ASSERT_EQ(RunCommand({"partx", "-a", loop}).status, 0);

  auto expected = ExpectedLinks(image, name);
  bool complete = WaitUntil([&] { return LinksTo(name) == expected; }, seconds(20));
  EXPECT_TRUE(complete) << "expected:\n"
                        << Describe(expected) << "got:\n"
                        << Describe(LinksTo(name));
  // Every link resolves to the node of the device it names.
  for (const auto& [link, target] : LinksTo(name)) {
    struct stat linked, real;
    ASSERT_EQ(stat((dev_ + "/" + link).c_str(), &linked), 0) << link;
    ASSERT_EQ(stat(("/dev/" + fs::path(target).filename().string()).c_str(), &real), 0) << link;
    EXPECT_EQ(linked.st_rdev, real.st_rdev) << link;
  }
  // The helper finds the same through the kernel's node and the disk in our dev root.
  auto printed = RunCommand({kBinDir + "vdev-blkid", loop + "p1"}, VdevadmEnv());
  EXPECT_EQ(printed.status, 0);
  for (const std::string& line : std::vector<std::string>{
           "ID_FS_UUID=" + image.root_uuid, "ID_PART_ENTRY_UUID=" + image.part_uuid[0],
           "ID_PART_ENTRY_NAME=root\\x20part", "ID_PART_ENTRY_NUMBER=1", "ID_PART_TABLE_TYPE=gpt"})
    EXPECT_NE(printed.output.find(line + "\n"), std::string::npos) << line << "\n"
                                                                   << printed.output;
  // The hostile label made nothing outside by-label and by-partlabel.
  for (const char* escaped : {"evil", "disk/evil", "disk/by-label/evil", "../evil"})
    EXPECT_FALSE(PathExists(dev_ + "/" + escaped)) << escaped;
  EXPECT_FALSE(PathExists(dir_.Sub("evil")));

  Detach(loop);
  ASSERT_EQ(Settle(), 0);
  bool gone = WaitUntil([&] { return LinksTo(name).empty(); }, seconds(20));
  EXPECT_TRUE(gone) << "left behind:\n" << Describe(LinksTo(name));
  EXPECT_TRUE(DaemonRunning());
}

TEST_F(StorageLinksTest, ReattachingAnotherImageShowsOnlyItsLinks) {
  std::string first = dir_.Sub("first.img"), second = dir_.Sub("second.img");
  std::string first_uuid = RandomUuid(), second_uuid = RandomUuid();
  ASSERT_TRUE(MakeSparseFile(first, 4 * kMiB));
  ASSERT_TRUE(MakeExt4(first, "vdev-it-first", first_uuid));
  ASSERT_TRUE(MakeSparseFile(second, 4 * kMiB));
  ASSERT_TRUE(MakeVfat(second, "VDEVSECOND", "5EC0D002"));
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));

  std::string loop = Attach(first);
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  std::string first_link = dev_ + "/disk/by-uuid/" + first_uuid;
  EXPECT_TRUE(WaitForPath(first_link, true, seconds(20)));
  EXPECT_EQ(ReadLink(first_link), "../../" + name);

  // The same loop device, the next medium.
  EXPECT_EQ(RunCommand({"losetup", "-d", loop}).status, 0);
  ASSERT_EQ(RunCommand({"losetup", loop, second}).status, 0);
  std::string second_link = dev_ + "/disk/by-uuid/5EC0-D002";
  EXPECT_TRUE(WaitForPath(second_link, true, seconds(20)));
  ASSERT_EQ(Settle(), 0);
  EXPECT_FALSE(PathExists(first_link));
  EXPECT_FALSE(PathExists(dev_ + "/disk/by-label/vdev-it-first"));
  EXPECT_EQ(ReadLink(dev_ + "/disk/by-label/VDEVSECOND"), "../../" + name);
  for (const auto& [link, target] : LinksTo(name)) {
    EXPECT_TRUE(link.find(first_uuid) == std::string::npos &&
                link.find("first") == std::string::npos)
        << "stale link " << link;
  }
  Detach(loop, /*partitions=*/false);
}

TEST_F(StorageLinksTest, LockedDiskDelaysTheProbeInsteadOfRacingIt) {
  GptImage image = MakeGptImage("locked.img");
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  std::string loop = Attach(image.path);
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  std::string disk_node = dev_ + "/" + name;
  ASSERT_TRUE(
      WaitForPath(dev_ + "/disk/by-diskseq/" + Trim(ReadFile("/sys/block/" + name + "/diskseq")),
                  true, seconds(20)));

  // A partitioning tool's lock (flock(1), sfdisk --lock and friends take LOCK_EX on the
  // whole disk's node) while the partitions appear: the daemon must wait for it.
  UniqueFd holder(open(disk_node.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  ASSERT_TRUE(holder);
  ASSERT_EQ(flock(holder.get(), LOCK_EX), 0);
  ASSERT_EQ(RunCommand({"partx", "-a", loop}).status, 0);
  std::string root_link = dev_ + "/disk/by-uuid/" + image.root_uuid;
  EXPECT_TRUE(WaitForPath(dev_ + "/" + name + "p1", true, seconds(10)))
      << "the partition's node is made before its probe";
  auto locked_since = Clock::now();
  while (Clock::now() - locked_since < seconds(2)) {
    ASSERT_FALSE(PathExists(root_link)) << "probed while the disk was locked";
    std::this_thread::sleep_for(milliseconds(50));
  }
  holder.reset();  // the tool is done

  EXPECT_TRUE(WaitForPath(root_link, true, seconds(10)));
  auto expected = ExpectedLinks(image, name);
  EXPECT_TRUE(WaitUntil([&] { return LinksTo(name) == expected; }, seconds(10)))
      << "got:\n"
      << Describe(LinksTo(name));
  Detach(loop);
}

TEST_F(StorageLinksTest, FlockAndSfdiskOnTheDiskAreNotRaced) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  std::string image = dir_.Sub("blank.img");
  ASSERT_TRUE(MakeSparseFile(image, 16 * kMiB));
  std::string loop = Attach(image);
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  ASSERT_TRUE(WaitForPath(dev_ + "/" + name, true, seconds(20)));

  // flock(1) holds our dev root's node of the disk while sfdisk writes a table to it and
  // partx adds the partition, then keeps it a second longer.
  std::string part_uuid = RandomUuid();
  std::string script = dir_.Sub("script");
  {
    std::ofstream out(script);
    out << "label: gpt\nstart=2048, size=8192, uuid=" << part_uuid << ", name=fresh\n";
  }
  auto locked = RunCommand({"flock", dev_ + "/" + name, "sh", "-c",
                            "sfdisk -q --no-reread --no-tell-kernel \"$1\" < \"$2\" && "
                            "partx -a \"$1\" && sleep 1 && "
                            "test ! -e \"$3\"",
                            "sh", loop, script, dev_ + "/disk/by-partuuid/" + part_uuid},
                           {}, /*with_stderr=*/true);
  EXPECT_EQ(locked.status, 0) << "the link existed while the disk was locked\n" << locked.output;
  std::string link = dev_ + "/disk/by-partuuid/" + part_uuid;
  EXPECT_TRUE(WaitForPath(link, true, seconds(10)));
  EXPECT_EQ(ReadLink(link), "../../" + name + "p1");
  // The event's links are made one after another: the next may still be on its way.
  std::string label_link = dev_ + "/disk/by-partlabel/fresh";
  EXPECT_TRUE(WaitForPath(label_link, true, seconds(10)));
  EXPECT_EQ(ReadLink(label_link), "../../" + name + "p1");
  Detach(loop);
}

// udev's watch: mkfs on a watched disk, with no uevent of its own, still brings its links.
TEST_F(StorageLinksTest, FilesystemMadeWithoutAUeventGetsItsLinks) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  std::string image = dir_.Sub("blank.img");
  ASSERT_TRUE(MakeSparseFile(image, 16 * kMiB));
  std::string loop = Attach(image);
  ASSERT_FALSE(loop.empty());
  ASSERT_EQ(Settle(), 0);
  std::string name = fs::path(loop).filename();
  std::string uuid = RandomUuid();
  EXPECT_FALSE(PathExists(dev_ + "/disk/by-uuid/" + uuid));
  // Through the node vdevd watches (ours; on a real system that is /dev's own).
  ASSERT_EQ(RunCommand({"mkfs.ext4", "-q", "-F", "-U", uuid, "-L", "watched", dev_ + "/" + name})
                .status,
            0);
  ASSERT_EQ(Settle(), 0);
  EXPECT_TRUE(WaitForPath(dev_ + "/disk/by-uuid/" + uuid, true));
  EXPECT_TRUE(WaitForPath(dev_ + "/disk/by-label/watched", true));
  // Relabelled with tune2fs: the old label's link goes, the new one comes.
  ASSERT_EQ(RunCommand({"tune2fs", "-L", "renamed", dev_ + "/" + name}).status, 0);
  ASSERT_EQ(Settle(), 0);
  EXPECT_TRUE(WaitForPath(dev_ + "/disk/by-label/renamed", true));
  EXPECT_TRUE(WaitForPath(dev_ + "/disk/by-label/watched", false));
}

}  // namespace
}  // namespace vdev::testing
