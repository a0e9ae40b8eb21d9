// libudev-compat: udev_queue (the daemon's state as RUN/udev/queue and its control socket
// show it) and udev_hwdb (hwdb.bin below VDEV_HWDB_ROOT).
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libudev.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fixtures/hwdb_writer.h"
#include "fixtures/temp_dir.h"
#include "libudev_test_tree.h"

namespace vdev::testing {
namespace {

TEST(LibudevQueueTest, BusyWhileTheQueueFileExists) {
  LibudevTree tree;
  udev_queue* queue = udev_queue_new(tree.context());
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(udev_queue_get_udev(queue), tree.context());
  std::filesystem::create_directories(tree.Root("run/udev"));
  int fd = udev_queue_get_fd(queue);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(udev_queue_get_fd(queue), fd);  // one fd per queue object

  EXPECT_EQ(udev_queue_get_queue_is_empty(queue), 1);
  std::ofstream(tree.Root("run/udev/queue")).put('\n');
  EXPECT_EQ(udev_queue_get_queue_is_empty(queue), 0);
  EXPECT_EQ(udev_queue_get_seqnum_is_finished(queue, 12), 0);
  EXPECT_EQ(udev_queue_get_seqnum_sequence_is_finished(queue, 1, 12), 0);

  // Removing the file makes the fd readable: a program polls it instead of sleeping.
  pollfd ready = {fd, POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 0), 0);
  ASSERT_EQ(unlink(tree.Root("run/udev/queue").c_str()), 0);
  EXPECT_EQ(poll(&ready, 1, 1000), 1);
  EXPECT_EQ(udev_queue_flush(queue), 0);
  EXPECT_EQ(poll(&ready, 1, 0), 0);
  EXPECT_EQ(udev_queue_get_queue_is_empty(queue), 1);
  EXPECT_EQ(udev_queue_get_seqnum_is_finished(queue, 12), 1);

  // No daemon listens on RUN/vdev/control here.
  EXPECT_EQ(udev_queue_get_udev_is_active(queue), 0);
  errno = 0;
  EXPECT_EQ(udev_queue_get_queued_list_entry(queue), nullptr);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(udev_queue_ref(queue), queue);
  EXPECT_EQ(udev_queue_unref(queue), nullptr);
  EXPECT_EQ(udev_queue_unref(queue), nullptr);

  EXPECT_EQ(udev_queue_get_queue_is_empty(nullptr), -EINVAL);
  EXPECT_EQ(udev_queue_flush(nullptr), -EINVAL);
}

class LibudevHwdbTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("VDEV_HWDB_ROOT", root_.path().c_str(), 1); }
  void TearDown() override { unsetenv("VDEV_HWDB_ROOT"); }

  void Install(const std::string& relative, const std::vector<HwdbEntry>& entries) {
    std::filesystem::create_directories(std::filesystem::path(root_.Sub(relative)).parent_path());
    WriteBytes(root_.Sub(relative), HwdbWriter::Build(entries).bytes);
  }

  TempDir root_;
};

TEST_F(LibudevHwdbTest, PropertiesOfEveryMatchingEntrySortedByName) {
  Install("lib/udev/hwdb.bin",
          {{"usb:v046Dp*", {{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."}}},
           {"usb:v046DpC52B*", {{"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}}},
           {"pci:v00008086*", {{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"}}}});
  udev_hwdb* hwdb = udev_hwdb_new(nullptr);
  ASSERT_NE(hwdb, nullptr) << strerror(errno);
  EXPECT_EQ(ListOf(udev_hwdb_get_properties_list_entry(hwdb, "usb:v046DpC52Bd1201", 0)),
            (std::vector<std::string>{"ID_MODEL_FROM_DATABASE=Unifying Receiver",
                                      "ID_VENDOR_FROM_DATABASE=Logitech, Inc."}));
  errno = 0;
  EXPECT_EQ(udev_hwdb_get_properties_list_entry(hwdb, "usb:v1234p0001", 0), nullptr);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(udev_hwdb_get_properties_list_entry(hwdb, nullptr, 0), nullptr);
  EXPECT_EQ(udev_hwdb_ref(hwdb), hwdb);
  EXPECT_EQ(udev_hwdb_unref(hwdb), nullptr);
  EXPECT_EQ(udev_hwdb_unref(hwdb), nullptr);
}

TEST_F(LibudevHwdbTest, MissingOrBrokenDatabaseIsAnError) {
  errno = 0;
  EXPECT_EQ(udev_hwdb_new(nullptr), nullptr);
  EXPECT_EQ(errno, ENOENT);
  std::filesystem::create_directories(root_.Sub("etc/udev"));
  std::ofstream(root_.Sub("etc/udev/hwdb.bin")) << "not a hwdb";
  errno = 0;
  EXPECT_EQ(udev_hwdb_new(nullptr), nullptr);
  EXPECT_EQ(errno, EBADMSG);
}

}  // namespace
}  // namespace vdev::testing
