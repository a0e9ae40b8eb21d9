#include "common/database.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

TEST(DatabaseFormat, MatchesUdev) {
  DeviceRecord record;
  record.links = {"disk/by-id/usb-x", "disk/by-uuid/1234"};
  record.link_priority = -100;
  record.usec_initialized = 123456;
  record.properties = {{"ID_FS_TYPE", "ext4"}, {"ID_FS_UUID", "1234"}};
  record.tags = {"systemd", "uaccess"};
  record.current_tags = {"uaccess"};
  EXPECT_EQ(FormatRecord(record),
            "S:disk/by-id/usb-x\nS:disk/by-uuid/1234\nL:-100\nI:123456\n"
            "E:ID_FS_TYPE=ext4\nE:ID_FS_UUID=1234\nG:systemd\nG:uaccess\nQ:uaccess\nV:1\n");
  auto parsed = ParseRecord(FormatRecord(record));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, record);
}

TEST(DatabaseFormat, SkipsUnknownLines) {
  auto parsed = ParseRecord("W:12\nN:sda\nE:A=b=c\nX\n\nE:noequals\n");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->properties.size(), 1u);
  EXPECT_EQ(parsed->properties[0].second, "b=c");
}

TEST(Database, WritesRecordsAndTagIndex) {
  testing::TempDir run;
  UniqueFd run_fd = *OpenDirAt(AT_FDCWD, run.path());
  auto database = Database::Open(run_fd.get(), true);
  ASSERT_TRUE(database) << database.error().Message();

  DeviceRecord first;
  first.tags = {"seat", "uaccess"};
  ASSERT_TRUE(database->Write("c13:64", first, nullptr));
  struct stat st;
  EXPECT_EQ(stat(run.Sub("udev/tags/seat/c13:64").c_str(), &st), 0);

  DeviceRecord second;
  second.tags = {"seat"};
  ASSERT_TRUE(database->Write("c13:64", second, &first));
  EXPECT_NE(stat(run.Sub("udev/tags/uaccess/c13:64").c_str(), &st), 0);
  EXPECT_EQ(database->ListTagged("seat").value_or(std::vector<std::string>{}),
            std::vector<std::string>{"c13:64"});
  EXPECT_EQ(database->Read("c13:64").value_or(DeviceRecord{}), second);
  EXPECT_EQ(database->ListIds().value_or(std::vector<std::string>{}),
            std::vector<std::string>{"c13:64"});

  ASSERT_TRUE(database->Remove("c13:64", &second));
  EXPECT_EQ(database->Read("c13:64").error().code, ENOENT);
  EXPECT_NE(stat(run.Sub("udev/tags/seat/c13:64").c_str(), &st), 0);
  EXPECT_FALSE(database->Write("../escape", second, nullptr));
}

}  // namespace
}  // namespace vdev
