// The shared libblkid probe (block_probe.h) on real image files, and udev's property names
// and encodings.
#include "block_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <map>

#include "fixtures/disk_images.h"
#include "fixtures/temp_dir.h"
#include "substitution.h"

namespace vdev {
namespace {

using testing::CopyInto;
using testing::MakeExt4;
using testing::MakeSparseFile;
using testing::MakeVfat;
using testing::TempDir;
using testing::WritePartitionTable;
using Properties = std::map<std::string, std::string>;

constexpr uint64_t kMiB = 1024 * 1024;

Properties ToMap(const std::vector<Property>& list) {
  Properties map;
  for (const auto& [key, value] : list) {
    EXPECT_TRUE(map.emplace(key, value).second) << "duplicate " << key;
  }
  return map;
}

class BlockProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveImageTools()) GTEST_SKIP() << "needs sfdisk, mkfs.ext4 and mkfs.vfat";
  }

  Result<Properties> Probe(const std::string& path, const BlockProbeOptions& options = {},
                           const ProbeContext& context = {}) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return FailErrno("open " + path);
    auto probed = ProbeOpenDevice(fd.get(), options, context);
    if (!probed) return tl::unexpected(probed.error());
    return ToMap(*probed);
  }

  // An 8 MiB GPT disk: 1 "root part" (ext4), 2 "../../evil" (FAT, with attribute bits).
  std::string MakeGptDisk() {
    std::string disk = dir_.Sub("disk.img");
    EXPECT_TRUE(MakeSparseFile(disk, 8 * kMiB));
    EXPECT_TRUE(
        WritePartitionTable(disk,
                            "label: gpt\n"
                            "label-id: 11111111-2222-3333-4444-555555555555\n"
                            "start=2048, size=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
                            "uuid=AAAAAAAA-0000-4000-8000-000000000001, name=\"root part\"\n"
                            "start=6144, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, "
                            "uuid=AAAAAAAA-0000-4000-8000-000000000002, name=\"../../evil\", "
                            "attrs=\"RequiredPartition LegacyBIOSBootable\"\n",
                            dir_.path()));
    return disk;
  }

  TempDir dir_;
};

TEST_F(BlockProbeTest, Ext4GivesUdevPropertiesAndNothingElse) {
  std::string image = dir_.Sub("ext4.img");
  ASSERT_TRUE(MakeSparseFile(image, 4 * kMiB));
  ASSERT_TRUE(MakeExt4(image, "data disk", "01234567-89ab-cdef-0123-456789abcdef"));
  auto probed = Probe(image);
  ASSERT_TRUE(probed) << probed.error().Message();
  EXPECT_EQ(*probed, (Properties{
                         {"ID_FS_LABEL", "data_disk"},
                         {"ID_FS_LABEL_ENC", "data\\x20disk"},
                         {"ID_FS_UUID", "01234567-89ab-cdef-0123-456789abcdef"},
                         {"ID_FS_UUID_ENC", "01234567-89ab-cdef-0123-456789abcdef"},
                         {"ID_FS_VERSION", "1.0"},
                         {"ID_FS_TYPE", "ext4"},
                         {"ID_FS_USAGE", "filesystem"},
                     }));
}

TEST_F(BlockProbeTest, VfatDropsWhatUdevDoesNotExport) {
  std::string image = dir_.Sub("fat.img");
  ASSERT_TRUE(MakeSparseFile(image, 8 * kMiB));
  ASSERT_TRUE(MakeVfat(image, "MY DISK", "1234ABCD"));
  auto probed = Probe(image);
  ASSERT_TRUE(probed) << probed.error().Message();
  // libblkid also reports SEC_TYPE, LABEL_FATBOOT and BLOCK_SIZE; udev exports none of them.
  EXPECT_EQ(*probed, (Properties{
                         {"ID_FS_LABEL", "MY_DISK"},
                         {"ID_FS_LABEL_ENC", "MY\\x20DISK"},
                         {"ID_FS_UUID", "1234-ABCD"},
                         {"ID_FS_UUID_ENC", "1234-ABCD"},
                         {"ID_FS_VERSION", "FAT12"},
                         {"ID_FS_TYPE", "vfat"},
                         {"ID_FS_USAGE", "filesystem"},
                     }));
}

TEST_F(BlockProbeTest, GptDiskGivesItsTable) {
  std::string disk = MakeGptDisk();
  ProbeContext whole;
  whole.whole_disk = true;
  auto probed = Probe(disk, {}, whole);
  ASSERT_TRUE(probed) << probed.error().Message();
  EXPECT_EQ(*probed, (Properties{
                         {"ID_PART_TABLE_TYPE", "gpt"},
                         {"ID_PART_TABLE_UUID", "11111111-2222-3333-4444-555555555555"},
                     }));
}

TEST_F(BlockProbeTest, PartitionEntryComesFromTheDisksTable) {
  std::string disk = MakeGptDisk();
  std::string part = dir_.Sub("part1.img");
  ASSERT_TRUE(MakeSparseFile(part, 4096 * 512));
  ASSERT_TRUE(MakeExt4(part, "root", "c0ffee00-0000-4000-8000-000000000001"));
  ASSERT_TRUE(CopyInto(disk, 2048 * 512, part));
  UniqueFd disk_fd(open(disk.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(disk_fd);

  ProbeContext context;
  context.disk_fd = disk_fd.get();
  context.disk_devnum = makedev(7, 0);
  context.location = {2048, 4096, 1};
  auto probed = Probe(part, {}, context);
  ASSERT_TRUE(probed) << probed.error().Message();
  EXPECT_EQ(*probed, (Properties{
                         {"ID_FS_LABEL", "root"},
                         {"ID_FS_LABEL_ENC", "root"},
                         {"ID_FS_UUID", "c0ffee00-0000-4000-8000-000000000001"},
                         {"ID_FS_UUID_ENC", "c0ffee00-0000-4000-8000-000000000001"},
                         {"ID_FS_VERSION", "1.0"},
                         {"ID_FS_TYPE", "ext4"},
                         {"ID_FS_USAGE", "filesystem"},
                         {"ID_PART_TABLE_TYPE", "gpt"},
                         {"ID_PART_TABLE_UUID", "11111111-2222-3333-4444-555555555555"},
                         {"ID_PART_ENTRY_SCHEME", "gpt"},
                         {"ID_PART_ENTRY_NAME", "root\\x20part"},
                         {"ID_PART_ENTRY_UUID", "aaaaaaaa-0000-4000-8000-000000000001"},
                         {"ID_PART_ENTRY_TYPE", "0fc63daf-8483-4772-8e79-3d69d8477de4"},
                         {"ID_PART_ENTRY_NUMBER", "1"},
                         {"ID_PART_ENTRY_OFFSET", "2048"},
                         {"ID_PART_ENTRY_SIZE", "4096"},
                         {"ID_PART_ENTRY_DISK", "7:0"},
                     }));
}

TEST_F(BlockProbeTest, PartitionFlagsAndEncodedNameByNumber) {
  std::string disk = MakeGptDisk();
  std::string part = dir_.Sub("part2.img");
  ASSERT_TRUE(MakeSparseFile(part, 4096 * 512));  // nothing on it
  UniqueFd disk_fd(open(disk.c_str(), O_RDONLY | O_CLOEXEC));
  ProbeContext context;
  context.disk_fd = disk_fd.get();
  context.disk_devnum = makedev(259, 7);
  context.location.number = 2;  // no start in sysfs: matched by number, as libblkid does
  auto probed = Probe(part, {}, context);
  ASSERT_TRUE(probed) << probed.error().Message();
  EXPECT_EQ(probed->at("ID_PART_ENTRY_NAME"), "..\\x2f..\\x2fevil");
  EXPECT_EQ(probed->at("ID_PART_ENTRY_NUMBER"), "2");
  EXPECT_EQ(probed->at("ID_PART_ENTRY_OFFSET"), "6144");
  EXPECT_EQ(probed->at("ID_PART_ENTRY_FLAGS"), "0x5");  // GPT attribute bits 0 and 2
  EXPECT_EQ(probed->at("ID_PART_ENTRY_DISK"), "259:7");
  EXPECT_EQ(probed->count("ID_FS_TYPE"), 0u);
}

TEST_F(BlockProbeTest, NoEntryForAPartitionTheTableDoesNotHave) {
  std::string disk = MakeGptDisk();
  std::string part = dir_.Sub("part.img");
  ASSERT_TRUE(MakeSparseFile(part, 4096 * 512));
  UniqueFd disk_fd(open(disk.c_str(), O_RDONLY | O_CLOEXEC));
  ProbeContext context;
  context.disk_fd = disk_fd.get();
  context.location = {100, 4096, std::nullopt};  // a stale partition left by partx
  auto probed = Probe(part, {}, context);
  ASSERT_TRUE(probed) << probed.error().Message();
  EXPECT_TRUE(probed->empty()) << probed->begin()->first;
}

TEST_F(BlockProbeTest, EmptyFileIsNoMediumAndBlankIsNothing) {
  std::string empty = dir_.Sub("empty.img");
  ASSERT_TRUE(MakeSparseFile(empty, 0));
  auto none = Probe(empty);
  ASSERT_TRUE(none) << none.error().Message();
  EXPECT_TRUE(none->empty());

  std::string blank = dir_.Sub("blank.img");
  ASSERT_TRUE(MakeSparseFile(blank, kMiB));
  auto nothing = Probe(blank);
  ASSERT_TRUE(nothing) << nothing.error().Message();
  EXPECT_TRUE(nothing->empty());
}

TEST_F(BlockProbeTest, OffsetProbesFromThere) {
  std::string disk = MakeGptDisk();
  std::string part = dir_.Sub("part1.img");
  ASSERT_TRUE(MakeSparseFile(part, 4096 * 512));
  ASSERT_TRUE(MakeVfat(part, "OFFSET", "0000BEEF"));
  ASSERT_TRUE(CopyInto(disk, 2048 * 512, part));
  auto options = ParseBlockProbeArgs({"--offset=1048576"});
  ASSERT_TRUE(options);
  auto probed = Probe(disk, *options);
  ASSERT_TRUE(probed) << probed.error().Message();
  EXPECT_EQ(probed->at("ID_FS_TYPE"), "vfat");
  EXPECT_EQ(probed->at("ID_FS_UUID"), "0000-BEEF");
  EXPECT_EQ(probed->count("ID_PART_TABLE_TYPE"), 0u);
}

TEST_F(BlockProbeTest, HelperPrintsTheSameProperties) {
  std::string image = dir_.Sub("helper.img");
  ASSERT_TRUE(MakeSparseFile(image, 4 * kMiB));
  ASSERT_TRUE(MakeExt4(image, "../../evil", "01234567-89ab-cdef-0123-456789abcdef"));
  UniqueFd fd(open(image.c_str(), O_RDONLY | O_CLOEXEC));
  auto probed = ProbeOpenDevice(fd.get(), {}, {});
  ASSERT_TRUE(probed) << probed.error().Message();
  std::string expected;
  for (const auto& [key, value] : *probed) expected += key + "=" + value + "\n";
  EXPECT_NE(expected.find("ID_FS_LABEL_ENC=..\\x2f..\\x2fevil\n"), std::string::npos);

  const std::string helper = VDEV_BINARY_DIR "/bin/vdev-blkid";
  if (access(helper.c_str(), X_OK) != 0) GTEST_SKIP() << helper << " is not built";
  auto printed = testing::CaptureTool({helper, image});
  EXPECT_EQ(printed.status, 0);
  EXPECT_EQ(printed.output, expected);
  EXPECT_EQ(testing::CaptureTool({helper, "--bogus", image}).status, 2);
  EXPECT_EQ(testing::CaptureTool({helper, dir_.Sub("missing.img")}).status, 1);
}

TEST(BlockProbeArgsTest, ParsesUdevsArguments) {
  auto options = ParseBlockProbeArgs({"--offset=512", "--hint=session_offset=1234", "--noraid"});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_EQ(options->offset, 512u);
  EXPECT_EQ(options->hints, std::vector<std::string>{"session_offset=1234"});
  EXPECT_TRUE(options->noraid);
  EXPECT_TRUE(ParseBlockProbeArgs({})->hints.empty());
  for (const char* bad : {"--offset=", "--offset=-1", "--offset=1x", "--hint=", "--probe", "x"}) {
    auto parsed = ParseBlockProbeArgs({bad});
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, EINVAL);
  }
}

TEST(BlockProbeEncodingTest, EncodesLikeUdev) {
  EXPECT_EQ(EncodeBlkidString("../../evil"), "..\\x2f..\\x2fevil");
  EXPECT_EQ(EncodeBlkidString("my disk"), "my\\x20disk");
  EXPECT_EQ(EncodeBlkidString("a\\b"), "a\\x5cb");
  EXPECT_EQ(EncodeBlkidString("a\x01\x7f"
                              "b"),
            "a\\x01\\x7fb");
  EXPECT_EQ(EncodeBlkidString("\xff\xfe"
                              "ab"),
            "\\xff\\xfeab");                                               // invalid UTF-8
  EXPECT_EQ(EncodeBlkidString("\xc3\xbcn\xc3\xaf"), "\xc3\xbcn\xc3\xaf");  // valid UTF-8
  EXPECT_EQ(EncodeBlkidString("#+-.:=@_"), "#+-.:=@_");
  EXPECT_EQ(EncodeBlkidString(""), "");
  EXPECT_EQ(SafeBlkidString("my disk"), "my_disk");
  EXPECT_EQ(SafeBlkidString("a\nb"), "a_b");
}

TEST(BlockProbeEncodingTest, LongValuesAreCutAtAWholeCharacterToOneFileName) {
  // 255 control bytes (btrfs allows such a label): 63 whole escapes fit in 255 bytes.
  std::string encoded = EncodeBlkidString(std::string(255, '\x01'));
  EXPECT_EQ(encoded.size(), 252u);
  EXPECT_EQ(encoded.substr(248), "\\x01");
  // Two-byte UTF-8 characters are never split.
  std::string umlauts;
  for (int i = 0; i < 150; ++i) umlauts += "\xc3\xbc";
  EXPECT_EQ(EncodeBlkidString(umlauts), umlauts.substr(0, 254));
  EXPECT_EQ(EncodeBlkidString(std::string(300, 'a')), std::string(255, 'a'));
  // However long, one component below by-label.
  std::string link = "disk/by-label/" + EncodeBlkidString(std::string(255, '/'));
  EXPECT_TRUE(IsSafeLinkName(link));
  EXPECT_EQ(link.find('/', 14), std::string::npos);
}

TEST(BlockProbeEncodingTest, MapsBlkidNamesToUdevProperties) {
  std::vector<Property> out;
  AppendBlkidValue("LABEL", "a\nb", &out);
  AppendBlkidValue("VERSION", "1\n0", &out);
  AppendBlkidValue("SEC_TYPE", "msdos", &out);
  AppendBlkidValue("BLOCK_SIZE", "512", &out);
  AppendBlkidValue("PART_ENTRY_TYPE", "0x83", &out);
  AppendBlkidValue("PART_ENTRY_DISK", "8:0", &out);
  AppendBlkidValue("PTUUID", "abcd", &out);
  AppendBlkidValue("UUID_SUB", "x y", &out);
  AppendBlkidValue("SYSTEM_ID", "LINUX ISO", &out);
  EXPECT_EQ(ToMap(out), (Properties{
                            {"ID_FS_LABEL", "a_b"},
                            {"ID_FS_LABEL_ENC", "a\\x0ab"},
                            {"ID_FS_VERSION", "1_0"},  // no newline may reach the database
                            {"ID_PART_ENTRY_TYPE", "0x83"},
                            {"ID_PART_ENTRY_DISK", "8:0"},
                            {"ID_PART_TABLE_UUID", "abcd"},
                            {"ID_FS_UUID_SUB", "x_y"},
                            {"ID_FS_UUID_SUB_ENC", "x\\x20y"},
                            {"ID_FS_SYSTEM_ID", "LINUX\\x20ISO"},
                        }));
}

TEST(BlockProbeEncodingTest, OwnsTheProbedFamilies) {
  for (const char* key : {"ID_FS_UUID", "ID_FS_LABEL_ENC", "ID_PART_TABLE_TYPE",
                          "ID_PART_ENTRY_NAME", "ID_LOOP_BACKING_INODE"}) {
    EXPECT_TRUE(IsBlockProbeProperty(key)) << key;
  }
  for (const char* key : {"ID_SERIAL", "ID_PATH", "ID_FSX", "DISKSEQ", "ID_PART_GPT_AUTO_ROOT"})
    EXPECT_FALSE(IsBlockProbeProperty(key)) << key;
}

}  // namespace
}  // namespace vdev
