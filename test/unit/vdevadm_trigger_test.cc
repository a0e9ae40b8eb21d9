// `vdevadm trigger` run through TriggerMain against a fake sysfs whose uevent files are
// plain files: what was "triggered" is what they hold afterwards.
#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
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

// Records what TriggerMain asks of the daemon; answers as told.
class FakeDaemon : public TriggerDaemon {
 public:
  Status WaitUntilRunning(double timeout_seconds) override {
    waited_for_daemon.push_back(timeout_seconds);
    return running;
  }
  Status Watch() override {
    ++watches;
    if (on_watch) on_watch();
    return watch_result;
  }
  Status WaitForEvents(std::vector<TriggeredEvent> events, double timeout_seconds,
                       const std::function<void(const TriggeredEvent&)>& processed) override {
    waited_events.push_back(events);
    settle_timeouts.push_back(timeout_seconds);
    if (!wait_result) return wait_result;
    for (const auto& event : events) processed(event);
    return Ok();
  }

  Status running = Ok();
  Status watch_result = Ok();
  Status wait_result = Ok();
  std::function<void()> on_watch;
  std::vector<double> waited_for_daemon;
  int watches = 0;
  std::vector<std::vector<TriggeredEvent>> waited_events;
  std::vector<double> settle_timeouts;
};

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
                                err.file(), daemon_);
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
  FakeDaemon daemon_;
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
  EXPECT_EQ(daemon_.watches, 0);
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
  // udevadm sorts buses, drivers, modules and devices together, by path.
  EXPECT_EQ(Selected({"-t", "all", "-s", "module", "-s", "net"}),
            (Devpaths{kLo, "/module/loop"}));

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

  auto quiet = Run({"-t", "subsystems", "-q"});
  EXPECT_EQ(quiet.status, 1);
  EXPECT_EQ(quiet.err, "");
}

TEST_F(VdevadmTriggerTest, SettleWaitsForTheTriggeredEventsByUuid) {
  // The daemon is watched before anything is written, so no processed event is missed.
  daemon_.on_watch = [&] { EXPECT_EQ(Written("add"), Devpaths{}); };
  auto result = Run({"--settle", "-c", "add", "-s", "mem", "--verbose"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(daemon_.watches, 1);
  ASSERT_EQ(daemon_.waited_events.size(), 1u);
  const auto& events = daemon_.waited_events[0];
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].devpath, kNull);
  EXPECT_EQ(events[1].devpath, kZero);
  // Each event is tagged with its own UUID, as udevadm does for --settle.
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const auto& event : events) {
    EXPECT_TRUE(std::regex_match(event.uuid, uuid)) << event.uuid;
    EXPECT_EQ(ReadFile(Uevent(event.devpath)), "add " + event.uuid);
  }
  EXPECT_NE(events[0].uuid, events[1].uuid);
  EXPECT_EQ(daemon_.settle_timeouts, std::vector<double>{120});
  EXPECT_EQ(Lines(result.out), (std::vector<std::string>{Sys(kNull), Sys(kZero),
                                                         "settle " + Sys(kNull),
                                                         "settle " + Sys(kZero)}));
}

TEST_F(VdevadmTriggerTest, SettleOutcomes) {
  daemon_.wait_result = Fail(ETIMEDOUT, "waiting");
  auto timeout = Run({"-w", "-s", "net"});
  EXPECT_EQ(timeout.status, 1);
  EXPECT_EQ(timeout.err, "vdevadm trigger: the events were not processed within 120 s\n");

  // No daemon: nothing is queued anywhere, as `settle` says too.
  daemon_.watch_result = Fail(ENOENT, "connect");
  EXPECT_EQ(Run({"-w", "-s", "net"}).status, 0);
  daemon_.watch_result = Fail(ECONNREFUSED, "connect");
  EXPECT_EQ(Run({"-w", "-s", "net"}).status, 0);
  EXPECT_EQ(daemon_.waited_events.size(), 1u);
  // Without a daemon to recognise them, the events carry no UUID.
  EXPECT_EQ(ReadFile(Uevent(kLo)), "change");

  daemon_.watch_result = Fail(EPERM, "vdevd refused to send events");
  EXPECT_EQ(Run({"-w", "-s", "net"}).status, 1);

  int watches = daemon_.watches;
  EXPECT_EQ(Run({"-w", "-n"}).status, 0);  // nothing written, nothing to wait for
  EXPECT_EQ(daemon_.watches, watches);
}

TEST_F(VdevadmTriggerTest, UuidIsWrittenAndPrinted) {
  auto result = Run({"--uuid", "-c", "add", "-y", "null", "-y", "lo"});
  EXPECT_EQ(result.status, 0) << result.err;
  auto lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(ReadFile(Uevent(kNull)), "add " + lines[0]);
  EXPECT_EQ(ReadFile(Uevent(kLo)), "add " + lines[1]);
  EXPECT_EQ(daemon_.watches, 0);  // --uuid alone does not settle

  // With --settle too, each UUID is printed when its event is processed.
  result = Run({"--uuid", "--settle", "-y", "zero"});
  EXPECT_EQ(result.status, 0) << result.err;
  lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(lines[1], "settle " + lines[0]);
  EXPECT_EQ(ReadFile(Uevent(kZero)), "change " + lines[0]);
}

TEST_F(VdevadmTriggerTest, WaitDaemon) {
  EXPECT_EQ(Run({"--wait-daemon", "-n"}).status, 0);
  EXPECT_EQ(Run({"--wait-daemon=2.5", "-n"}).status, 0);
  EXPECT_EQ(Run({"--wait-daemon=1min", "-n"}).status, 0);
  // udevadm reports a bad value and keeps its default of 5 s.
  EXPECT_EQ(Run({"--wait-daemon=soon", "-n"}).status, 0);
  EXPECT_EQ(daemon_.waited_for_daemon, (std::vector<double>{5, 2.5, 60, 5}));

  daemon_.running = Fail(ETIMEDOUT, "waiting for vdevd to answer");
  auto result = Run({"--wait-daemon=1", "-c", "add"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(result.err.starts_with("vdevadm trigger: vdevd did not answer: ")) << result.err;
  EXPECT_EQ(Written("add"), Devpaths{});
}

TEST_F(VdevadmTriggerTest, PrioritizedSubsystemsGoFirstWithTheirParents) {
  // sda's parent pci device comes along with the block group; ata1 is no device.
  EXPECT_EQ(Selected({"--prioritized-subsystem=net,block"}),
            (Devpaths{kLo, kPci, kSda, kSda1, kNull, kZero}));
  EXPECT_EQ(Selected({"--prioritized-subsystem", "mem", "--prioritized-subsystem=net"}),
            (Devpaths{kNull, kZero, kLo, kPci, kSda, kSda1}));
  // Only selected parents come along.
  EXPECT_EQ(Selected({"--prioritized-subsystem=block", "-s", "block", "-s", "mem"}),
            (Devpaths{kSda, kSda1, kNull, kZero}));
}

TEST_F(VdevadmTriggerTest, MdAndDmDevicesComeLast) {
  const std::string dm = "/devices/virtual/block/dm-0";
  const std::string md = "/devices/virtual/block/md0";
  const std::string loop = "/devices/virtual/block/loop0";
  sysfs_->AddBlockDevice(dm, "dm-0", 253, 0);
  sysfs_->AddBlockDevice(loop, "loop0", 7, 0);
  sysfs_->AddBlockDevice(md, "md0", 9, 0);
  EXPECT_EQ(Selected({"-s", "block"}), (Devpaths{kSda, kSda1, loop, dm, md}));
}

TEST_F(VdevadmTriggerTest, InitializedAndPropertyPresenceMatches) {
  EXPECT_EQ(Selected({"--initialized-match"}), (Devpaths{kSda}));
  EXPECT_EQ(Selected({"--initialized-nomatch", "-s", "block"}), (Devpaths{kSda1}));
  // A property match without a value: the property is set.
  EXPECT_EQ(Selected({"-p", "DEVTYPE"}), (Devpaths{kSda, kSda1}));
  EXPECT_EQ(Selected({"--property-match=IFINDEX"}), (Devpaths{kLo}));
}

TEST_F(VdevadmTriggerTest, UsageErrors) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--action=explode"},
           {"-c", "Add"},
           {"--type=everything"},
           {"--bogus"},
           {"-Z"},
           {"-s"},
           {"--action"},
       }) {
    auto result = Run(args);
    // udevadm exits 1 for every failure, usage errors included.
    EXPECT_EQ(result.status, 1) << ::testing::PrintToString(args);
    EXPECT_EQ(result.out, "");
    EXPECT_TRUE(result.err.starts_with("vdevadm trigger: ")) << result.err;
  }
  EXPECT_EQ(Run({"--action=explode"}).err,
            "vdevadm trigger: unknown action 'explode'\nTry 'vdevadm trigger --help'.\n");
  EXPECT_EQ(Run({"-s"}).err,
            "vdevadm trigger: option '-s' needs an argument\nTry 'vdevadm trigger --help'.\n");
  EXPECT_EQ(Written("change"), Devpaths{});
  EXPECT_EQ(daemon_.watches, 0);

  auto actions = Run({"--action=help"});
  EXPECT_EQ(actions.status, 0);
  EXPECT_EQ(actions.out, "add\nremove\nchange\nmove\nonline\noffline\nbind\nunbind\n");
  auto help = Run({"-h"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(help.out.starts_with("Usage: vdevadm trigger")) << help.out;
  for (const char* option : {"--uuid", "--wait-daemon", "--prioritized-subsystem", "--settle",
                             "--name-match", "--initialized-match"})
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  for (const char* version : {"-V", "--version"}) {
    auto printed = Run({version});
    EXPECT_EQ(printed.status, 0);
    EXPECT_EQ(printed.out, std::string(VDEV_VERSION) + "\n");
  }
}

Result<TriggerOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "trigger");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return ParseTriggerOptions(static_cast<int>(args.size()), argv.data());
}

TEST(TriggerOptionsTest, ParsesUdevadmSpellings) {
  auto options = Parse({"--type", "subsystems", "--action", "add", "-s", "block",
                        "--subsystem-match=net", "-S", "mem", "-y", "sd*", "-a", "size=0", "-A",
                        "ro", "-p", "A=b", "-g", "seat", "--name-match", "/dev/sda", "-b",
                        "/sys/x", "-n", "-v", "-q", "-w", "/dev/sdb"});
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

// Every option of udevadm 252's trigger, in each spelling it accepts: short with the value
// attached or separate, long with '=' or separate.
TEST(TriggerOptionsTest, EveryFlagInEverySpelling) {
  struct Case {
    std::vector<std::vector<std::string>> spellings;
    std::function<void(const TriggerOptions&)> check;
  };
  const std::vector<Case> cases = {
      {{{"-v"}, {"--verbose"}}, [](const auto& o) { EXPECT_TRUE(o.verbose); }},
      {{{"-n"}, {"--dry-run"}}, [](const auto& o) { EXPECT_TRUE(o.dry_run); }},
      {{{"-q"}, {"--quiet"}}, [](const auto& o) { EXPECT_TRUE(o.quiet); }},
      {{{"-w"}, {"--settle"}}, [](const auto& o) { EXPECT_TRUE(o.settle); }},
      {{{"-tall"}, {"-t", "all"}, {"--type=all"}, {"--type", "all"}},
       [](const auto& o) { EXPECT_EQ(o.type, TriggerType::kAll); }},
      {{{"-t", "devices"}, {"--type=devices"}},
       [](const auto& o) { EXPECT_EQ(o.type, TriggerType::kDevices); }},
      {{{"-cadd"}, {"-c", "add"}, {"--action=add"}, {"--action", "add"}},
       [](const auto& o) { EXPECT_EQ(o.action, "add"); }},
      {{{"-c", "online"}}, [](const auto& o) { EXPECT_EQ(o.action, "online"); }},
      {{{"-sblock"}, {"-s", "block"}, {"--subsystem-match=block"}, {"--subsystem-match", "block"}},
       [](const auto& o) { EXPECT_EQ(o.match.subsystems, std::vector<std::string>{"block"}); }},
      {{{"-Snet"}, {"-S", "net"}, {"--subsystem-nomatch=net"}, {"--subsystem-nomatch", "net"}},
       [](const auto& o) { EXPECT_EQ(o.match.not_subsystems, std::vector<std::string>{"net"}); }},
      {{{"-asize=0"}, {"-a", "size=0"}, {"--attr-match=size=0"}, {"--attr-match", "size=0"}},
       [](const auto& o) {
         EXPECT_EQ(o.match.attributes, (std::vector<DeviceMatch::AttributeMatch>{{"size", "0"}}));
       }},
      {{{"-Aro"}, {"-A", "ro"}, {"--attr-nomatch=ro"}, {"--attr-nomatch", "ro"}},
       [](const auto& o) {
         EXPECT_EQ(o.match.not_attributes,
                   (std::vector<DeviceMatch::AttributeMatch>{{"ro", std::nullopt}}));
       }},
      {{{"-pID_BUS=ata"}, {"-p", "ID_BUS=ata"}, {"--property-match=ID_BUS=ata"},
        {"--property-match", "ID_BUS=ata"}},
       [](const auto& o) {
         EXPECT_EQ(o.match.properties,
                   (std::vector<DeviceMatch::PropertyMatch>{{"ID_BUS", "ata"}}));
       }},
      {{{"-gseat"}, {"-g", "seat"}, {"--tag-match=seat"}, {"--tag-match", "seat"}},
       [](const auto& o) { EXPECT_EQ(o.match.tags, std::vector<std::string>{"seat"}); }},
      {{{"-ysd*"}, {"-y", "sd*"}, {"--sysname-match=sd*"}, {"--sysname-match", "sd*"}},
       [](const auto& o) { EXPECT_EQ(o.match.sysnames, std::vector<std::string>{"sd*"}); }},
      {{{"--name-match=/dev/sda"}, {"--name-match", "/dev/sda"}},
       [](const auto& o) { EXPECT_EQ(o.name_matches, std::vector<std::string>{"/dev/sda"}); }},
      {{{"-b/sys/x"}, {"-b", "/sys/x"}, {"--parent-match=/sys/x"}, {"--parent-match", "/sys/x"}},
       [](const auto& o) { EXPECT_EQ(o.parent_matches, std::vector<std::string>{"/sys/x"}); }},
      {{{"--initialized-match"}}, [](const auto& o) { EXPECT_EQ(o.match.initialized, true); }},
      {{{"--initialized-nomatch"}}, [](const auto& o) { EXPECT_EQ(o.match.initialized, false); }},
      {{{"--uuid"}}, [](const auto& o) { EXPECT_TRUE(o.uuid); }},
      {{{"--wait-daemon"}}, [](const auto& o) { EXPECT_EQ(o.wait_daemon, 5.0); }},
      // An optional argument must be attached: "--wait-daemon 3" is a device argument.
      {{{"--wait-daemon=3"}}, [](const auto& o) { EXPECT_EQ(o.wait_daemon, 3.0); }},
      {{{"--wait-daemon", "3"}},
       [](const auto& o) {
         EXPECT_EQ(o.wait_daemon, 5.0);
         EXPECT_EQ(o.devices, std::vector<std::string>{"3"});
       }},
      {{{"--prioritized-subsystem=module,block"}, {"--prioritized-subsystem", "module,block"},
        {"--prioritized-subsystem=module", "--prioritized-subsystem=block"}},
       [](const auto& o) {
         EXPECT_EQ(o.prioritized_subsystems, (std::vector<std::string>{"module", "block"}));
       }},
      {{{"-h"}, {"--help"}}, [](const auto& o) { EXPECT_TRUE(o.help); }},
      {{{"-V"}, {"--version"}}, [](const auto& o) { EXPECT_TRUE(o.version); }},
      {{{"-c", "help"}, {"--action=help"}}, [](const auto& o) { EXPECT_TRUE(o.list_actions); }},
  };
  for (const auto& c : cases) {
    for (const auto& spelling : c.spellings) {
      SCOPED_TRACE(::testing::PrintToString(spelling));
      auto options = Parse(spelling);
      ASSERT_TRUE(options) << options.error().context;
      c.check(*options);
    }
  }
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
