#include "event_processor.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"

namespace vdev {
namespace {

class NoPrograms : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string& command, const Uevent&) override {
    ran.push_back(command);
    return std::string();
  }
  std::vector<std::string> ran;
};

AccountResolver FixedAccounts() {
  AccountResolver accounts;
  accounts.user = [](const std::string& name) -> std::optional<uid_t> {
    if (name == "root") return 0;
    return std::nullopt;
  };
  accounts.group = [](const std::string& name) -> std::optional<gid_t> {
    if (name == "disk") return 6;
    if (name == "tty") return 5;
    return std::nullopt;
  };
  return accounts;
}

std::string MakeDir(const std::string& path) {
  mkdir(path.c_str(), 0755);
  return path;
}

class EventProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sysfs_.AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3, {{"DEVMODE", "0666"}});
    sysfs_.AddBlockDevice("/devices/virtual/block/loop0", "loop0", 7, 0, "disk", {{"DISKSEQ", "9"}});
    sysfs_.AddCharDevice("/devices/virtual/input/input3/event3", "input", "input/event3", 13, 67);
    RootPaths paths{dir_.Sub("sys"), dir_.Sub("dev"), dir_.Sub("run")};
    mkdir(paths.dev.c_str(), 0755);
    roots_ = std::move(*Roots::Open(paths, true));
    database_ = std::move(*Database::Open(roots_.run(), true));
    auto rules = RuleSet::Parse("test.rules",
                                "[disks]\n"
                                "subsystem = block\n"
                                "group = disk\n"
                                "symlink = disk/by-diskseq/$env{DISKSEQ}\n"
                                "tag = systemd\n"
                                "set.ID_TEST = %k\n"
                                "[input]\n"
                                "subsystem = input\n"
                                "mode = 0640\n"
                                "run = notify %k\n",
                                FixedAccounts());
    ASSERT_TRUE(rules) << rules.error().Message();
    store_.Set(std::make_shared<const RuleSet>(std::move(*rules)));
    processor_ = std::make_unique<EventProcessor>(roots_, database_, nodes_, store_, runner_,
                                                  ProcessorOptions{false, "/tmp/devroot"});
  }

  Uevent Event(const std::string& action, const std::string& devpath) {
    auto device = Device::Open(roots_.sysfs(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent event = device->properties();
    event.Set("ACTION", action);
    return event;
  }

  testing::TempDir dir_;
  testing::FakeSysfs sysfs_{MakeDir(dir_.Sub("sys"))};
  Roots roots_;
  Database database_;
  RecordingNodeWriter nodes_;
  NoPrograms runner_;
  RuleStore store_;
  std::unique_ptr<EventProcessor> processor_;
};

TEST_F(EventProcessorTest, NodeModeComesFromTheKernelWithoutARule) {
  Uevent published = processor_->Process(Event("add", "/devices/virtual/mem/null")).event;
  EXPECT_EQ(nodes_.TakeLines(), (std::vector<std::string>{"mknod c 1:3 0666 0:0 null",
                                                          "ln char/1:3 -> ../null"}));
  EXPECT_EQ(published.GetOr("DEVNAME"), "/tmp/devroot/null");
  EXPECT_TRUE(published.Has("USEC_INITIALIZED"));
  auto record = database_.Read("c1:3");
  ASSERT_TRUE(record);
  EXPECT_TRUE(record->links.empty());
}

TEST_F(EventProcessorTest, RulesSetGroupLinksTagsAndProperties) {
  Uevent published = processor_->Process(Event("add", "/devices/virtual/block/loop0")).event;
  EXPECT_EQ(nodes_.TakeLines(), (std::vector<std::string>{
                                    // made closed first, for builtins that probe it
                                    "mknod b 7:0 0600 0:0 loop0",
                                    "mknod b 7:0 0660 0:6 loop0",
                                    "ln disk/by-diskseq/9 -> ../../loop0",
                                    "ln block/7:0 -> ../loop0",
                                }));
  EXPECT_EQ(published.GetOr("DEVLINKS"), "/tmp/devroot/disk/by-diskseq/9");
  EXPECT_EQ(published.GetOr("TAGS"), ":systemd:");
  EXPECT_EQ(published.GetOr("CURRENT_TAGS"), ":systemd:");
  EXPECT_EQ(published.GetOr("ID_TEST"), "loop0");
  auto record = database_.Read("b7:0");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->links, std::vector<std::string>{"disk/by-diskseq/9"});
  // DISKSEQ is the kernel's, but the record keeps it: it names the medium (issue 3).
  EXPECT_EQ(record->properties, (std::vector<Property>{{"DISKSEQ", "9"}, {"ID_TEST", "loop0"}}));
  EXPECT_EQ(record->tags, std::vector<std::string>{"systemd"});
}

TEST_F(EventProcessorTest, ChangeDropsStaleLinksAndRemoveCleansUp) {
  (void)processor_->Process(Event("add", "/devices/virtual/block/loop0"));
  nodes_.TakeLines();
  uint64_t initialized = database_.Read("b7:0")->usec_initialized;

  // The loop device got a new medium: a new DISKSEQ, so a new by-diskseq link.
  Uevent change = Event("change", "/devices/virtual/block/loop0");
  change.Set("DISKSEQ", "10");
  (void)processor_->Process(change);
  auto lines = nodes_.TakeLines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "ln disk/by-diskseq/10 -> ../../loop0"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "rmlink disk/by-diskseq/9"), lines.end());
  EXPECT_EQ(database_.Read("b7:0")->usec_initialized, initialized);

  Uevent published = processor_->Process(Event("remove", "/devices/virtual/block/loop0")).event;
  lines = nodes_.TakeLines();
  EXPECT_EQ(lines, (std::vector<std::string>{"rm b 7:0 loop0", "rmlink block/7:0",
                                             "rmlink disk/by-diskseq/10"}));
  EXPECT_EQ(published.GetOr("DEVLINKS"), "/tmp/devroot/disk/by-diskseq/10");
  EXPECT_EQ(database_.Read("b7:0").error().code, ENOENT);
  struct stat st;
  EXPECT_NE(stat(dir_.Sub("run/udev/tags/systemd/b7:0").c_str(), &st), 0);
}

TEST_F(EventProcessorTest, UnchangedRecordIsNotRewritten) {
  (void)processor_->Process(Event("add", "/devices/virtual/block/loop0"));
  auto inode = [this] {
    struct stat st;
    EXPECT_EQ(stat(dir_.Sub("run/udev/data/b7:0").c_str(), &st), 0);
    return st.st_ino;
  };
  ino_t first = inode();
  (void)processor_->Process(Event("change", "/devices/virtual/block/loop0"));
  EXPECT_EQ(inode(), first) << "same rules, same result: no write";
  Uevent change = Event("change", "/devices/virtual/block/loop0");
  change.Set("DISKSEQ", "11");
  (void)processor_->Process(change);
  EXPECT_NE(inode(), first) << "a new link must reach the database";
  EXPECT_EQ(database_.Read("b7:0")->links, std::vector<std::string>{"disk/by-diskseq/11"});
}

TEST_F(EventProcessorTest, NestedNamesAndPrograms) {
  (void)processor_->Process(Event("add", "/devices/virtual/input/input3/event3"));
  EXPECT_EQ(nodes_.TakeLines(), (std::vector<std::string>{"mknod c 13:67 0640 0:0 input/event3",
                                                          "ln char/13:67 -> ../input/event3"}));
  EXPECT_EQ(runner_.ran, std::vector<std::string>{"notify event3"});
}

// Two disks with the same label: both claim disk/by-label/data, the higher link priority
// owns it, and it falls back or goes as the claimants change and leave.
TEST_F(EventProcessorTest, SharedLinksFollowTheBestClaimant) {
  sysfs_.AddBlockDevice("/devices/virtual/block/loop1", "loop1", 7, 1, "disk", {{"DISKSEQ", "10"}});
  auto rules = RuleSet::Parse("test.rules",
                              "[by-label]\n"
                              "subsystem = block\n"
                              "symlink = disk/by-label/$env{LABEL} disk/by-diskseq/$env{DISKSEQ}\n"
                              "[preferred]\n"
                              "kernel = loop1\n"
                              "link_priority = 10\n",
                              FixedAccounts());
  ASSERT_TRUE(rules) << rules.error().Message();
  store_.Set(std::make_shared<const RuleSet>(std::move(*rules)));
  LinkClaims claims(roots_.run(), nodes_);
  auto claimants = [&](const std::string& link) {
    std::vector<std::string> ids;
    auto found = claims.Claimants(link);
    EXPECT_TRUE(found) << link;
    for (const auto& claim : found.value_or(std::vector<LinkClaim>{}))
      ids.push_back(claim.device_id);
    return ids;
  };
  auto event = [&](const std::string& action, const std::string& devpath, const char* label) {
    Uevent uevent = Event(action, devpath);
    uevent.Set("LABEL", label);
    return uevent;
  };
  auto contains = [](const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };

  (void)processor_->Process(event("add", "/devices/virtual/block/loop1", "data"));
  (void)processor_->Process(event("add", "/devices/virtual/block/loop0", "data"));
  auto lines = nodes_.TakeLines();
  EXPECT_TRUE(contains(lines, "ln disk/by-label/data -> ../../loop1"));
  EXPECT_FALSE(contains(lines, "ln disk/by-label/data -> ../../loop0"))
      << "loop0's lower priority must not take the link";
  EXPECT_EQ(claimants("disk/by-label/data"), (std::vector<std::string>{"b7:0", "b7:1"}));

  // loop1 is relabelled: it drops only the by-label claim, and the link falls back.
  (void)processor_->Process(event("change", "/devices/virtual/block/loop1", "other"));
  lines = nodes_.TakeLines();
  EXPECT_TRUE(contains(lines, "ln disk/by-label/data -> ../../loop0"));
  EXPECT_TRUE(contains(lines, "ln disk/by-label/other -> ../../loop1"));
  EXPECT_EQ(claimants("disk/by-label/data"), std::vector<std::string>{"b7:0"});
  EXPECT_EQ(claimants("disk/by-diskseq/10"), std::vector<std::string>{"b7:1"});

  (void)processor_->Process(event("remove", "/devices/virtual/block/loop0", "data"));
  lines = nodes_.TakeLines();
  EXPECT_TRUE(contains(lines, "rmlink disk/by-label/data"));
  EXPECT_TRUE(claimants("disk/by-label/data").empty());
  EXPECT_EQ(claimants("disk/by-label/other"), std::vector<std::string>{"b7:1"});
}

TEST_F(EventProcessorTest, DevtmpfsOnlySetsPermissions) {
  EventProcessor devtmpfs(roots_, database_, nodes_, store_, runner_, ProcessorOptions{true, "/dev"});
  (void)devtmpfs.Process(Event("add", "/devices/virtual/block/loop0"));
  auto lines = nodes_.TakeLines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "chmod b 7:0 0660 0:6 loop0");
  (void)devtmpfs.Process(Event("remove", "/devices/virtual/block/loop0"));
  lines = nodes_.TakeLines();
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& line) { return line.starts_with("rm "); }),
            0);
}

}  // namespace
}  // namespace vdev

namespace vdev {
namespace {

// write.ATTR (udev's ATTR{name}="value"): after the event, into the device's or, through
// "../", a parent's attribute; never outside sysfs; only logged in a dry run.
class AttributeWriteTest : public EventProcessorTest {
 protected:
  void UseRules(const char* text, bool write_attributes) {
    auto rules = RuleSet::Parse("write.rules", text, FixedAccounts());
    ASSERT_TRUE(rules) << rules.error().Message();
    store_.Set(std::make_shared<const RuleSet>(std::move(*rules)));
    ProcessorOptions options{false, "/tmp/devroot"};
    options.write_attributes = write_attributes;
    processor_ = std::make_unique<EventProcessor>(roots_, database_, nodes_, store_, runner_,
                                                  options);
  }
  std::string Attribute(const std::string& path) {
    return ReadFileAt(roots_.sysfs(), path, 4096).value_or("<missing>");
  }
  static constexpr const char* kRules =
      "[poke]\n"
      "subsystem = input\n"
      "write.../trigger = change\n"
      "write.own = %k\n"
      "write.../../../../../../escape = no\n";
};

TEST_F(AttributeWriteTest, WritesTheDevicesAndItsParentsAttributesOnly) {
  sysfs_.SetAttribute("/devices/virtual/input/input3", "trigger", "");
  sysfs_.SetAttribute("/devices/virtual/input/input3/event3", "own", "");
  ASSERT_NO_FATAL_FAILURE(UseRules(kRules, true));
  processor_->Process(Event("add", "/devices/virtual/input/input3/event3"));
  EXPECT_EQ(Attribute("devices/virtual/input/input3/trigger"), "change");
  EXPECT_EQ(Attribute("devices/virtual/input/input3/event3/own"), "event3");
  struct stat info;
  EXPECT_NE(fstatat(roots_.sysfs(), "../escape", &info, 0), 0) << "written outside sysfs";
  EXPECT_NE(fstatat(roots_.sysfs(), "escape", &info, 0), 0);
}

TEST_F(AttributeWriteTest, DryRunWritesNothing) {
  sysfs_.SetAttribute("/devices/virtual/input/input3", "trigger", "untouched");
  ASSERT_NO_FATAL_FAILURE(UseRules(kRules, false));
  processor_->Process(Event("add", "/devices/virtual/input/input3/event3"));
  EXPECT_EQ(Attribute("devices/virtual/input/input3/trigger"), "untouched\n");
}

TEST_F(AttributeWriteTest, AttributeNamesMustStayBelowTheDevice) {
  for (const char* key : {"write./abs = x", "write.a/../b = x", "write.a//b = x",
                          "write. = x", "write.../ = x"}) {
    auto rules = RuleSet::Parse("bad.rules", std::string("[bad]\n") + key + "\n", FixedAccounts());
    EXPECT_FALSE(rules) << key;
  }
}

}  // namespace
}  // namespace vdev
