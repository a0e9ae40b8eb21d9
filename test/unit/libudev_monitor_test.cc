// libudev-compat: udev_monitor of group "udev" over an in-process ClientFanout (the daemon's
// end of DEV/uevents), and of group "kernel" over the real netlink socket.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libudev.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "client_fanout.h"
#include "common/fs_util.h"
#include "libudev_test_tree.h"

namespace vdev::testing {
namespace {

struct MonitorDeleter {
  void operator()(udev_monitor* monitor) const { udev_monitor_unref(monitor); }
};
using MonitorPtr = std::unique_ptr<udev_monitor, MonitorDeleter>;

bool Readable(int fd, int timeout_ms) {
  pollfd ready = {fd, POLLIN, 0};
  return poll(&ready, 1, timeout_ms) == 1;
}

class LibudevMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dev = OpenDirAt(AT_FDCWD, tree_.Root("dev"));
    ASSERT_TRUE(dev);
    dev_ = std::move(*dev);
  }

  void OpenFanout(size_t backlog = 4096) {
    ClientFanoutOptions options;
    options.backlog = backlog;
    auto fanout = ClientFanout::Open(dev_.get(), options);
    ASSERT_TRUE(fanout) << fanout.error().Message();
    fanout_ = std::move(*fanout);
  }

  MonitorPtr NewUdevMonitor() {
    MonitorPtr monitor(udev_monitor_new_from_netlink(tree_.context(), "udev"));
    EXPECT_NE(monitor, nullptr) << strerror(errno);
    return monitor;
  }

  // The fan-out notices new client directories through inotify, in the daemon's loop.
  void LetTheFanoutSeeClients() {
    if (Readable(fanout_->fd(), 1000)) fanout_->HandleNotifications();
  }

  static Uevent Event(const std::string& action, const std::string& devpath,
                      const std::string& subsystem, const std::string& seqnum,
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
    Uevent event;
    event.Set("ACTION", action);
    event.Set("DEVPATH", devpath);
    event.Set("SUBSYSTEM", subsystem);
    event.Set("SEQNUM", seqnum);
    for (const auto& [key, value] : extra) event.Set(key, value);
    return event;
  }

  LibudevTree tree_;
  UniqueFd dev_;
  std::unique_ptr<ClientFanout> fanout_;
};

TEST_F(LibudevMonitorTest, ReceivesProcessedEventsInOrderWithWhatTheDaemonAdded) {
  OpenFanout();
  MonitorPtr monitor = NewUdevMonitor();
  ASSERT_NE(monitor, nullptr);
  EXPECT_EQ(udev_monitor_get_udev(monitor.get()), tree_.context());
  ASSERT_EQ(udev_monitor_enable_receiving(monitor.get()), 0);
  LetTheFanoutSeeClients();
  int fd = udev_monitor_get_fd(monitor.get());
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(Readable(fd, 0));

  fanout_->Publish(Event("add", LibudevTree::kSda, "block", "101",
                         {{"DEVTYPE", "disk"}, {"MAJOR", "8"}, {"MINOR", "0"},
                          {"DEVNAME", tree_.Dev("sda")},
                          {"DEVLINKS", tree_.Dev("disk/by-id/ata-X") + " " +
                                           tree_.Dev("disk/by-diskseq/7")},
                          {"DISKSEQ", "7"}, {"TAGS", ":systemd:"},
                          {"CURRENT_TAGS", ":systemd:"}, {"ID_SERIAL", "X"},
                          {"USEC_INITIALIZED", "5"}}));
  fanout_->Publish(Event("change", LibudevTree::kSda1, "block", "102",
                         {{"DEVTYPE", "partition"}}));
  ASSERT_TRUE(Readable(fd, 1000));

  DevicePtr first(udev_monitor_receive_device(monitor.get()));
  ASSERT_NE(first, nullptr) << strerror(errno);
  EXPECT_STREQ(udev_device_get_action(first.get()), "add");
  EXPECT_EQ(udev_device_get_seqnum(first.get()), 101u);
  EXPECT_EQ(std::string(udev_device_get_syspath(first.get())), tree_.Sys(LibudevTree::kSda));
  EXPECT_STREQ(udev_device_get_property_value(first.get(), "DISKSEQ"), "7");
  EXPECT_STREQ(udev_device_get_property_value(first.get(), "ID_SERIAL"), "X");
  EXPECT_EQ(std::string(udev_device_get_devnode(first.get())), tree_.Dev("sda"));
  EXPECT_EQ(ListOf(udev_device_get_devlinks_list_entry(first.get())),
            (std::vector<std::string>{tree_.Dev("disk/by-diskseq/7"),
                                      tree_.Dev("disk/by-id/ata-X")}));
  EXPECT_TRUE(udev_device_has_tag(first.get(), "systemd"));
  EXPECT_EQ(udev_device_get_is_initialized(first.get()), 1);

  DevicePtr second(udev_monitor_receive_device(monitor.get()));
  ASSERT_NE(second, nullptr);
  EXPECT_STREQ(udev_device_get_action(second.get()), "change");
  EXPECT_EQ(udev_device_get_seqnum(second.get()), 102u);

  errno = 0;
  EXPECT_EQ(udev_monitor_receive_device(monitor.get()), nullptr);  // never blocks
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_FALSE(Readable(fd, 0));
}

TEST_F(LibudevMonitorTest, SubsystemDevtypeAndTagFilters) {
  OpenFanout();
  MonitorPtr by_devtype = NewUdevMonitor();
  MonitorPtr by_tag = NewUdevMonitor();
  ASSERT_EQ(udev_monitor_filter_add_match_subsystem_devtype(by_devtype.get(), "block", "disk"),
            0);
  ASSERT_EQ(udev_monitor_filter_add_match_subsystem_devtype(by_devtype.get(), "net", nullptr),
            0);
  ASSERT_EQ(udev_monitor_filter_add_match_tag(by_tag.get(), "seat"), 0);
  EXPECT_EQ(udev_monitor_filter_update(by_tag.get()), 0);
  EXPECT_EQ(udev_monitor_filter_add_match_subsystem_devtype(by_tag.get(), nullptr, nullptr),
            -EINVAL);
  ASSERT_EQ(udev_monitor_enable_receiving(by_devtype.get()), 0);
  ASSERT_EQ(udev_monitor_enable_receiving(by_tag.get()), 0);
  LetTheFanoutSeeClients();
  LetTheFanoutSeeClients();

  fanout_->Publish(Event("add", LibudevTree::kSda1, "block", "1", {{"DEVTYPE", "partition"}}));
  fanout_->Publish(Event("add", LibudevTree::kSda, "block", "2",
                         {{"DEVTYPE", "disk"}, {"TAGS", ":seat:uaccess:"}}));
  fanout_->Publish(Event("add", "/devices/virtual/net/lo", "net", "3"));
  fanout_->Publish(Event("add", "/devices/virtual/mem/null", "mem", "4", {{"TAGS", ":seat:"}}));

  auto seqnums = [](udev_monitor* monitor) {
    std::vector<unsigned long long> received;
    for (int i = 0; i < 100; ++i) {
      udev_device* device = udev_monitor_receive_device(monitor);
      if (device == nullptr) break;
      received.push_back(udev_device_get_seqnum(device));
      udev_device_unref(device);
    }
    return received;
  };
  EXPECT_EQ(seqnums(by_devtype.get()), (std::vector<unsigned long long>{2, 3}));
  EXPECT_EQ(seqnums(by_tag.get()), (std::vector<unsigned long long>{2, 4}));

  EXPECT_EQ(udev_monitor_filter_remove(by_tag.get()), 0);
  fanout_->Publish(Event("add", "/devices/virtual/net/lo", "net", "5"));
  EXPECT_EQ(seqnums(by_tag.get()), (std::vector<unsigned long long>{5}));
}

TEST_F(LibudevMonitorTest, LostEventsAreReportedAsENOBUFSOnce) {
  OpenFanout(/*backlog=*/2);
  MonitorPtr monitor = NewUdevMonitor();
  ASSERT_EQ(udev_monitor_enable_receiving(monitor.get()), 0);
  LetTheFanoutSeeClients();
  for (int seqnum = 1; seqnum <= 5; ++seqnum)
    fanout_->Publish(Event("change", "/devices/virtual/net/lo", "net", std::to_string(seqnum)));

  std::vector<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    errno = 0;
    udev_device* device = udev_monitor_receive_device(monitor.get());
    if (device != nullptr) {
      seen.push_back(std::to_string(udev_device_get_seqnum(device)));
      udev_device_unref(device);
    } else if (errno == ENOBUFS) {
      seen.push_back("ENOBUFS");
    } else {
      break;
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "ENOBUFS"}));
  // Drained: the daemon links again.
  fanout_->Publish(Event("change", "/devices/virtual/net/lo", "net", "6"));
  DevicePtr next(udev_monitor_receive_device(monitor.get()));
  ASSERT_NE(next, nullptr) << strerror(errno);
  EXPECT_EQ(udev_device_get_seqnum(next.get()), 6u);
}

TEST_F(LibudevMonitorTest, AMonitorStartedBeforeTheDaemonRegistersOnceItRuns) {
  MonitorPtr monitor = NewUdevMonitor();  // no DEV/uevents yet
  ASSERT_NE(monitor, nullptr);
  ASSERT_EQ(udev_monitor_enable_receiving(monitor.get()), 0);
  int fd = udev_monitor_get_fd(monitor.get());
  OpenFanout();  // creates DEV/uevents: the monitor's fd wakes up
  ASSERT_TRUE(Readable(fd, 1000));
  errno = 0;
  EXPECT_EQ(udev_monitor_receive_device(monitor.get()), nullptr);  // registers now
  EXPECT_EQ(errno, EAGAIN);
  LetTheFanoutSeeClients();
  fanout_->Publish(Event("add", "/devices/virtual/net/lo", "net", "9"));
  ASSERT_TRUE(Readable(fd, 1000));
  DevicePtr device(udev_monitor_receive_device(monitor.get()));
  ASSERT_NE(device, nullptr) << strerror(errno);
  EXPECT_EQ(udev_device_get_seqnum(device.get()), 9u);
}

TEST_F(LibudevMonitorTest, BadArguments) {
  EXPECT_EQ(udev_monitor_new_from_netlink(tree_.context(), "other"), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(udev_monitor_new_from_netlink(tree_.context(), nullptr), nullptr);
  EXPECT_EQ(udev_monitor_enable_receiving(nullptr), -EINVAL);
  EXPECT_EQ(udev_monitor_get_fd(nullptr), -EINVAL);
  EXPECT_EQ(udev_monitor_receive_device(nullptr), nullptr);
  EXPECT_EQ(udev_monitor_ref(nullptr), nullptr);
  EXPECT_EQ(udev_monitor_unref(nullptr), nullptr);
}

// The kernel's own events, read from netlink: as root, a "change" written to a device's
// uevent file makes the kernel send one.
TEST_F(LibudevMonitorTest, KernelGroupReadsTheKernelsUevents) {
  MonitorPtr monitor(udev_monitor_new_from_netlink(tree_.context(), "kernel"));
  ASSERT_NE(monitor, nullptr) << strerror(errno);
  ASSERT_EQ(udev_monitor_filter_add_match_subsystem_devtype(monitor.get(), "mem", nullptr), 0);
  ASSERT_EQ(udev_monitor_enable_receiving(monitor.get()), 0);
  EXPECT_EQ(udev_monitor_set_receive_buffer_size(monitor.get(), 1 << 20), 0);
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make the kernel send a uevent";
  {
    std::ofstream uevent("/sys/devices/virtual/mem/null/uevent");
    if (!uevent) GTEST_SKIP() << "no /sys/devices/virtual/mem/null/uevent";
    uevent << "change";
  }
  int fd = udev_monitor_get_fd(monitor.get());
  udev_device* found = nullptr;
  for (int i = 0; i < 50 && found == nullptr; ++i) {
    if (!Readable(fd, 200)) continue;
    found = udev_monitor_receive_device(monitor.get());
  }
  ASSERT_NE(found, nullptr);
  DevicePtr device(found);
  EXPECT_STREQ(udev_device_get_action(device.get()), "change");
  EXPECT_STREQ(udev_device_get_subsystem(device.get()), "mem");
  EXPECT_STREQ(udev_device_get_sysname(device.get()), "null");
  EXPECT_EQ(udev_device_get_is_initialized(device.get()), 0);
}

}  // namespace
}  // namespace vdev::testing
