#include "rule_set.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "common/database.h"
#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_pattern.h"

namespace vdev {
namespace {

// ---------------------------------------------------------------------------------------
// Patterns

TEST(RulePatternTest, GlobsAlternativesNegationAndPresence) {
  struct Case {
    std::string_view pattern, value;
    bool matches;
  } cases[] = {
      {"tty[0-9]*|hvc[0-9]*", "tty1", true},
      {"tty[0-9]*|hvc[0-9]*", "hvc0", true},
      {"tty[0-9]*|hvc[0-9]*", "ttyS0", false},
      {"tty[0-9]*|hvc[0-9]*", "tty", false},
      {"!tty*", "sda", true},
      {"!tty*", "tty1", false},
      {"!renderD*", "card0", true},
      {"", "", true},  // "" matches an absent or empty value
      {"", "x", false},
      {"?*", "", false},  // "?*": present and not empty
      {"?*", "x", true},
      {"!?*", "", true},
      {"*", "", true},
      {"sd?", "sda", true},
      {"sd?", "sdaa", false},
      {"[!a-c]x", "dx", true},
      {"[!a-c]x", "bx", false},
      {"[^a-c]x", "bx", false},
      {"[[:digit:]]*", "5a", true},
      {"[[:digit:]]*", "a5", false},
      {"[]]", "]", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "axb", false},
      {"*:0701??:*", ":030000:0701ff:", true},
      {"*:0701??:*", ":0702ff:", false},
      {"tty[A-Z]*[0-9]", "ttyUSB0", true},
      {"tty[A-Z]*[0-9]", "tty10", false},
      {"a*b*c", "aXXbYYbc", true},
      {"a*b*c", "aXXbYYb", false},
      {"*/sr0", "/devices/x/block/sr0", true},  // '*' crosses '/', as fnmatch without flags
      {"a|", "", true},
      {"4|5", "5", true},
      {"4|5", "45", false},
      {"KVM virtual PTP", "KVM virtual PTP", true},
  };
  for (const Case& c : cases) {
    auto pattern = RulePattern::Compile(c.pattern);
    ASSERT_TRUE(pattern) << c.pattern;
    EXPECT_EQ(pattern->Matches(c.value), c.matches) << c.pattern << " vs '" << c.value << "'";
  }
}

TEST(RulePatternTest, MalformedGlobs) {
  for (std::string_view bad : {"tty[", "tty[0-9", "a\\", "[[:nope:]]", "ok|bad["}) {
    EXPECT_FALSE(RulePattern::Compile(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------
// Parsing

AccountResolver TestAccounts() {
  static const std::map<std::string, unsigned> kUsers = {{"root", 0}, {"alice", 1000}};
  static const std::map<std::string, unsigned> kGroups = {
      {"root", 0}, {"tty", 5}, {"disk", 6}, {"dialout", 20}, {"video", 44}};
  AccountResolver accounts;
  accounts.user = [](const std::string& name) -> std::optional<uid_t> {
    auto it = kUsers.find(name);
    return it == kUsers.end() ? std::nullopt : std::optional<uid_t>(it->second);
  };
  accounts.group = [](const std::string& name) -> std::optional<gid_t> {
    auto it = kGroups.find(name);
    return it == kGroups.end() ? std::nullopt : std::optional<gid_t>(it->second);
  };
  return accounts;
}

TEST(RuleSetParseTest, ErrorsNameFileLineAndReason) {
  std::string long_line = "[a]\nkernel = " + std::string(250, 'x') + "\n";
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {"kernel = sda\n", "t.rules:1: key outside a section"},
      {"# comment\n\n[a]\nfoo = 1\n", "t.rules:4: unknown key 'foo'"},
      {"[a]\nkernel = sda\nmode = 0999\n", "t.rules:3: invalid mode '0999'"},
      {"[a]\nmode = 17777\n", "t.rules:2: invalid mode '17777'"},
      {"[a]\nmode = rw\n", "t.rules:2: invalid mode 'rw'"},
      {"[a]\nkernel = tty[\n",
       "t.rules:2: invalid pattern 'tty[' for 'kernel': malformed '[...]' expression"},
      {"[a]\nparent.attr.type = [4\n",
       "t.rules:2: invalid pattern '[4' for 'parent.attr.type': malformed '[...]' expression"},
      {"[a]\nkernel = a\nmode = 0600\nkernel = b\n", "t.rules:4: duplicate key 'kernel'"},
      {"[a]\nmode = 0600\n[b]\nmode = 0600\n\n[a]\nmode = 0644\n",
       "t.rules:6: duplicate section [a]"},
      {"[a]\n[a]\n", "t.rules:2: duplicate section [a]"},
      {"[]\nmode = 0600\n", "t.rules:1: empty section name"},
      {"[a]\nthis is not ini\n", "t.rules:2: syntax error: expected '[section]' or 'key = value'"},
      {"[a]\nmode = 0600\n[b\n", "t.rules:3: syntax error: expected '[section]' or 'key = value'"},
      {"[a]\nfoo = 1\nbar\n", "t.rules:2: unknown key 'foo'"},  // the first error wins
      {"[a]\nbar\nfoo = 1\n", "t.rules:2: syntax error: expected '[section]' or 'key = value'"},
      {"[a]\nsymlink = /etc/passwd\n", "t.rules:2: invalid link '/etc/passwd'"},
      {"[a]\nsymlink = ok disk/../../x\n", "t.rules:2: invalid link 'disk/../../x'"},
      {"[a]\nsymlink = %q\n", "t.rules:2: invalid value for 'symlink': unknown substitution '%q'"},
      {"[a]\nsymlink =\n", "t.rules:2: empty value for 'symlink'"},
      {"[a]\nset.DEVPATH = /x\n", "t.rules:2: property 'DEVPATH' cannot be set by rules"},
      {"[a]\nset.A-B = x\n", "t.rules:2: invalid property name 'A-B'"},
      {"[a]\nenv.A.B = x\n", "t.rules:2: invalid property name 'A.B'"},
      {"[a]\nattr.../x = 1\n", "t.rules:2: invalid attribute name '../x'"},
      {"[a]\nparent.devtype = disk\n", "t.rules:2: unknown key 'parent.devtype'"},
      {"[a]\ntag = ok a/b\n", "t.rules:2: invalid tag 'a/b'"},
      {"[a]\nlast = maybe\n", "t.rules:2: invalid boolean 'maybe' for 'last'"},
      {"[a]\nlink_priority = high\n", "t.rules:2: invalid link_priority 'high'"},
      {"[a]\ngroup = 4294967295\n", "t.rules:2: invalid group id '4294967295'"},
      {"[a]\nmode = 0600\nmode = 0644\n", "t.rules:3: duplicate key 'mode'"},
      {long_line, "t.rules:2: line longer than 198 characters"},
  };
  for (const Case& c : cases) {
    auto parsed = RuleSet::Parse("t.rules", c.text, TestAccounts());
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().code, EINVAL);
    EXPECT_EQ(parsed.error().context, c.error) << c.text;
  }
}

TEST(RuleSetParseTest, AcceptsIndentationCommentsAndRepeatedKeys) {
  const char* text =
      "\xef\xbb\xbf# a comment\n"
      "; another\n"
      "[first]\n"
      "  kernel = sd*   ; inline comment\n"
      "  mode = 0660\n"  // indented: a key, not a continuation of the previous one
      "  symlink = a\n"
      "  symlink = b c\n"
      "  tag = t1 t2\n"
      "  tag = t3\n"
      "\n"
      "[second]\n"
      "set.X = \"quoted  value\"\n";
  std::vector<std::string> warnings;
  auto parsed = RuleSet::Parse("t.rules", text, TestAccounts(), &warnings);
  ASSERT_TRUE(parsed) << parsed.error().context;
  EXPECT_EQ(parsed->size(), 2u);
  EXPECT_TRUE(warnings.empty());
}

TEST(RuleSetParseTest, UnknownUserOrGroupIsAWarning) {
  std::vector<std::string> warnings;
  auto parsed = RuleSet::Parse("t.rules",
                               "[a]\nkernel = x\ngroup = nosuchgroup\nowner = nobody-here\n"
                               "mode = 0600\n[b]\ngroup = 44\nowner = 1000\n",
                               TestAccounts(), &warnings);
  ASSERT_TRUE(parsed) << parsed.error().context;
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "t.rules:3: unknown group 'nosuchgroup', ignoring",
                          "t.rules:4: unknown user 'nobody-here', ignoring",
                      }));
}

// ---------------------------------------------------------------------------------------
// Applying

class RecordingRunner : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string& command, const Uevent& environment) override {
    std::lock_guard lock(mutex_);
    commands.push_back(command);
    last_environment = environment;
    auto it = outputs.find(command);
    if (it == outputs.end()) return Fail(ENOENT, "no such helper");
    return it->second;
  }

  std::map<std::string, std::string> outputs;
  std::vector<std::string> commands;
  Uevent last_environment;

 private:
  std::mutex mutex_;
};

constexpr const char* kHost = "/devices/pci0000:00/0000:00:1f.2";
constexpr const char* kCdrom = "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
constexpr const char* kSr0 =
    "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sr0";
constexpr const char* kSg0 =
    "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/scsi_generic/sg0";
constexpr const char* kTty1 = "/devices/virtual/tty/tty1";
constexpr const char* kVirtual = "/devices/virtual/misc/nonode";

struct Outcome {
  EventState state;
  RuleTrace trace;
};

class RuleSetApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sysfs_.Add({kHost, "pci", true, "ahci", {{"PCI_ID", "8086:2922"}}, {{"vendor", "0x8086"}}});
    sysfs_.Add({std::string(kHost) + "/ata1", "", false, "", {}, {}});
    sysfs_.Add(
        {std::string(kHost) + "/ata1/host0", "scsi", true, "", {{"DEVTYPE", "scsi_host"}}, {}});
    sysfs_.Add({std::string(kHost) + "/ata1/host0/target0:0:0",
                "scsi",
                true,
                "",
                {{"DEVTYPE", "scsi_target"}},
                {}});
    sysfs_.Add({kCdrom,
                "scsi",
                true,
                "sr",
                {{"DEVTYPE", "scsi_device"}},
                {{"type", "5"}, {"vendor", "ATA     "}, {"model", "DVD-ROM  \t"}}});
    sysfs_.AddBlockDevice(kSr0, "sr0", 11, 0);
    sysfs_.SetAttribute(kSr0, "queue/rotational", "1");
    sysfs_.SetAttribute(kSr0, "multiline", "first\nsecond");
    sysfs_.AddCharDevice(kSg0, "scsi_generic", "sg0", 21, 0);
    sysfs_.AddCharDevice(kTty1, "tty", "tty1", 4, 1);
    sysfs_.Add({kVirtual, "misc", false, "", {}, {}});
    sysfs_fd_ = *OpenDirAt(AT_FDCWD, dir_.path());
  }

  Outcome Apply(const std::string& rules, const std::string& devpath,
                const std::string& action = "add",
                std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto parsed = RuleSet::Parse("t.rules", rules, TestAccounts());
    EXPECT_TRUE(parsed) << parsed.error().context;
    auto device = Device::Open(sysfs_fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    for (const auto& [key, value] : extra) properties.Set(key, value);
    Outcome outcome{EventState(std::move(*device), std::move(properties)), {}};
    if (parsed) parsed->Apply(outcome.state, runner_, &outcome.trace);
    return outcome;
  }

  bool Matches(const std::string& keys, const std::string& devpath,
               std::vector<std::pair<std::string, std::string>> extra = {}) {
    return Apply("[r]\n" + keys + "\nmode = 0600\n", devpath, "add", std::move(extra))
        .state.mode.has_value();
  }

  testing::TempDir dir_;
  testing::FakeSysfs sysfs_{dir_.path()};
  UniqueFd sysfs_fd_;
  RecordingRunner runner_;
};

TEST_F(RuleSetApplyTest, MatchKeys) {
  struct Case {
    std::string keys;
    const char* devpath;
    bool matches;
  } cases[] = {
      {"kernel = tty[0-9]*|hvc*", kTty1, true},
      {"kernel = !tty*", kTty1, false},
      {"subsystem = tty\naction = add|change", kTty1, true},
      {"action = remove", kTty1, false},
      {"subsystem = block\ndevtype = disk\nkernel = sr[0-9]*", kSr0, true},
      {"devtype = partition", kSr0, false},
      {"devpath = */block/sr0", kSr0, true},
      {"driver = sr", kCdrom, true},
      {"driver = ?*", kSr0, false},
      {"driver =", kSr0, true},
      {"env.DEVNAME = sr0", kSr0, true},
      {"env.ID_CDROM =", kSr0, true},  // absent matches ""
      {"env.ID_CDROM = ?*", kSr0, false},
      {"env.ID_CDROM = !?*", kSr0, true},
      {"attr.vendor = ATA", kCdrom, true},  // trailing padding is ignored
      {"attr.model = DVD-ROM", kCdrom, true},
      {"attr.type = 4|5", kCdrom, true},
      {"attr.nonexistent =", kCdrom, true},
      {"attr.nonexistent = ?*", kCdrom, false},
      {"attr.queue/rotational = 1", kSr0, true},
      {"attr.type = 5", kSr0, false},  // attr.* looks at the device only
      // parent.* looks at the device and its ancestors...
      {"parent.subsystem = scsi\nparent.attr.type = 4|5", kSg0, true},
      {"parent.subsystem = scsi_generic", kSg0, true},  // ... the device itself included
      {"parent.driver = ahci\nparent.attr.vendor = 0x8086", kSr0, true},
      {"parent.kernel = 0:0:0:0\nparent.driver = sr", kSg0, true},
      {"parent.subsystem = pci\nparent.attr.vendor = 0x8086", kSg0, true},
      // ... but all parent.* keys must hold on the same device: scsi is 0:0:0:0, the
      // vendor 0x8086 is on the pci device.
      {"parent.subsystem = scsi\nparent.attr.vendor = 0x8086", kSg0, false},
      {"parent.subsystem = scsi\nparent.attr.type = 0", kSg0, false},
      {"parent.subsystem = usb", kSg0, false},
      {"parent.attr.vendor = ATA\nsubsystem = scsi_generic", kSg0, true},
  };
  for (const Case& c : cases) EXPECT_EQ(Matches(c.keys, c.devpath), c.matches) << c.keys;
  EXPECT_TRUE(Matches("env.FOO = b*", kTty1, {{"FOO", "bar"}}));
  EXPECT_FALSE(Matches("env.FOO = !b*", kTty1, {{"FOO", "bar"}}));
}

TEST_F(RuleSetApplyTest, LastAssignmentWinsAndTraceKeepsNames) {
  Outcome outcome = Apply(
      "[all-block]\nsubsystem = block\ngroup = disk\n"
      "[cdrom]\nkernel = sr*\ngroup = video\nowner = alice\nmode = 0640\n"
      "[not-matching]\nkernel = sda\ngroup = tty\nmode = 0666\n",
      kSr0);
  EXPECT_EQ(outcome.state.gid, 44u);
  EXPECT_EQ(outcome.state.uid, 1000u);
  EXPECT_EQ(outcome.state.mode, 0640u);
  EXPECT_EQ(outcome.trace.group, "video");
  EXPECT_EQ(outcome.trace.owner, "alice");
  EXPECT_EQ(outcome.trace.matched,
            (std::vector<std::string>{"t.rules:1 [all-block]", "t.rules:4 [cdrom]"}));
}

TEST_F(RuleSetApplyTest, LastStopsProcessing) {
  Outcome outcome = Apply(
      "[a]\nsubsystem = tty\nmode = 0600\nlast = yes\n"
      "[b]\nsubsystem = tty\nmode = 0666\n",
      kTty1);
  EXPECT_EQ(outcome.state.mode, 0600u);
  EXPECT_EQ(outcome.trace.matched.size(), 1u);
}

TEST_F(RuleSetApplyTest, LinksTagsPropertiesAndPrograms) {
  Outcome outcome = Apply(
      "[one]\nkernel = sr0\n"
      "symlink = cdrom dvd\n"
      "symlink = cdrom disk/by-path/%k-$number\n"
      "link_priority = -10\n"
      "tag = seat uaccess\n"
      "tag = seat\n"
      "set.ID_CDROM = 1\n"
      "set.ID_MAJOR_MINOR = %M:%m\n"
      "set.ID_MODEL = $attr{model}\n"  // falls back to the parent matched below
      "parent.subsystem = scsi\n"
      "set.MULTI = %s{multiline}\n"
      "run = notify %k $env{ID_CDROM}\n"
      "run = notify %k $env{ID_CDROM}\n"
      "[two]\nenv.ID_CDROM = 1\nset.SEEN = $env{ID_MAJOR_MINOR}\nset.MULTI =\n",
      kSr0);
  const EventState& state = outcome.state;
  EXPECT_EQ(state.links, (std::vector<std::string>{"cdrom", "dvd", "disk/by-path/sr0-0"}));
  EXPECT_EQ(state.link_priority, -10);
  EXPECT_EQ(state.tags, (std::vector<std::string>{"seat", "uaccess"}));
  EXPECT_EQ(state.properties.GetOr("ID_CDROM"), "1");
  EXPECT_EQ(state.properties.GetOr("ID_MODEL"), "DVD-ROM");
  EXPECT_EQ(state.properties.GetOr("SEEN"), "11:0");
  EXPECT_FALSE(state.properties.Has("MULTI"));  // an empty value removes it
  EXPECT_EQ(state.run_programs, (std::vector<std::string>{"notify sr0 1"}));

  Outcome multi = Apply("[a]\nkernel = sr0\nset.MULTI = %s{multiline}\n", kSr0);
  EXPECT_EQ(multi.state.properties.GetOr("MULTI"), "first_second");  // no raw newline
}

TEST_F(RuleSetApplyTest, HostilePropertyValuesNeverLeaveTheLinkDirectory) {
  const std::string rules =
      "[links]\nkernel = sr0\nsymlink = disk/by-label/$env{LABEL} by-uuid/%E{UUID}\n";
  struct Case {
    std::string label;
    std::vector<std::string> links;
  } cases[] = {
      {"root", {"disk/by-label/root", "by-uuid/u"}},
      {"my disk", {"disk/by-label/my_disk", "by-uuid/u"}},
      {"a/b", {"disk/by-label/a/b", "by-uuid/u"}},
      {"..", {"by-uuid/u"}},
      {"../../../../etc/cron.d/x", {"by-uuid/u"}},
      {"x/../../..", {"by-uuid/u"}},
      {"x\n/etc/passwd", {"disk/by-label/x_/etc/passwd", "by-uuid/u"}},
      {" /etc/passwd", {"disk/by-label/_/etc/passwd", "by-uuid/u"}},
      {std::string("ctl\x01\x7f"), {"disk/by-label/ctl__", "by-uuid/u"}},
      {"", {"by-uuid/u"}},  // "disk/by-label/" ends in an empty component
  };
  for (const Case& c : cases) {
    Outcome outcome = Apply(rules, kSr0, "add", {{"LABEL", c.label}, {"UUID", "u"}});
    EXPECT_EQ(outcome.state.links, c.links) << c.label;
    for (const std::string& link : outcome.state.links) {
      auto normal = std::filesystem::path("/dev/" + link).lexically_normal().string();
      EXPECT_TRUE(normal.starts_with("/dev/")) << link;
    }
  }
  // An absolute result is refused too.
  Outcome absolute =
      Apply("[a]\nkernel = sr0\nsymlink = $env{X}\n", kSr0, "add", {{"X", "/etc/x"}});
  EXPECT_TRUE(absolute.state.links.empty());
}

TEST_F(RuleSetApplyTest, DevicesWithoutNodesGetNoLinks) {
  Outcome outcome = Apply("[a]\nsubsystem = misc\nsymlink = foo\nmode = 0600\n", kVirtual);
  EXPECT_EQ(outcome.state.mode, 0600u);
  EXPECT_TRUE(outcome.state.links.empty());
}

TEST_F(RuleSetApplyTest, ImportAddsPropertiesFromTheProgram) {
  runner_.outputs["probe sr0 11:0"] =
      "ID_A=1\n"
      "not a property line\n"
      "BAD-KEY=1\n"
      "DEVPATH=/devices/evil\n"
      "  ID_B = \"two words\"  \n"
      "# comment\n"
      "ID_C='x\ty'\n"
      "ID_A=2\n";
  Outcome outcome = Apply(
      "[import]\nkernel = sr0\nimport = probe %k %M:%m\nset.AFTER = $env{ID_B}\n"
      "[failing]\nkernel = sr0\nimport = missing-helper\nmode = 0644\n",
      kSr0);
  const Uevent& properties = outcome.state.properties;
  EXPECT_EQ(properties.GetOr("ID_A"), "2");
  EXPECT_EQ(properties.GetOr("ID_B"), "two words");
  EXPECT_EQ(properties.GetOr("ID_C"), "x_y");
  EXPECT_EQ(properties.GetOr("AFTER"), "two words");  // actions run in file order
  EXPECT_EQ(properties.devpath(), kSr0);
  EXPECT_FALSE(properties.Has("BAD-KEY"));
  // A failing import does not stop the rule.
  EXPECT_EQ(outcome.state.mode, 0644u);
  EXPECT_EQ(runner_.commands, (std::vector<std::string>{"probe sr0 11:0", "missing-helper"}));
  EXPECT_EQ(runner_.last_environment.GetOr("ID_A"), "2");  // the helper sees the properties
}

TEST_F(RuleSetApplyTest, DevnodeIsBelowTheDevRoot) {
  runner_.outputs["probe /tmp/devroot/sr0 /tmp/devroot"] = "ID_PROBED=1\n";
  auto parsed = RuleSet::Parse("t.rules", "[a]\nimport = probe $devnode %r\n", TestAccounts());
  ASSERT_TRUE(parsed) << parsed.error().context;
  auto device = Device::Open(sysfs_fd_.get(), kSr0);
  ASSERT_TRUE(device);
  Uevent properties = device->properties();
  properties.Set("ACTION", "add");
  EventState state(std::move(*device), std::move(properties));
  state.dev_root = "/tmp/devroot";
  parsed->Apply(state, runner_);
  EXPECT_EQ(state.properties.GetOr("ID_PROBED"), "1");
  EXPECT_EQ(runner_.commands, (std::vector<std::string>{"probe /tmp/devroot/sr0 /tmp/devroot"}));
}

// udev's IMPORT{parent}: a partition takes its disk's identity from the disk's database
// record and uevent file, but only the names asked for.
TEST_F(RuleSetApplyTest, ImportParentCopiesMatchingPropertiesOfTheParent) {
  const std::string disk = "/devices/virtual/block/vdz";
  const std::string part = disk + "/vdz1";
  sysfs_.AddBlockDevice(disk, "vdz", 252, 0);
  sysfs_.AddBlockDevice(part, "vdz1", 252, 1, "partition");
  testing::TempDir run;
  auto run_fd = OpenDirAt(AT_FDCWD, run.path());
  ASSERT_TRUE(run_fd);
  auto database = Database::Open(run_fd->get(), true);
  ASSERT_TRUE(database);
  DeviceRecord record;
  record.properties = {{"ID_SERIAL", "disk-serial"},     {"ID_PATH", "pci-0000:00:05.0"},
                       {"ID_FS_TYPE", "iso9660"},        {"DEVLINKS", "/dev/evil"},
                       {"OTHER", "not asked for"}};
  ASSERT_TRUE(database->Write("b252:0", record, nullptr));

  auto parsed = RuleSet::Parse("t.rules",
                               "[p]\ndevtype = partition\nimport.parent = ID_* DEVNAME !ID_FS_*\n"
                               "symlink = disk/by-id/virtio-$env{ID_SERIAL}-part%n\n",
                               TestAccounts());
  ASSERT_TRUE(parsed) << parsed.error().context;
  auto device = Device::Open(sysfs_fd_.get(), part);
  ASSERT_TRUE(device);
  Uevent properties = device->properties();
  properties.Set("ACTION", "add");
  EventState state(std::move(*device), std::move(properties));
  state.database = &*database;
  parsed->Apply(state, runner_);
  EXPECT_EQ(state.properties.GetOr("ID_SERIAL"), "disk-serial");
  EXPECT_EQ(state.properties.GetOr("ID_PATH"), "pci-0000:00:05.0");
  EXPECT_FALSE(state.properties.Has("ID_FS_TYPE"));  // excluded
  EXPECT_FALSE(state.properties.Has("OTHER"));       // not asked for
  EXPECT_FALSE(state.properties.Has("DEVLINKS"));    // never importable
  EXPECT_EQ(state.properties.GetOr("DEVNAME"), "vdz1");  // protected: the partition's own
  EXPECT_EQ(state.links, (std::vector<std::string>{"disk/by-id/virtio-disk-serial-part1"}));

  EXPECT_FALSE(RuleSet::Parse("t.rules", "[p]\nimport.parent = !ID_FS_*\n", TestAccounts()));
  EXPECT_FALSE(RuleSet::Parse("t.rules", "[p]\nimport.parent = ID_[\n", TestAccounts()));
}

TEST_F(RuleSetApplyTest, ConcurrentApplyOnOneRuleSet) {
  auto parsed =
      RuleSet::Parse("t.rules",
                     "[cd]\nsubsystem = block\nparent.attr.type = 5\ngroup = disk\nsymlink = cd%n\n"
                     "[tty]\nsubsystem = tty\ngroup = tty\nmode = 0620\n",
                     TestAccounts());
  ASSERT_TRUE(parsed);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const char* devpath = (i + t) % 2 == 0 ? kSr0 : kTty1;
        auto device = Device::Open(sysfs_fd_.get(), devpath);
        if (!device) {
          ++failures;
          continue;
        }
        Uevent properties = device->properties();
        properties.Set("ACTION", "add");
        EventState state(std::move(*device), std::move(properties));
        parsed->Apply(state, runner_);
        bool ok = devpath == kSr0
                      ? state.gid == 6u && state.links == std::vector<std::string>{"cd0"}
                      : state.gid == 5u && state.mode == 0620u;
        if (!ok) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
}

// ---------------------------------------------------------------------------------------
// Loading directories

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

TEST(RuleSetLoadTest, EarlierDirectoryHidesSameNameAndFilesRunInNameOrder) {
  testing::TempDir dir;
  std::string etc = dir.Sub("etc"), lib = dir.Sub("lib");
  WriteFile(lib + "/50-a.rules", "[lib-a]\nmode = 0602\n");
  WriteFile(etc + "/50-a.rules", "[etc-a]\nmode = 0601\n");
  WriteFile(lib + "/40-b.rules", "[lib-b]\nmode = 0603\n");
  WriteFile(lib + "/60-c.rules", "[lib-c]\nmode = 0604\n[lib-c2]\nmode = 0605\n");
  WriteFile(etc + "/70-bad.rules", "[ok]\nmode = 0600\n[broken]\nfrobnicate = yes\n");
  WriteFile(etc + "/README", "not rules\n");
  WriteFile(lib + "/.hidden.rules", "[hidden]\nmode = 0777\n");
  WriteFile(etc + "/80-groups.rules", "[g]\ngroup = no-such-group-here\nmode = 0606\n");

  RuleLoadResult result = RuleSet::Load({etc, dir.Sub("missing"), lib}, TestAccounts());
  EXPECT_EQ(result.errors,
            (std::vector<std::string>{etc + "/70-bad.rules:4: unknown key 'frobnicate'"}));
  EXPECT_EQ(result.warnings, (std::vector<std::string>{etc + "/80-groups.rules:2: unknown group "
                                                             "'no-such-group-here', ignoring"}));
  EXPECT_EQ(result.rules.size(), 5u);

  testing::TempDir sys;
  testing::FakeSysfs sysfs(sys.path());
  sysfs.AddCharDevice(kTty1, "tty", "tty1", 4, 1);
  UniqueFd fd = *OpenDirAt(AT_FDCWD, sys.path());
  auto device = Device::Open(fd.get(), kTty1);
  ASSERT_TRUE(device);
  EventState state(std::move(*device), {});
  RecordingRunner runner;
  RuleTrace trace;
  result.rules.Apply(state, runner, &trace);
  EXPECT_EQ(trace.matched,
            (std::vector<std::string>{lib + "/40-b.rules:1 [lib-b]", etc + "/50-a.rules:1 [etc-a]",
                                      lib + "/60-c.rules:1 [lib-c]", lib + "/60-c.rules:3 [lib-c2]",
                                      etc + "/80-groups.rules:1 [g]"}));
  EXPECT_EQ(state.mode, 0606u);
  EXPECT_FALSE(state.gid.has_value());
}

}  // namespace
}  // namespace vdev
