#include "common/uevent.h"

#include <sys/sysmacros.h>

#include <string>

#include <gtest/gtest.h>

namespace vdev {
namespace {

std::string Datagram(std::initializer_list<std::string> fields) {
  std::string buffer;
  for (const auto& field : fields) {
    buffer += field;
    buffer += '\0';
  }
  return buffer;
}

TEST(KernelUevent, ParsesHeaderAndProperties) {
  std::string buffer =
      Datagram({"add@/devices/virtual/block/loop0", "ACTION=add",
                "DEVPATH=/devices/virtual/block/loop0", "SUBSYSTEM=block", "MAJOR=7", "MINOR=0",
                "DEVNAME=loop0", "DEVTYPE=disk", "DISKSEQ=12", "SEQNUM=4711"});
  auto event = ParseKernelUevent(buffer);
  ASSERT_TRUE(event) << event.error().Message();
  EXPECT_EQ(event->action(), "add");
  EXPECT_EQ(event->devpath(), "/devices/virtual/block/loop0");
  EXPECT_EQ(event->subsystem(), "block");
  EXPECT_EQ(event->seqnum(), 4711u);
  EXPECT_EQ(event->devnum(), makedev(7, 0));
  EXPECT_EQ(event->GetOr("DISKSEQ"), "12");
  EXPECT_EQ(event->properties().front().first, "ACTION");
}

TEST(KernelUevent, RejectsMalformedInput) {
  const std::string cases[] = {
      "",
      std::string("no-at-sign\0ACTION=add\0", 22),
      Datagram({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/y", "SUBSYSTEM=mem"}),
      Datagram({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x"}),  // no SUBSYSTEM
      Datagram({"explode@/devices/x", "ACTION=explode", "DEVPATH=/devices/x", "SUBSYSTEM=a"}),
      Datagram({"add@/devices/../etc", "ACTION=add", "DEVPATH=/devices/../etc", "SUBSYSTEM=a"}),
      Datagram({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "SUBSYSTEM=a", "NOEQUALS"}),
      Datagram({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "SUBSYSTEM=a",
                "DEVNAME=../../etc/passwd"}),
      Datagram({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x", "SUBSYSTEM=a", "BAD-KEY=1"}),
      "libudev\0\xfe\xed\xca\xfe",
  };
  for (const auto& input : cases) {
    EXPECT_FALSE(ParseKernelUevent(input)) << "accepted: " << input;
  }
}

TEST(KernelUevent, TruncatedDatagramKeepsWhatParsed) {
  std::string buffer = Datagram({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x",
                                 "SUBSYSTEM=mem", "MAJOR=1"});
  buffer.pop_back();  // no final NUL: the last field ends at the buffer's end
  auto event = ParseKernelUevent(buffer);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->GetOr("MAJOR"), "1");
}

TEST(UeventFile, ParsesLines) {
  auto event = ParseUeventFile("MAJOR=1\nMINOR=3\nDEVNAME=null\nDEVMODE=0666\n");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->devname(), "null");
  EXPECT_EQ(event->GetOr("DEVMODE"), "0666");
  EXPECT_FALSE(ParseUeventFile("GARBAGE\n"));
}

TEST(Replay, ParsesParagraphsAndReportsLines) {
  auto events = ParseReplayText(
      "# a comment\n"
      "ACTION=add\nDEVPATH=/devices/virtual/mem/null\nSUBSYSTEM=mem\nSEQNUM=1\n"
      "\n\n"
      "ACTION=remove\nDEVPATH=/devices/virtual/mem/null\nSUBSYSTEM=mem\nSEQNUM=2\n");
  ASSERT_TRUE(events) << events.error().Message();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].action(), "remove");

  auto bad = ParseReplayText("ACTION=add\nDEVPATH=/devices/x\nSUBSYSTEM=mem\nbroken line\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("line 4"), std::string::npos) << bad.error().context;
}

TEST(Replay, MonitorOutputReplaysAsItIs) {
  auto events = ParseReplayText(
      "monitor will print the received events for:\n"
      "UDEV - the event which udev sends out after rule processing\n"
      "KERNEL - the kernel uevent\n"
      "\n"
      "KERNEL[1234.567890] add      /devices/virtual/mem/null (mem)\n"
      "ACTION=add\nDEVPATH=/devices/virtual/mem/null\nSUBSYSTEM=mem\nSEQNUM=7\n"
      "\n"
      "UDEV  [1234.578901] add      /devices/virtual/mem/null (mem)\n"
      "ACTION=add\nDEVPATH=/devices/virtual/mem/null\nSUBSYSTEM=mem\nSEQNUM=7\n\n");
  ASSERT_TRUE(events) << events.error().Message();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].seqnum(), 7u);
}

TEST(Replay, BadParagraphDoesNotSwallowTheNext) {
  std::string text =
      "ACTION=add\nbroken\nDEVPATH=/devices/a\nSUBSYSTEM=mem\n\n"
      "ACTION=add\nDEVPATH=/devices/b\nSUBSYSTEM=mem\n";
  FILE* input = fmemopen(text.data(), text.size(), "r");
  ReplayReader reader(input);
  EXPECT_FALSE(reader.Next());
  auto next = reader.Next();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->devpath(), "/devices/b");
  fclose(input);
}

TEST(Devpath, Validation) {
  EXPECT_TRUE(IsValidDevpath("/devices/pci0000:00/0000:00:1f.2"));
  EXPECT_FALSE(IsValidDevpath("devices/x"));
  EXPECT_FALSE(IsValidDevpath("/devices/../x"));
  EXPECT_FALSE(IsValidDevpath("/devices//x"));
  EXPECT_FALSE(IsValidDevpath("/devices/./x"));
  EXPECT_FALSE(IsValidDevpath("/"));
}

TEST(Uevent, FormatRoundTrips) {
  Uevent event;
  event.Set("ACTION", "add");
  event.Set("DEVPATH", "/devices/x");
  event.Set("SUBSYSTEM", "mem");
  auto parsed = ParseReplayText(FormatProperties(event));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].properties(), event.properties());
}

}  // namespace
}  // namespace vdev
