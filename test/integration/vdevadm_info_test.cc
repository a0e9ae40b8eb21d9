// `vdevadm info` and `trigger` finding devices through real device nodes (mknod needs
// root) in a private dev root, over a fake sysfs and over the machine's own sysfs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/roots.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "info_format.h"
#include "trigger_walk.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

constexpr char kSda[] = "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda";

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `main` with a "command" argv[0] and captures what it prints.
template <class Main>
Output Capture(const char* command, std::vector<std::string> args, Main main) {
  args.insert(args.begin(), command);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  char *out_buffer = nullptr, *err_buffer = nullptr;
  size_t out_size = 0, err_size = 0;
  FILE* out = open_memstream(&out_buffer, &out_size);
  FILE* err = open_memstream(&err_buffer, &err_size);
  Output result;
  result.status = main(static_cast<int>(args.size()), argv.data(), out, err);
  fclose(out);
  fclose(err);
  result.out.assign(out_buffer, out_size);
  result.err.assign(err_buffer, err_size);
  free(out_buffer);
  free(err_buffer);
  return result;
}

class VdevadmNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: creates device nodes with mknod";
    paths_.dev = dir_.Sub("dev");
    paths_.run = dir_.Sub("run");
    fs::create_directories(paths_.dev);
    fs::create_directories(paths_.run);
    if (mknod((paths_.dev + "/probe").c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0)
      GTEST_SKIP() << "mknod is not permitted here: " << strerror(errno);
    unlink((paths_.dev + "/probe").c_str());
  }

  void MakeNode(const std::string& name, mode_t type, dev_t devnum) {
    fs::create_directories(fs::path(paths_.dev + "/" + name).parent_path());
    ASSERT_EQ(mknod((paths_.dev + "/" + name).c_str(), type | 0600, devnum), 0) << strerror(errno);
  }

  Output Info(std::vector<std::string> args) {
    return Capture("info", std::move(args), [this](int argc, char** argv, FILE* out, FILE* err) {
      return InfoMain(argc, argv, paths_, out, err);
    });
  }

  // No daemon: these tests only select (dry runs), they never settle.
  class NoDaemon : public TriggerDaemon {
   public:
    Status WaitUntilRunning(double) override { return Fail(ENOENT, "no vdevd"); }
    Status Watch() override { return Fail(ENOENT, "no vdevd"); }
    Status WaitForEvents(std::vector<TriggeredEvent>, double,
                         const std::function<void(const TriggeredEvent&)>&) override {
      return Fail(ENOENT, "no vdevd");
    }
  };

  Output Trigger(std::vector<std::string> args) {
    return Capture("trigger", std::move(args), [this](int argc, char** argv, FILE* out, FILE* err) {
      NoDaemon daemon;
      return TriggerMain(argc, argv, paths_, out, err, daemon);
    });
  }

  testing::TempDir dir_;
  RootPaths paths_;
};

TEST_F(VdevadmNodeTest, NamesResolveThroughNodesAndLinksOverAFakeSysfs) {
  paths_.sysfs = dir_.Sub("sys");
  fs::create_directories(paths_.sysfs);
  testing::FakeSysfs sysfs(paths_.sysfs);
  sysfs.AddBlockDevice(kSda, "sda", 8, 0);
  sysfs.AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3);
  MakeNode("sda", S_IFBLK, makedev(8, 0));
  // A character node with the same numbers must not be taken for the disk.
  MakeNode("char-8-0", S_IFCHR, makedev(8, 0));
  fs::create_directories(paths_.dev + "/disk/by-id");
  fs::create_directory_symlink("../../sda", paths_.dev + "/disk/by-id/ata-X");

  for (std::string name : {std::string("sda"), std::string("/dev/sda"), paths_.dev + "/sda",
                           std::string("disk/by-id/ata-X"), std::string("/dev/disk/by-id/ata-X")}) {
    auto result = Info({"-q", "path", "--name=" + name});
    EXPECT_EQ(result.status, 0) << name << ": " << result.err;
    EXPECT_EQ(result.out, std::string(kSda) + "\n") << name;
  }
  // Positionally, a path below the dev root is a node.
  EXPECT_EQ(Info({"-q", "name", paths_.dev + "/disk/by-id/ata-X"}).out, "sda\n");
  EXPECT_EQ(Info({"-q", "name", "-r", "/dev/sda"}).out, paths_.dev + "/sda\n");

  auto wrong_kind = Info({"-q", "path", "-n", "char-8-0"});
  EXPECT_EQ(wrong_kind.status, 1);
  EXPECT_EQ(wrong_kind.err, "vdevadm info: device 'char-8-0' not found\n");

  auto trigger = Trigger({"-n", "-v", "--name-match=disk/by-id/ata-X"});
  EXPECT_EQ(trigger.status, 0) << trigger.err;
  EXPECT_EQ(trigger.out, paths_.sysfs + kSda + "\n");
}

TEST_F(VdevadmNodeTest, RealSysfsMemNull) {
  if (access("/sys/devices/virtual/mem/null/uevent", R_OK) != 0)
    GTEST_SKIP() << "/sys/devices/virtual/mem/null is not there";
  paths_.sysfs = "/sys";
  MakeNode("null", S_IFCHR, makedev(1, 3));

  auto path = Info({"-q", "path", "-n", "null"});
  EXPECT_EQ(path.status, 0) << path.err;
  EXPECT_EQ(path.out, "/devices/virtual/mem/null\n");
  auto record = Info({"/sys/class/mem/null"});
  EXPECT_EQ(record.status, 0) << record.err;
  EXPECT_TRUE(
      record.out.starts_with("P: /devices/virtual/mem/null\nM: null\nU: mem\n"
                             "D: c 1:3\nN: null\nL: 0\nE: DEVPATH=/devices/virtual/mem/null\n"))
      << record.out;
  EXPECT_NE(record.out.find("E: DEVNAME=" + paths_.dev + "/null\n"), std::string::npos);

  // A dry run only: a real write would send events to whatever listens on this machine.
  auto trigger = Trigger({"--dry-run", "--verbose", "--subsystem-match=mem", "-y", "null"});
  EXPECT_EQ(trigger.status, 0) << trigger.err;
  EXPECT_EQ(trigger.out, "/sys/devices/virtual/mem/null\n");
}

}  // namespace
}  // namespace vdev
