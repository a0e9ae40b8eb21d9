// The storage stress test of issue 3: 4 loop devices each doing 200 attach / partition /
// detach cycles at once while vdevd runs, then a full check of the dev root: every link
// points at a live device with the right identity, and every live identity has its link.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "vdevd_fixture.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;
using testing::Trim;
using testing::PathExists;

constexpr int kDevices = 4;
constexpr int kCycles = 200;

// udev's \xNN encoding, undone.
std::string Decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() + 0 && text[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(text.substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Probe(const std::string& node, const std::string& tag) {
  return Trim(RunCommand({"blkid", "-p", "-s", tag, "-o", "value", node}).output);
}

struct Image {
  std::string path, uuid, label;
};

class StorageStressTest : public testing::VdevdFixture {
 protected:
  void TearDown() override {
    // Whatever is still attached to our images: partx -d can fail with EBUSY while vdevd
    // probes (the race this test is about), so try a few times before detaching.
    for (const auto& image : images_) {
      auto attached = RunCommand({"losetup", "-j", image.path}).output;
      std::istringstream lines(attached);
      std::string line;
      while (std::getline(lines, line)) {
        std::string loop = line.substr(0, line.find(':'));
        if (loop.empty()) continue;
        for (int i = 0; i < 5 && RunCommand({"partx", "-d", loop}).status != 0; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        RunCommand({"losetup", "-d", loop});
      }
    }
    testing::VdevdFixture::TearDown();
  }

  std::vector<Image> images_;

  Image MakeImage(int index) {
    Image image{dir_.Sub("disk" + std::to_string(index) + ".img"),
                Trim(testing::ReadFile("/proc/sys/kernel/random/uuid")),
                "stress" + std::to_string(index)};
    EXPECT_EQ(RunCommand({"truncate", "-s", "24M", image.path}).status, 0);
    EXPECT_EQ(RunCommand({"sh", "-c", "printf 'label: gpt\\n,12M,L\\n,,L\\n' | sfdisk -q " + image.path})
                  .status,
              0);
    images_.push_back(image);
    auto loop = Trim(RunCommand({"losetup", "-f", "--show", image.path}).output);
    // -u, not -a: a free loop device may still carry partitions a failed partx -d left.
    EXPECT_EQ(RunCommand({"partx", "-u", loop}).status, 0);
    EXPECT_EQ(RunCommand({"mkfs.ext4", "-q", "-F", "-U", image.uuid, "-L", image.label, loop + "p1"})
                  .status,
              0);
    EXPECT_EQ(RunCommand({"mkfs.vfat", "-n", "V" + std::to_string(index), loop + "p2"}).status, 0);
    RunCommand({"partx", "-d", loop});
    RunCommand({"losetup", "-d", loop});
    return image;
  }
};

TEST_F(StorageStressTest, ConcurrentCyclesLeaveAConsistentDevRoot) {
  std::vector<Image> images;
  for (int i = 0; i < kDevices; ++i) images.push_back(MakeImage(i));
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));

  std::mutex mutex;
  std::vector<std::string> attached;  // left attached by the last cycle of each thread
  std::vector<std::thread> threads;
  for (int i = 0; i < kDevices; ++i) {
    threads.emplace_back([&, i] {
      for (int cycle = 0; cycle < kCycles; ++cycle) {
        auto loop = Trim(RunCommand({"losetup", "-f", "--show", images[i].path}).output);
        if (loop.empty()) continue;
        RunCommand({"partx", "-a", loop});
        if (cycle == kCycles - 1) {
          std::lock_guard lock(mutex);
          attached.push_back(loop);
          break;
        }
        RunCommand({"partx", "-d", loop});
        RunCommand({"losetup", "-d", loop});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(Settle(120), 0);
  ASSERT_TRUE(DaemonRunning());

  // Every link points at a live node of the right identity.
  size_t links = 0;
  for (auto it = fs::recursive_directory_iterator(dev_); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_symlink()) continue;
    ++links;
    std::string link = it->path().lexically_relative(dev_);
    fs::path target = fs::weakly_canonical(it->path().parent_path() / fs::read_symlink(it->path()));
    struct stat st;
    ASSERT_EQ(lstat(target.c_str(), &st), 0) << link << " dangles";
    ASSERT_TRUE(S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) << link;
    std::string kind = S_ISBLK(st.st_mode) ? "block" : "char";
    std::string sys = "/sys/dev/" + kind + "/" + std::to_string(major(st.st_rdev)) + ":" +
                      std::to_string(minor(st.st_rdev));
    ASSERT_TRUE(fs::exists(sys)) << link << " -> " << target << ": no such device";
    std::string uevent = testing::ReadFile(sys + "/uevent");
    std::string node = target.lexically_relative(dev_);
    EXPECT_NE(uevent.find("DEVNAME=" + node + "\n"), std::string::npos)
        << link << " -> " << node << " but the kernel names that device otherwise:\n" << uevent;
    std::string real = "/dev/" + node;
    if (link.starts_with("disk/by-uuid/")) {
      EXPECT_EQ(Probe(real, "UUID"), Decode(link.substr(13))) << link;
    } else if (link.starts_with("disk/by-label/")) {
      EXPECT_EQ(Probe(real, "LABEL"), Decode(link.substr(14))) << link;
    } else if (link.starts_with("disk/by-partuuid/")) {
      EXPECT_EQ(Probe(real, "PART_ENTRY_UUID"), link.substr(17)) << link;
    } else if (link.starts_with("disk/by-diskseq/")) {
      EXPECT_EQ(Trim(testing::ReadFile("/sys/block/" + node + "/diskseq")), link.substr(16)) << link;
    }
  }
  EXPECT_GT(links, 0u);

  // Every live identity has its link.
  ASSERT_EQ(attached.size(), static_cast<size_t>(kDevices));
  for (const auto& loop : attached) {
    std::string name = fs::path(loop).filename();
    std::string diskseq = Trim(testing::ReadFile("/sys/block/" + name + "/diskseq"));
    EXPECT_TRUE(PathExists(dev_ + "/disk/by-diskseq/" + diskseq)) << name;
    for (const char* part : {"p1", "p2"}) {
      std::string uuid = Probe(loop + part, "UUID");
      ASSERT_FALSE(uuid.empty()) << loop << part;
      std::string link = dev_ + "/disk/by-uuid/" + uuid;
      ASSERT_TRUE(PathExists(link)) << loop << part << " has no by-uuid link";
      EXPECT_EQ(fs::canonical(link), fs::path(dev_ + "/" + name + part));
    }
  }
}

}  // namespace
}  // namespace vdev
