#include "device_table.h"

#include <gtest/gtest.h>

namespace vdev {
namespace {

Uevent Event(std::string action, std::string devpath, std::string major = "",
             std::string minor = "", std::string diskseq = "") {
  Uevent event;
  event.Set("ACTION", action);
  event.Set("DEVPATH", devpath);
  event.Set("SUBSYSTEM", "block");
  if (!major.empty()) {
    event.Set("MAJOR", major);
    event.Set("MINOR", minor);
    event.Set("DEVNAME", std::string(devpath.substr(devpath.rfind('/') + 1)));
  }
  if (!diskseq.empty()) event.Set("DISKSEQ", diskseq);
  event.Set("ID_FS_TYPE", "ext4");  // not identity: must not be kept
  return event;
}

std::vector<std::string> Describe(const std::vector<Uevent>& events) {
  std::vector<std::string> lines;
  for (const auto& event : events)
    lines.push_back(std::string(event.action()) + " " + std::string(event.devpath()));
  return lines;
}

TEST(DeviceTable, ReconcileFindsWhatWasLost) {
  DeviceTable table;
  table.Update(Event("add", "/devices/virtual/block/loop0", "7", "0", "5"));
  table.Update(Event("add", "/devices/virtual/block/loop1", "7", "1", "6"));
  table.Update(Event("add", "/devices/virtual/block/loop2", "7", "2", "7"));
  table.Update(Event("add", "/devices/virtual/block/loop2/loop2p1", "259", "0"));
  table.Update(Event("add", "/devices/virtual/block/gone", "7", "9"));
  table.Update(Event("remove", "/devices/virtual/block/gone", "7", "9"));
  EXPECT_EQ(table.size(), 4u);

  // Now sysfs shows: loop0 unchanged, loop1 re-attached (new DISKSEQ), loop2 and its
  // partition gone, loop3 new.
  std::vector<Uevent> present = {Event("add", "/devices/virtual/block/loop0", "7", "0", "5"),
                                 Event("add", "/devices/virtual/block/loop1", "7", "1", "8"),
                                 Event("add", "/devices/virtual/block/loop3", "7", "3", "9")};
  auto events = table.Reconcile(present);
  EXPECT_EQ(Describe(events), (std::vector<std::string>{
                                  "remove /devices/virtual/block/loop1",
                                  "add /devices/virtual/block/loop1",
                                  "add /devices/virtual/block/loop3",
                                  "remove /devices/virtual/block/loop2/loop2p1",
                                  "remove /devices/virtual/block/loop2",
                              }));
  // The synthesized remove carries what the processor needs to delete the node.
  EXPECT_EQ(events[0].GetOr("DISKSEQ"), "6");
  EXPECT_EQ(events[0].GetOr("DEVNAME"), "loop1");
  EXPECT_FALSE(events[0].Has("ID_FS_TYPE"));
  EXPECT_EQ(table.Ids().count("b259:0"), 1u);
}

TEST(DeviceTable, MoveForgetsTheOldName) {
  DeviceTable table;
  table.Update(Event("add", "/devices/virtual/net/eth0"));
  Uevent move = Event("move", "/devices/virtual/net/lan0");
  move.Set("DEVPATH_OLD", "/devices/virtual/net/eth0");
  table.Update(move);
  EXPECT_FALSE(table.Contains("/devices/virtual/net/eth0"));
  EXPECT_TRUE(table.Contains("/devices/virtual/net/lan0"));
}

}  // namespace
}  // namespace vdev
