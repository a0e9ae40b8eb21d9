// The `builtin` rule key and the shipped rules/60-vdev-persistent-storage.rules, run through
// RuleSet over a fake sysfs, with disk image files standing in for the device nodes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "block_probe.h"
#include "common/fs_util.h"
#include "fixtures/disk_images.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"
#include "substitution.h"

namespace vdev {
namespace {

using testing::CopyInto;
using testing::FakeSysfs;
using testing::MakeExt4;
using testing::MakeSparseFile;
using testing::MakeVfat;
using testing::TempDir;
using testing::WritePartitionTable;
using Links = std::set<std::string>;

constexpr uint64_t kMiB = 1024 * 1024;
const std::string kRulesDir = VDEV_SOURCE_DIR "/rules";
const std::string kStorageRules = "60-vdev-persistent-storage.rules";

class NullRunner : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string&, const Uevent&) override { return std::string(); }
};

AccountResolver NoAccounts() {
  AccountResolver accounts;
  accounts.user = [](const std::string&) -> std::optional<uid_t> { return 0; };
  accounts.group = [](const std::string&) -> std::optional<gid_t> { return 0; };
  return accounts;
}

// A tree with a fake sysfs and a dev directory holding image files named like the nodes.
class StorageRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveImageTools()) GTEST_SKIP() << "needs sfdisk, mkfs.ext4 and mkfs.vfat";
    RuleLoadResult loaded = RuleSet::Load({kRulesDir}, NoAccounts());
    // Other rule files may be mid-edit by someone else; this file must load.
    for (const auto& error : loaded.errors)
      ASSERT_EQ(error.find(kStorageRules), std::string::npos) << error;
    rules_ = std::move(loaded.rules);
    std::filesystem::create_directories(dir_.Sub("sys"));
    std::filesystem::create_directories(dir_.Sub("dev"));
    sysfs_ = std::make_unique<FakeSysfs>(dir_.Sub("sys"));
    sysfs_fd_ = *OpenDirAt(AT_FDCWD, dir_.Sub("sys"));
    dev_fd_ = *OpenDirAt(AT_FDCWD, dir_.Sub("dev"));
  }

  std::string Node(const std::string& name) { return dir_.Sub("dev/" + name); }

  // loop0: an 8 MiB GPT disk (DISKSEQ 9) with 1 "root part" (ext4 "root"), 2 "esp" (FAT
  // "ESP"), 3 "../../evil" (ext4 "../../evil"); each partition's content also in a file
  // of its own, as the kernel shows partitions.
  void MakeGptLoop() {
    ASSERT_TRUE(MakeSparseFile(Node("loop0"), 8 * kMiB));
    ASSERT_TRUE(WritePartitionTable(
        Node("loop0"),
        "label: gpt\n"
        "label-id: 11111111-2222-3333-4444-555555555555\n"
        "start=2048, size=4096, uuid=aaaaaaaa-0000-4000-8000-000000000001, name=\"root part\"\n"
        "start=6144, size=4096, uuid=aaaaaaaa-0000-4000-8000-000000000002, name=esp\n"
        "start=10240, size=4096, uuid=aaaaaaaa-0000-4000-8000-000000000003, name=\"../../evil\"\n",
        dir_.path()));
    sysfs_->AddBlockDevice("/devices/virtual/block/loop0", "loop0", 7, 0, "disk",
                           {{"DISKSEQ", "9"}});
    sysfs_->SetAttribute("/devices/virtual/block/loop0", "size", "16384");
    for (int number = 1; number <= 3; ++number) {
      std::string name = "loop0p" + std::to_string(number);
      ASSERT_TRUE(MakeSparseFile(Node(name), 4096 * 512));
      if (number == 1) {
        ASSERT_TRUE(MakeExt4(Node(name), "root", kRootUuid));
      }
      if (number == 2) {
        ASSERT_TRUE(MakeVfat(Node(name), "ESP", "1234ABCD"));
      }
      if (number == 3) {
        ASSERT_TRUE(MakeExt4(Node(name), "../../evil", kEvilUuid));
      }
      uint64_t start = 2048 + 4096 * (number - 1);
      ASSERT_TRUE(CopyInto(Node("loop0"), start * 512, Node(name)));
      std::string devpath = "/devices/virtual/block/loop0/" + name;
      sysfs_->AddBlockDevice(devpath, name, 259, number - 1, "partition",
                             {{"PARTN", std::to_string(number)}});
      sysfs_->SetAttribute(devpath, "partition", std::to_string(number));
      sysfs_->SetAttribute(devpath, "start", std::to_string(start));
      sysfs_->SetAttribute(devpath, "size", "4096");
    }
  }

  // A whole disk sdb (8:16) carrying an ext4 filesystem labelled label, no partition table.
  void MakeLabelledDisk(const std::string& label) {
    ASSERT_TRUE(MakeSparseFile(Node("sdb"), 4 * kMiB));
    ASSERT_TRUE(MakeExt4(Node("sdb"), label, kDiskUuid));
    sysfs_->AddBlockDevice(
        "/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb", "sdb", 8, 16,
        "disk", {{"DISKSEQ", "12"}});
  }

  EventState StateFor(const std::string& devpath, const std::string& action = "add") {
    auto device = Device::Open(sysfs_fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    properties.Set("DEVPATH", devpath);
    properties.Set("SUBSYSTEM", device->subsystem());
    EventState state(std::move(*device), std::move(properties));
    state.dev_fd = dev_fd_.get();
    return state;
  }

  void Apply(EventState& state) {
    rules_.Apply(state, runner_);
    EXPECT_FALSE(state.properties.Has("VDEV_PERSISTENT_STORAGE")) << "the marker leaked";
  }

  Links ApplyAndLink(const std::string& devpath, const std::string& action = "add") {
    EventState state = StateFor(devpath, action);
    Apply(state);
    EXPECT_FALSE(state.busy);
    return Links(state.links.begin(), state.links.end());
  }

  static constexpr const char* kRootUuid = "0e6f3a7c-1111-4a5b-9c8d-000000000001";
  static constexpr const char* kEvilUuid = "0e6f3a7c-1111-4a5b-9c8d-000000000003";
  static constexpr const char* kDiskUuid = "0e6f3a7c-1111-4a5b-9c8d-0000000000db";

  TempDir dir_;
  std::unique_ptr<FakeSysfs> sysfs_;
  UniqueFd sysfs_fd_, dev_fd_;
  RuleSet rules_;
  NullRunner runner_;
};

TEST_F(StorageRulesTest, GptPartitionGetsUdevsLinks) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  EventState state = StateFor("/devices/virtual/block/loop0/loop0p1");
  Apply(state);
  EXPECT_EQ(Links(state.links.begin(), state.links.end()),
            (Links{
                std::string("disk/by-uuid/") + kRootUuid,
                "disk/by-label/root",
                "disk/by-partuuid/aaaaaaaa-0000-4000-8000-000000000001",
                "disk/by-partlabel/root\\x20part",
            }));
  EXPECT_EQ(state.properties.GetOr("ID_FS_TYPE"), "ext4");
  EXPECT_EQ(state.properties.GetOr("ID_PART_ENTRY_DISK"), "7:0");
  EXPECT_EQ(state.properties.GetOr("ID_PART_TABLE_TYPE"), "gpt");
}

TEST_F(StorageRulesTest, FatPartitionAndWholeDisk) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  EXPECT_EQ(ApplyAndLink("/devices/virtual/block/loop0/loop0p2"),
            (Links{
                "disk/by-uuid/1234-ABCD",
                "disk/by-label/ESP",
                "disk/by-partuuid/aaaaaaaa-0000-4000-8000-000000000002",
                "disk/by-partlabel/esp",
            }));
  EventState disk = StateFor("/devices/virtual/block/loop0");
  Apply(disk);
  EXPECT_EQ(Links(disk.links.begin(), disk.links.end()), (Links{"disk/by-diskseq/9"}));
  EXPECT_EQ(disk.properties.GetOr("ID_PART_TABLE_UUID"), "11111111-2222-3333-4444-555555555555");
  EXPECT_FALSE(disk.properties.Has("ID_FS_TYPE"));
}

TEST_F(StorageRulesTest, HostileLabelAndPartlabelStayInTheirDirectory) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  Links links = ApplyAndLink("/devices/virtual/block/loop0/loop0p3");
  EXPECT_EQ(links, (Links{
                       std::string("disk/by-uuid/") + kEvilUuid,
                       "disk/by-label/..\\x2f..\\x2fevil",
                       "disk/by-partuuid/aaaaaaaa-0000-4000-8000-000000000003",
                       "disk/by-partlabel/..\\x2f..\\x2fevil",
                   }));
  for (const auto& link : links) {
    EXPECT_TRUE(IsSafeLinkName(link)) << link;
    EXPECT_EQ(std::count(link.begin(), link.end(), '/'), 2) << link;
  }
}

TEST_F(StorageRulesTest, HostileLabelsAreEncodedLikeUdev) {
  const std::string disk =
      "/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb";
  struct Case {
    std::string label;
    std::string link;  // "" = no by-label link
  } cases[] = {
      {"a\x01"
       "b\x7f"
       "c",
       "disk/by-label/a\\x01b\\x7fc"},  // control bytes
      {"\xff\xfe"
       "ab",
       "disk/by-label/\\xff\\xfeab"},            // invalid UTF-8
      {"a b/c", "disk/by-label/a\\x20b\\x2fc"},  // space, slash
      {"\xc3\xbcn\xc3\xaf\xc3\xa7\xc3\xb6"
       "de16b",
       "disk/by-label/\xc3\xbcn\xc3\xaf\xc3\xa7\xc3\xb6"
       "de16b"},
      {"..", ""},  // refused: it would name by-label itself
      {".", ""},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.label);
    ASSERT_NO_FATAL_FAILURE(MakeLabelledDisk(test.label));
    Links links = ApplyAndLink(disk);
    Links expected = {std::string("disk/by-uuid/") + kDiskUuid, "disk/by-diskseq/12"};
    if (!test.link.empty()) expected.insert(test.link);
    EXPECT_EQ(links, expected);
  }
}

TEST_F(StorageRulesTest, ChangeEventDropsWhatTheMediumNoLongerHas) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  const std::string devpath = "/devices/virtual/block/loop0/loop0p1";
  // The filesystem is wiped, and the partition then gone from the table.
  ASSERT_TRUE(MakeSparseFile(Node("loop0p1"), 4096 * 512));
  ASSERT_TRUE(WritePartitionTable(Node("loop0"), "label: gpt\n", dir_.path()));
  EventState state = StateFor(devpath, "change");
  // What the processor puts back from the old database record on a change.
  for (const char* key : {"ID_FS_UUID", "ID_FS_UUID_ENC", "ID_FS_LABEL_ENC", "ID_FS_TYPE",
                          "ID_PART_ENTRY_UUID", "ID_PART_ENTRY_NAME", "ID_LOOP_BACKING_INODE"})
    state.properties.Set(key, "old");
  state.properties.Set("ID_FS_USAGE", "filesystem");
  state.properties.Set("ID_PART_ENTRY_SCHEME", "gpt");
  state.properties.Set("ID_SERIAL", "kept");
  Apply(state);
  EXPECT_TRUE(state.links.empty()) << state.links.front();
  for (const auto& [key, value] : state.properties.properties())
    EXPECT_FALSE(key.starts_with("ID_FS_") || key.starts_with("ID_PART_ENTRY_") ||
                 key.starts_with("ID_LOOP_"))
        << key << "=" << value;
  EXPECT_EQ(state.properties.GetOr("ID_SERIAL"), "kept");
}

TEST_F(StorageRulesTest, NoMediumMeansNoLinks) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  ASSERT_TRUE(MakeSparseFile(Node("loop0"), 0));  // a loop device after losetup -d
  sysfs_->SetAttribute("/devices/virtual/block/loop0", "size", "0");
  EventState state = StateFor("/devices/virtual/block/loop0", "change");
  state.properties.Set("ID_PART_TABLE_TYPE", "gpt");
  Apply(state);
  EXPECT_TRUE(state.links.empty()) << state.links.front();
  EXPECT_FALSE(state.properties.Has("ID_PART_TABLE_TYPE"));
}

TEST_F(StorageRulesTest, LockedDiskMakesTheEventWaitUnlessItIsTheLastAttempt) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  // A partitioning tool holds the whole disk; the partition's probe must not race it.
  UniqueFd holder(open(Node("loop0").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(flock(holder.get(), LOCK_EX), 0);

  for (const char* devpath :
       {"/devices/virtual/block/loop0/loop0p1", "/devices/virtual/block/loop0"}) {
    SCOPED_TRACE(devpath);
    EventState state = StateFor(devpath);
    rules_.Apply(state, runner_);
    EXPECT_TRUE(state.busy);
    // The rules stopped at the builtin: nothing after it ran (the end marker is still set).
    EXPECT_TRUE(state.links.empty()) << state.links.front();
    EXPECT_TRUE(state.properties.Has("VDEV_PERSISTENT_STORAGE"));
  }

  EventState last = StateFor("/devices/virtual/block/loop0/loop0p1");
  last.last_attempt = true;
  Apply(last);
  EXPECT_FALSE(last.busy);
  EXPECT_TRUE(std::count(last.links.begin(), last.links.end(), "disk/by-label/root"));

  holder.reset();  // the tool is done
  EXPECT_EQ(ApplyAndLink("/devices/virtual/block/loop0/loop0p1").count("disk/by-label/root"), 1u);
}

TEST_F(StorageRulesTest, ANodeOfAnotherDeviceIsNotProbed) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  // loop0's name now leads to another device (a reused name on a tmpfs dev root).
  ASSERT_EQ(unlink(Node("loop0").c_str()), 0);
  ASSERT_EQ(symlink("/dev/null", Node("loop0").c_str()), 0);
  EventState state = StateFor("/devices/virtual/block/loop0", "change");
  Apply(state);
  EXPECT_FALSE(state.busy);
  EXPECT_FALSE(state.properties.Has("ID_PART_TABLE_TYPE"));
  EXPECT_EQ(Links(state.links.begin(), state.links.end()), (Links{"disk/by-diskseq/9"}));
}

TEST_F(StorageRulesTest, RemoveRunsNoProbeAndMakesNoLinks) {
  ASSERT_NO_FATAL_FAILURE(MakeGptLoop());
  EventState state = StateFor("/devices/virtual/block/loop0/loop0p1", "remove");
  Apply(state);
  EXPECT_TRUE(state.links.empty());
  EXPECT_FALSE(state.properties.Has("ID_FS_TYPE"));
}

TEST_F(StorageRulesTest, ByIdAndByPathFromOtherProbesProperties) {
  // ID_BUS/ID_SERIAL/ID_PATH/ID_WWN_WITH_EXTENSION as ata_id and path_id will set them;
  // no node here, so blkid finds nothing and says nothing.
  const std::string sda =
      "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
  const std::vector<std::pair<std::string, std::string>> ids = {
      {"ID_BUS", "ata"},
      {"ID_SERIAL", "QEMU_HARDDISK_QM00001"},
      {"ID_PATH", "pci-0000:00:1f.2-ata-1.0"},
      {"ID_PATH_ATA_COMPAT", "pci-0000:00:1f.2-ata-1"},
      {"ID_WWN_WITH_EXTENSION", "0x5000c500a0b1c2d3"},
  };
  auto with = [&](std::vector<std::pair<std::string, std::string>> extra) {
    extra.insert(extra.end(), ids.begin(), ids.end());
    return extra;
  };
  sysfs_->AddBlockDevice(sda, "sda", 8, 0, "disk", with({}));
  // The partition carries none of them: it inherits them from its disk (import.parent).
  sysfs_->AddBlockDevice(sda + "/sda1", "sda1", 8, 1, "partition", {{"PARTN", "1"}});
  EXPECT_EQ(ApplyAndLink(sda), (Links{
                                   "disk/by-id/ata-QEMU_HARDDISK_QM00001",
                                   "disk/by-id/wwn-0x5000c500a0b1c2d3",
                                   "disk/by-path/pci-0000:00:1f.2-ata-1.0",
                                   "disk/by-path/pci-0000:00:1f.2-ata-1",
                               }));
  EXPECT_EQ(ApplyAndLink(sda + "/sda1"), (Links{
                                             "disk/by-id/ata-QEMU_HARDDISK_QM00001-part1",
                                             "disk/by-id/wwn-0x5000c500a0b1c2d3-part1",
                                             "disk/by-path/pci-0000:00:1f.2-ata-1.0-part1",
                                             "disk/by-path/pci-0000:00:1f.2-ata-1-part1",
                                         }));
}

TEST_F(StorageRulesTest, VirtioAndNvmeNamesFromSysfs) {
  const std::string virtio = "/devices/pci0000:00/0000:00:04.0/virtio1";
  sysfs_->Add(
      {virtio, "virtio", true, "virtio_blk", {{"MODALIAS", "virtio:d00000002v00001AF4"}}, {}});
  sysfs_->AddBlockDevice(virtio + "/block/vda", "vda", 254, 0);
  sysfs_->SetAttribute(virtio + "/block/vda", "serial", "disk-serial-1");
  sysfs_->AddBlockDevice(virtio + "/block/vda/vda2", "vda2", 254, 2, "partition");
  EXPECT_EQ(ApplyAndLink(virtio + "/block/vda"), (Links{"disk/by-id/virtio-disk-serial-1"}));
  EXPECT_EQ(ApplyAndLink(virtio + "/block/vda/vda2"),
            (Links{"disk/by-id/virtio-disk-serial-1-part2"}));

  // The PCI function makes a stable root for path_id: by-path pci-0000:00:05.0-nvme-1.
  sysfs_->Add({"/devices/pci0000:00/0000:00:05.0", "pci", true, "nvme", {}, {}});
  const std::string controller = "/devices/pci0000:00/0000:00:05.0/nvme/nvme0";
  sysfs_->Add({controller, "nvme", false, "", {{"MAJOR", "240"}, {"MINOR", "0"}}, {}});
  sysfs_->SetAttribute(controller, "serial", "SN1234  ");
  sysfs_->SetAttribute(controller, "model", "Fast SSD 970");
  sysfs_->SetAttribute(controller, "firmware_rev", "1.0");
  sysfs_->AddBlockDevice(controller + "/nvme0n1", "nvme0n1", 259, 10);
  sysfs_->SetAttribute(controller + "/nvme0n1", "wwid", "eui.0025388b91b1c2d3");
  sysfs_->SetAttribute(controller + "/nvme0n1", "nsid", "1");
  sysfs_->AddBlockDevice(controller + "/nvme0n1/nvme0n1p1", "nvme0n1p1", 259, 11, "partition");
  EventState disk = StateFor(controller + "/nvme0n1");
  Apply(disk);
  EXPECT_EQ(Links(disk.links.begin(), disk.links.end()),
            (Links{
                "disk/by-id/nvme-eui.0025388b91b1c2d3",
                "disk/by-id/nvme-Fast_SSD_970_SN1234",
                "disk/by-id/nvme-Fast_SSD_970_SN1234_1",
                "disk/by-path/pci-0000:00:05.0-nvme-1",
            }));
  EXPECT_EQ(disk.properties.GetOr("ID_SERIAL"), "Fast SSD 970_SN1234_1");
  EXPECT_EQ(disk.properties.GetOr("ID_WWN"), "eui.0025388b91b1c2d3");
  EXPECT_EQ(ApplyAndLink(controller + "/nvme0n1/nvme0n1p1"),
            (Links{
                "disk/by-id/nvme-eui.0025388b91b1c2d3-part1",
                "disk/by-id/nvme-Fast_SSD_970_SN1234-part1",
                "disk/by-id/nvme-Fast_SSD_970_SN1234_1-part1",
            }));
}

// Only this file's rules: device-mapper devices get their names from rules of their own.
TEST_F(StorageRulesTest, OtherDevicesAreLeftAlone) {
  auto text = ReadFileAt(AT_FDCWD, kRulesDir + "/" + kStorageRules);
  ASSERT_TRUE(text);
  auto parsed = RuleSet::Parse(kStorageRules, *text, NoAccounts());
  ASSERT_TRUE(parsed) << parsed.error().Message();
  rules_ = std::move(*parsed);
  sysfs_->AddBlockDevice(
      "/devices/virtual/block/dm-0", "dm-0", 253, 0, "disk",
      {{"DISKSEQ", "20"}, {"ID_FS_UUID_ENC", "x"}, {"ID_FS_USAGE", "filesystem"}});
  EXPECT_TRUE(ApplyAndLink("/devices/virtual/block/dm-0").empty());
  sysfs_->AddBlockDevice("/devices/virtual/block/loop3", "loop3", 7, 3, "disk",
                         {{"DISKSEQ", "21"}, {"UDEV_DISABLE_PERSISTENT_STORAGE_RULES_FLAG", "1"}});
  EXPECT_TRUE(ApplyAndLink("/devices/virtual/block/loop3").empty());
}

// --- the `builtin` key itself

TEST(RuleBuiltinTest, UnknownOrSubstitutedNameIsALoadError) {
  auto unknown = RuleSet::Parse("t.rules", "[a]\nsubsystem = block\nbuiltin = nosuch --x\n");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().context, "t.rules:3: unknown builtin 'nosuch'");
  auto substituted = RuleSet::Parse("t.rules", "[a]\nbuiltin = $env{NAME}\n");
  ASSERT_FALSE(substituted);
  EXPECT_EQ(substituted.error().context,
            "t.rules:2: builtin name '$env{NAME}' cannot be substituted");
  EXPECT_FALSE(RuleSet::Parse("t.rules", "[a]\nbuiltin =\n"));
  EXPECT_FALSE(RuleSet::Parse("t.rules", "[a]\nbuiltin = blkid --hint=$env{\n"));
  auto repeated = RuleSet::Parse("t.rules", "[a]\nbuiltin = blkid\nbuiltin = blkid --noraid\n");
  EXPECT_TRUE(repeated) << repeated.error().Message();
}

TEST(RuleBuiltinTest, AFailingBuiltinIsLoggedAndTheEventGoesOn) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("sys"));
  FakeSysfs sysfs(dir.Sub("sys"));
  sysfs.AddBlockDevice("/devices/virtual/block/loop1", "loop1", 7, 1);
  UniqueFd sysfs_fd = *OpenDirAt(AT_FDCWD, dir.Sub("sys"));
  auto rules = RuleSet::Parse("t.rules",
                              "[a]\n"
                              "kernel = loop1\n"
                              "builtin = blkid --bogus\n"
                              "set.AFTER = $env{ID_FS_TYPE}x\n"
                              "[b]\n"
                              "kernel = loop1\n"
                              "symlink = later\n");
  ASSERT_TRUE(rules) << rules.error().Message();
  auto device = Device::Open(sysfs_fd.get(), "/devices/virtual/block/loop1");
  ASSERT_TRUE(device);
  Uevent properties = device->properties();
  properties.Set("ACTION", "add");
  EventState state(std::move(*device), std::move(properties));
  state.dev_fd = sysfs_fd.get();  // any directory: the bad argument fails first
  NullRunner runner;
  rules->Apply(state, runner);
  EXPECT_FALSE(state.busy);
  EXPECT_EQ(state.properties.GetOr("AFTER"), "x");
  EXPECT_EQ(state.links, std::vector<std::string>{"later"});
}

}  // namespace
}  // namespace vdev
