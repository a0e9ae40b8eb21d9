// Hwdb: lookups in hand-built hwdb.bin files (trie, globs, priorities, grown records,
// corrupt and truncated files), and, when test/fixtures/make-hwdb.sh has built the real
// database into the build tree, the same answers as systemd-hwdb for this machine's
// modaliases and keys sampled from systemd's hwdb.d sources.
#include "common/hwdb.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "common/fs_util.h"
#include "fixtures/hwdb_writer.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using testing::HwdbEntry;
using testing::HwdbImage;
using testing::HwdbLayout;
using testing::HwdbWriter;
using Properties = std::vector<Property>;

class HwdbTest : public ::testing::Test {
 protected:
  // Every image gets its own file (in memory: thousands of corrupt variants are opened), so
  // a Hwdb still mapping an older one never sees it change.
  Result<Hwdb> OpenImage(const HwdbImage& image) { return OpenBytes(image.bytes); }
  static Result<Hwdb> OpenBytes(const std::string& bytes) {
    UniqueFd fd(memfd_create("hwdb.bin", MFD_CLOEXEC));
    if (!fd || write(fd.get(), bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      ADD_FAILURE() << "memfd: " << strerror(errno);
      return Fail(EIO, "memfd");
    }
    return Hwdb::Open("/proc/self/fd/" + std::to_string(fd.get()));
  }
  Hwdb Build(const std::vector<HwdbEntry>& entries, const HwdbLayout& layout = {}) {
    auto hwdb = OpenImage(HwdbWriter::Build(entries, layout));
    if (!hwdb) {
      ADD_FAILURE() << hwdb.error().Message();
      std::abort();
    }
    return std::move(*hwdb);
  }
  static Properties Find(const Hwdb& hwdb, std::string_view modalias) {
    auto found = hwdb.Lookup(modalias);
    if (!found) {
      ADD_FAILURE() << modalias << ": " << found.error().Message();
      return {};
    }
    return *found;
  }

  testing::TempDir dir_{"vdev-hwdb"};
};

// --- the trie and its globs

TEST_F(HwdbTest, ExactKeys) {
  Hwdb hwdb = Build({
      {"usb:v1234p5678", {{"ID_VENDOR_FROM_DATABASE", "Acme"}, {"ID_MODEL_FROM_DATABASE", "X"}}},
      {"usb:v1234p5679", {{"ID_MODEL_FROM_DATABASE", "Y"}}},
      {"usb:v12", {{"SHORT", "1"}}},
  });
  EXPECT_EQ(Find(hwdb, "usb:v1234p5678"),
            (Properties{{"ID_VENDOR_FROM_DATABASE", "Acme"}, {"ID_MODEL_FROM_DATABASE", "X"}}));
  EXPECT_EQ(Find(hwdb, "usb:v1234p5679"), (Properties{{"ID_MODEL_FROM_DATABASE", "Y"}}));
  EXPECT_EQ(Find(hwdb, "usb:v12"), (Properties{{"SHORT", "1"}}));
  // A key matches whole: no prefix, no extension, no other case.
  EXPECT_EQ(Find(hwdb, "usb:v1234p567"), Properties{});
  EXPECT_EQ(Find(hwdb, "usb:v1234p56789"), Properties{});
  EXPECT_EQ(Find(hwdb, "usb:v1234P5678"), Properties{});
  EXPECT_EQ(Find(hwdb, ""), Properties{});
  EXPECT_GE(hwdb.size(), 80u);
  EXPECT_EQ(hwdb.tool_version(), 252u);
}

TEST_F(HwdbTest, StarMatchesAnyTailEvenEmptyOrWithSlashes) {
  Hwdb hwdb = Build({
      {"usb:v046DpC52B*", {{"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}}},
      {"usb:v046D*", {{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."}}},
      {"*:platform:*", {{"ANY_PLATFORM", "1"}}},
  });
  Properties both{{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."},
                  {"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}};
  EXPECT_EQ(Find(hwdb, "usb:v046DpC52Bd1201dc00dsc00dp00ic03isc01ip01in00"), both);
  EXPECT_EQ(Find(hwdb, "usb:v046DpC52B"), both);
  // udev's hwdb builtin composes "usb:vXXXXpYYYY*" for a usb_device without MODALIAS.
  EXPECT_EQ(Find(hwdb, "usb:v046DpC52B*"), both);
  EXPECT_EQ(Find(hwdb, "usb:v046DpC52C"),
            (Properties{{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."}}));
  EXPECT_EQ(Find(hwdb, "usb:v046E"), Properties{});
  EXPECT_EQ(Find(hwdb, "of:x/y:platform:/a/b"), (Properties{{"ANY_PLATFORM", "1"}}));
}

TEST_F(HwdbTest, QuestionMarksAndBrackets) {
  Hwdb hwdb = Build({
      {"pci:v0000????d0001", {{"Q", "four"}}},
      {"input:b0003v[0-9A-F]*p[!0]*", {{"R", "range"}}},
      {"acpi:[AB]BC:", {{"S", "set"}}},
      {"dmi:*:pn[Tt]hink[Pp]ad*:", {{"T", "case"}}},
      {"kbd:[[:digit:]]x", {{"U", "class"}}},
  });
  EXPECT_EQ(Find(hwdb, "pci:v00008086d0001"), (Properties{{"Q", "four"}}));
  EXPECT_EQ(Find(hwdb, "pci:v0000808d0001"), Properties{});
  EXPECT_EQ(Find(hwdb, "input:b0003vFp1"), (Properties{{"R", "range"}}));
  EXPECT_EQ(Find(hwdb, "input:b0003vGp1"), Properties{});
  EXPECT_EQ(Find(hwdb, "input:b0003vFp0"), Properties{});
  EXPECT_EQ(Find(hwdb, "acpi:BBC:"), (Properties{{"S", "set"}}));
  EXPECT_EQ(Find(hwdb, "acpi:CBC:"), Properties{});
  EXPECT_EQ(Find(hwdb, "dmi:bvnLENOVO:pnthinkPad T14:"), (Properties{{"T", "case"}}));
  EXPECT_EQ(Find(hwdb, "kbd:7x"), (Properties{{"U", "class"}}));
  EXPECT_EQ(Find(hwdb, "kbd:ax"), Properties{});
}

TEST_F(HwdbTest, GlobInsideACompressedPrefix) {
  // One key: the whole key is the root's prefix, and the glob sits in the middle of it.
  Hwdb hwdb = Build({{"sensor:modalias:acpi:BOSC*:dmi:*svnAcme*", {{"ACCEL", "1"}}}});
  EXPECT_EQ(Find(hwdb, "sensor:modalias:acpi:BOSC0200:dmi:bvnX:svnAcmeCorp:"),
            (Properties{{"ACCEL", "1"}}));
  EXPECT_EQ(Find(hwdb, "sensor:modalias:acpi:BOSC0200:dmi:bvnX:svnOther:"), Properties{});
  EXPECT_EQ(Find(hwdb, "sensor:modalias:acpi:KIOX0200:dmi:svnAcme"), Properties{});
}

TEST_F(HwdbTest, EveryMatchingEntryAddsInFirstSetOrder) {
  Hwdb hwdb = Build({
      {"evdev:input:b0003v*", {{"A", "generic"}, {"B", "generic"}}, "/f", 1, 1},
      {"evdev:input:b0003v17EFp6009*", {{"C", "model"}, {"A", "model"}}, "/f", 5, 1},
      {"evdev:input:*", {{"D", "any"}}, "/f", 9, 1},
  });
  Properties found = Find(hwdb, "evdev:input:b0003v17EFp6009e0110-e0,1,4");
  std::map<std::string, std::string> values(found.begin(), found.end());
  EXPECT_EQ(values, (std::map<std::string, std::string>{
                        {"A", "model"}, {"B", "generic"}, {"C", "model"}, {"D", "any"}}));
  EXPECT_EQ(found.size(), 4u);  // a property appears once, where it was first set
}

// --- priorities: the entry from the later file (higher priority), then the later line, wins

TEST_F(HwdbTest, HigherFilePriorityWinsWhateverTheOrder) {
  for (bool etc_first : {true, false}) {
    HwdbEntry usr{"usb:v1D6Bp0002*",
                  {{"ID_MODEL_FROM_DATABASE", "usr"}},
                  "/usr/lib/udev/hwdb.d/20-usb.hwdb",
                  900,
                  1};
    HwdbEntry etc{
        "usb:v1D6B*", {{"ID_MODEL_FROM_DATABASE", "etc"}}, "/etc/udev/hwdb.d/90-local.hwdb", 3, 2};
    Hwdb hwdb = Build(etc_first ? std::vector<HwdbEntry>{etc, usr} : std::vector{usr, etc});
    EXPECT_EQ(Find(hwdb, "usb:v1D6Bp0002d0515"), (Properties{{"ID_MODEL_FROM_DATABASE", "etc"}}))
        << etc_first;
  }
}

TEST_F(HwdbTest, LaterLineWinsWithinOneFile) {
  Hwdb hwdb = Build({
      {"mouse:usb:v046dp*:name:*", {{"MOUSE_DPI", "400@125"}}, "/f", 40, 3},
      {"mouse:usb:v046dpc52b:name:*", {{"MOUSE_DPI", "800@125"}}, "/f", 20, 3},
      {"mouse:usb:*", {{"MOUSE_DPI", "1000@125"}}, "/f", 60, 3},
  });
  EXPECT_EQ(Find(hwdb, "mouse:usb:v046dpc52b:name:Logitech USB Receiver:"),
            (Properties{{"MOUSE_DPI", "1000@125"}}));
  EXPECT_EQ(Find(hwdb, "mouse:usb:v1234p0001:name:x:"), (Properties{{"MOUSE_DPI", "1000@125"}}));
}

TEST_F(HwdbTest, WithoutPrioritiesTheLaterReadFileWins) {
  // Priority 0 everywhere (an older systemd-hwdb): files are compared by the offset of their
  // name, which follows the order they were read in, then by line.
  Hwdb hwdb = Build({
      {"k:*", {{"P", "first-file"}}, "/usr/lib/udev/hwdb.d/10-a.hwdb", 500, 0},
      {"k:x", {{"P", "second-file"}}, "/etc/udev/hwdb.d/20-b.hwdb", 1, 0},
      {"k:?", {{"Q", "first-file"}}, "/usr/lib/udev/hwdb.d/10-a.hwdb", 7, 0},
      {"k:[x]", {{"Q", "first-file-later-line"}}, "/usr/lib/udev/hwdb.d/10-a.hwdb", 8, 0},
  });
  Properties found = Find(hwdb, "k:x");
  std::map<std::string, std::string> values(found.begin(), found.end());
  EXPECT_EQ(values, (std::map<std::string, std::string>{{"P", "second-file"},
                                                        {"Q", "first-file-later-line"}}));
}

TEST_F(HwdbTest, VersionOneRecordsLastFoundWins) {
  // 16-byte value records carry no file or line: every later match replaces the value. The
  // exact key's values come after all glob matches.
  HwdbLayout v1;
  v1.v2 = false;
  Hwdb hwdb =
      Build({{"ab", {{"P", "exact"}}, "/f", 1, 9}, {"a*", {{"P", "glob"}}, "/f", 2, 9}}, v1);
  EXPECT_EQ(Find(hwdb, "ab"), (Properties{{"P", "exact"}}));
  EXPECT_EQ(Find(hwdb, "abc"), (Properties{{"P", "glob"}}));
}

TEST_F(HwdbTest, KeysWithoutLeadingSpaceAreNotProperties) {
  HwdbLayout raw;
  raw.space = false;
  Hwdb hwdb = Build({{"usb:*", {{"ID_X", "1"}}}}, raw);
  EXPECT_EQ(Find(hwdb, "usb:v1"), Properties{});
}

TEST_F(HwdbTest, ModaliasEndsAtItsFirstNul) {
  Hwdb hwdb = Build({{"usb:v1", {{"A", "1"}}}, {"usb:v1*", {{"B", "2"}}}});
  EXPECT_EQ(Find(hwdb, std::string_view("usb:v1\0xyz", 10)), (Properties{{"B", "2"}, {"A", "1"}}));
}

// --- record layouts: grown records and an uncompressed trie read the same

std::vector<HwdbEntry> SampleEntries() {
  return {
      {"usb:v046DpC52B*",
       {{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."},
        {"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}},
       "/a",
       10,
       1},
      {"usb:v046D*", {{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."}}, "/a", 5, 1},
      {"usb:v8087p0024*",
       {{"ID_MODEL_FROM_DATABASE", "Integrated Rate Matching Hub"}},
       "/a",
       20,
       1},
      {"pci:v00008086d00001237*",
       {{"ID_MODEL_FROM_DATABASE", "440FX - 82441FX PMC [Natoma]"}},
       "/b",
       1,
       1},
      {"pci:v00008086*", {{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"}}, "/b", 2, 1},
      {"pci:v00001AF4d00001041*",
       {{"ID_MODEL_FROM_DATABASE", "Virtio network device"}},
       "/b",
       3,
       1},
      {"acpi:PNP0A08:*", {{"ID_MODEL_FROM_DATABASE", "PCI Express"}}, "/c", 1, 2},
      {"evdev:atkbd:dmi:bvn*:bvr*:bd*:svnAcme*:pn*:*", {{"KEYBOARD_KEY_a0", "mute"}}, "/d", 7, 3},
      {"evdev:name:AT Translated Set 2 keyboard:*", {{"KEYBOARD_KEY_01", "esc"}}, "/d", 9, 3},
      {"evdev:input:b0003v[0-9]*", {{"EVDEV_ABS_00", "::5"}}, "/d", 11, 3},
      {"id-input:modalias:input:b0003v?*", {{"ID_INPUT_MOUSE", "1"}}, "/e", 1, 4},
      {"OUI:0050C2*", {{"ID_OUI_FROM_DATABASE", "IEEE Registration Authority"}}, "/f", 1, 1},
  };
}

std::vector<std::string> SampleModaliases() {
  return {"usb:v046DpC52Bd1201dc00dsc00dp00ic03isc01ip01in00",
          "usb:v046DpC52B*",
          "usb:v046Dp0001",
          "usb:v8087p0024d0000",
          "pci:v00008086d00001237sv00000000sd00000000bc06sc00i00",
          "pci:v00008086d00007000",
          "pci:v00001AF4d00001041sv00001AF4sd00001041bc02sc00i00",
          "acpi:PNP0A08:PNP0A03:",
          "evdev:atkbd:dmi:bvnX:bvr1:bd2:svnAcmeInc:pnZ:rvn",
          "evdev:name:AT Translated Set 2 keyboard:phys:isa0060/serio0/input0:ev:120013:",
          "evdev:input:b0003v17EFp6009",
          "id-input:modalias:input:b0003v046DpC52B",
          "OUI:0050C2ABC",
          "",
          "u",
          "nothing:at:all"};
}

TEST_F(HwdbTest, GrownRecordsAndUncompressedTriesReadTheSame) {
  Hwdb reference = Build(SampleEntries());
  HwdbLayout grown;
  grown.grow_header = 24;
  grown.grow_node = 8;
  grown.grow_child = 16;
  grown.grow_value = 32;
  HwdbLayout flat;
  flat.compress = false;
  Hwdb big = Build(SampleEntries(), grown);
  Hwdb uncompressed = Build(SampleEntries(), flat);
  size_t matched = 0;
  for (const std::string& modalias : SampleModaliases()) {
    Properties expected = Find(reference, modalias);
    matched += !expected.empty();
    EXPECT_EQ(Find(big, modalias), expected) << modalias;
    EXPECT_EQ(Find(uncompressed, modalias), expected) << modalias;
  }
  EXPECT_GE(matched, 10u);
}

// The trie must answer what matching every key with fnmatch(3) answers, for modaliases
// without glob characters (those the trie also follows literally).
TEST_F(HwdbTest, RandomKeysMatchBruteForce) {
  std::mt19937 random(20240611);
  auto pick = [&](int n) { return static_cast<int>(random() % n); };
  const char* tokens[] = {"a", "b", ":", "a", "b", "*", "?", "[ab]", "[!a]", "[a-b:]"};
  for (int round = 0; round < 20; ++round) {
    std::vector<HwdbEntry> entries;
    int count = 1 + pick(40);
    for (int i = 0; i < count; ++i) {
      HwdbEntry entry;
      int length = pick(7);
      for (int t = 0; t < length; ++t) entry.match += tokens[pick(10)];
      entry.properties = {{"P" + std::to_string(pick(4)), "v" + std::to_string(i)}};
      if (pick(3) == 0) entry.properties.push_back({"Q", "q" + std::to_string(i)});
      entry.filename = "/f" + std::to_string(pick(3));
      entry.line = i + 1;  // distinct (priority, line): the winner is well defined
      entry.priority = 1 + pick(3);
      entries.push_back(entry);
    }
    HwdbLayout flat;
    flat.compress = false;
    Hwdb compressed = Build(entries);
    Hwdb uncompressed = Build(entries, flat);
    for (int q = 0; q < 200; ++q) {
      std::string modalias;
      int length = pick(9);
      for (int c = 0; c < length; ++c) modalias += "ab:"[pick(3)];
      std::map<std::string, std::pair<const HwdbEntry*, std::string>> winners;
      for (const HwdbEntry& entry : entries) {
        if (fnmatch(entry.match.c_str(), modalias.c_str(), 0) != 0) continue;
        for (const auto& [key, value] : entry.properties) {
          auto& winner = winners[key];
          if (!winner.first || std::pair(entry.priority, entry.line) >
                                   std::pair(winner.first->priority, winner.first->line))
            winner = {&entry, value};
        }
      }
      Properties expected;
      for (const auto& [key, winner] : winners) expected.emplace_back(key, winner.second);
      for (const Hwdb* hwdb : {&compressed, &uncompressed}) {
        Properties found = Find(*hwdb, modalias);
        std::sort(found.begin(), found.end());
        EXPECT_EQ(found, expected) << "round " << round << " modalias '" << modalias << "'";
      }
    }
  }
}

// --- finding the installed file

TEST_F(HwdbTest, FindsTheInstalledFileInSystemdsOrder) {
  testing::TempDir root("vdev-hwdb-root");
  UniqueFd root_fd = *OpenDirAt(AT_FDCWD, root.path());
  auto none = FindInstalledHwdb(root_fd.get());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ENOENT);
  EXPECT_EQ(OpenInstalledHwdb(root_fd.get()).error().code, ENOENT);

  auto install = [&](const std::string& path, const std::string& value) {
    std::filesystem::create_directories(std::filesystem::path(root.Sub(path)).parent_path());
    testing::WriteBytes(root.Sub(path), HwdbWriter::Build({{"k", {{"FROM", value}}}}).bytes);
  };
  // Install from the lowest priority up; each new file must win.
  for (size_t i = kHwdbBinPaths.size(); i-- > 0;) {
    std::string path(kHwdbBinPaths[i]);
    install(path, path);
    auto found = FindInstalledHwdb(root_fd.get());
    ASSERT_TRUE(found) << found.error().Message();
    EXPECT_EQ(found->path, path);
    auto hwdb = OpenInstalledHwdb(root_fd.get());
    ASSERT_TRUE(hwdb) << hwdb.error().Message();
    EXPECT_EQ(hwdb->path(), path);
    EXPECT_EQ(Find(*hwdb, "k"), (Properties{{"FROM", path}}));
    EXPECT_TRUE(SameFileVersion(hwdb->file_stat(), found->stat));
  }
  EXPECT_EQ(std::string(kHwdbBinPaths[0]), "etc/systemd/hwdb/hwdb.bin");

  // A broken file with the highest priority is an error, not a reason to take the next one.
  testing::WriteBytes(root.Sub("etc/systemd/hwdb/hwdb.bin"), "KSLPHHRH");
  auto broken = OpenInstalledHwdb(root_fd.get());
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, EBADMSG);
}

TEST_F(HwdbTest, SameFileVersionNoticesAReplacedFile) {
  std::string path = dir_.Sub("db.bin");
  testing::WriteBytes(path, HwdbWriter::Build({{"k", {{"A", "1"}}}}).bytes);
  auto first = Hwdb::Open(path);
  ASSERT_TRUE(first);
  struct stat now;
  ASSERT_EQ(stat(path.c_str(), &now), 0);
  EXPECT_TRUE(SameFileVersion(first->file_stat(), now));
  // What systemd-hwdb update does: write a new file, rename it over the old one.
  testing::WriteBytes(path + ".new", HwdbWriter::Build({{"k", {{"A", "2"}}}}).bytes);
  ASSERT_EQ(rename((path + ".new").c_str(), path.c_str()), 0);
  ASSERT_EQ(stat(path.c_str(), &now), 0);
  EXPECT_FALSE(SameFileVersion(first->file_stat(), now));
  EXPECT_EQ(Find(*first, "k"), (Properties{{"A", "1"}}));  // the old mapping stays valid
}

// --- corrupt files: an error, never a crash or a read outside the file

TEST_F(HwdbTest, EveryTruncationIsAnError) {
  HwdbImage image = HwdbWriter::Build(SampleEntries());
  for (size_t length = 0; length < image.bytes.size(); ++length) {
    auto hwdb = OpenBytes(image.bytes.substr(0, length));
    ASSERT_FALSE(hwdb) << "length " << length;
    EXPECT_EQ(hwdb.error().code, EBADMSG) << "length " << length;
    // Even when the header is made to agree with the shorter file.
    if (length < 80) continue;
    std::string patched = image.bytes.substr(0, length);
    testing::PutLe64(patched, testing::hwdb_header::kFileSize, length);
    EXPECT_FALSE(OpenBytes(patched)) << "patched length " << length;
  }
}

TEST_F(HwdbTest, BrokenHeaderFieldsAreErrors) {
  HwdbImage image = HwdbWriter::Build(SampleEntries());
  const uint64_t size = image.bytes.size();
  using namespace testing::hwdb_header;
  const uint64_t kHuge = ~uint64_t{0};
  struct Case {
    size_t field;
    uint64_t value;
  };
  const Case cases[] = {
      {kFileSize, 0},      {kFileSize, size - 1},   {kFileSize, size + 1},
      {kFileSize, kHuge},  {kHeaderSize, 0},        {kHeaderSize, 79},
      {kHeaderSize, 88},   {kHeaderSize, size + 1}, {kHeaderSize, kHuge},
      {kNodeSize, 0},      {kNodeSize, 23},         {kNodeSize, 1 << 20},
      {kNodeSize, kHuge},  {kChildSize, 0},         {kChildSize, 15},
      {kChildSize, kHuge}, {kValueSize, 0},         {kValueSize, 15},
      {kValueSize, kHuge}, {kRootOff, 0},           {kRootOff, 79},
      {kRootOff, size},    {kRootOff, size - 8},    {kRootOff, image.strings_begin},
      {kRootOff, kHuge},   {kRootOff, kHuge - 10},  {kNodesLen, 0},
      {kNodesLen, 1},      {kNodesLen, size},       {kNodesLen, kHuge},
      {kStringsLen, 0},    {kStringsLen, size},     {kStringsLen, kHuge},
  };
  for (const Case& c : cases) {
    std::string bytes = image.bytes;
    testing::PutLe64(bytes, c.field, c.value);
    auto hwdb = OpenBytes(bytes);
    ASSERT_FALSE(hwdb) << "field at " << c.field << " = " << c.value;
    EXPECT_EQ(hwdb.error().code, EBADMSG);
  }
  for (int i = 0; i < 8; ++i) {
    std::string bytes = image.bytes;
    bytes[i] ^= 0x20;
    EXPECT_FALSE(OpenBytes(bytes)) << "signature byte " << i;
  }
  // The string section must end in NUL, so that no string runs off the end.
  std::string unterminated = image.bytes;
  unterminated.back() = 'x';
  EXPECT_FALSE(OpenBytes(unterminated));
  // The tool version is informational.
  std::string other_tool = image.bytes;
  testing::PutLe64(other_tool, kToolVersion, 999);
  auto hwdb = OpenBytes(other_tool);
  ASSERT_TRUE(hwdb);
  EXPECT_EQ(hwdb->tool_version(), 999u);
}

TEST_F(HwdbTest, NonFilesAndEmptyFiles) {
  EXPECT_EQ(OpenBytes("").error().code, EBADMSG);
  EXPECT_EQ(Hwdb::Open(dir_.path()).error().code, EBADMSG);
  EXPECT_EQ(Hwdb::Open(dir_.Sub("missing")).error().code, ENOENT);
}

// Offsets inside nodes are checked when a lookup meets them: EBADMSG, not a wild read.
TEST_F(HwdbTest, BrokenNodesFailTheLookup) {
  // One literal chain and one glob: "usb:*" puts a '*' child below "usb:".
  std::vector<HwdbEntry> entries = {
      {"usb:v1", {{"A", "1"}}}, {"usb:*", {{"B", "2"}}}, {"usb:v2", {{"C", "3"}}}};
  HwdbImage image = HwdbWriter::Build(entries);
  const uint64_t size = image.bytes.size();
  ASSERT_TRUE(OpenImage(image));
  for (uint64_t node : image.node_offs) {
    const uint64_t children = static_cast<uint8_t>(image.bytes[node + 8]);
    const uint64_t values = testing::GetLe64(image.bytes, node + 16);
    const uint64_t values_at = node + image.node_size + children * image.child_size;
    struct Patch {
      uint64_t at;
      uint64_t value;
      int width;  // 8, or 1 for children_count
    };
    std::vector<Patch> patches = {
        {node, 1, 8},                  // prefix in the header
        {node, size, 8},               // prefix past the end
        {node, node, 8},               // prefix in the node section
        {node + 16, ~uint64_t{0}, 8},  // values_count
        {node + 16, values + (size / image.value_size), 8},
        {node + 8, 255, 1},  // children_count past the section
    };
    for (uint64_t c = 0; c < children; ++c) {
      uint64_t entry = node + image.node_size + c * image.child_size;
      patches.push_back({entry + 8, 0, 8});                    // child in the header
      patches.push_back({entry + 8, size - 4, 8});             // child past the end
      patches.push_back({entry + 8, image.strings_begin, 8});  // child among the strings
      patches.push_back({entry + 8, ~uint64_t{0} - 3, 8});
    }
    for (uint64_t v = 0; v < values; ++v) {
      uint64_t entry = values_at + v * image.value_size;
      patches.push_back({entry, 2, 8});         // key in the header
      patches.push_back({entry + 8, size, 8});  // value past the end
      patches.push_back({entry + 8, ~uint64_t{0}, 8});
    }
    for (const Patch& patch : patches) {
      std::string bytes = image.bytes;
      if (patch.width == 1)
        bytes[patch.at] = static_cast<char>(patch.value);
      else
        testing::PutLe64(bytes, patch.at, patch.value);
      auto hwdb = OpenBytes(bytes);
      if (!hwdb) {
        EXPECT_EQ(hwdb.error().code, EBADMSG);
        continue;  // the root node is checked when the file is opened
      }
      // Some lookup must walk into the broken part and report it.
      bool failed = false;
      for (const char* modalias : {"usb:v1", "usb:v2", "usb:x", "usb:", "u"}) {
        auto found = hwdb->Lookup(modalias);
        if (!found) {
          EXPECT_EQ(found.error().code, EBADMSG);
          failed = true;
        }
      }
      EXPECT_TRUE(failed) << "node " << node << " patch at " << patch.at << " = " << patch.value;
    }
  }
}

TEST_F(HwdbTest, CyclesAreErrors) {
  // "a*" and "ab*": below the '*' glob child, point a child back at an ancestor.
  HwdbLayout flat;
  flat.compress = false;
  HwdbImage image = HwdbWriter::Build({{"a*b", {{"A", "1"}}}, {"a*c", {{"C", "1"}}}}, flat);
  // Children before parents: node_offs = [b-leaf, c-leaf, '*' node, 'a' node, root].
  ASSERT_EQ(image.node_offs.size(), 5u);
  uint64_t star = image.node_offs[2];
  for (uint64_t target : {star, image.node_offs[3], image.root_off}) {
    std::string bytes = image.bytes;
    // The '*' node's first child ('b') now leads back up.
    testing::PutLe64(bytes, star + image.node_size + 8, target);
    auto hwdb = OpenBytes(bytes);
    ASSERT_TRUE(hwdb);
    auto found = hwdb->Lookup("axxxb");
    ASSERT_FALSE(found) << "target " << target;
    EXPECT_EQ(found.error().code, EBADMSG);
  }
}

// Every byte of a small database broken in four ways: opening and looking up must fail
// cleanly or answer, never crash. The file is one page long, so that a read past its end
// faults (ASan does not watch mappings).
TEST_F(HwdbTest, FlippedBytesNeverCrash) {
  std::vector<HwdbEntry> entries = SampleEntries();
  entries.push_back({"zz:pad", {{"PAD", "x"}}});
  const size_t page = sysconf(_SC_PAGESIZE);
  size_t unpadded = HwdbWriter::Build(entries).bytes.size();
  entries.back().properties[0].second.append((page - unpadded % page) % page, 'x');
  HwdbImage image = HwdbWriter::Build(entries);
  ASSERT_EQ(image.bytes.size() % page, 0u);
  std::string path = dir_.Sub("flipped.bin");
  testing::WriteBytes(path, image.bytes);
  // One byte rewritten in place: truncating and rewriting thousands of files is slow on a
  // disk-backed TMPDIR (ext4 flushes a file replaced by truncation).
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  auto put = [&](size_t at, uint8_t value) { ASSERT_EQ(pwrite(fd.get(), &value, 1, at), 1); };
  size_t opened = 0, errors = 0;
  for (size_t at = 0; at < image.bytes.size(); ++at) {
    const uint8_t original = image.bytes[at];
    for (uint8_t value :
         {uint8_t{0}, uint8_t{0xFF}, uint8_t(original ^ 1), uint8_t(original ^ 0x80)}) {
      put(at, value);
      auto hwdb = Hwdb::Open(path);
      if (!hwdb) continue;
      ++opened;
      for (const std::string& modalias : SampleModaliases()) errors += !hwdb->Lookup(modalias);
    }
    put(at, original);
  }
  EXPECT_GT(opened, 0u);
  EXPECT_GT(errors, 0u);
}

// --- the real database, against systemd-hwdb

const std::string kFixtureRoot = VDEV_BINARY_DIR "/hwdb-root";

std::string Trim(std::string text) {
  while (!text.empty() && isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// A string that the glob matches: each '*' becomes filler (or nothing), '?' a digit, a
// bracket expression its first member.
std::string Concretize(const std::string& glob, const std::string& filler) {
  std::string out;
  for (size_t i = 0; i < glob.size(); ++i) {
    char c = glob[i];
    if (c == '*') {
      out += filler;
    } else if (c == '?') {
      out += '0';
    } else if (c == '[') {
      size_t end = i + 1;
      if (end < glob.size() && (glob[end] == '!' || glob[end] == '^')) ++end;
      if (end < glob.size() && glob[end] == ']') ++end;
      end = glob.find(']', end);
      if (end == std::string::npos) {
        out += c;
        continue;
      }
      std::string set = glob.substr(i, end - i + 1);
      for (char candidate : std::string("0123456789ABCDEFabcdefxyzXYZ:_- ")) {
        if (fnmatch(set.c_str(), std::string(1, candidate).c_str(), 0) == 0) {
          out += candidate;
          break;
        }
      }
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> MachineModaliases() {
  std::set<std::string> found;
  std::error_code error;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(
           "/sys/devices", fs::directory_options::skip_permission_denied, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().filename() != "modalias") continue;
    std::ifstream in(it->path());
    std::string line;
    if (std::getline(in, line) && !Trim(line).empty()) found.insert(Trim(line));
  }
  return {found.begin(), found.end()};
}

std::vector<std::string> SampledSourceModaliases(const std::string& hwdb_d, size_t per_file) {
  std::vector<std::string> modaliases;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(hwdb_d))
    if (entry.path().extension() == ".hwdb") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    std::vector<std::string> keys;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == ' ' || line[0] == '#') continue;
      keys.push_back(Trim(line));
    }
    size_t step = std::max<size_t>(1, keys.size() / per_file);
    for (size_t i = 0; i < keys.size(); i += step) {
      modaliases.push_back(Concretize(keys[i], ""));
      modaliases.push_back(Concretize(keys[i], "XyZ:1"));
      // Cut at the first glob: usually matches less, or only the broader keys.
      modaliases.push_back(keys[i].substr(0, keys[i].find_first_of("*?[")));
    }
  }
  return modaliases;
}

// Runs `systemd-hwdb query` once per modalias (one shell, to keep it quick); the output of
// each, as KEY=VALUE pairs.
std::vector<Properties> QuerySystemd(const std::vector<std::string>& modaliases,
                                     const std::string& scratch) {
  std::string list = scratch + "/modaliases";
  {
    std::ofstream out(list);
    for (const auto& modalias : modaliases) out << modalias << '\n';
  }
  std::string command = "while IFS= read -r m; do '" + kFixtureRoot +
                        "/bin/systemd-hwdb' query \"$m\" --root='" + kFixtureRoot +
                        "' 2>&1; echo '@@end'; done < '" + list + "'";
  FILE* pipe = popen(command.c_str(), "r");
  std::vector<Properties> results(1);
  if (!pipe) return {};
  char* buffer = nullptr;
  size_t capacity = 0;
  ssize_t length;
  while ((length = getline(&buffer, &capacity, pipe)) >= 0) {
    std::string text(buffer, length);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (text == "@@end") {
      results.emplace_back();
      continue;
    }
    size_t equals = text.find('=');
    results.back().emplace_back(text.substr(0, equals),
                                equals == std::string::npos ? "" : text.substr(equals + 1));
  }
  free(buffer);
  pclose(pipe);
  results.pop_back();
  return results;
}

class RealHwdbTest : public HwdbTest {
 protected:
  void SetUp() override {
    struct stat st;
    if (stat((kFixtureRoot + "/lib/udev/hwdb.bin").c_str(), &st) != 0 ||
        stat((kFixtureRoot + "/bin/systemd-hwdb").c_str(), &st) != 0)
      GTEST_SKIP() << "no " << kFixtureRoot
                   << "/lib/udev/hwdb.bin: run test/fixtures/make-hwdb.sh " VDEV_BINARY_DIR;
    UniqueFd root = *OpenDirAt(AT_FDCWD, kFixtureRoot);
    auto hwdb = OpenInstalledHwdb(root.get());
    ASSERT_TRUE(hwdb) << hwdb.error().Message();
    EXPECT_EQ(hwdb->path(), "lib/udev/hwdb.bin");
    hwdb_.emplace(std::move(*hwdb));
  }
  std::optional<Hwdb> hwdb_;
};

TEST_F(RealHwdbTest, KnownDevices) {
  EXPECT_EQ(Find(*hwdb_, "usb:v046DpC52B*"),
            (Properties{{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."},
                        {"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}}));
  Properties intel = *hwdb_->Lookup("pci:v00008086d00001237sv00000000sd00000000bc06sc00i00");
  std::map<std::string, std::string> values(intel.begin(), intel.end());
  EXPECT_EQ(values["ID_VENDOR_FROM_DATABASE"], "Intel Corporation");
  EXPECT_EQ(values["ID_PCI_CLASS_FROM_DATABASE"], "Bridge");
}

TEST_F(RealHwdbTest, SameAnswersAsSystemdHwdb) {
  std::vector<std::string> modaliases = MachineModaliases();
  size_t from_machine = modaliases.size();
  for (std::string extra : {"usb:v046DpC52B*", "usb:v046DpC52Bd1201dc00dsc00dp00ic03isc01ip01in00",
                            "usb:v1D6Bp0002d0515dc09dsc00dp01ic09isc00ip00in00",
                            "pci:v00008086d00001237sv00000000sd00000000bc06sc00i00",
                            "pci:v00008086d*", "acpi:PNP0A08:PNP0A03:", "OUI:0050C2"})
    modaliases.push_back(extra);
  std::vector<std::string> sampled = SampledSourceModaliases(kFixtureRoot + "/lib/udev/hwdb.d", 16);
  modaliases.insert(modaliases.end(), sampled.begin(), sampled.end());

  std::vector<Properties> expected = QuerySystemd(modaliases, dir_.path());
  ASSERT_EQ(expected.size(), modaliases.size());
  size_t same = 0, with_properties = 0, same_set_other_order = 0;
  for (size_t i = 0; i < modaliases.size(); ++i) {
    Properties found = Find(*hwdb_, modaliases[i]);
    with_properties += !expected[i].empty();
    if (found == expected[i]) {
      ++same;
      continue;
    }
    Properties a = found, b = expected[i];
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    same_set_other_order += a == b;
    ADD_FAILURE() << "'" << modaliases[i] << "': " << found.size() << " properties, systemd "
                  << expected[i].size() << (a == b ? " (same, other order)" : "");
  }
  printf(
      "hwdb: %zu modaliases (%zu from this machine's sysfs), %zu with properties; "
      "%zu answered as systemd-hwdb does, %zu only in another order\n",
      modaliases.size(), from_machine, with_properties, same, same_set_other_order);
  EXPECT_EQ(same, modaliases.size());
  EXPECT_GT(with_properties, modaliases.size() / 2);
}

}  // namespace
}  // namespace vdev
