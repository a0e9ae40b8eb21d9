// LibudevTree: a fake sysfs, dev root and device database in a temporary directory, and the
// VDEV_* environment that points libudev-compat at them; shared by the libudev_*_test.cc.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libudev.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/database.h"
#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"

namespace vdev::testing {

struct UdevDeleter {
  void operator()(udev* context) const { udev_unref(context); }
  void operator()(udev_device* device) const { udev_device_unref(device); }
  void operator()(udev_enumerate* enumerate) const { udev_enumerate_unref(enumerate); }
};
using UdevPtr = std::unique_ptr<udev, UdevDeleter>;
using DevicePtr = std::unique_ptr<udev_device, UdevDeleter>;
using EnumeratePtr = std::unique_ptr<udev_enumerate, UdevDeleter>;

// Names and values of a list, in list order ("name" or "name=value").
inline std::vector<std::string> ListOf(udev_list_entry* first) {
  std::vector<std::string> items;
  udev_list_entry* entry;
  udev_list_entry_foreach(entry, first) {
    std::string item = udev_list_entry_get_name(entry);
    if (const char* value = udev_list_entry_get_value(entry)) item += std::string("=") + value;
    items.push_back(item);
  }
  return items;
}

// The standard tree (devpaths below the sysfs root):
//   /devices/pci0000:00                               a root bus, no subsystem
//   /devices/pci0000:00/0000:00:1f.2                  pci, driver ahci (bus pci)
//     .../ata1/host0/block/sda (8:0 disk), .../sda/sda1 (8:1 partition)
//     .../sound/card0 (sound), card0/controlC0 (116:0), card0/pcmC0D0p (116:16)
//   /devices/platform/root0                           platform, NOT listed in bus/platform
//   /devices/platform/root0/tty/ttyX0                 tty 4:70
//   /devices/platform/serial8250                      platform, listed
//   /devices/virtual/mem/null (1:3), zero (1:5)       mem
//   /devices/virtual/net/lo (ifindex 1), eth0 (2)     net
//   /devices/virtual/block/loop0 (7:0), md0 (9:0), dm-0 (253:0)
//   /devices/virtual/a/b (misc 10:200), /devices/virtual/a-c (misc2, no node)
//   /devices/virtual/misc/cciss!c0d0                  misc 10:201, node cciss/c0d0
//   /devices/virtual/input/input3, input3/event3      input 13:67
//   /module/loop, /bus/*/drivers/*                    for scan_subsystems
// and database records for sda (links, tags, properties), controlC0, lo, root0 and event3.
class LibudevTree {
 public:
  static constexpr const char* kPci = "/devices/pci0000:00/0000:00:1f.2";
  static constexpr const char* kSda = "/devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda";
  static constexpr const char* kSda1 = "/devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda/sda1";
  static constexpr const char* kCard = "/devices/pci0000:00/0000:00:1f.2/sound/card0";

  LibudevTree() : sysfs_(temp_.Sub("sys")) {
    std::filesystem::create_directories(temp_.Sub("dev"));
    std::filesystem::create_directories(temp_.Sub("run"));
    BuildSysfs();
    BuildDatabase();
    setenv("VDEV_SYSFS_ROOT", temp_.Sub("sys").c_str(), 1);
    setenv("VDEV_DEV_ROOT", temp_.Sub("dev").c_str(), 1);
    setenv("VDEV_RUN_DIR", temp_.Sub("run").c_str(), 1);
    udev_.reset(udev_new());
  }
  ~LibudevTree() {
    udev_.reset();
    unsetenv("VDEV_SYSFS_ROOT");
    unsetenv("VDEV_DEV_ROOT");
    unsetenv("VDEV_RUN_DIR");
  }

  udev* context() const { return udev_.get(); }
  FakeSysfs& sysfs() { return sysfs_; }
  std::string Sys(const std::string& devpath) const { return temp_.Sub("sys") + devpath; }
  std::string Dev(const std::string& name) const { return temp_.Sub("dev") + "/" + name; }
  std::string Root(const std::string& relative) const { return temp_.Sub(relative); }

  DevicePtr Device(const std::string& devpath) const {
    return DevicePtr(udev_device_new_from_syspath(context(), Sys(devpath).c_str()));
  }

  void WriteRecord(const std::string& id, const DeviceRecord& record) {
    UniqueFd run(open(temp_.Sub("run").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto database = Database::Open(run.get(), /*create=*/true);
    ASSERT_TRUE(database) << database.error().Message();
    auto written = database->Write(id, record, nullptr);
    ASSERT_TRUE(written) << written.error().Message();
  }

  // The syspaths an enumeration returns, as devpaths.
  std::vector<std::string> Devpaths(udev_enumerate* enumerate) const {
    std::vector<std::string> devpaths;
    udev_list_entry* entry;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate)) {
      std::string syspath = udev_list_entry_get_name(entry);
      devpaths.push_back(syspath.substr(temp_.Sub("sys").size()));
    }
    return devpaths;
  }

 private:
  void BuildSysfs() {
    FakeSysfs& s = sysfs_;
    s.Add({"/devices/pci0000:00", "", false, "", {}, {}});
    s.Add({kPci,
           "pci",
           true,
           "ahci",
           {{"DRIVER", "ahci"}, {"PCI_CLASS", "10601"}},
           {{"vendor", "0x8086"}, {"device", "0x2922"}}});
    s.Add({std::string(kPci) + "/ata1", "", false, "", {}, {}});
    s.AddBlockDevice(kSda, "sda", 8, 0, "disk");
    s.SetAttribute(kSda, "size", "2048");
    s.SetAttribute(kSda, "queue/rotational", "1");
    s.AddBlockDevice(kSda1, "sda1", 8, 1, "partition", {{"PARTN", "1"}});
    s.SetAttribute(kSda1, "size", "1024");
    s.Add({kCard, "sound", false, "", {}, {{"id", "PCH"}}});
    s.AddCharDevice(std::string(kCard) + "/controlC0", "sound", "snd/controlC0", 116, 0);
    s.AddCharDevice(std::string(kCard) + "/pcmC0D0p", "sound", "snd/pcmC0D0p", 116, 16);
    s.Add({"/devices/platform", "", false, "", {}, {}});
    s.Add({"/devices/platform/root0",
           "platform",
           true,
           "rootdrv",
           {{"MODALIAS", "platform:root0"}},
           {{"name", "root zero"}}});
    std::filesystem::remove(Root("sys/bus/platform/devices/root0"));  // a root bus: unlisted
    s.AddCharDevice("/devices/platform/root0/tty/ttyX0", "tty", "ttyX0", 4, 70);
    s.SetAttribute("/devices/platform/root0/tty/ttyX0", "flags", "0x10");
    s.Add({"/devices/platform/serial8250",
           "platform",
           true,
           "",
           {{"MODALIAS", "platform:serial8250"}},
           {}});
    s.AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3, {{"DEVMODE", "0666"}});
    s.AddCharDevice("/devices/virtual/mem/zero", "mem", "zero", 1, 5, {{"DEVMODE", "0666"}});
    s.Add({"/devices/virtual/net/lo",
           "net",
           false,
           "",
           {{"INTERFACE", "lo"}, {"IFINDEX", "1"}},
           {{"ifindex", "1"}, {"mtu", "65536"}, {"statistics/rx_bytes", "0"}}});
    s.Add({"/devices/virtual/net/eth0",
           "net",
           false,
           "",
           {{"INTERFACE", "eth0"}, {"IFINDEX", "2"}},
           {{"ifindex", "2"}, {"mtu", "1500"}}});
    s.AddBlockDevice("/devices/virtual/block/loop0", "loop0", 7, 0, "disk");
    s.SetAttribute("/devices/virtual/block/loop0", "ro", "1");
    s.SetAttribute("/devices/virtual/block/loop0", "size", "0");
    s.AddBlockDevice("/devices/virtual/block/md0", "md0", 9, 0, "disk");
    s.SetAttribute("/devices/virtual/block/md0", "size", "100");
    s.SetAttribute("/devices/virtual/block/md0", "ro", "0");
    s.AddBlockDevice("/devices/virtual/block/dm-0", "dm-0", 253, 0, "disk");
    s.SetAttribute("/devices/virtual/block/dm-0", "size", "200");
    s.AddCharDevice("/devices/virtual/a/b", "misc", "ab", 10, 200);
    s.Add({"/devices/virtual/a-c", "misc2", false, "", {}, {}});
    s.AddCharDevice("/devices/virtual/misc/cciss!c0d0", "misc", "cciss/c0d0", 10, 201);
    s.Add({"/devices/virtual/input/input3", "input", false, "", {{"NAME", "\"AT Keyboard\""}}, {}});
    s.AddCharDevice("/devices/virtual/input/input3/event3", "input", "input/event3", 13, 67);
    std::filesystem::create_directories(Root("sys/module/loop"));
    std::filesystem::create_directories(Root("sys/bus/pci/drivers/ahci"));
  }

  void BuildDatabase() {
    DeviceRecord sda;
    sda.links = {"disk/by-id/ata-X", "disk/by-path/pci-0000:00:1f.2-ata-1"};
    sda.link_priority = 5;
    sda.usec_initialized = 1000;
    sda.properties = {{"ID_SERIAL", "X"}, {"ID_TYPE", "disk"}, {"MINOR", "0"}};
    sda.tags = {"systemd", "block"};
    sda.current_tags = {"systemd"};
    WriteRecord("b8:0", sda);
    DeviceRecord control;
    control.usec_initialized = 2000;
    control.tags = {"seat", "uaccess"};
    control.current_tags = {"seat", "uaccess"};
    WriteRecord("c116:0", control);
    DeviceRecord lo;
    lo.usec_initialized = 3000;
    lo.properties = {{"ID_NET_NAME", "lo0"}};
    lo.tags = {"systemd"};
    lo.current_tags = {"systemd"};
    WriteRecord("n1", lo);
    DeviceRecord root;
    root.usec_initialized = 4000;
    root.tags = {"seat"};
    WriteRecord("+platform:root0", root);
    DeviceRecord event;
    event.usec_initialized = 5000;
    event.properties = {{"ID_INPUT", "1"}, {"ID_INPUT_KEYBOARD", "1"}};
    event.tags = {"seat", "uaccess"};
    event.current_tags = {"uaccess"};
    WriteRecord("c13:67", event);
  }

  TempDir temp_;
  FakeSysfs sysfs_;
  UdevPtr udev_;
};

}  // namespace vdev::testing
