// libudev-compat: udev_util_encode_string, the udev context object and udev_list_entry.
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libudev.h>

#include <string>

#include "libudev_test_tree.h"
#include "udev_list_internal.h"

namespace vdev::testing {
namespace {

using ::testing::ElementsAre;

std::string Encode(const std::string& text, size_t size = 256) {
  std::string out(size, '\0');
  int result = udev_util_encode_string(text.c_str(), out.data(), size);
  if (result < 0) return "error " + std::to_string(result);
  return out.c_str();
}

TEST(LibudevUtilTest, EncodeStringEscapesLikeUdev) {
  EXPECT_EQ(Encode("plain-Name_1.2:3@x=y+z#"), "plain-Name_1.2:3@x=y+z#");
  EXPECT_EQ(Encode("a b/c\\d\"'"), "a\\x20b\\x2fc\\x5cd\\x22\\x27");
  EXPECT_EQ(Encode("\x01\x7f"), "\\x01\\x7f");
  // Valid UTF-8 of two or more bytes is kept; anything else is escaped byte by byte.
  EXPECT_EQ(Encode("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(Encode("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(Encode("\xc3("), "\\xc3\\x28");
  EXPECT_EQ(Encode("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(Encode("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(Encode("\xef\xbf\xbe"), "\\xef\\xbf\\xbe");  // U+FFFE
  EXPECT_EQ(Encode("\xff"), "\\xff");
  EXPECT_EQ(Encode(""), "");
}

TEST(LibudevUtilTest, EncodeStringNeedsRoomForEverything) {
  EXPECT_EQ(Encode("ab", 3), "ab");
  EXPECT_EQ(Encode("ab", 2), "error " + std::to_string(-EINVAL));
  EXPECT_EQ(Encode(" ", 5), "\\x20");
  EXPECT_EQ(Encode(" ", 4), "error " + std::to_string(-EINVAL));
  EXPECT_EQ(Encode("\xc3\xa9", 2), "error " + std::to_string(-EINVAL));
  char out[8];
  EXPECT_EQ(udev_util_encode_string(nullptr, out, sizeof(out)), -EINVAL);
  EXPECT_EQ(udev_util_encode_string("x", nullptr, 8), -EINVAL);
}

TEST(LibudevContextTest, UserdataLogPriorityAndReferences) {
  UdevPtr context(udev_new());
  ASSERT_TRUE(context);
  EXPECT_EQ(udev_get_userdata(context.get()), nullptr);
  int marker = 0;
  udev_set_userdata(context.get(), &marker);
  EXPECT_EQ(udev_get_userdata(context.get()), &marker);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EXPECT_EQ(udev_get_log_priority(context.get()), 6);
  udev_set_log_priority(context.get(), 3);
  EXPECT_EQ(udev_get_log_priority(context.get()), 3);
  udev_set_log_fn(context.get(), nullptr);
#pragma GCC diagnostic pop
  EXPECT_EQ(udev_ref(context.get()), context.get());
  EXPECT_EQ(udev_unref(context.get()), nullptr);
  EXPECT_EQ(udev_get_userdata(context.get()), &marker);  // one reference left
  errno = 0;
  EXPECT_EQ(udev_get_userdata(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(udev_ref(nullptr), nullptr);
  EXPECT_EQ(udev_unref(nullptr), nullptr);
}

TEST(LibudevListTest, SortedListsKeepOneEntryPerName) {
  compat::EntryList list(compat::EntryList::Order::kByName);
  list.Add("b", "1");
  list.Add("a");
  list.Add("b", "2");
  EXPECT_THAT(ListOf(list.First()), ElementsAre("a", "b=2"));
  udev_list_entry* last = udev_list_entry_get_next(list.First());
  // A sorted list is searched whole, whichever entry the search starts from.
  udev_list_entry* a = udev_list_entry_get_by_name(last, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_STREQ(udev_list_entry_get_name(a), "a");
  EXPECT_EQ(udev_list_entry_get_value(a), nullptr);
  EXPECT_EQ(udev_list_entry_get_by_name(last, "c"), nullptr);
  list.Clear();
  EXPECT_EQ(list.First(), nullptr);
  errno = 0;
  EXPECT_EQ(udev_list_entry_get_name(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(udev_list_entry_get_next(nullptr), nullptr);
}

TEST(LibudevListTest, InsertionListsKeepOrderAndDuplicates) {
  compat::EntryList list(compat::EntryList::Order::kInsertion);
  list.Add("z");
  list.Add("a");
  list.Add("z");
  EXPECT_THAT(ListOf(list.First()), ElementsAre("z", "a", "z"));
}

}  // namespace
}  // namespace vdev::testing
