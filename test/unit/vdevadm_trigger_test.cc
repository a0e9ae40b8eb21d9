// `vdevadm trigger` run through TriggerMain against a fake sysfs whose uevent files are
// plain files: what was "triggered" is what they hold afterwards.
#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/database.h"
#include "common/roots.h"
#include "common/unique_fd.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "trigger_walk.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

constexpr char kPci[] = "/devices/pci0000:00/0000:00:1f.2";
constexpr char kAta[] = "/devices/pci0000:00/0000:00:1f.2/ata1";
constexpr char kSda[] = "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda";
constexpr char kSda1[] = "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1";
constexpr char kNull[] = "/devices/virtual/mem/null";
constexpr char kZero[] = "/devices/virtual/mem/zero";
constexpr char kLo[] = "/devices/virtual/net/lo";

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

// A FILE* that collects what is written to it.
class Capture {
 public:
  Capture() : file_(open_memstream(&buffer_, &size_)) {}
  ~Capture() {
    if (file_) fclose(file_);
    free(buffer_);
  }
  FILE* file() { return file_; }
  std::string Take() {
    fclose(file_);
    file_ = nullptr;
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  FILE* file_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class VdevadmTriggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_.sysfs = dir_.Sub("sys");
    paths_.dev = dir_.Sub("dev");
    paths_.run = dir_.Sub("run");
    for (const char* dir : {"sys", "dev", "run"}) fs::create_directory(dir_.Sub(dir));
    sysfs_.emplace(dir_.Sub("sys"));
    sysfs_->Add({kPci, "pci", true, "ahci", {{"DRIVER", "ahci"}}, {}});
    sysfs_->Add({kAta, "", false, "", {}, {}});  // no subsystem: the kernel sends it no events
    sysfs_->AddBlockDevice(kSda, "sda", 8, 0);
    sysfs_->SetAttribute(kSda, "size", "2048");
    sysfs_->AddBlockDevice(kSda1, "sda1", 8, 1, "partition");
    sysfs_->SetAttribute(kSda1, "size", "1024");
    sysfs_->AddCharDevice(kNull, "mem", "null", 1, 3);
    sysfs_->AddCharDevice(kZero, "mem", "zero", 1, 5);
    sysfs_->Add({kLo, "net", false, "", {{"INTERFACE", "lo"}, {"IFINDEX", "1"}}, {}});
    // Subsystems: buses and drivers have (write-only) uevent files, so do loadable modules;
    // built-in modules and class directories have none.
    WriteFile(Sys("/bus/pci/uevent"), "");
    WriteFile(Sys("/bus/pci/drivers/ahci/uevent"), "");
    WriteFile(Sys("/module/loop/uevent"), "");
    fs::create_directories(Sys("/module/builtin/parameters"));

    auto roots = Roots::Open(paths_, true);
    ASSERT_TRUE(roots);
    auto database = Database::Open(roots->run(), true);
    ASSERT_TRUE(database);
    DeviceRecord sda;
    sda.properties = {{"ID_BUS", "ata"}};
    sda.tags = {"systemd"};
    ASSERT_TRUE(database->Write("b8:0", sda, nullptr));

    for (const char* devpath : {kPci, kAta, kSda, kSda1, kNull, kZero, kLo})
      original_[devpath] = ReadFile(Uevent(devpath));
  }

  std::string Sys(const std::string& devpath) {
    // Never the machine's /sys: the roots are set before anything is written.
    if (paths_.sysfs.empty()) throw std::logic_error("fake sysfs root not set");
    return paths_.sysfs + devpath;
  }
  std::string Uevent(const std::string& devpath) { return Sys(devpath) + "/uevent"; }

  Output Run(std::vector<std::string> args) {
    args.insert(args.begin(), "trigger");
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    Capture out, err;
    Output result;
    result.status = TriggerMain(static_cast<int>(args.size()), argv.data(), paths_, out.file(),
                                err.file(), [this](const RootPaths& paths, double timeout) {
                                  settled_.emplace_back(paths.sysfs, timeout);
                                  return settle_status_;
                                });
    result.out = out.Take();
    result.err = err.Take();
    return result;
  }

  // The devices whose uevent file now holds action, in the fixture's order.
  std::vector<std::string> Written(const std::string& action) {
    std::vector<std::string> written;
    for (const char* devpath : {kPci, kAta, kSda, kSda1, kNull, kZero, kLo}) {
      std::string content = ReadFile(Uevent(devpath));
      if (content == action) {
        written.push_back(devpath);
      } else {
        EXPECT_EQ(content, original_[devpath]) << devpath << " holds something else";
      }
    }
    return written;
  }

  // Runs with -v -n and returns the devpaths it printed.
  std::vector<std::string> Selected(std::vector<std::string> args) {
    args.insert(args.begin(), {"--verbose", "--dry-run"});
    auto result = Run(args);
    EXPECT_EQ(result.status, 0) << result.err;
    std::vector<std::string> devpaths;
    for (const auto& line : Lines(result.out)) {
      EXPECT_TRUE(line.starts_with(paths_.sysfs + "/")) << line;
      devpaths.push_back(line.substr(paths_.sysfs.size()));
    }
    return devpaths;
  }

  testing::TempDir dir_;
  std::optional<testing::FakeSysfs> sysfs_;
  RootPaths paths_;
  std::map<std::string, std::string> original_;
  std::vector<std::pair<std::string, double>> settled_;
  int settle_status_ = 0;
};

using Devpaths = std::vector<std::string>;

TEST_F(VdevadmTriggerTest, WritesChangeToEveryDeviceByDefault) {
  auto result = Run({});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "");
  // ata1 has no subsystem: the kernel would send nothing for it, udevadm skips it too.
  EXPECT_EQ(Written("change"), (Devpaths{kPci, kSda, kSda1, kNull, kZero, kLo}));
  EXPECT_EQ(ReadFile(Sys("/bus/pci/uevent")), "");  // --type=devices leaves subsystems alone
  EXPECT_TRUE(settled_.empty());
}

TEST_F(VdevadmTriggerTest, ActionSpellings) {
  EXPECT_EQ(Run({"--action=add", "-s", "mem"}).status, 0);
  EXPECT_EQ(Written("add"), (Devpaths{kNull, kZero}));
  EXPECT_EQ(Run({"--action", "remove", "-y", "null"}).status, 0);
  EXPECT_EQ(ReadFile(Uevent(kNull)), "remove");
  EXPECT_EQ(Run({"-c", "bind", "-y", "zero"}).status, 0);
  EXPECT_EQ(ReadFile(Uevent(kZero)), "bind");
}

TEST_F(VdevadmTriggerTest, VerbosePrintsSyspathsParentsFirstAndDryRunWritesNothing) {
  auto result = Run({"-v", "-n"});
  EXPECT_EQ(result.status, 0);
  std::vector<std::string> expected;
  for (const char* devpath : {kPci, kSda, kSda1, kNull, kZero, kLo})
    expected.push_back(Sys(devpath));
  EXPECT_EQ(Lines(result.out), expected);
  EXPECT_EQ(Written("change"), Devpaths{});

  // Without --verbose a dry run is silent, as udevadm's.
  auto quiet = Run({"--dry-run"});
  EXPECT_EQ(quiet.out, "");
  EXPECT_EQ(Written("change"), Devpaths{});
}

TEST_F(VdevadmTriggerTest, ParentsAreTriggeredBeforeChildrenWhateverTheNames) {
  // "a-child" sorts before "block" and "0" before "a": order must still follow the tree.
  sysfs_->AddCharDevice(std::string(kAta) + "/a-child", "scsi_generic", "sg0", 21, 0);
  sysfs_->AddBlockDevice(std::string(kSda) + "/sda0", "sda0", 8, 2, "partition");
  auto selected = Selected({});
  auto position = [&](const std::string& devpath) {
    return std::find(selected.begin(), selected.end(), devpath) - selected.begin();
  };
  ASSERT_EQ(selected.size(), 8u);
  for (const auto& devpath : selected) {
    for (const auto& other : selected) {
      if (other != devpath && devpath.starts_with(other + "/")) {
        EXPECT_LT(position(other), position(devpath)) << other << " before " << devpath;
      }
    }
  }
}

TEST_F(VdevadmTriggerTest, SubsystemMatchAndNomatch) {
  EXPECT_EQ(Selected({"--subsystem-match=block"}), (Devpaths{kSda, kSda1}));
  EXPECT_EQ(Selected({"-s", "block", "-s", "net"}), (Devpaths{kSda, kSda1, kLo}));
  EXPECT_EQ(Selected({"-s", "m?m"}), (Devpaths{kNull, kZero}));
  EXPECT_EQ(Selected({"--subsystem-nomatch=block", "-S", "mem"}), (Devpaths{kPci, kLo}));
  EXPECT_EQ(Selected({"-s", "block", "-S", "bl*"}), Devpaths{});

  EXPECT_EQ(Run({"-c", "add", "-s", "block"}).status, 0);
  EXPECT_EQ(Written("add"), (Devpaths{kSda, kSda1}));
}

TEST_F(VdevadmTriggerTest, SysnameAttributePropertyAndTagMatch) {
  EXPECT_EQ(Selected({"--sysname-match=sda*"}), (Devpaths{kSda, kSda1}));
  EXPECT_EQ(Selected({"-y", "null", "-y", "lo"}), (Devpaths{kNull, kLo}));
  EXPECT_EQ(Selected({"--attr-match=size=2048"}), (Devpaths{kSda}));
  EXPECT_EQ(Selected({"-a", "size"}), (Devpaths{kSda, kSda1}));  // present
  EXPECT_EQ(Selected({"-s", "block", "--attr-nomatch=size=1*"}), (Devpaths{kSda}));
  EXPECT_EQ(Selected({"--property-match=DEVTYPE=partition"}), (Devpaths{kSda1}));
  EXPECT_EQ(Selected({"-p", "DEVTYPE=partition", "-p", "INTERFACE=l?"}), (Devpaths{kSda1, kLo}));
  EXPECT_EQ(Selected({"-p", "ID_BUS=ata"}), (Devpaths{kSda}));  // from the database record
  EXPECT_EQ(Selected({"--tag-match=systemd"}), (Devpaths{kSda}));
  EXPECT_EQ(Selected({"-g", "systemd", "-g", "seat"}), Devpaths{});
}

TEST_F(VdevadmTriggerTest, DeviceArgumentsSelectTheDeviceAndItsChildren) {
  EXPECT_EQ(Selected({kSda}), (Devpaths{kSda, kSda1}));
  EXPECT_EQ(Selected({"/sys/class/net/lo", "c1:5"}), (Devpaths{kZero, kLo}));
  EXPECT_EQ(Selected({"--parent-match=/sys/devices/pci0000:00"}), (Devpaths{kPci, kSda, kSda1}));
  EXPECT_EQ(Selected({"-b", kSda1}), (Devpaths{kSda1}));
  EXPECT_EQ(Selected({kPci, "-s", "block"}), (Devpaths{kSda, kSda1}));

  auto unknown = Run({"/devices/virtual/mem/full"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.err, "vdevadm trigger: device '/devices/virtual/mem/full' not found\n");
  EXPECT_EQ(Written("change"), Devpaths{});  // nothing is triggered after a bad argument
  auto no_node = Run({"--name-match=sdz"});
  EXPECT_EQ(no_node.status, 1);
  EXPECT_EQ(no_node.err, "vdevadm trigger: device 'sdz' not found\n");
}

TEST_F(VdevadmTriggerTest, SubsystemsAreBusesDriversAndModules) {
  EXPECT_EQ(Selected({"--type=subsystems"}),
            (Devpaths{"/bus/pci", "/bus/pci/drivers/ahci", "/module/loop"}));
  EXPECT_EQ(Selected({"-t", "subsystems", "-s", "drivers"}), (Devpaths{"/bus/pci/drivers/ahci"}));
  EXPECT_EQ(Selected({"-t", "subsystems", "-y", "loop"}), (Devpaths{"/module/loop"}));
  EXPECT_EQ(Selected({"-t", "all", "-s", "module", "-s", "net"}),
            (Devpaths{"/module/loop", kLo}));

  EXPECT_EQ(Run({"-t", "subsystems", "-c", "add"}).status, 0);
  EXPECT_EQ(ReadFile(Sys("/bus/pci/uevent")), "add");
  EXPECT_EQ(ReadFile(Sys("/bus/pci/drivers/ahci/uevent")), "add");
  EXPECT_EQ(ReadFile(Sys("/module/loop/uevent")), "add");
  EXPECT_EQ(Written("add"), Devpaths{});
}

TEST_F(VdevadmTriggerTest, AWriteFailureIsReportedAndTheRestContinue) {
  fs::create_directories(Sys("/bus/broken/uevent"));  // opening it for writing fails
  auto result = Run({"-t", "all", "-c", "add"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("vdevadm trigger: cannot write 'add' to /bus/broken/uevent: "),
            std::string::npos)
      << result.err;
  EXPECT_EQ(ReadFile(Sys("/bus/pci/uevent")), "add");
  EXPECT_EQ(Written("add"), (Devpaths{kPci, kSda, kSda1, kNull, kZero, kLo}));
  EXPECT_TRUE(settled_.empty());

  auto quiet = Run({"-t", "subsystems", "-q"});
  EXPECT_EQ(quiet.status, 1);
  EXPECT_EQ(quiet.err, "");
}

TEST_F(VdevadmTriggerTest, SettleAfterTriggering) {
  auto result = Run({"--settle", "-s", "net"});
  EXPECT_EQ(result.status, 0);
  ASSERT_EQ(settled_.size(), 1u);
  EXPECT_EQ(settled_[0].first, paths_.sysfs);
  EXPECT_EQ(settled_[0].second, 120);

  settle_status_ = 1;  // a timeout
  EXPECT_EQ(Run({"-w", "-s", "net"}).status, 1);
  EXPECT_EQ(settled_.size(), 2u);
  EXPECT_EQ(Run({"-w", "-n"}).status, 0);  // nothing written, nothing to wait for
  EXPECT_EQ(settled_.size(), 2u);
}

TEST_F(VdevadmTriggerTest, UsageErrors) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--action=explode"},
           {"-c", "Add"},
           {"--type=everything"},
           {"--bogus"},
           {"-Z"},
           {"-s"},
           {"--property-match=NOEQUALS"},
       }) {
    auto result = Run(args);
    EXPECT_EQ(result.status, 2) << ::testing::PrintToString(args);
    EXPECT_EQ(result.out, "");
    EXPECT_TRUE(result.err.starts_with("vdevadm trigger: ")) << result.err;
  }
  EXPECT_EQ(Run({"--action=explode"}).err,
            "vdevadm trigger: unknown action 'explode'\nTry 'vdevadm trigger --help'.\n");
  EXPECT_EQ(Written("change"), Devpaths{});
  EXPECT_TRUE(settled_.empty());

  auto actions = Run({"--action=help"});
  EXPECT_EQ(actions.status, 0);
  EXPECT_EQ(actions.out, "add\nremove\nchange\nmove\nonline\noffline\nbind\nunbind\n");
  auto help = Run({"-h"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(help.out.starts_with("Usage: vdevadm trigger")) << help.out;
}

TEST(TriggerOptionsTest, ParsesUdevadmSpellings) {
  std::vector<std::string> args = {"trigger", "--type", "subsystems", "--action", "add",
                                   "-s", "block", "--subsystem-match=net", "-S", "mem",
                                   "-y", "sd*", "-a", "size=0", "-A", "ro", "-p", "A=b",
                                   "-g", "seat", "--name-match", "/dev/sda", "-b", "/sys/x",
                                   "-n", "-v", "-q", "-w", "/dev/sdb"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto options = ParseTriggerOptions(static_cast<int>(args.size()), argv.data());
  ASSERT_TRUE(options) << options.error().context;
  TriggerOptions expected;
  expected.action = "add";
  expected.type = TriggerType::kSubsystems;
  expected.match.subsystems = {"block", "net"};
  expected.match.not_subsystems = {"mem"};
  expected.match.sysnames = {"sd*"};
  expected.match.attributes = {{"size", "0"}};
  expected.match.not_attributes = {{"ro", std::nullopt}};
  expected.match.properties = {{"A", "b"}};
  expected.match.tags = {"seat"};
  expected.name_matches = {"/dev/sda"};
  expected.parent_matches = {"/sys/x"};
  expected.devices = {"/dev/sdb"};
  expected.dry_run = expected.verbose = expected.quiet = expected.settle = true;
  EXPECT_TRUE(*options == expected);
}

TEST(WriteUeventTest, Errors) {
  testing::TempDir dir;
  UniqueFd fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_EQ(WriteUevent(fd.get(), "/devices/gone", "add").error().code, ENOENT);
  EXPECT_EQ(WriteUevent(fd.get(), "/devices/../../etc", "add").error().code, EINVAL);
  fs::create_directories(dir.Sub("devices/x"));
  WriteFile(dir.Sub("devices/x/uevent"), "MAJOR=1\nMINOR=2\n");
  ASSERT_TRUE(WriteUevent(fd.get(), "/devices/x", "online"));
  EXPECT_EQ(ReadFile(dir.Sub("devices/x/uevent")), "online");
}

}  // namespace
}  // namespace vdev
