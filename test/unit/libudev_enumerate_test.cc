// libudev-compat's udev_enumerate through the C API over a fake tree (libudev_test_tree.h):
// every filter and the order of the result, as systemd 252's libudev gives them.
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libudev.h>

#include <functional>
#include <string>
#include <vector>

#include "libudev_test_tree.h"

namespace vdev::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr const char* kSound = "/devices/pci0000:00/0000:00:1f.2/sound/card0";

class LibudevEnumerateTest : public ::testing::Test {
 protected:
  // Devpaths of a devices scan after configure() set the filters.
  std::vector<std::string> Scan(const std::function<void(udev_enumerate*)>& configure) {
    EnumeratePtr enumerate(udev_enumerate_new(tree_.context()));
    configure(enumerate.get());
    EXPECT_EQ(udev_enumerate_scan_devices(enumerate.get()), 0);
    return tree_.Devpaths(enumerate.get());
  }

  LibudevTree tree_;
};

TEST_F(LibudevEnumerateTest, AllDevicesInSdDeviceOrder) {
  // Path components compare one by one ("a" < "a-c"), md and dm come last, and root0 (in no
  // bus/ or class/ listing) comes in as the parent of ttyX0.
  EXPECT_THAT(
      Scan([](udev_enumerate*) {}),
      ElementsAre(LibudevTree::kPci, LibudevTree::kSda, LibudevTree::kSda1, kSound,
                  std::string(kSound) + "/controlC0", std::string(kSound) + "/pcmC0D0p",
                  "/devices/platform/root0", "/devices/platform/root0/tty/ttyX0",
                  "/devices/platform/serial8250", "/devices/virtual/a/b", "/devices/virtual/a-c",
                  "/devices/virtual/block/loop0", "/devices/virtual/input/input3",
                  "/devices/virtual/input/input3/event3", "/devices/virtual/mem/null",
                  "/devices/virtual/mem/zero", "/devices/virtual/misc/cciss!c0d0",
                  "/devices/virtual/net/eth0", "/devices/virtual/net/lo",
                  "/devices/virtual/block/dm-0", "/devices/virtual/block/md0"));
}

TEST_F(LibudevEnumerateTest, SubsystemMatchesAreGlobsAndNomatchWins) {
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_subsystem(e, "block"); }),
              ElementsAre(LibudevTree::kSda, LibudevTree::kSda1, "/devices/virtual/block/loop0",
                          "/devices/virtual/block/dm-0", "/devices/virtual/block/md0"));
  EXPECT_THAT(
      Scan([](udev_enumerate* e) { udev_enumerate_add_match_subsystem(e, "so*"); }),
      ElementsAre(kSound, std::string(kSound) + "/controlC0", std::string(kSound) + "/pcmC0D0p"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_subsystem(e, "mem");
                udev_enumerate_add_match_subsystem(e, "net");
              }),
              ElementsAre("/devices/virtual/mem/null", "/devices/virtual/mem/zero",
                          "/devices/virtual/net/eth0", "/devices/virtual/net/lo"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_subsystem(e, "block");
                udev_enumerate_add_nomatch_subsystem(e, "block");
              }),
              IsEmpty());
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                for (const char* s : {"block", "sound", "net", "mem", "input", "misc*", "tty"})
                  udev_enumerate_add_nomatch_subsystem(e, s);
              }),
              ElementsAre(LibudevTree::kPci, "/devices/platform/serial8250"));
  // platform devices reached only as a parent of an excluded tty are not listed.
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_subsystem(e, "platform"); }),
              ElementsAre("/devices/platform/serial8250"));
}

TEST_F(LibudevEnumerateTest, SysattrMatchesAllNamesAnyValue) {
  std::vector<std::string> sized = {LibudevTree::kSda, LibudevTree::kSda1,
                                    "/devices/virtual/block/loop0", "/devices/virtual/block/dm-0",
                                    "/devices/virtual/block/md0"};
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_sysattr(e, "size", nullptr); }),
              ElementsAreArray(sized));
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_sysattr(e, "size", "1*"); }),
              ElementsAre(LibudevTree::kSda1, "/devices/virtual/block/md0"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_sysattr(e, "size", "100");
                udev_enumerate_add_match_sysattr(e, "size", "200");
              }),
              ElementsAre("/devices/virtual/block/dm-0", "/devices/virtual/block/md0"));
  // A later NULL value drops the values: any size will do again.
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_sysattr(e, "size", "100");
                udev_enumerate_add_match_sysattr(e, "size", nullptr);
              }),
              ElementsAreArray(sized));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_sysattr(e, "size", nullptr);
                udev_enumerate_add_match_sysattr(e, "ro", "0");
              }),
              ElementsAre("/devices/virtual/block/md0"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_subsystem(e, "block");
                udev_enumerate_add_nomatch_sysattr(e, "ro", "1");
              }),
              ElementsAre(LibudevTree::kSda, LibudevTree::kSda1, "/devices/virtual/block/dm-0",
                          "/devices/virtual/block/md0"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_subsystem(e, "block");
                udev_enumerate_add_nomatch_sysattr(e, "ro", nullptr);
              }),
              ElementsAre(LibudevTree::kSda, LibudevTree::kSda1, "/devices/virtual/block/dm-0"));
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_sysattr(e, "driver", "ah*"); }),
              ElementsAre(LibudevTree::kPci));
}

TEST_F(LibudevEnumerateTest, PropertyMatchesAnyOfThem) {
  EXPECT_THAT(
      Scan([](udev_enumerate* e) { udev_enumerate_add_match_property(e, "ID_INPUT", "1"); }),
      ElementsAre("/devices/virtual/input/input3/event3"));
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_property(e, "ID_INP*", "1"); }),
              ElementsAre("/devices/virtual/input/input3/event3"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_property(e, "ID_INPUT", "1");
                udev_enumerate_add_match_property(e, "INTERFACE", "lo");
              }),
              ElementsAre("/devices/virtual/input/input3/event3", "/devices/virtual/net/lo"));
  EXPECT_THAT(
      Scan([](udev_enumerate* e) { udev_enumerate_add_match_property(e, "DEVNAME", "*/snd/*"); }),
      ElementsAre(std::string(kSound) + "/controlC0", std::string(kSound) + "/pcmC0D0p"));
  // A property without a value pattern matches nothing, as in systemd's libudev.
  EXPECT_THAT(
      Scan([](udev_enumerate* e) { udev_enumerate_add_match_property(e, "MAJOR", nullptr); }),
      IsEmpty());
}

TEST_F(LibudevEnumerateTest, SysnameMatchesTheDirectoryName) {
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_sysname(e, "loop*"); }),
              ElementsAre("/devices/virtual/block/loop0"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_sysname(e, "null");
                udev_enumerate_add_match_sysname(e, "zero");
              }),
              ElementsAre("/devices/virtual/mem/null", "/devices/virtual/mem/zero"));
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_sysname(e, "cciss!c0d0"); }),
              ElementsAre("/devices/virtual/misc/cciss!c0d0"));
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_sysname(e, "cciss/c0d0"); }),
              IsEmpty());
}

TEST_F(LibudevEnumerateTest, TagsListTheUnionOfTheirDevices) {
  // root0 is tagged too, but its id names no listed device.
  EXPECT_THAT(
      Scan([](udev_enumerate* e) { udev_enumerate_add_match_tag(e, "seat"); }),
      ElementsAre(std::string(kSound) + "/controlC0", "/devices/virtual/input/input3/event3"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_tag(e, "seat");
                udev_enumerate_add_match_tag(e, "systemd");
              }),
              ElementsAre(LibudevTree::kSda, std::string(kSound) + "/controlC0",
                          "/devices/virtual/input/input3/event3", "/devices/virtual/net/lo"));
  EXPECT_THAT(Scan([](udev_enumerate* e) {
                udev_enumerate_add_match_tag(e, "seat");
                udev_enumerate_add_match_subsystem(e, "input");
              }),
              ElementsAre("/devices/virtual/input/input3/event3"));
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_tag(e, "nope"); }), IsEmpty());
}

TEST_F(LibudevEnumerateTest, IsInitializedHoldsBackNodesAndInterfacesWithoutRecord) {
  EXPECT_THAT(Scan([](udev_enumerate* e) { udev_enumerate_add_match_is_initialized(e); }),
              ElementsAre(LibudevTree::kPci, LibudevTree::kSda, kSound,
                          std::string(kSound) + "/controlC0", "/devices/platform/serial8250",
                          "/devices/virtual/a-c", "/devices/virtual/input/input3",
                          "/devices/virtual/input/input3/event3", "/devices/virtual/net/lo"));
}

TEST_F(LibudevEnumerateTest, ParentListsItsSubtreeAndTheLastParentWins) {
  DevicePtr sda = tree_.Device(LibudevTree::kSda);
  DevicePtr pci = tree_.Device(LibudevTree::kPci);
  DevicePtr loop = tree_.Device("/devices/virtual/block/loop0");
  DevicePtr lo = tree_.Device("/devices/virtual/net/lo");
  EXPECT_THAT(Scan([&](udev_enumerate* e) { udev_enumerate_add_match_parent(e, sda.get()); }),
              ElementsAre(LibudevTree::kSda, LibudevTree::kSda1));
  EXPECT_THAT(
      Scan([&](udev_enumerate* e) {
        udev_enumerate_add_match_parent(e, pci.get());
        udev_enumerate_add_match_subsystem(e, "sound");
      }),
      ElementsAre(kSound, std::string(kSound) + "/controlC0", std::string(kSound) + "/pcmC0D0p"));
  EXPECT_THAT(Scan([&](udev_enumerate* e) {
                udev_enumerate_add_match_parent(e, loop.get());
                udev_enumerate_add_match_parent(e, lo.get());
              }),
              ElementsAre("/devices/virtual/net/lo"));
  EXPECT_THAT(Scan([&](udev_enumerate* e) {
                udev_enumerate_add_match_parent(e, pci.get());
                udev_enumerate_add_match_is_initialized(e);
              }),
              ElementsAre(LibudevTree::kPci, LibudevTree::kSda, kSound,
                          std::string(kSound) + "/controlC0"));
  EXPECT_THAT(Scan([&](udev_enumerate* e) {
                udev_enumerate_add_match_tag(e, "seat");
                udev_enumerate_add_match_parent(e, pci.get());
              }),
              ElementsAre(std::string(kSound) + "/controlC0"));
}

TEST_F(LibudevEnumerateTest, AddedSyspathsJoinAScanInOrder) {
  EnumeratePtr enumerate(udev_enumerate_new(tree_.context()));
  udev_enumerate_add_match_subsystem(enumerate.get(), "mem");
  // Before a scan there is no list: a scan starts afresh.
  EXPECT_EQ(
      udev_enumerate_add_syspath(enumerate.get(), tree_.Sys("/devices/virtual/net/lo").c_str()), 0);
  errno = 0;
  EXPECT_EQ(udev_enumerate_get_list_entry(enumerate.get()), nullptr);
  EXPECT_EQ(errno, ENODATA);
  ASSERT_EQ(udev_enumerate_scan_devices(enumerate.get()), 0);
  EXPECT_EQ(udev_enumerate_add_syspath(enumerate.get(), tree_.Sys("/devices/platform").c_str()), 0);
  EXPECT_EQ(udev_enumerate_add_syspath(enumerate.get(), tree_.Sys("/class/mem/null").c_str()), 0);
  EXPECT_EQ(udev_enumerate_add_syspath(enumerate.get(), tree_.Sys("/devices/nope").c_str()),
            -ENODEV);
  EXPECT_EQ(udev_enumerate_add_syspath(enumerate.get(), nullptr), 0);
  EXPECT_THAT(
      tree_.Devpaths(enumerate.get()),
      ElementsAre("/devices/platform", "/devices/virtual/mem/null", "/devices/virtual/mem/zero"));
  // A new filter needs a new scan.
  udev_enumerate_add_match_subsystem(enumerate.get(), "net");
  EXPECT_THAT(tree_.Devpaths(enumerate.get()), IsEmpty());
  ASSERT_EQ(udev_enumerate_scan_devices(enumerate.get()), 0);
  EXPECT_THAT(tree_.Devpaths(enumerate.get()),
              ElementsAre("/devices/virtual/mem/null", "/devices/virtual/mem/zero",
                          "/devices/virtual/net/eth0", "/devices/virtual/net/lo"));
}

TEST_F(LibudevEnumerateTest, SubsystemsAreModulesBusesAndDrivers) {
  EnumeratePtr all(udev_enumerate_new(tree_.context()));
  ASSERT_EQ(udev_enumerate_scan_subsystems(all.get()), 0);
  EXPECT_THAT(
      tree_.Devpaths(all.get()),
      ElementsAre("/bus/pci", "/bus/pci/drivers", "/bus/pci/drivers/ahci", "/bus/platform",
                  "/bus/platform/drivers", "/bus/platform/drivers/rootdrv", "/module/loop"));
  EnumeratePtr modules(udev_enumerate_new(tree_.context()));
  udev_enumerate_add_match_subsystem(modules.get(), "module");
  ASSERT_EQ(udev_enumerate_scan_subsystems(modules.get()), 0);
  EXPECT_THAT(tree_.Devpaths(modules.get()), ElementsAre("/module/loop"));
  EnumeratePtr no_drivers(udev_enumerate_new(tree_.context()));
  udev_enumerate_add_nomatch_subsystem(no_drivers.get(), "drivers");
  ASSERT_EQ(udev_enumerate_scan_subsystems(no_drivers.get()), 0);
  EXPECT_THAT(tree_.Devpaths(no_drivers.get()),
              ElementsAre("/bus/pci", "/bus/platform", "/module/loop"));
}

TEST_F(LibudevEnumerateTest, ListEntriesAndErrors) {
  EnumeratePtr enumerate(udev_enumerate_new(tree_.context()));
  ASSERT_TRUE(enumerate);
  EXPECT_EQ(udev_enumerate_get_udev(enumerate.get()), tree_.context());
  errno = 0;
  EXPECT_EQ(udev_enumerate_get_list_entry(enumerate.get()), nullptr);  // nothing scanned
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(udev_enumerate_add_match_subsystem(nullptr, "mem"), -EINVAL);
  EXPECT_EQ(udev_enumerate_add_match_subsystem(enumerate.get(), nullptr), 0);
  EXPECT_EQ(udev_enumerate_add_match_parent(enumerate.get(), nullptr), 0);
  EXPECT_EQ(udev_enumerate_scan_devices(nullptr), -EINVAL);
  errno = 0;
  EXPECT_EQ(udev_enumerate_get_list_entry(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  udev_enumerate_add_match_subsystem(enumerate.get(), "mem");
  ASSERT_EQ(udev_enumerate_scan_devices(enumerate.get()), 0);
  udev_list_entry* first = udev_enumerate_get_list_entry(enumerate.get());
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(udev_list_entry_get_value(first), nullptr);
  std::string zero = tree_.Sys("/devices/virtual/mem/zero");
  udev_list_entry* found = udev_list_entry_get_by_name(first, zero.c_str());
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(udev_list_entry_get_name(found), zero);
  // An insertion-ordered list is searched from the given entry on.
  EXPECT_EQ(udev_list_entry_get_by_name(found, tree_.Sys("/devices/virtual/mem/null").c_str()),
            nullptr);
  EXPECT_EQ(udev_enumerate_ref(enumerate.get()), enumerate.get());
  EXPECT_EQ(udev_enumerate_unref(enumerate.get()), nullptr);
}

}  // namespace
}  // namespace vdev::testing
