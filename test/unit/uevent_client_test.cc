// UeventClient, the libudev side of /dev/uevents, against a ClientFanout in the same process
// on a temporary dev root: registration, order, readiness of its fd, overflow, clean-up.
#include "common/uevent_client.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "client_fanout.h"
#include "common/fs_util.h"
#include "common/uevent_dir.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using Kind = UeventClient::Received::Kind;
using testing::TempDir;

Uevent MakeEvent(int i) {
  Uevent event;
  event.Set("ACTION", "change");
  event.Set("DEVPATH", "/devices/virtual/test/t" + std::to_string(i % 7));
  event.Set("SUBSYSTEM", "test");
  event.Set("SEQNUM", std::to_string(100 + i));
  event.Set("DEVLINKS", "/dev/a/" + std::to_string(i) + " /dev/b");
  return event;
}

std::vector<std::string> Entries(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (!dir) return names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool Readable(int fd) {
  pollfd ready{fd, POLLIN, 0};
  return poll(&ready, 1, 0) == 1 && (ready.revents & POLLIN);
}

class UeventClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_fd_.reset(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dev_fd_);
    uevents_ = dir_.Sub("uevents");
  }

  void OpenFanout(size_t backlog = 4096) {
    ClientFanoutOptions options;
    options.backlog = backlog;
    options.first_sequence = kFirst;
    auto fanout = ClientFanout::Open(dev_fd_.get(), options);
    ASSERT_TRUE(fanout) << fanout.error().Message();
    fanout_ = std::move(*fanout);
  }

  UeventClient Register() {
    auto client = UeventClient::Register(dev_fd_.get());
    EXPECT_TRUE(client) << client.error().Message();
    return std::move(*client);
  }

  static UeventClient::Received Receive(UeventClient& client) {
    auto received = client.Receive();
    EXPECT_TRUE(received) << received.error().Message();
    return received ? std::move(*received) : UeventClient::Received{};
  }

  static constexpr uint64_t kFirst = 777;
  TempDir dir_{"vdev-uevent-client"};
  UniqueFd dev_fd_;
  std::string uevents_;
  std::unique_ptr<ClientFanout> fanout_;
};

TEST_F(UeventClientTest, RegisterCreatesALockedPrivateDirectory) {
  ASSERT_NO_FATAL_FAILURE(OpenFanout());
  UeventClient client = Register();
  EXPECT_TRUE(
      std::regex_match(client.name(), std::regex(std::to_string(getpid()) + "\\.[0-9a-f]{16}")))
      << client.name();
  EXPECT_EQ(Entries(uevents_), (std::vector<std::string>{".spool", client.name()}))
      << "nothing left under its set-up name";
  std::string path = uevents_ + "/" + client.name();
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, geteuid());
  UniqueFd other(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(other);
  EXPECT_EQ(flock(other.get(), LOCK_EX | LOCK_NB), -1) << "the lock must be held";
  EXPECT_EQ(errno, EWOULDBLOCK);
  // Two clients of one process get two directories.
  UeventClient second = Register();
  EXPECT_NE(second.name(), client.name());
}

TEST_F(UeventClientTest, RegisterFailsWithoutTheDaemonsDirectory) {
  auto client = UeventClient::Register(dev_fd_.get());
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, ENOENT);
  // Not sticky: any user could move our directory away.
  ASSERT_EQ(mkdir(uevents_.c_str(), 0777), 0);
  ASSERT_EQ(chmod(uevents_.c_str(), 0777), 0);
  client = UeventClient::Register(dev_fd_.get());
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, EPERM);
}

TEST_F(UeventClientTest, ReceivesEveryEventInOrder) {
  ASSERT_NO_FATAL_FAILURE(OpenFanout());
  UeventClient client = Register();
  EXPECT_FALSE(Readable(client.fd()));
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
  for (int i = 0; i < 30; ++i) fanout_->Publish(MakeEvent(i));
  EXPECT_TRUE(Readable(client.fd()));
  for (int i = 0; i < 30; ++i) {
    auto received = Receive(client);
    ASSERT_EQ(received.kind, Kind::kEvent) << i;
    EXPECT_EQ(received.sequence, kFirst + i);
    EXPECT_EQ(received.event.properties(), MakeEvent(i).properties());
    // More are waiting: readable, as a socket with datagrams queued would be.
    if (i < 29) {
      EXPECT_TRUE(Readable(client.fd())) << i;
    }
  }
  EXPECT_FALSE(Readable(client.fd()));
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
  EXPECT_EQ(Entries(uevents_ + "/" + client.name()), std::vector<std::string>{})
      << "read files are removed";

  // Interleaved publishing and reading keeps the order too.
  for (int i = 30; i < 40; ++i) {
    fanout_->Publish(MakeEvent(i));
    if (i % 3 == 0) {
      auto received = Receive(client);
      ASSERT_EQ(received.kind, Kind::kEvent);
    }
  }
  uint64_t last = 0;
  for (;;) {
    auto received = Receive(client);
    if (received.kind != Kind::kEvent) break;
    EXPECT_GT(received.sequence, last);
    last = received.sequence;
  }
  EXPECT_EQ(last, kFirst + 39);
}

TEST_F(UeventClientTest, EventsBeforeRegistrationAreNotDelivered) {
  ASSERT_NO_FATAL_FAILURE(OpenFanout());
  fanout_->Publish(MakeEvent(0));
  UeventClient client = Register();
  fanout_->Publish(MakeEvent(1));
  auto received = Receive(client);
  ASSERT_EQ(received.kind, Kind::kEvent);
  EXPECT_EQ(received.event.GetOr("SEQNUM"), "101");
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
}

TEST_F(UeventClientTest, OverflowIsReportedOnceAndDeliveryGoesOn) {
  ASSERT_NO_FATAL_FAILURE(OpenFanout(/*backlog=*/4));
  UeventClient client = Register();
  for (int i = 0; i < 10; ++i) fanout_->Publish(MakeEvent(i));
  for (int i = 0; i < 4; ++i) {
    auto received = Receive(client);
    ASSERT_EQ(received.kind, Kind::kEvent);
    EXPECT_EQ(received.sequence, kFirst + i);
  }
  EXPECT_TRUE(Readable(client.fd()));
  auto overflow = Receive(client);
  EXPECT_EQ(overflow.kind, Kind::kOverflow);
  EXPECT_EQ(overflow.sequence, kFirst + 4);
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
  EXPECT_FALSE(Readable(client.fd()));

  fanout_->Publish(MakeEvent(10));
  auto next = Receive(client);
  ASSERT_EQ(next.kind, Kind::kEvent);
  EXPECT_EQ(next.sequence, kFirst + 10);
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
}

TEST_F(UeventClientTest, DestructionRemovesTheDirectoryAndWhatIsLeftInIt) {
  ASSERT_NO_FATAL_FAILURE(OpenFanout());
  {
    UeventClient client = Register();
    UeventClient moved = std::move(client);  // the moved-from one removes nothing
    UeventClient replaced = Register();
    std::string replaced_name = replaced.name();
    replaced = std::move(moved);  // unregisters what it held
    EXPECT_FALSE(std::filesystem::exists(uevents_ + "/" + replaced_name));
    moved = std::move(replaced);
    for (int i = 0; i < 5; ++i) fanout_->Publish(MakeEvent(i));
    ASSERT_EQ(Receive(moved).kind, Kind::kEvent);
    EXPECT_EQ(Entries(uevents_ + "/" + moved.name()).size(), 4u);
  }
  EXPECT_EQ(Entries(uevents_), std::vector<std::string>{".spool"});
}

// Nothing here may block; a test that does is killed rather than hanging the suite.
class Watchdog {
 public:
  Watchdog() { alarm(30); }
  ~Watchdog() { alarm(0); }
};

TEST_F(UeventClientTest, EntriesThatAreNoEventFilesAreSkipped) {
  Watchdog watchdog;  // a FIFO opened for reading would block
  ASSERT_NO_FATAL_FAILURE(OpenFanout());
  UeventClient client = Register();
  std::string path = uevents_ + "/" + client.name();
  ASSERT_EQ(mkdir((path + "/" + FormatSequence(1)).c_str(), 0700), 0);
  ASSERT_EQ(mkfifo((path + "/" + FormatSequence(2)).c_str(), 0600), 0);
  ASSERT_TRUE(WriteFileAtomicAt(AT_FDCWD, path + "/" + FormatSequence(3), "not an event\n", 0600));
  ASSERT_TRUE(WriteFileAtomicAt(AT_FDCWD, path + "/stray", "A=1\n", 0600));
  fanout_->Publish(MakeEvent(0));
  auto received = Receive(client);
  ASSERT_EQ(received.kind, Kind::kEvent);
  EXPECT_EQ(received.sequence, kFirst);
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
  EXPECT_EQ(Receive(client).kind, Kind::kNothing);
}

TEST_F(UeventClientTest, ADirectoryRemovedUnderTheClientIsAnError) {
  ASSERT_NO_FATAL_FAILURE(OpenFanout());
  UeventClient client = Register();
  ASSERT_EQ(rmdir((uevents_ + "/" + client.name()).c_str()), 0);
  auto received = client.Receive();
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code, ENODEV);
}

}  // namespace
}  // namespace vdev
