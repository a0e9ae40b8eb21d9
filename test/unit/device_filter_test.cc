#include "device_filter.h"

#include <gtest/gtest.h>

#include "common/uevent.h"

namespace vdev {
namespace {

DeviceFilter::Pattern P(const char* text) {
  auto pattern = DeviceFilter::ParsePattern(text);
  EXPECT_TRUE(pattern) << text;
  return pattern ? *pattern : DeviceFilter::Pattern{};
}

TEST(DeviceFilter, ParsesSubsystemAndKernelGlob) {
  auto pattern = DeviceFilter::ParsePattern("block:loop*");
  ASSERT_TRUE(pattern);
  EXPECT_EQ(pattern->subsystem, "block");
  EXPECT_EQ(pattern->kernel, "loop*");
  pattern = DeviceFilter::ParsePattern("input");
  ASSERT_TRUE(pattern);
  EXPECT_EQ(pattern->subsystem, "input");
  EXPECT_EQ(pattern->kernel, "");
  for (const char* bad : {"", ":loop0", "block:", "block:../x", "block: loop0"})
    EXPECT_FALSE(DeviceFilter::ParsePattern(bad)) << bad;
}

TEST(DeviceFilter, EmptyAdmitsEverything) {
  DeviceFilter filter;
  EXPECT_TRUE(filter.empty());
  EXPECT_TRUE(filter.Admits("tty", "tty0"));
  EXPECT_EQ(filter.Describe(), "every device");
}

TEST(DeviceFilter, AllowListAdmitsOnlyItsMatches) {
  DeviceFilter filter({P("block:loop*"), P("misc:loop-control")}, {});
  EXPECT_TRUE(filter.Admits("block", "loop0"));
  EXPECT_TRUE(filter.Admits("block", "loop12p3"));
  EXPECT_TRUE(filter.Admits("misc", "loop-control"));
  EXPECT_FALSE(filter.Admits("block", "sda"));
  EXPECT_FALSE(filter.Admits("misc", "fuse"));
  EXPECT_FALSE(filter.Admits("tty", "tty0"));
  EXPECT_FALSE(filter.Admits("mem", "null"));
  EXPECT_EQ(filter.Describe(), "allow block:loop*, allow misc:loop-control");
}

TEST(DeviceFilter, DenyWinsOverAllow) {
  DeviceFilter filter({P("block")}, {P("block:sd*"), P("block:nvme*")});
  EXPECT_TRUE(filter.Admits("block", "loop0"));
  EXPECT_FALSE(filter.Admits("block", "sda1"));
  EXPECT_FALSE(filter.Admits("block", "nvme0n1"));
  EXPECT_FALSE(filter.Admits("net", "eth0"));
}

TEST(DeviceFilter, DenyAloneAdmitsTheRest) {
  DeviceFilter filter({}, {P("tty"), P("mem")});
  EXPECT_TRUE(filter.Admits("block", "loop0"));
  EXPECT_FALSE(filter.Admits("tty", "ttyS0"));
  EXPECT_FALSE(filter.Admits("mem", "null"));
}

TEST(DeviceFilter, SubsystemIsAGlobToo) {
  DeviceFilter filter({P("usb*")}, {});
  EXPECT_TRUE(filter.Admits("usb", "1-1"));
  EXPECT_TRUE(filter.Admits("usbmisc", "hiddev0"));
  EXPECT_FALSE(filter.Admits("block", "usb"));
}

TEST(DeviceFilter, ReadsTheKernelNameFromTheDevpath) {
  DeviceFilter filter({P("block:loop*")}, {P("block:loop7")});
  Uevent loop;
  loop.Set("ACTION", "add");
  loop.Set("DEVPATH", "/devices/virtual/block/loop3");
  loop.Set("SUBSYSTEM", "block");
  EXPECT_TRUE(filter.Admits(loop));
  loop.Set("DEVPATH", "/devices/virtual/block/loop7");
  EXPECT_FALSE(filter.Admits(loop));
  Uevent disk;
  disk.Set("ACTION", "add");
  disk.Set("DEVPATH", "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda");
  disk.Set("SUBSYSTEM", "block");
  EXPECT_FALSE(filter.Admits(disk));
}

}  // namespace
}  // namespace vdev
