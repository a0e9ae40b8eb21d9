// Device-mapper and LVM naming: the functions of dm_name.h, and the shipped rules/ directory
// (with the dm and blkid builtins) applied to dm devices in a fake sysfs.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include "builtin_dm.h"
#include "common/fs_util.h"
#include "dm_name.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"
#include "substitution.h"

namespace vdev {
namespace {

// --- the pure functions

TEST(SplitLvmNameTest, SplitsLikeDmsetupSplitname) {
  struct Case {
    std::string dm_name, vg, lv, layer;
  } cases[] = {
      {"vg0-root", "vg0", "root", ""},
      {"vg0-my--lv", "vg0", "my-lv", ""},
      {"my--vg-data", "my-vg", "data", ""},
      {"vg--0-lv--1-real", "vg-0", "lv-1", "real"},
      {"vg0-pool-tpool", "vg0", "pool", "tpool"},
      {"vg0-pool_tmeta", "vg0", "pool_tmeta", ""},
      {"vg0-snap-cow", "vg0", "snap", "cow"},
      {"a---b", "a-", "b", ""},  // "--" first, then the separator
      {"vg0", "vg0", "", ""},
      {"vg0-", "vg0-", "", ""},  // a trailing '-' is literal, as in libdevmapper
      {"vg0-lv-", "vg0", "lv-", ""},
      {"-lv", "", "lv", ""},
      {"", "", "", ""},
      {"a-b-c-d", "a", "b", "c"},  // a fourth component is dropped, as by dmsetup
  };
  for (const Case& c : cases) {
    LvmName name = SplitLvmName(c.dm_name);
    EXPECT_EQ(name.vg, c.vg) << c.dm_name;
    EXPECT_EQ(name.lv, c.lv) << c.dm_name;
    EXPECT_EQ(name.layer, c.layer) << c.dm_name;
  }
}

TEST(MangleDmStringTest, MangledLikeLibdevmapperAndNeverASlash) {
  struct Case {
    std::string raw, mangled;
  } cases[] = {
      {"vg0-root", "vg0-root"},
      {"luks-9b2d#+.:=@_", "luks-9b2d#+.:=@_"},
      {"my disk", "my\\x20disk"},
      {"../../etc/passwd", "..\\x2f..\\x2fetc\\x2fpasswd"},
      {"tab\there\n", "tab\\x09here\\x0a"},
      {"\xc3\xa9t\xc3\xa9", "\\xc3\\xa9t\\xc3\\xa9"},
      {"a\\x20b", "a\\x20b"},   // already mangled: kept
      {"a\\x2g", "a\\x5cx2g"},  // not a \xNN sequence: the backslash is mangled
      {"end\\x", "end\\x5cx"},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MangleDmString(c.raw), c.mangled) << c.raw;
    EXPECT_EQ(MangleDmString(c.mangled), c.mangled) << c.raw << ": mangling twice";
  }
}

TEST(LvmReservedNameTest, HiddenSubVolumes) {
  for (const char* lv :
       {"pool_tmeta", "pool_tdata", "lv_rimage_0", "lv_rmeta_1", "lv_mimage_0", "lv_mlog",
        "cpool_cdata", "cpool_cmeta", "lv_corig", "lvol0_pmspare", "snap_vorigin", "pvmove0",
        "snapshot3", "vdo_vdata", "lv_imeta", "lv_iorig", "lv_cvol", "lv_wcorig", "lv_cpool"}) {
    EXPECT_TRUE(IsReservedLvName(lv)) << lv;
  }
  for (const char* lv : {"root", "my-lv", "data_1", "tmeta", "mysnapshot", "swap_pvmove"})
    EXPECT_FALSE(IsReservedLvName(lv)) << lv;
}

TEST(DmCookieFlagsTest, UpperHalfOfTheCookie) {
  EXPECT_EQ(DmCookieFlags("4194307"), 0x0040);  // 0x00400003: primary source, semaphore 3
  EXPECT_EQ(DmCookieFlags("0x0d4d1234"), 0x0d4d);
  EXPECT_EQ(DmCookieFlags("1234"), 0);  // a cookie without flags
  EXPECT_EQ(DmCookieFlags("0"), std::nullopt);
  EXPECT_EQ(DmCookieFlags(""), std::nullopt);
  EXPECT_EQ(DmCookieFlags("12abc"), std::nullopt);
  EXPECT_EQ(DmCookieFlags("4294967296"), std::nullopt);
  EXPECT_EQ(DmCookieFlags("-1"), std::nullopt);
}

std::string Find(const PropertyList& properties, std::string_view key) {
  for (const auto& [name, value] : properties)
    if (name == key) return value;
  return "<unset>";
}

const std::string kVgId = "VgIdVgIdVgIdVgIdVgIdVgIdVgIdVgId";

// "LVM-" + the VG's id + the LV's id (32 characters each) [+ "-" + layer].
std::string LvmUuid(const std::string& lv, const std::string& layer = "") {
  std::string lv_id = (lv + "________________________________").substr(0, 32);
  return "LVM-" + kVgId + lv_id + (layer.empty() ? "" : "-" + layer);
}

TEST(DmPropertiesTest, LvmVolume) {
  DmState state{"vg0-my--lv", LvmUuid("mylv"), "0", true, {}, {}};
  PropertyList properties = DmProperties(state);
  EXPECT_EQ(Find(properties, "DM_NAME"), "vg0-my--lv");
  EXPECT_EQ(Find(properties, "DM_UUID"), LvmUuid("mylv"));
  EXPECT_EQ(Find(properties, "DM_SUSPENDED"), "0");
  EXPECT_EQ(Find(properties, "DM_VG_NAME"), "vg0");
  EXPECT_EQ(Find(properties, "DM_LV_NAME"), "my-lv");
  EXPECT_EQ(Find(properties, "DM_LV_LAYER"), "<unset>");
  for (const char* flag : {"DM_UDEV_DISABLE_DM_RULES_FLAG", "DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG",
                           "DM_UDEV_DISABLE_DISK_RULES_FLAG", "DM_UDEV_DISABLE_OTHER_RULES_FLAG",
                           "DM_UDEV_PRIMARY_SOURCE_FLAG", "DM_COOKIE_DISABLE_OTHER_RULES_FLAG"})
    EXPECT_EQ(Find(properties, flag), "<unset>") << flag;
  for (const auto& [key, value] : properties) {
    EXPECT_NE(std::find(DmPropertyNames().begin(), DmPropertyNames().end(), key),
              DmPropertyNames().end())
        << key << " is not listed, so a later event would keep it";
  }
}

TEST(DmPropertiesTest, GuessedFlags) {
  const uint16_t kHidden =
      dm_flag::kDisableSubsystemRules | dm_flag::kDisableDiskRules | dm_flag::kDisableOtherRules;
  struct Case {
    std::string name, uuid;
    uint16_t flags;
  } cases[] = {
      {"vg0-root", LvmUuid("root"), 0},
      {"vg0-root-real", LvmUuid("root", "real"), kHidden},
      {"vg0-snap-cow", LvmUuid("snap", "cow"), kHidden},
      {"vg0-pool", LvmUuid("pool", "pool"), kHidden},  // a used thin pool's public device
      {"vg0-pool-tpool", LvmUuid("pool", "tpool"), kHidden},
      {"vg0-pool_tmeta", LvmUuid("pool", "tmeta"), kHidden},
      {"vg0-lv_rimage_0", LvmUuid("rimage0"), kHidden},  // raid images have no uuid suffix
      {"vg0-pvmove0", LvmUuid("pvmove0"), kHidden},
      {"vg0-newpool", LvmUuid("newpool", "tpool"),  // an unused thin pool: a plain LV
       dm_flag::kDisableDiskRules | dm_flag::kDisableOtherRules},
      {"vg0", LvmUuid("novolume"), kHidden},
      {"luks-1", "CRYPT-LUKS2-00112233445566778899aabbccddeeff-luks-1", 0},
      {"temporary-cryptsetup-7", "CRYPT-TEMP-00112233445566778899aabbccddeeff-x", kHidden},
      {"luks-1_dif", "CRYPT-SUBDEV-00112233445566778899aabbccddeeff-luks-1_dif", kHidden},
      {"mpatha", "mpath-3600508b400105e210000900000490000", 0},
      {"plain", "", 0},
  };
  for (const Case& c : cases) {
    DmState state{c.name, c.uuid, "0", true, {}, {}};
    EXPECT_EQ(GuessDmFlags(state), c.flags) << c.name;
  }
  DmState no_table{"vg0-root", LvmUuid("root"), "0", false, {}, {}};
  EXPECT_EQ(GuessDmFlags(no_table), kHidden | dm_flag::kDisableDmRules);
}

TEST(DmPropertiesTest, CookieFlagsWinAndAreStored) {
  // lvm activating a component read-only: /dev/VG/LV yes, disk links no.
  DmState state{"vg0-pool_tmeta", LvmUuid("pool", "tmeta"), "0", true, {}, {}};
  state.cookie_flags =
      dm_flag::kDisableDiskRules | dm_flag::kDisableOtherRules | dm_flag::kPrimarySource | 0x0100;
  PropertyList properties = DmProperties(state);
  EXPECT_EQ(Find(properties, "DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG"), "<unset>");
  EXPECT_EQ(Find(properties, "DM_UDEV_DISABLE_DISK_RULES_FLAG"), "1");
  EXPECT_EQ(Find(properties, "DM_UDEV_DISABLE_OTHER_RULES_FLAG"), "1");
  EXPECT_EQ(Find(properties, "DM_COOKIE_DISABLE_OTHER_RULES_FLAG"), "1");
  EXPECT_EQ(Find(properties, "DM_UDEV_PRIMARY_SOURCE_FLAG"), "1");
  EXPECT_EQ(Find(properties, "DM_SUBSYSTEM_UDEV_FLAG0"), "1");

  // The next event without a cookie: the stored flags, with the effective "other rules"
  // flag taken from the cookie's copy (later rules may have raised the effective one).
  Uevent previous;
  for (const auto& [key, value] : properties) previous.Set(key, value);
  previous.Set("DM_UDEV_DISABLE_OTHER_RULES_FLAG", "1");
  previous.Erase("DM_COOKIE_DISABLE_OTHER_RULES_FLAG");
  std::optional<uint16_t> stored = StoredDmFlags(previous);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, dm_flag::kDisableDiskRules | dm_flag::kPrimarySource);
  state.cookie_flags.reset();
  state.stored_flags = stored;
  properties = DmProperties(state);
  EXPECT_EQ(Find(properties, "DM_UDEV_DISABLE_OTHER_RULES_FLAG"), "<unset>");
  EXPECT_EQ(Find(properties, "DM_SUBSYSTEM_UDEV_FLAG0"), "<unset>");

  // Flags that rules guessed are not libdevmapper's: nothing to restore.
  Uevent guessed;
  guessed.Set("DM_UDEV_DISABLE_DISK_RULES_FLAG", "1");
  EXPECT_EQ(StoredDmFlags(guessed), std::nullopt);
}

// --- the rules, over a fake sysfs

// An image file that libblkid takes for ext2 with this UUID and label.
void WriteExt2Image(const std::string& path, const std::array<uint8_t, 16>& uuid,
                    const std::string& label) {
  std::string image(64 * 1024, '\0');
  constexpr size_t kSuper = 1024;
  image[kSuper + 56] = '\x53';  // s_magic 0xef53
  image[kSuper + 57] = '\xef';
  image[kSuper + 76] = 1;  // s_rev_level
  std::copy(uuid.begin(), uuid.end(), image.begin() + kSuper + 104);
  std::copy(label.begin(), label.end(), image.begin() + kSuper + 120);
  std::ofstream(path, std::ios::binary) << image;
}

// An LVM physical volume label with this 32-character PV UUID (libblkid wants 1 MiB).
void WritePvImage(const std::string& path, const std::string& pv_uuid) {
  std::string image(4096, '\0');
  constexpr size_t kLabel = 512;
  auto put32 = [&](size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) image[at + i] = static_cast<char>(value >> (8 * i));
  };
  image.replace(kLabel, 8, "LABELONE");
  image[kLabel + 8] = 1;   // sector_xl
  put32(kLabel + 20, 32);  // offset_xl: the PV header
  image.replace(kLabel + 24, 8, "LVM2 001");
  image.replace(kLabel + 32, 32, pv_uuid);
  uint32_t crc = 0xf597a6cf;  // lvm2's CRC-32 seed, no final inversion
  for (size_t i = kLabel + 20; i < kLabel + 512; ++i) {
    crc ^= static_cast<uint8_t>(image[i]);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
  }
  put32(kLabel + 16, crc);
  std::ofstream(path, std::ios::binary) << image;
  std::filesystem::resize_file(path, 4 << 20);
}

const std::array<uint8_t, 16> kRootFsUuid = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                             0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
const std::string kRootFsUuidText = "01234567-89ab-cdef-0123-456789abcdef";

class RecordingRunner : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string& command, const Uevent&) override {
    commands.push_back(command);
    return std::string();
  }
  std::vector<std::string> commands;
};

std::string Sorted(std::vector<std::string> links) {
  std::sort(links.begin(), links.end());
  std::string joined;
  for (const auto& link : links) joined += link + "\n";
  return joined;
}

class DmNamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult loaded = RuleSet::Load({VDEV_SOURCE_DIR "/rules"});
    ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
    rules_ = std::move(loaded.rules);
    sysfs_fd_ = *OpenDirAt(AT_FDCWD, sys_.path());
    dev_fd_ = *OpenDirAt(AT_FDCWD, dev_.path());
  }

  // dm-<minor>, set up and resumed unless size is "0".
  std::string AddDm(unsigned minor, const std::string& name, const std::string& uuid,
                    const std::string& suspended = "0", const std::string& size = "204800") {
    std::string sysname = "dm-" + std::to_string(minor);
    std::string devpath = "/devices/virtual/block/" + sysname;
    sysfs_.AddBlockDevice(devpath, sysname, 253, minor, "disk");
    sysfs_.SetAttribute(devpath, "dm/name", name);
    sysfs_.SetAttribute(devpath, "dm/uuid", uuid);
    sysfs_.SetAttribute(devpath, "dm/suspended", suspended);
    sysfs_.SetAttribute(devpath, "size", size);
    return devpath;
  }
  std::string Node(const std::string& devpath) {
    return dev_.Sub(devpath.substr(devpath.rfind('/') + 1));
  }

  // One event; `event` adds kernel properties (DM_COOKIE), `previous` stands for the
  // record the processor carries into a change event.
  EventState Apply(const std::string& devpath, const std::string& action = "add",
                   const Uevent* previous = nullptr,
                   const std::vector<std::pair<std::string, std::string>>& event = {}) {
    auto device = Device::Open(sysfs_fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    for (const auto& [key, value] : event) properties.Set(key, value);
    if (previous != nullptr) {
      for (const auto& [key, value] : previous->properties())
        if (!properties.Has(key)) properties.Set(key, value);
    }
    Uevent kernel = properties;
    EventState state(std::move(*device), std::move(properties));
    state.dev_fd = dev_fd_.get();
    rules_.Apply(state, runner_);
    // What the processor stores: the properties the kernel did not send as they are.
    record_ = Uevent();
    for (const auto& [key, value] : state.properties.properties())
      if (kernel.GetOr(key, "\n") != value) record_.Set(key, value);
    return state;
  }
  // The record of the last event, which the processor carries into a change event.
  Uevent Record() const { return record_; }

  testing::TempDir sys_{"vdev-dm-sys"};
  testing::TempDir dev_{"vdev-dm-dev"};
  testing::FakeSysfs sysfs_{sys_.path()};
  UniqueFd sysfs_fd_;
  UniqueFd dev_fd_;
  RuleSet rules_;
  RecordingRunner runner_;
  Uevent record_;
};

std::vector<std::string> AllNames(const std::string& name, const std::string& uuid,
                                  const std::string& volume_link) {
  std::vector<std::string> links = {"mapper/" + name, "disk/by-id/dm-name-" + name};
  if (!uuid.empty()) links.push_back("disk/by-id/dm-uuid-" + uuid);
  if (!volume_link.empty()) links.push_back(volume_link);
  return links;
}

TEST_F(DmNamingTest, EachKindOfDeviceGetsItsLinks) {
  const std::string luks = "CRYPT-LUKS2-00112233445566778899aabbccddeeff-luks-0011";
  const std::string mpath = "mpath-3600508b400105e210000900000490000";
  struct Case {
    std::string name, uuid;
    std::vector<std::string> links;
  } cases[] = {
      // Volumes: /dev/VG/LV, with "--" back to '-'.
      {"vg0-root", LvmUuid("root"), AllNames("vg0-root", LvmUuid("root"), "vg0/root")},
      {"vg0-my--lv", LvmUuid("mylv"), AllNames("vg0-my--lv", LvmUuid("mylv"), "vg0/my-lv")},
      {"my--vg-data", LvmUuid("data"), AllNames("my--vg-data", LvmUuid("data"), "my-vg/data")},
      {"vg0-thin1", LvmUuid("thin1"), AllNames("vg0-thin1", LvmUuid("thin1"), "vg0/thin1")},
      {"vg0-snap", LvmUuid("snap"), AllNames("vg0-snap", LvmUuid("snap"), "vg0/snap")},
      // LVM's internal devices: /dev/mapper only.
      {"vg0-root-real", LvmUuid("root", "real"), {"mapper/vg0-root-real"}},
      {"vg0-snap-cow", LvmUuid("snap", "cow"), {"mapper/vg0-snap-cow"}},
      {"vg0-pool", LvmUuid("pool", "pool"), {"mapper/vg0-pool"}},
      {"vg0-pool-tpool", LvmUuid("pool", "tpool"), {"mapper/vg0-pool-tpool"}},
      {"vg0-pool_tmeta", LvmUuid("pool", "tmeta"), {"mapper/vg0-pool_tmeta"}},
      {"vg0-pool_tdata", LvmUuid("pool", "tdata"), {"mapper/vg0-pool_tdata"}},
      {"vg0-data_tmeta", LvmUuid("data2", "tmeta"), {"mapper/vg0-data_tmeta"}},
      {"vg0-lv_rimage_0", LvmUuid("rimage0"), {"mapper/vg0-lv_rimage_0"}},
      {"vg0-lv_rmeta_0", LvmUuid("rmeta0"), {"mapper/vg0-lv_rmeta_0"}},
      {"vg0-lv_mimage_1", LvmUuid("mimage1"), {"mapper/vg0-lv_mimage_1"}},
      {"vg0-lv_mlog", LvmUuid("mlog"), {"mapper/vg0-lv_mlog"}},
      {"vg0-cpool_cdata", LvmUuid("cpool", "cdata"), {"mapper/vg0-cpool_cdata"}},
      {"vg0-cpool_cmeta", LvmUuid("cpool", "cmeta"), {"mapper/vg0-cpool_cmeta"}},
      {"vg0-sparse_vorigin", LvmUuid("vorigin"), {"mapper/vg0-sparse_vorigin"}},
      {"vg0-pvmove0", LvmUuid("pvmove0"), {"mapper/vg0-pvmove0"}},
      // An unused thin pool is an ordinary LV: its volume link, no disk links.
      {"vg0-newpool", LvmUuid("newpool", "tpool"), {"mapper/vg0-newpool", "vg0/newpool"}},
      // Not LVM: no volume link.
      {"luks-0011", luks, AllNames("luks-0011", luks, "")},
      {"mpatha", mpath, AllNames("mpatha", mpath, "")},
      {"plain", "", AllNames("plain", "", "")},
      {"temporary-cryptsetup-42",
       "CRYPT-TEMP-00112233445566778899aabbccddeeff-tmp",
       {"mapper/temporary-cryptsetup-42"}},
  };
  unsigned minor = 0;
  for (const Case& c : cases) {
    EventState state = Apply(AddDm(minor++, c.name, c.uuid));
    EXPECT_EQ(Sorted(state.links), Sorted(c.links)) << c.name;
    EXPECT_EQ(state.link_priority, 0) << c.name;
    EXPECT_EQ(state.properties.GetOr("DM_NAME"), c.name);
    EXPECT_EQ(state.properties.GetOr("DM_UDEV_RULES_VSN"), "3");
    EXPECT_FALSE(state.properties.Has("VDEV_DM_DISK")) << "a marker is never stored";
  }
  EXPECT_TRUE(runner_.commands.empty()) << runner_.commands.front();

  EventState lv = Apply("/devices/virtual/block/dm-1", "change");
  EXPECT_EQ(lv.properties.GetOr("DM_VG_NAME"), "vg0");
  EXPECT_EQ(lv.properties.GetOr("DM_LV_NAME"), "my-lv");
  EXPECT_FALSE(lv.properties.Has("DM_LV_LAYER"));
  EventState tpool = Apply("/devices/virtual/block/dm-8", "change");
  EXPECT_EQ(tpool.properties.GetOr("DM_LV_LAYER"), "tpool");
  EXPECT_EQ(tpool.properties.GetOr("DM_UDEV_DISABLE_OTHER_RULES_FLAG"), "1");
}

TEST_F(DmNamingTest, HostileNamesStayInTheirDirectory) {
  struct Case {
    std::string name, uuid;
    std::vector<std::string> links;
  } cases[] = {
      {"../../etc/passwd",
       "",
       {"mapper/..\\x2f..\\x2fetc\\x2fpasswd", "disk/by-id/dm-name-..\\x2f..\\x2fetc\\x2fpasswd"}},
      // "mapper/.." is refused; "dm-name-.." is one file.
      {"..",
       "CRYPT-PLAIN-x/../../y",
       {"disk/by-id/dm-name-..", "disk/by-id/dm-uuid-CRYPT-PLAIN-x\\x2f..\\x2f..\\x2fy"}},
      {".", "", {"disk/by-id/dm-name-."}},
      {"my disk\tnew\nline",
       "",
       {"mapper/my\\x20disk\\x09new\\x0aline", "disk/by-id/dm-name-my\\x20disk\\x09new\\x0aline"}},
      {"\xc3\xa9t\xc3\xa9\xff",
       "",
       {"mapper/\\xc3\\xa9t\\xc3\\xa9\\xff", "disk/by-id/dm-name-\\xc3\\xa9t\\xc3\\xa9\\xff"}},
      // LVM names from a hostile dm name: a VG or LV of "." or ".." gets no volume link.
      {"..-..", LvmUuid("dots"), AllNames("..-..", LvmUuid("dots"), "")},
      {".-x", LvmUuid("dot"), AllNames(".-x", LvmUuid("dot"), "")},
      {"vg0-a/b", LvmUuid("slash"), AllNames("vg0-a\\x2fb", LvmUuid("slash"), "vg0/a\\x2fb")},
      {"vg0-$(reboot)", LvmUuid("shell"),
       AllNames("vg0-\\x24\\x28reboot\\x29", LvmUuid("shell"), "vg0/\\x24\\x28reboot\\x29")},
  };
  unsigned minor = 0;
  for (const Case& c : cases) {
    EventState state = Apply(AddDm(minor++, c.name, c.uuid));
    EXPECT_EQ(Sorted(state.links), Sorted(c.links)) << c.name;
    for (const std::string& link : state.links) {
      EXPECT_TRUE(IsSafeLinkName(link)) << link;
      // One file in mapper/, in disk/by-id/ or in a volume group's directory.
      size_t slashes = std::count(link.begin(), link.end(), '/');
      if (link.starts_with("disk/by-id/")) {
        EXPECT_EQ(slashes, 2u) << link;
      } else {
        EXPECT_EQ(slashes, 1u) << link;
      }
    }
  }
}

TEST_F(DmNamingTest, DeviceWithoutTableGetsNoNamesYet) {
  std::string devpath = AddDm(0, "vg0-root", LvmUuid("root"), "0", "0");
  EventState added = Apply(devpath);
  Uevent record = Record();
  EXPECT_TRUE(added.links.empty()) << Sorted(added.links);
  EXPECT_EQ(added.properties.GetOr("DM_UDEV_DISABLE_DM_RULES_FLAG"), "1");
  // The table is loaded and the device resumed: a change event names it.
  sysfs_.SetAttribute(devpath, "size", "204800");
  EventState resumed = Apply(devpath, "change", &record);
  EXPECT_EQ(Sorted(resumed.links), Sorted(AllNames("vg0-root", LvmUuid("root"), "vg0/root")));
  EXPECT_FALSE(resumed.properties.Has("DM_UDEV_DISABLE_DM_RULES_FLAG"));
}

TEST_F(DmNamingTest, ARenamedVolumeLosesItsOldNames) {
  std::string devpath = AddDm(0, "vg0-old", LvmUuid("lv"));
  Apply(devpath);
  Uevent record = Record();
  sysfs_.SetAttribute(devpath, "dm/name", "vg0-new--name");
  EventState after = Apply(devpath, "change", &record);
  EXPECT_EQ(Sorted(after.links), Sorted(AllNames("vg0-new--name", LvmUuid("lv"), "vg0/new-name")));
  EXPECT_EQ(after.properties.GetOr("DM_LV_NAME"), "new-name");
}

TEST_F(DmNamingTest, CookieFlagsDecideAndLaterEventsKeepThem) {
  // lvm activating pool_tmeta on its own (a visible component): its volume link, no disk
  // links. Without the cookie the name says "hidden".
  std::string tmeta = AddDm(0, "vg0-pool_tmeta", LvmUuid("pool", "tmeta"));
  uint32_t flags = dm_flag::kDisableDiskRules | dm_flag::kDisableOtherRules |
                   dm_flag::kDisableLibraryFallback | dm_flag::kPrimarySource;
  std::string cookie = std::to_string((flags << 16) | 0x0d4d);
  EventState resumed = Apply(tmeta, "change", nullptr, {{"DM_COOKIE", cookie}});
  Uevent record = Record();
  EXPECT_FALSE(record.Has("DM_COOKIE"));
  EXPECT_EQ(Sorted(resumed.links), Sorted({"mapper/vg0-pool_tmeta", "vg0/pool_tmeta"}));
  EventState triggered = Apply(tmeta, "change", &record);
  EXPECT_EQ(Sorted(triggered.links), Sorted(resumed.links));
  EventState coldplugged = Apply(tmeta, "add");
  EXPECT_EQ(Sorted(coldplugged.links), Sorted({"mapper/vg0-pool_tmeta"}));

  // An invalid cookie counts as none.
  EXPECT_EQ(Sorted(Apply(tmeta, "change", nullptr, {{"DM_COOKIE", "bogus"}}).links),
            Sorted({"mapper/vg0-pool_tmeta"}));
}

TEST_F(DmNamingTest, TheWaitingProgramIsToldWhenTheEventIsDone) {
  std::string devpath = AddDm(0, "vg0-root", LvmUuid("root"));
  std::string cookie = std::to_string((dm_flag::kPrimarySource << 16) | 0x0d4d);
  for (const char* action : {"change", "remove"}) {
    EventState state = Apply(devpath, action, nullptr, {{"DM_COOKIE", cookie}});
    EXPECT_EQ(state.run_programs, std::vector<std::string>{"/sbin/dmsetup udevcomplete " + cookie})
        << action;
  }
  EXPECT_TRUE(Apply(devpath, "change").run_programs.empty());
}

TEST_F(DmNamingTest, FilesystemLinksOnlyForUserFacingVolumes) {
  // An origin, the "-real" device below it and a snapshot all show the same filesystem.
  std::string root = AddDm(0, "vg0-root", LvmUuid("root"));
  std::string real = AddDm(1, "vg0-root-real", LvmUuid("root", "real"));
  std::string snap = AddDm(2, "vg0-snap", LvmUuid("snap"));
  std::string tmeta = AddDm(3, "vg0-pool_tmeta", LvmUuid("pool", "tmeta"));
  for (const std::string& devpath : {root, real, snap, tmeta})
    WriteExt2Image(Node(devpath), kRootFsUuid, "root");

  std::vector<std::string> fs_links = {"disk/by-uuid/" + kRootFsUuidText, "disk/by-label/root"};
  EventState origin = Apply(root);
  std::vector<std::string> expected = AllNames("vg0-root", LvmUuid("root"), "vg0/root");
  expected.insert(expected.end(), fs_links.begin(), fs_links.end());
  EXPECT_EQ(Sorted(origin.links), Sorted(expected));
  EXPECT_EQ(origin.properties.GetOr("ID_FS_TYPE"), "ext2");
  EXPECT_EQ(origin.link_priority, 0);

  EventState hidden = Apply(real);
  EXPECT_EQ(Sorted(hidden.links), Sorted({"mapper/vg0-root-real"}));
  EXPECT_FALSE(hidden.properties.Has("ID_FS_TYPE")) << "an internal device is not probed";
  EXPECT_EQ(Sorted(Apply(tmeta).links), Sorted({"mapper/vg0-pool_tmeta"}));

  // The snapshot, as lvm resumes it: low priority, so the origin keeps by-uuid/by-label.
  uint32_t flags = dm_flag::kLowPriority | dm_flag::kPrimarySource;
  EventState snapshot =
      Apply(snap, "change", nullptr, {{"DM_COOKIE", std::to_string((flags << 16) | 7)}});
  expected = AllNames("vg0-snap", LvmUuid("snap"), "vg0/snap");
  expected.insert(expected.end(), fs_links.begin(), fs_links.end());
  EXPECT_EQ(Sorted(snapshot.links), Sorted(expected));
  EXPECT_EQ(snapshot.link_priority, -100);
  Uevent record = Record();
  EXPECT_EQ(Apply(snap, "change", &record).link_priority, -100);
}

TEST_F(DmNamingTest, SuspendedDeviceIsNotProbed) {
  std::string devpath = AddDm(0, "vg0-data", LvmUuid("data"), "1");
  WriteExt2Image(Node(devpath), kRootFsUuid, "data");
  // The names stay; nobody opens it (I/O would block until it is resumed).
  EventState added = Apply(devpath);
  EXPECT_EQ(Sorted(added.links), Sorted(AllNames("vg0-data", LvmUuid("data"), "vg0/data")));
  EXPECT_EQ(added.properties.GetOr("DM_UDEV_DISABLE_OTHER_RULES_FLAG"), "1");
  EXPECT_FALSE(added.properties.Has("ID_FS_TYPE"));

  // A device libdevmapper set up keeps what its last probe found while it is suspended.
  sysfs_.SetAttribute(devpath, "dm/suspended", "0");
  uint32_t flags = dm_flag::kPrimarySource;
  EventState resumed =
      Apply(devpath, "change", nullptr, {{"DM_COOKIE", std::to_string((flags << 16) | 1)}});
  Uevent record = Record();
  EXPECT_EQ(resumed.properties.GetOr("ID_FS_UUID"), kRootFsUuidText);
  EXPECT_FALSE(resumed.properties.Has("DM_UDEV_DISABLE_OTHER_RULES_FLAG"));
  sysfs_.SetAttribute(devpath, "dm/suspended", "1");
  std::filesystem::remove(Node(devpath));  // a probe now would find nothing
  EventState suspended = Apply(devpath, "change", &record);
  EXPECT_EQ(Sorted(suspended.links), Sorted(resumed.links));
  EXPECT_EQ(
      std::count(suspended.links.begin(), suspended.links.end(), "disk/by-uuid/" + kRootFsUuidText),
      1);
}

TEST_F(DmNamingTest, LvmNoScanHoldsForOneEvent) {
  std::string devpath = AddDm(0, "vg0-new", LvmUuid("new"));
  WriteExt2Image(Node(devpath), kRootFsUuid, "stale");  // what lvm has yet to wipe
  uint32_t flags = dm_flag::kPrimarySource | 0x0100;    // DM_SUBSYSTEM_UDEV_FLAG0: no scan
  EventState created =
      Apply(devpath, "change", nullptr, {{"DM_COOKIE", std::to_string((flags << 16) | 9)}});
  Uevent record = Record();
  EXPECT_EQ(created.properties.GetOr("DM_NOSCAN"), "1");
  EXPECT_EQ(created.properties.GetOr("DM_UDEV_DISABLE_OTHER_RULES_FLAG"), "1");
  EXPECT_FALSE(created.properties.Has("ID_FS_TYPE"));
  EXPECT_EQ(Sorted(created.links), Sorted(AllNames("vg0-new", LvmUuid("new"), "vg0/new")));

  // The next event carries no cookie: scanning is allowed again.
  EventState next = Apply(devpath, "change", &record);
  EXPECT_FALSE(next.properties.Has("DM_NOSCAN"));
  EXPECT_FALSE(next.properties.Has("DM_UDEV_DISABLE_OTHER_RULES_FLAG"));
  EXPECT_EQ(next.properties.GetOr("ID_FS_LABEL"), "stale");
}

TEST_F(DmNamingTest, PhysicalVolumesGetTheirPvUuidLink) {
  const std::string pv_uuid = "AbCdEf0123456789AbCdEf0123456789";
  const std::string link = "disk/by-id/lvm-pv-uuid-AbCdEf-0123-4567-89Ab-CdEf-0123-456789";
  // A PV on a disk, and one on an encrypted volume.
  std::string disk = "/devices/pci0000:00/0000:00:05.0/virtio3/block/vdb";
  sysfs_.AddBlockDevice(disk, "vdb", 254, 16, "disk");
  WritePvImage(Node(disk), pv_uuid);
  EXPECT_EQ(Sorted(Apply(disk).links), Sorted({link}));

  const std::string luks = "CRYPT-LUKS2-00112233445566778899aabbccddeeff-luks-0011";
  std::string crypt = AddDm(0, "luks-0011", luks);
  WritePvImage(Node(crypt), pv_uuid);
  std::vector<std::string> expected = AllNames("luks-0011", luks, "");
  expected.push_back(link);
  EXPECT_EQ(Sorted(Apply(crypt).links), Sorted(expected));

  // Not while suspended: nobody may open it, so nobody learns it is a PV.
  sysfs_.SetAttribute(crypt, "dm/suspended", "1");
  EXPECT_EQ(Sorted(Apply(crypt).links), Sorted(AllNames("luks-0011", luks, "")));
}

TEST_F(DmNamingTest, AddBeforeTheFirstTableTurnsEveryRuleOffWithoutAnError) {
  // What the kernel announces on DM_DEV_CREATE: dm-0 exists, dm/ comes with the table.
  std::string devpath = "/devices/virtual/block/dm-0";
  sysfs_.AddBlockDevice(devpath, "dm-0", 253, 0, "disk");
  sysfs_.SetAttribute(devpath, "size", "0");
  auto device = Device::Open(sysfs_fd_.get(), devpath);
  ASSERT_TRUE(device);
  EventState direct(std::move(*device), Uevent());
  direct.properties.Set("DM_NAME", "stale");
  BuiltinCall call{direct, {}};
  ASSERT_TRUE(RunDmBuiltin(call));
  EXPECT_FALSE(direct.properties.Has("DM_NAME"));
  EXPECT_EQ(direct.properties.GetOr("DM_UDEV_DISABLE_OTHER_RULES_FLAG", ""), "1");
  EXPECT_EQ(direct.properties.GetOr("DM_UDEV_DISABLE_DISK_RULES_FLAG", ""), "1");

  EventState state = Apply(devpath);
  EXPECT_TRUE(state.links.empty());
  EXPECT_FALSE(state.watch);
}

TEST_F(DmNamingTest, BuiltinRefusesOtherDevices) {
  std::string loop = "/devices/virtual/block/loop0";
  sysfs_.AddBlockDevice(loop, "loop0", 7, 0, "disk");
  auto device = Device::Open(sysfs_fd_.get(), loop);
  ASSERT_TRUE(device);
  EventState state(std::move(*device), Uevent());
  BuiltinCall call{state, {}};
  Status ran = RunDmBuiltin(call);
  ASSERT_FALSE(ran);
  EXPECT_EQ(ran.error().code, ENODEV);
  EXPECT_FALSE(state.properties.Has("DM_NAME"));
}

}  // namespace
}  // namespace vdev
