// The shipped rules/ directory against md arrays in a fake sysfs: /dev/md/<name> and the
// by-id md-name-/md-uuid- links, with `mdadm --detail --export` played by a fake runner.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"
#include "substitution.h"

namespace vdev {
namespace {

const std::string kRulesDir = VDEV_SOURCE_DIR "/rules";
const std::string kMdadm = "/sbin/mdadm --detail --no-devices --export ";

// Answers `mdadm --detail --export NODE` with canned output per node; records every command.
class FakeMdadm : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string& command, const Uevent&) override {
    commands.push_back(command);
    if (!command.starts_with(kMdadm)) return std::string();  // another rule's program
    auto found = detail.find(command.substr(kMdadm.size()));
    if (found == detail.end() || missing) return Fail(ENOENT, "program /sbin/mdadm not found");
    return found->second;
  }
  std::map<std::string, std::string> detail;  // node path -> output
  std::vector<std::string> commands;
  bool missing = false;
};

std::string Sorted(std::vector<std::string> links) {
  std::sort(links.begin(), links.end());
  std::string joined;
  for (const auto& link : links) joined += link + "\n";
  return joined;
}

class MdNamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult loaded = RuleSet::Load({kRulesDir});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    rules_ = std::move(loaded.rules);
    fd_ = *OpenDirAt(AT_FDCWD, sys_.path());
    dev_fd_ = *OpenDirAt(AT_FDCWD, dev_.path());
  }

  // An array: md/ attributes as the kernel shows them, mdadm's answer for its node.
  void AddArray(const std::string& name, unsigned minor, const std::string& array_state,
                const std::string& metadata, const std::string& mdadm_output) {
    std::string devpath = "/devices/virtual/block/" + name;
    sysfs_.AddBlockDevice(devpath, name, 9, minor, "disk");
    if (!array_state.empty()) sysfs_.SetAttribute(devpath, "md/array_state", array_state);
    sysfs_.SetAttribute(devpath, "md/metadata_version", metadata);
    sysfs_.SetAttribute(devpath, "md/level", "raid1");
    if (!mdadm_output.empty()) runner_.detail["/dev/" + name] = mdadm_output;
  }
  void AddPartition(const std::string& array, const std::string& name, unsigned minor,
                    const std::string& mdadm_output) {
    std::string devpath = "/devices/virtual/block/" + array + "/" + name;
    sysfs_.AddBlockDevice(devpath, name, 259, minor, "partition",
                          {{"PARTN", name.substr(name.rfind('p') + 1)}});
    runner_.detail["/dev/" + name] = mdadm_output;
  }

  EventState Apply(const std::string& devpath, const std::string& action = "add",
                   const std::vector<std::pair<std::string, std::string>>& previous = {}) {
    auto device = Device::Open(fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    for (const auto& [key, value] : previous) properties.Set(key, value);
    EventState state(std::move(*device), std::move(properties));
    state.dev_fd = dev_fd_.get();
    rules_.Apply(state, runner_);
    return state;
  }

  testing::TempDir sys_{"vdev-md-sys"};
  testing::TempDir dev_{"vdev-md-dev"};
  testing::FakeSysfs sysfs_{sys_.path()};
  UniqueFd fd_;
  UniqueFd dev_fd_;
  RuleSet rules_;
  FakeMdadm runner_;
};

const std::string kDataUuid = "3c7a6f3e:0d1b5b7c:1a7a0f3e:5a5b1e12";
const std::string kDataDetail =
    "MD_LEVEL=raid1\nMD_DEVICES=2\nMD_METADATA=1.2\nMD_UUID=" + kDataUuid +
    "\nMD_DEVNAME=data\nMD_NAME=host:data\n";

TEST_F(MdNamingTest, ArraysAndPartitionsGetTheirLinks) {
  AddArray("md127", 127, "clean", "1.2", kDataDetail);
  AddPartition("md127", "md127p1", 0, kDataDetail);
  AddPartition("md127", "md127p2", 1, kDataDetail);
  // A name ending in a digit: its partitions get "p" before the number, as the kernel's.
  const std::string raid1 =
      "MD_LEVEL=raid1\nMD_DEVICES=2\nMD_METADATA=1.2\nMD_UUID=aaaaaaaa:bbbbbbbb:cccccccc:dddddddd"
      "\nMD_DEVNAME=raid1\nMD_NAME=otherhost:raid1\n";
  AddArray("md0", 0, "active", "1.2", raid1);
  AddPartition("md0", "md0p3", 2, raid1);
  // Metadata 0.90 has no name: no md-name link.
  AddArray("md1", 1, "clean", "0.90",
           "MD_LEVEL=raid5\nMD_DEVICES=3\nMD_METADATA=0.90\nMD_UUID=01234567:89abcdef:01234567:"
           "89abcdef\nMD_DEVNAME=1\n");
  // An IMSM container: "inactive" for ever, named all the same.
  AddArray("md126", 126, "inactive", "external:imsm",
           "MD_LEVEL=container\nMD_DEVICES=2\nMD_METADATA=imsm\nMD_UUID=11111111:22222222:"
           "33333333:44444444\nMD_DEVNAME=imsm0\n");

  struct Case {
    std::string devpath;
    std::vector<std::string> links;
  } cases[] = {
      {"/devices/virtual/block/md127",
       {"md/data", "disk/by-id/md-name-host:data", "disk/by-id/md-uuid-" + kDataUuid}},
      {"/devices/virtual/block/md127/md127p1",
       {"md/data1", "disk/by-id/md-name-host:data-part1",
        "disk/by-id/md-uuid-" + kDataUuid + "-part1"}},
      {"/devices/virtual/block/md127/md127p2",
       {"md/data2", "disk/by-id/md-name-host:data-part2",
        "disk/by-id/md-uuid-" + kDataUuid + "-part2"}},
      {"/devices/virtual/block/md0",
       {"md/raid1", "disk/by-id/md-name-otherhost:raid1",
        "disk/by-id/md-uuid-aaaaaaaa:bbbbbbbb:cccccccc:dddddddd"}},
      {"/devices/virtual/block/md0/md0p3",
       {"md/raid1p3", "disk/by-id/md-name-otherhost:raid1-part3",
        "disk/by-id/md-uuid-aaaaaaaa:bbbbbbbb:cccccccc:dddddddd-part3"}},
      {"/devices/virtual/block/md1",
       {"md/1", "disk/by-id/md-uuid-01234567:89abcdef:01234567:89abcdef"}},
      {"/devices/virtual/block/md126",
       {"md/imsm0", "disk/by-id/md-uuid-11111111:22222222:33333333:44444444"}},
  };
  for (const Case& c : cases) {
    EventState state = Apply(c.devpath);
    EXPECT_EQ(Sorted(state.links), Sorted(c.links)) << c.devpath;
    EXPECT_EQ(state.link_priority, 100) << c.devpath << ": the array wins over its members";
    EXPECT_FALSE(state.properties.Has("SYSTEMD_READY")) << c.devpath;
  }

  // mdadm's properties are the event's; the node it was asked about is the array's.
  EventState md127 = Apply("/devices/virtual/block/md127", "change");
  EXPECT_EQ(md127.properties.GetOr("MD_UUID"), kDataUuid);
  EXPECT_EQ(md127.properties.GetOr("MD_NAME"), "host:data");
  EXPECT_EQ(md127.properties.GetOr("MD_LEVEL"), "raid1");
  EXPECT_EQ(runner_.commands.back(), kMdadm + "/dev/md127");
}

TEST_F(MdNamingTest, ArraysThatAreNotRunningGetNoNamesAndNoMdadmCall) {
  AddArray("md2", 2, "inactive", "1.2", kDataDetail);  // being assembled
  AddArray("md3", 3, "clear", "1.2", kDataDetail);     // stopped
  AddArray("md4", 4, "", "none", kDataDetail);         // no md/array_state yet
  // A container's members are inactive without external metadata: held back too.
  for (const char* name : {"md2", "md3", "md4"}) {
    EventState state = Apply(std::string("/devices/virtual/block/") + name);
    EXPECT_TRUE(state.links.empty()) << name << ": " << Sorted(state.links);
    EXPECT_EQ(state.properties.GetOr("SYSTEMD_READY"), "0") << name;
  }
  EXPECT_TRUE(std::none_of(runner_.commands.begin(), runner_.commands.end(),
                           [](const std::string& command) { return command.starts_with(kMdadm); }))
      << runner_.commands.front();
}

TEST_F(MdNamingTest, AStoppedArrayLosesTheIdentityItHad) {
  AddArray("md127", 127, "clear", "1.2", kDataDetail);
  // A change event starts from the record of the last one, when the array ran.
  EventState state = Apply("/devices/virtual/block/md127", "change",
                           {{"MD_UUID", kDataUuid},
                            {"MD_NAME", "host:data"},
                            {"MD_DEVNAME", "data"},
                            {"MD_LEVEL", "raid1"},
                            {"ID_FS_USAGE", "filesystem"},
                            {"ID_FS_UUID_ENC", "1234-ABCD"}});
  EXPECT_TRUE(state.links.empty()) << Sorted(state.links);
  for (const char* key : {"MD_UUID", "MD_NAME", "MD_DEVNAME", "MD_LEVEL"})
    EXPECT_FALSE(state.properties.Has(key)) << key;

  // Running again: the names come back.
  sysfs_.SetAttribute("/devices/virtual/block/md127", "md/array_state", "active");
  EXPECT_EQ(Apply("/devices/virtual/block/md127", "change").links.size(), 3u);
}

// An image file that libblkid takes for ext2 with this label (and a fixed UUID).
void WriteExt2Image(const std::string& path, const std::string& label) {
  std::string image(64 * 1024, '\0');
  constexpr size_t kSuper = 1024;
  image[kSuper + 56] = '\x53';  // s_magic 0xef53
  image[kSuper + 57] = '\xef';
  image[kSuper + 76] = 1;  // s_rev_level
  for (int i = 0; i < 16; ++i) image[kSuper + 104 + i] = static_cast<char>(0x10 + i);
  std::copy(label.begin(), label.end(), image.begin() + kSuper + 120);
  std::ofstream(path, std::ios::binary) << image;
}

TEST_F(MdNamingTest, FilesystemOnAnArrayIsNamedAboveItsMembers) {
  AddArray("md127", 127, "clean", "1.2", kDataDetail);
  WriteExt2Image(dev_.Sub("md127"), "home");
  EventState state = Apply("/devices/virtual/block/md127");
  EXPECT_EQ(Sorted(state.links),
            Sorted({"md/data", "disk/by-id/md-name-host:data", "disk/by-id/md-uuid-" + kDataUuid,
                    "disk/by-uuid/10111213-1415-1617-1819-1a1b1c1d1e1f", "disk/by-label/home"}));
  EXPECT_EQ(state.link_priority, 100);

  // Not probed while it is not running.
  AddArray("md3", 3, "inactive", "1.2", kDataDetail);
  WriteExt2Image(dev_.Sub("md3"), "home");
  EventState inactive = Apply("/devices/virtual/block/md3");
  EXPECT_TRUE(inactive.links.empty()) << Sorted(inactive.links);
  EXPECT_FALSE(inactive.properties.Has("ID_FS_TYPE"));
}

TEST_F(MdNamingTest, WithoutMdadmArraysGetNoNamesAndNothingElseBreaks) {
  AddArray("md127", 127, "clean", "1.2", kDataDetail);
  runner_.missing = true;
  EventState state = Apply("/devices/virtual/block/md127");
  EXPECT_TRUE(state.links.empty()) << Sorted(state.links);
  EXPECT_FALSE(state.properties.Has("MD_UUID"));
}

TEST_F(MdNamingTest, HostileNamesStayInTheirDirectory) {
  struct Case {
    std::string md_name, md_devname;
    std::vector<std::string> links;  // besides the md-uuid link
  } cases[] = {
      {"../../../etc/evil", "../../evil", {}},
      {"host:a/b", "a/b", {}},
      {"..", "..", {"disk/by-id/md-name-.."}},  // one file, not a directory
      {"my disk\t1", "my_disk_1", {"disk/by-id/md-name-my_disk_1", "md/my_disk_1"}},
      {"\xff\xfe", ".", {"disk/by-id/md-name-__"}},
  };
  unsigned minor = 10;
  for (const Case& c : cases) {
    std::string name = "md" + std::to_string(minor);
    AddArray(name, minor++, "clean", "1.2",
             "MD_UUID=12345678:12345678:12345678:12345678\nMD_NAME=" + c.md_name +
                 "\nMD_DEVNAME=" + c.md_devname + "\n");
    EventState state = Apply("/devices/virtual/block/" + name);
    std::vector<std::string> expected = c.links;
    expected.push_back("disk/by-id/md-uuid-12345678:12345678:12345678:12345678");
    EXPECT_EQ(Sorted(state.links), Sorted(expected)) << c.md_name;
    for (const auto& link : state.links) {
      EXPECT_TRUE(IsSafeLinkName(link)) << link;
      bool in_md = link.starts_with("md/") && link.find('/', 3) == std::string::npos;
      bool in_by_id = link.starts_with("disk/by-id/") && link.find('/', 11) == std::string::npos;
      EXPECT_TRUE(in_md || in_by_id) << link;
    }
  }
}

}  // namespace
}  // namespace vdev
