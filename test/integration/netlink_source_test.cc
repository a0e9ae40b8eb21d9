#include "netlink_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(5);
constexpr const char kNullUevent[] = "/sys/devices/virtual/mem/null/uevent";

// Asks the kernel to send a "change" uevent for a device (harmless: it only announces it).
bool TriggerChange(const char* uevent_path) {
  UniqueFd fd(open(uevent_path, O_WRONLY | O_CLOEXEC));
  return fd && write(fd.get(), "change", 6) == 6;
}

// Drains source until match accepts an event or the timeout passes; never blocks longer.
// Every received event is appended to *seen (when given).
bool WaitFor(NetlinkSource& source, const std::function<bool(const Uevent&)>& match,
             std::vector<Uevent>* seen = nullptr, Clock::duration timeout = kTimeout) {
  auto deadline = Clock::now() + timeout;
  bool found = false;
  while (!found) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{source.fd(), POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    source.Drain([&](Uevent&& event) {
      if (match(event)) found = true;
      if (seen) seen->push_back(std::move(event));
    });
  }
  return true;
}

// Runs a shell command and returns its first output line (without the newline).
std::string RunLine(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {};
  char line[512] = {};
  std::string result = fgets(line, sizeof(line), pipe) ? line : "";
  pclose(pipe);
  if (!result.empty() && result.back() == '\n') result.pop_back();
  return result;
}

class NetlinkSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root: joins the kernel uevent group and writes uevent files";
    if (access(kNullUevent, W_OK) != 0)
      GTEST_SKIP() << kNullUevent << " is not writable (read-only sysfs?)";
  }

  std::unique_ptr<NetlinkSource> OpenSource(NetlinkSource::Options options = {}) {
    auto source = NetlinkSource::Open(options);
    EXPECT_TRUE(source) << source.error().Message();
    return source ? std::move(*source) : nullptr;
  }
};

TEST_F(NetlinkSourceTest, ReceivesChangeOfMemNull) {
  auto source = OpenSource();
  ASSERT_TRUE(source);
  EXPECT_TRUE(fcntl(source->fd(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(source->fd(), F_GETFD) & FD_CLOEXEC);

  // Nothing queued yet: a drain returns at once.
  NetlinkSource::DrainResult empty = source->Drain([](Uevent&&) {});
  EXPECT_FALSE(empty.overflowed);

  ASSERT_TRUE(TriggerChange(kNullUevent));
  std::vector<Uevent> seen;
  ASSERT_TRUE(WaitFor(
      *source,
      [](const Uevent& e) {
        return e.action() == "change" && e.devpath() == "/devices/virtual/mem/null";
      },
      &seen));
  const Uevent& event = seen.back();
  EXPECT_EQ(event.subsystem(), "mem");
  EXPECT_EQ(event.devname(), "null");
  EXPECT_GT(event.seqnum(), 0u);
}

TEST_F(NetlinkSourceTest, SeesLoopDeviceAttachAndDetachWithDiskseq) {
  if (access("/usr/sbin/losetup", X_OK) != 0 && access("/sbin/losetup", X_OK) != 0)
    GTEST_SKIP() << "losetup is not installed";
  auto source = OpenSource();
  ASSERT_TRUE(source);

  testing::TempDir dir("vdev-netlink");
  std::string image = dir.Sub("image");
  {
    std::ofstream out(image);
    out << std::string(1 << 20, '\0');
  }
  std::string loop = RunLine("losetup -f --show " + image + " 2>/dev/null");
  if (loop.empty() || loop.rfind("/dev/loop", 0) != 0)
    GTEST_SKIP() << "losetup -f could not attach a loop device";
  // Detach even when an assertion below fails.
  struct Detach {
    std::string device;
    ~Detach() { (void)system(("losetup -d " + device + " 2>/dev/null").c_str()); }
  } detach{loop};
  std::string devpath = "/devices/virtual/block/" + loop.substr(5);

  std::vector<Uevent> seen;
  ASSERT_TRUE(WaitFor(
      *source,
      [&](const Uevent& e) {
        return e.devpath() == devpath && (e.action() == "add" || e.action() == "change") &&
               e.Has("DISKSEQ");
      },
      &seen))
      << "no add/change with DISKSEQ for " << devpath;
  const Uevent& attached = seen.back();
  EXPECT_EQ(attached.subsystem(), "block");
  EXPECT_EQ(attached.devtype(), "disk");
  EXPECT_EQ(attached.devname(), loop.substr(5));
  EXPECT_TRUE(attached.devnum());

  ASSERT_EQ(system(("losetup -d " + loop).c_str()), 0);
  detach.device.clear();
  uint64_t attached_seqnum = attached.seqnum();
  EXPECT_TRUE(WaitFor(
      *source,
      [&](const Uevent& e) { return e.devpath() == devpath && e.seqnum() > attached_seqnum; }))
      << "no event for " << devpath << " after losetup -d";
}

TEST_F(NetlinkSourceTest, ReportsOverflowOnceAndKeepsWorking) {
  NetlinkSource::Options options;
  options.receive_buffer = 4096;  // the kernel makes this a few KiB: a handful of events
  auto source = OpenSource(options);
  ASSERT_TRUE(source);

  for (int i = 0; i < 300; ++i) ASSERT_TRUE(TriggerChange(kNullUevent));
  NetlinkSource::DrainResult overflow = source->Drain([](Uevent&&) {});
  EXPECT_TRUE(overflow.overflowed);
  EXPECT_LT(overflow.delivered, 300u);

  // The overflow was reported once and the socket drained: the next drain reports none ...
  NetlinkSource::DrainResult after = source->Drain([](Uevent&&) {});
  EXPECT_FALSE(after.overflowed);

  // ... and new events arrive again. (A few tries: with so small a buffer, uevents of
  // other processes running at the same time could crowd ours out.)
  bool received = false;
  for (int attempt = 0; attempt < 5 && !received; ++attempt) {
    ASSERT_TRUE(TriggerChange(kNullUevent));
    received = WaitFor(
        *source,
        [](const Uevent& e) {
          return e.action() == "change" && e.devpath() == "/devices/virtual/mem/null";
        },
        nullptr, std::chrono::seconds(2));
  }
  EXPECT_TRUE(received);
}

TEST_F(NetlinkSourceTest, RejectsDatagramsNotFromTheKernel) {
  auto source = OpenSource();
  ASSERT_TRUE(source);
  // A root process may send to the kernel's group; the source must not trust it.
  UniqueFd sender(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT));
  ASSERT_TRUE(sender);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_groups = 1;
  auto send = [&](const std::string& datagram) {
    return sendto(sender.get(), datagram.data(), datagram.size(), 0,
                  reinterpret_cast<sockaddr*>(&to),
                  sizeof(to)) == static_cast<ssize_t>(datagram.size());
  };
  std::string forged;
  for (const char* field : {"add@/devices/virtual/mem/forged", "ACTION=add",
                            "DEVPATH=/devices/virtual/mem/forged", "SUBSYSTEM=mem", "SEQNUM=1"}) {
    forged += field;
    forged += '\0';
  }
  ASSERT_TRUE(send(forged));
  ASSERT_TRUE(send(std::string("libudev\0\xfe\xed\xca\xfe", 12)));
  // A real event afterwards tells when the forged ones have been seen.
  ASSERT_TRUE(TriggerChange(kNullUevent));

  auto deadline = Clock::now() + kTimeout;
  size_t rejected = 0;
  bool got_real = false, got_forged = false;
  while (!got_real && Clock::now() < deadline) {
    pollfd pfd{source->fd(), POLLIN, 0};
    if (poll(&pfd, 1, 500) <= 0) continue;
    rejected += source
                    ->Drain([&](Uevent&& e) {
                      if (e.devpath() == "/devices/virtual/mem/forged") got_forged = true;
                      if (e.devpath() == "/devices/virtual/mem/null") got_real = true;
                    })
                    .rejected;
  }
  EXPECT_TRUE(got_real);
  EXPECT_FALSE(got_forged);
  EXPECT_GE(rejected, 1u);
}

}  // namespace
}  // namespace vdev
