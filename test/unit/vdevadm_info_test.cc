// `vdevadm info` run through InfoMain against a fake sysfs, dev root and database.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/database.h"
#include "common/roots.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "info_format.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

constexpr char kSda[] = "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda";
constexpr char kSda1[] = "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1";
constexpr char kPci[] = "/devices/pci0000:00/0000:00:1f.2";
constexpr char kAta[] = "/devices/pci0000:00/0000:00:1f.2/ata1";

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

class VdevadmInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_.sysfs = dir_.Sub("sys");
    paths_.dev = dir_.Sub("dev");
    paths_.run = dir_.Sub("run");
    for (const char* dir : {"sys", "dev", "run"}) fs::create_directory(dir_.Sub(dir));
    sysfs_.emplace(dir_.Sub("sys"));
    sysfs_->Add({kPci, "pci", true, "ahci", {{"DRIVER", "ahci"}, {"PCI_ID", "8086:2922"}}, {}});
    sysfs_->Add({"/devices/pci0000:00/0000:00:1f.2/ata1", "", false, "", {}, {}});
    sysfs_->AddBlockDevice(kSda, "sda", 8, 0, "disk", {{"DISKSEQ", "5"}});
    sysfs_->AddBlockDevice(kSda1, "sda1", 8, 1, "partition", {{"PARTN", "1"}});
    sysfs_->AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3);
    sysfs_->Add({"/devices/virtual/net/lo",
                 "net",
                 false,
                 "",
                 {{"INTERFACE", "lo"}, {"IFINDEX", "1"}},
                 {{"ifindex", "1"}}});
    auto roots = Roots::Open(paths_, true);
    ASSERT_TRUE(roots);
    auto database = Database::Open(roots->run(), true);
    ASSERT_TRUE(database);

    DeviceRecord sda;
    sda.links = {"disk/by-id/ata-QEMU_1", "disk/by-diskseq/5"};
    sda.link_priority = 10;
    sda.properties = {{"ID_BUS", "ata"}};
    sda.tags = {"systemd"};
    sda.current_tags = {"systemd"};
    sda.usec_initialized = 12345;
    ASSERT_TRUE(database->Write("b8:0", sda, nullptr));
    DeviceRecord sda1;
    sda1.links = {"disk/by-partuuid/abc"};
    ASSERT_TRUE(database->Write("b8:1", sda1, nullptr));
  }

  Output Run(std::vector<std::string> args) {
    args.insert(args.begin(), "info");
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    Capture out, err;
    Output result;
    result.status = InfoMain(static_cast<int>(args.size()), argv.data(), paths_, out.file(),
                             err.file());
    result.out = out.Take();
    result.err = err.Take();
    return result;
  }

  std::string SdaRecord() {
    const std::string dev = paths_.dev;
    return std::string("P: ") + kSda +
           "\n"
           "M: sda\n"
           "U: block\n"
           "T: disk\n"
           "D: b 8:0\n"
           "N: sda\n"
           "L: 10\n"
           "S: disk/by-id/ata-QEMU_1\n"
           "S: disk/by-diskseq/5\n"
           "Q: 5\n"
           "E: DEVPATH=" +
           kSda + "\nE: DEVNAME=" + dev +
           "/sda\n"
           "E: DEVTYPE=disk\n"
           "E: DISKSEQ=5\n"
           "E: MAJOR=8\n"
           "E: MINOR=0\n"
           "E: SUBSYSTEM=block\n"
           "E: USEC_INITIALIZED=12345\n"
           "E: ID_BUS=ata\n"
           "E: DEVLINKS=" +
           dev + "/disk/by-id/ata-QEMU_1 " + dev +
           "/disk/by-diskseq/5\n"
           "E: TAGS=:systemd:\n"
           "E: CURRENT_TAGS=:systemd:\n"
           "\n";
  }

  testing::TempDir dir_;
  std::optional<testing::FakeSysfs> sysfs_;
  RootPaths paths_;
};

TEST_F(VdevadmInfoTest, QueryProperty) {
  const std::string dev = paths_.dev;
  auto result = Run({"--query=property", "--path", kSda});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, std::string("DEVPATH=") + kSda + "\nDEVNAME=" + dev +
                            "/sda\n"
                            "DEVTYPE=disk\n"
                            "DISKSEQ=5\n"
                            "MAJOR=8\n"
                            "MINOR=0\n"
                            "SUBSYSTEM=block\n"
                            "USEC_INITIALIZED=12345\n"
                            "ID_BUS=ata\n"
                            "DEVLINKS=" +
                            dev + "/disk/by-id/ata-QEMU_1 " + dev +
                            "/disk/by-diskseq/5\n"
                            "TAGS=:systemd:\n"
                            "CURRENT_TAGS=:systemd:\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(VdevadmInfoTest, PropertyFilterValueAndExport) {
  EXPECT_EQ(Run({"-q", "property", "--property=MAJOR,MINOR", kSda}).out, "MAJOR=8\nMINOR=0\n");
  EXPECT_EQ(Run({"-q", "property", "--property", "DEVTYPE", "--value", kSda}).out, "disk\n");
  EXPECT_EQ(Run({"-q", "property", "--property=DEVTYPE", "-x", kSda}).out, "DEVTYPE='disk'\n");
  EXPECT_EQ(Run({"-q", "property", "--property=DEVTYPE", "-P", "SDA_", kSda}).out,
            "SDA_DEVTYPE='disk'\n");
  EXPECT_EQ(Run({"-q", "property", "--property=", kSda}).out, "");
  EXPECT_EQ(Run({"-q", "property", "-x", "--value", kSda}).status, 1);
}

TEST_F(VdevadmInfoTest, QuerySymlink) {
  EXPECT_EQ(Run({"--query=symlink", kSda}).out, "disk/by-id/ata-QEMU_1 disk/by-diskseq/5\n");
  const std::string dev = paths_.dev;
  EXPECT_EQ(Run({"--query=symlink", "--root", kSda}).out,
            dev + "/disk/by-id/ata-QEMU_1 " + dev + "/disk/by-diskseq/5\n");
  EXPECT_EQ(Run({"--query=symlink", "--value", kSda}).out,
            "disk/by-id/ata-QEMU_1\ndisk/by-diskseq/5\n");
  // No links: an empty line, as udevadm prints.
  auto none = Run({"--query=symlink", "/devices/virtual/mem/null"});
  EXPECT_EQ(none.status, 0);
  EXPECT_EQ(none.out, "\n");
}

TEST_F(VdevadmInfoTest, QueryNameAndPath) {
  EXPECT_EQ(Run({"--query=name", kSda1}).out, "sda1\n");
  EXPECT_EQ(Run({"-q", "name", "-r", kSda1}).out, paths_.dev + "/sda1\n");
  EXPECT_EQ(Run({"--query", "path", "/sys/class/block/sda1"}).out, std::string(kSda1) + "\n");
  EXPECT_EQ(Run({"-q", "path", "-p", "/class/net/lo"}).out, "/devices/virtual/net/lo\n");
  EXPECT_EQ(Run({"-q", "path", "--path=" + paths_.sysfs + "/devices/virtual/net/lo"}).out,
            "/devices/virtual/net/lo\n");
  EXPECT_EQ(Run({"-q", "path", "b8:1"}).out, std::string(kSda1) + "\n");

  auto no_node = Run({"--query=name", "/devices/virtual/net/lo"});
  EXPECT_EQ(no_node.status, 1);
  EXPECT_EQ(no_node.out, "");
  EXPECT_EQ(no_node.err, "vdevadm info: device '/devices/virtual/net/lo' has no device node\n");
}

TEST_F(VdevadmInfoTest, QueryAllIsTheUdevadmRecord) {
  auto result = Run({kSda});  // --query=all is the default
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, SdaRecord());

  EXPECT_EQ(Run({"--query=all", "/devices/virtual/net/lo"}).out,
            "P: /devices/virtual/net/lo\n"
            "M: lo\n"
            "U: net\n"
            "I: 1\n"
            "E: DEVPATH=/devices/virtual/net/lo\n"
            "E: INTERFACE=lo\n"
            "E: IFINDEX=1\n"
            "E: SUBSYSTEM=net\n"
            "\n");
  // R: the sysname's trailing digits; V: the driver; no record: no N:/L:/S: lines.
  EXPECT_EQ(Run({"-q", "all", "-p", kPci}).out,
            std::string("P: ") + kPci +
                "\n"
                "M: 0000:00:1f.2\n"
                "R: 2\n"
                "U: pci\n"
                "V: ahci\n"
                "E: DEVPATH=" +
                kPci +
                "\n"
                "E: DRIVER=ahci\n"
                "E: PCI_ID=8086:2922\n"
                "E: SUBSYSTEM=pci\n"
                "\n");
}

TEST_F(VdevadmInfoTest, SeveralDevicesInOneCall) {
  auto result = Run({"-q", "path", "c1:3", "/devices/virtual/net/lo"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "/devices/virtual/mem/null\n/devices/virtual/net/lo\n");
}

TEST_F(VdevadmInfoTest, UnknownDeviceIsReportedAndTheOthersShown) {
  auto result = Run({"-q", "path", "/devices/virtual/mem/zero", "c1:3"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, "/devices/virtual/mem/null\n");
  EXPECT_EQ(result.err, "vdevadm info: device '/devices/virtual/mem/zero' not found\n");

  auto name = Run({"--name=sdz"});
  EXPECT_EQ(name.status, 1);
  EXPECT_EQ(name.err, "vdevadm info: device 'sdz' not found\n");
  auto dev_path = Run({"-n", "/dev/sdz"});
  EXPECT_EQ(dev_path.err, "vdevadm info: device '/dev/sdz' not found\n");
}

TEST_F(VdevadmInfoTest, NameThatIsNoNodeIsAnError) {
  std::ofstream(paths_.dev + "/notanode") << "x";
  auto result = Run({"-q", "path", "-n", "notanode"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("is not a device node"), std::string::npos) << result.err;
}

TEST_F(VdevadmInfoTest, UsageErrors) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {},                              // no device
           {"--query=bogus", kSda},         // unknown query
           {"--frobnicate", kSda},          // unknown long option
           {"-Z", kSda},                    // unknown short option
           {kSda, "-q"},                    // missing argument
           {"--wait-for-initialization=soon", kSda},  // bad timeout
           {"-a", kSda, kSda1},             // one device only for the walk
           {"-x", "--value", kSda},         // export and value only
           {"-d", "/", kSda},               // -d takes no device
       }) {
    auto result = Run(args);
    // udevadm exits 1 for every failure, usage errors included.
    EXPECT_EQ(result.status, 1) << ::testing::PrintToString(args);
    EXPECT_EQ(result.out, "");
    EXPECT_TRUE(result.err.starts_with("vdevadm info: ")) << result.err;
  }
  auto help = Run({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(help.out.starts_with("Usage: vdevadm info")) << help.out;
  for (const char* option : {"--attribute-walk", "--device-id-of-file", "--export-prefix",
                             "--cleanup-db", "--export-db", "--root", "--wait-for-initialization"})
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  for (const char* version : {"-V", "--version"}) {
    auto printed = Run({version});
    EXPECT_EQ(printed.status, 0);
    EXPECT_EQ(printed.out, std::string(VDEV_VERSION) + "\n");
  }
  // -e acts as soon as it is read, as in udevadm: what follows does not matter.
  auto exported = Run({"--export-db", kSda, "--frobnicate"});
  EXPECT_EQ(exported.status, 0) << exported.err;
  EXPECT_NE(exported.out.find("P: /devices/virtual/net/lo\n"), std::string::npos);
}

Result<InfoOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "info");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return ParseInfoOptions(static_cast<int>(args.size()), argv.data());
}

TEST_F(VdevadmInfoTest, ParsesUdevadmSpellings) {
  auto options = Parse({"--query", "symlink", "-n", "/dev/sda", "--path=/sys/block/sda", "sdb",
                        "-r", "-w5"});
  ASSERT_TRUE(options) << options.error().context;
  EXPECT_EQ(options->query, InfoQuery::kSymlink);
  EXPECT_EQ(options->action, InfoAction::kQuery);
  EXPECT_TRUE(options->root);
  ASSERT_TRUE(options->wait_for_initialization);
  EXPECT_DOUBLE_EQ(*options->wait_for_initialization, 5);  // an optional argument is attached
  using Kind = InfoDeviceArgument::Kind;
  std::vector<InfoDeviceArgument> expected = {{Kind::kName, "/dev/sda"},
                                              {Kind::kPath, "/sys/block/sda"},
                                              {Kind::kAny, "sdb"}};
  EXPECT_EQ(options->devices, expected);
}

// Every option of udevadm 252's info, in each spelling it accepts.
TEST_F(VdevadmInfoTest, EveryFlagInEverySpelling) {
  using Kind = InfoDeviceArgument::Kind;
  struct Case {
    std::vector<std::vector<std::string>> spellings;
    std::function<void(const InfoOptions&)> check;
  };
  const std::vector<Case> cases = {
      {{{"-qname", "x"}, {"-q", "name", "x"}, {"--query=name", "x"}, {"--query", "name", "x"}},
       [](const auto& o) { EXPECT_EQ(o.query, InfoQuery::kName); }},
      {{{"-q", "symlink", "x"}}, [](const auto& o) { EXPECT_EQ(o.query, InfoQuery::kSymlink); }},
      {{{"-q", "path", "x"}}, [](const auto& o) { EXPECT_EQ(o.query, InfoQuery::kPath); }},
      {{{"-q", "property", "x"}, {"-q", "env", "x"}},
       [](const auto& o) { EXPECT_EQ(o.query, InfoQuery::kProperty); }},
      {{{"-q", "all", "x"}, {"x"}}, [](const auto& o) { EXPECT_EQ(o.query, InfoQuery::kAll); }},
      {{{"-nsda"}, {"-n", "sda"}, {"--name=sda"}, {"--name", "sda"}},
       [](const auto& o) {
         EXPECT_EQ(o.devices, (std::vector<InfoDeviceArgument>{{Kind::kName, "sda"}}));
       }},
      {{{"-p/sys/x"}, {"-p", "/sys/x"}, {"--path=/sys/x"}, {"--path", "/sys/x"}},
       [](const auto& o) {
         EXPECT_EQ(o.devices, (std::vector<InfoDeviceArgument>{{Kind::kPath, "/sys/x"}}));
       }},
      {{{"-r", "x"}, {"--root", "x"}}, [](const auto& o) { EXPECT_TRUE(o.root); }},
      {{{"-a", "x"}, {"--attribute-walk", "x"}},
       [](const auto& o) { EXPECT_EQ(o.action, InfoAction::kAttributeWalk); }},
      {{{"-d/"}, {"-d", "/"}, {"--device-id-of-file=/"}, {"--device-id-of-file", "/"}},
       [](const auto& o) {
         EXPECT_EQ(o.action, InfoAction::kDeviceIdOfFile);
         EXPECT_EQ(o.file, "/");
       }},
      {{{"-x", "x"}, {"--export", "x"}},
       [](const auto& o) {
         EXPECT_TRUE(o.export_values);
         EXPECT_FALSE(o.export_prefix);
       }},
      {{{"-PID_", "x"}, {"-P", "ID_", "x"}, {"--export-prefix=ID_", "x"},
        {"--export-prefix", "ID_", "x"}},
       [](const auto& o) {
         EXPECT_TRUE(o.export_values);
         EXPECT_EQ(o.export_prefix, "ID_");
       }},
      {{{"-e"}, {"--export-db"}},
       [](const auto& o) { EXPECT_EQ(o.action, InfoAction::kExportDb); }},
      {{{"-c"}, {"--cleanup-db"}},
       [](const auto& o) { EXPECT_EQ(o.action, InfoAction::kCleanupDb); }},
      {{{"--property=A,B", "x"}, {"--property", "A,B", "x"}, {"--property=A", "--property=B", "x"}},
       [](const auto& o) {
         EXPECT_EQ(o.property_names, (std::vector<std::string>{"A", "B"}));
       }},
      {{{"--property=", "x"}},
       [](const auto& o) { EXPECT_EQ(o.property_names, std::vector<std::string>{}); }},
      {{{"--value", "x"}}, [](const auto& o) { EXPECT_TRUE(o.value_only); }},
      {{{"-w", "x"}, {"--wait-for-initialization", "x"}},
       [](const auto& o) { EXPECT_EQ(o.wait_for_initialization, -1.0); }},
      {{{"-w2", "x"}, {"--wait-for-initialization=2", "x"}, {"--wait-for-initialization=2s", "x"}},
       [](const auto& o) { EXPECT_EQ(o.wait_for_initialization, 2.0); }},
      {{{"--no-pager", "x"}}, [](const auto& o) { EXPECT_EQ(o.devices.size(), 1u); }},
      {{{"-h"}, {"--help"}}, [](const auto& o) { EXPECT_TRUE(o.help); }},
      {{{"-V"}, {"--version"}}, [](const auto& o) { EXPECT_TRUE(o.version); }},
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

TEST_F(VdevadmInfoTest, AttributeWalk) {
  sysfs_->SetAttribute(kSda, "size", "2048\n");
  sysfs_->SetAttribute(kSda, "ro", "0");
  sysfs_->SetAttribute(kSda, "queue/rotational", "1\n");       // a plain subdirectory
  sysfs_->SetAttribute(kSda, "binary", std::string("a\0b", 3));  // unprintable: left out
  sysfs_->SetAttribute(kSda, "firmware", "/lib/firmware");     // a path: left out
  sysfs_->SetAttribute(kSda, "empty", "");
  sysfs_->SetAttribute(kSda, "secret", "x");
  ASSERT_EQ(chmod((paths_.sysfs + kSda + "/secret").c_str(), 0200), 0);  // write-only
  sysfs_->SetAttribute(kPci, "vendor", "0x8086\n");
  sysfs_->SetAttribute(kPci, "modalias", "pci:v00008086");  // skipped by name
  auto result = Run({"--attribute-walk", kSda});
  ASSERT_EQ(result.status, 0) << result.err;
  // The device, then each parent that is a device: ata1 is one (it has a uevent file).
  const std::string expected = std::string("  looking at device '") + kSda +
                               "':\n"
                               "    KERNEL==\"sda\"\n"
                               "    SUBSYSTEM==\"block\"\n"
                               "    DRIVER==\"\"\n"
                               "    ATTR{empty}==\"\"\n"
                               "    ATTR{queue/rotational}==\"1\"\n"
                               "    ATTR{ro}==\"0\"\n"
                               // As sd-device: the mode decides, also for root.
                               "    ATTR{secret}==\"(not readable)\"\n"
                               "    ATTR{size}==\"2048\"\n"
                               "\n"
                               "  looking at parent device '" +
                               std::string(kAta) +
                               "':\n"
                               "    KERNELS==\"ata1\"\n"
                               "    SUBSYSTEMS==\"\"\n"
                               "    DRIVERS==\"\"\n"
                               "\n"
                               "  looking at parent device '" +
                               kPci +
                               "':\n"
                               "    KERNELS==\"0000:00:1f.2\"\n"
                               "    SUBSYSTEMS==\"pci\"\n"
                               "    DRIVERS==\"ahci\"\n"
                               "    ATTRS{vendor}==\"0x8086\"\n"
                               "\n";
  ASSERT_GT(result.out.size(), expected.size());
  EXPECT_TRUE(result.out.starts_with("\n")) << result.out;
  EXPECT_TRUE(result.out.ends_with(expected)) << result.out;
  // The child partition is a device of its own: none of its files are sda's attributes.
  EXPECT_EQ(result.out.find("sda1/"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("ATTR{uevent}"), std::string::npos) << result.out;
  EXPECT_EQ(Run({"-a", "-n", "sdz"}).status, 1);
}

TEST_F(VdevadmInfoTest, DeviceIdOfFile) {
  struct stat st {};
  ASSERT_EQ(stat(dir_.path().c_str(), &st), 0);
  const std::string maj = std::to_string(major(st.st_dev)), min = std::to_string(minor(st.st_dev));
  auto plain = Run({"--device-id-of-file=" + dir_.path()});
  EXPECT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.out, maj + ":" + min + "\n");
  EXPECT_EQ(Run({"-x", "-d", dir_.path()}).out, "INFO_MAJOR=" + maj + "\nINFO_MINOR=" + min + "\n");
  EXPECT_EQ(Run({"-d", dir_.path(), "-P", "ROOT_"}).out,
            "ROOT_MAJOR=" + maj + "\nROOT_MINOR=" + min + "\n");
  auto missing = Run({"-d", dir_.Sub("missing")});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(missing.err.starts_with("vdevadm info: ")) << missing.err;
}

TEST_F(VdevadmInfoTest, CleanupDbRemovesRecordsTagsAndClaims) {
  auto roots = Roots::Open(paths_, false);
  ASSERT_TRUE(roots);
  auto database = Database::Open(roots->run(), false);
  ASSERT_TRUE(database);
  DeviceRecord kept;
  ASSERT_TRUE(database->Write("c1:3", kept, nullptr));
  // udev keeps records with the sticky bit (db_persist) across the switch from the initramfs.
  ASSERT_EQ(chmod((paths_.run + "/udev/data/c1:3").c_str(), 01644), 0);
  fs::create_directories(paths_.run + "/vdev/links/disk\\x2fby-id\\x2fx");
  std::ofstream(paths_.run + "/vdev/links/disk\\x2fby-id\\x2fx/b8:0") << "priority=0\n";
  fs::create_directories(paths_.run + "/udev/watch");
  std::ofstream(paths_.run + "/udev/watch/3") << "";
  std::ofstream(paths_.run + "/vdev/pid") << "1\n";  // not the database's: stays

  auto result = Run({"--cleanup-db"});
  EXPECT_EQ(result.status, 0) << result.err;
  std::vector<std::string> left;
  for (const auto& entry : fs::recursive_directory_iterator(paths_.run))
    left.push_back(entry.path().string().substr(paths_.run.size()));
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"/udev", "/udev/data", "/udev/data/c1:3", "/udev/tags",
                                            "/udev/watch", "/vdev", "/vdev/links", "/vdev/pid"}));
  // A run dir that does not exist is nothing to clean.
  paths_.run = dir_.Sub("nothing");
  EXPECT_EQ(Run({"-c"}).status, 0);
}

TEST_F(VdevadmInfoTest, WaitForInitialization) {
  // sda has a record: no waiting.
  auto initialized = Run({"-q", "path", "--wait-for-initialization=5", kSda});
  EXPECT_EQ(initialized.status, 0) << initialized.err;
  // null has none and never gets one.
  auto waited = Run({"-q", "path", "--wait-for-initialization=0.05", "c1:3"});
  EXPECT_EQ(waited.status, 1);
  EXPECT_EQ(waited.err, "vdevadm info: device 'c1:3' was not initialized in time\n");
}

TEST_F(VdevadmInfoTest, ExportDbShowsEveryDeviceParentsFirst) {
  auto result = Run({"--export-db"});
  EXPECT_EQ(result.status, 0) << result.err;
  // Every device with a subsystem, in walk order; ata1 has none and is no device to udev.
  std::vector<std::string> devpaths;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("P: ")) devpaths.push_back(line.substr(3));
  std::vector<std::string> expected = {kPci, kSda, kSda1, "/devices/virtual/mem/null",
                                       "/devices/virtual/net/lo"};
  EXPECT_EQ(devpaths, expected);
  // Records are complete and separated by one blank line.
  EXPECT_NE(result.out.find("\n\n" + SdaRecord()), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("N: sda1\nL: 0\nS: disk/by-partuuid/abc\n"), std::string::npos);
  EXPECT_TRUE(result.out.ends_with("E: SUBSYSTEM=net\n\n"));
  EXPECT_EQ(result.out.find("\n\n\n"), std::string::npos);
}

TEST_F(VdevadmInfoTest, ExportDbWithoutDatabase) {
  fs::remove_all(paths_.run + "/udev");
  auto result = Run({"-e"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find(std::string("P: ") + kSda + "\nM: sda\nU: block\nT: disk\n"
                                "D: b 8:0\nN: sda\nL: 0\nQ: 5\nE: DEVPATH="),
            std::string::npos)
      << result.out;
  EXPECT_EQ(result.out.find("USEC_INITIALIZED"), std::string::npos);
}

TEST_F(VdevadmInfoTest, ExportDbOfManyDevices) {
  for (int i = 0; i < 200; ++i) {
    std::string name = "tty" + std::to_string(i);
    sysfs_->AddCharDevice("/devices/virtual/tty/" + name, "tty", name, 4, i);
  }
  auto result = Run({"--export-db"});
  EXPECT_EQ(result.status, 0);
  size_t records = 0;
  for (size_t pos = 0; (pos = result.out.find("\nP: ", pos)) != std::string::npos; ++pos) ++records;
  EXPECT_EQ(records + 1, 205u);  // the first record starts the output
  EXPECT_NE(result.out.find("P: /devices/virtual/tty/tty199\nM: tty199\nR: 199\nU: tty\n"),
            std::string::npos);
}

}  // namespace
}  // namespace vdev
