// ClientFanout against a temporary dev root: registration, order and content of the event
// files, dead clients, the backlog bound, per-uid caps, and client directories that try to
// make the daemon write elsewhere or wait.
#include "client_fanout.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/fs_util.h"
#include "common/uevent_client.h"
#include "common/uevent_dir.h"
#include "daemon_options.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using testing::TempDir;

Uevent MakeEvent(int i) {
  Uevent event;
  event.Set("ACTION", "add");
  event.Set("DEVPATH", "/devices/virtual/test/t" + std::to_string(i));
  event.Set("SUBSYSTEM", "test");
  event.Set("SEQNUM", std::to_string(1000 + i));
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

std::string Read(const std::string& path) {
  auto content = ReadFileAt(AT_FDCWD, path);
  return content ? *content : "<unreadable>";
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

uint64_t RealtimeMicroseconds() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

// Nothing here may block; a test that does is killed rather than hanging the suite.
class Watchdog {
 public:
  Watchdog() { alarm(30); }
  ~Watchdog() { alarm(0); }
};

class ClientFanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dev_fd_.reset(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dev_fd_);
    uevents_ = dir_.Sub("uevents");
    outside_ = dir_.Sub("outside");
    ASSERT_EQ(mkdir(outside_.c_str(), 0755), 0);
  }

  std::unique_ptr<ClientFanout> OpenFanout(ClientFanoutOptions options = {}) {
    if (!options.first_sequence) options.first_sequence = kFirst;
    auto fanout = ClientFanout::Open(dev_fd_.get(), options);
    EXPECT_TRUE(fanout) << fanout.error().Message();
    return fanout ? std::move(*fanout) : nullptr;
  }

  // A client made by hand, as the protocol says: set up under a dot name, locked, renamed.
  // The test holds the lock on an open file description of its own.
  struct HandClient {
    std::string name;
    std::string path;
    UniqueFd fd;
  };
  HandClient AddClient(const std::string& name, mode_t mode = 0700) {
    HandClient client{name, uevents_ + "/" + name, {}};
    std::string temp = uevents_ + "/." + name + ".new";
    EXPECT_EQ(mkdir(temp.c_str(), mode), 0) << strerror(errno);
    EXPECT_EQ(chmod(temp.c_str(), mode), 0);
    client.fd.reset(open(temp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_TRUE(client.fd);
    EXPECT_EQ(flock(client.fd.get(), LOCK_EX | LOCK_NB), 0);
    EXPECT_EQ(rename(temp.c_str(), client.path.c_str()), 0);
    return client;
  }

  // The event files (sequence names) in a client directory.
  std::vector<std::string> EventFiles(const std::string& path) {
    std::vector<std::string> files;
    for (const auto& name : Entries(path))
      if (ParseSequenceName(name)) files.push_back(name);
    return files;
  }

  static constexpr uint64_t kFirst = 5000;
  TempDir dir_{"vdev-fanout"};
  UniqueFd dev_fd_;
  std::string uevents_, outside_;
};

// --- The directories ------------------------------------------------------------------------

TEST_F(ClientFanoutTest, CreatesTheDirectoriesWithTheirModes) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  struct stat st;
  ASSERT_EQ(lstat(uevents_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_EQ(st.st_uid, geteuid());
  ASSERT_EQ(lstat((uevents_ + "/.spool").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(ClientFanoutTest, FixesTheModeOfAnExistingDirectory) {
  ASSERT_EQ(mkdir(uevents_.c_str(), 0755), 0);
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  struct stat st;
  ASSERT_EQ(lstat(uevents_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

TEST_F(ClientFanoutTest, RefusesAUeventsDirectoryThatIsASymlinkFileOrFifo) {
  Watchdog watchdog;
  ASSERT_EQ(symlink(outside_.c_str(), uevents_.c_str()), 0);
  EXPECT_FALSE(ClientFanout::Open(dev_fd_.get(), {}));
  EXPECT_TRUE(Entries(outside_).empty()) << "wrote through the symlink";
  ASSERT_EQ(unlink(uevents_.c_str()), 0);

  ASSERT_EQ(mkfifo(uevents_.c_str(), 0666), 0);
  EXPECT_FALSE(ClientFanout::Open(dev_fd_.get(), {}));
  ASSERT_EQ(unlink(uevents_.c_str()), 0);

  ASSERT_TRUE(WriteFileAtomicAt(AT_FDCWD, uevents_, "x", 0644));
  EXPECT_FALSE(ClientFanout::Open(dev_fd_.get(), {}));
}

TEST_F(ClientFanoutTest, RefusesASpoolThatIsASymlink) {
  ASSERT_EQ(mkdir(uevents_.c_str(), 01777), 0);
  ASSERT_EQ(symlink(outside_.c_str(), (uevents_ + "/.spool").c_str()), 0);
  EXPECT_FALSE(ClientFanout::Open(dev_fd_.get(), {}));
  struct stat st;
  ASSERT_EQ(stat(outside_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "chmod went through the symlink";
}

TEST_F(ClientFanoutTest, SequenceNumbersStartAtTheRealtimeClockInMicroseconds) {
  uint64_t before = RealtimeMicroseconds();
  auto fanout = ClientFanout::Open(dev_fd_.get(), {});
  uint64_t after = RealtimeMicroseconds();
  ASSERT_TRUE(fanout);
  EXPECT_GE((*fanout)->next_sequence(), before);
  EXPECT_LE((*fanout)->next_sequence(), after);
  EXPECT_EQ(FormatSequence(12), "00000000000000000012");
  EXPECT_EQ(FormatSequence(before).size(), kSequenceDigits);
  EXPECT_EQ(ParseSequenceName(FormatSequence(before)), before);
  EXPECT_FALSE(ParseSequenceName("overflow"));
  EXPECT_FALSE(ParseSequenceName("+0000000000000000012"));
  EXPECT_FALSE(ParseSequenceName("12"));
}

// --- Publishing -----------------------------------------------------------------------------

TEST_F(ClientFanoutTest, PublishesEveryEventInOrderToEveryClient) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a"), b = AddClient("2.b");
  fanout->HandleNotifications();
  EXPECT_EQ(fanout->client_count(), 2u);
  for (int i = 0; i < 50; ++i) fanout->Publish(MakeEvent(i));
  for (const auto* client : {&a, &b}) {
    auto files = EventFiles(client->path);
    ASSERT_EQ(files.size(), 50u) << client->name;
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(files[i], FormatSequence(kFirst + i));
      EXPECT_EQ(Read(client->path + "/" + files[i]), FormatProperties(MakeEvent(i)));
    }
  }
  EXPECT_TRUE(Entries(uevents_ + "/.spool").empty());
  EXPECT_EQ(fanout->next_sequence(), kFirst + 50);
}

TEST_F(ClientFanoutTest, EventFileHoldsWhatTheDaemonPublished) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a"), b = AddClient("2.b");
  Uevent event;
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"ACTION", "add"},
           {"DEVPATH", "/devices/virtual/block/loop3"},
           {"SUBSYSTEM", "block"},
           {"DEVNAME", "/tmp/dev/loop3"},
           {"DEVTYPE", "disk"},
           {"DISKSEQ", "41"},
           {"SEQNUM", "7711"},
           {"MAJOR", "7"},
           {"MINOR", "3"},
           {"ID_FS_UUID", "0f5c-11"},
           {"ID_FS_TYPE", "vfat"},
           {"DEVLINKS", "/tmp/dev/disk/by-diskseq/41 /tmp/dev/disk/by-uuid/0f5c-11"},
           {"TAGS", ":systemd:"},
           {"CURRENT_TAGS", ":systemd:"},
           {"USEC_INITIALIZED", "123456789"}}) {
    event.Set(key, value);
  }
  fanout->HandleNotifications();
  fanout->Publish(event);
  std::string file = a.path + "/" + FormatSequence(kFirst);
  auto parsed = ParseUeventFile(Read(file));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->properties(), event.properties());
  struct stat st;
  ASSERT_EQ(lstat(file.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_uid, geteuid());
  // Written once: the two clients hold the same inode, the spool no longer does.
  EXPECT_EQ(st.st_nlink, 2u);
  struct stat other;
  ASSERT_EQ(lstat((b.path + "/" + FormatSequence(kFirst)).c_str(), &other), 0);
  EXPECT_EQ(other.st_ino, st.st_ino);
  EXPECT_TRUE(Entries(uevents_ + "/.spool").empty());
}

TEST_F(ClientFanoutTest, WithoutClientsNothingIsWrittenButNumbersAdvance) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  fanout->Publish(MakeEvent(1));
  fanout->Publish(MakeEvent(2));
  EXPECT_EQ(fanout->next_sequence(), kFirst + 2);
  EXPECT_EQ(Entries(uevents_), std::vector<std::string>{".spool"});
  EXPECT_TRUE(Entries(uevents_ + "/.spool").empty());
}

TEST_F(ClientFanoutTest, AClientThatRegisteredBeforeAnEventGetsIt) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a");
  // No HandleNotifications(): Publish itself must notice the registration.
  fanout->Publish(MakeEvent(1));
  EXPECT_EQ(EventFiles(a.path).size(), 1u);
}

TEST_F(ClientFanoutTest, LeftoversInTheSpoolAreRemovedAtStart) {
  ASSERT_EQ(mkdir(uevents_.c_str(), 01777), 0);
  ASSERT_EQ(mkdir((uevents_ + "/.spool").c_str(), 0700), 0);
  ASSERT_TRUE(
      WriteFileAtomicAt(AT_FDCWD, uevents_ + "/.spool/" + FormatSequence(3), "A=1\n", 0644));
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  EXPECT_TRUE(Entries(uevents_ + "/.spool").empty());
}

// --- Dead clients ---------------------------------------------------------------------------

TEST_F(ClientFanoutTest, AKilledClientIsCollected) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd from_child(pipe_fds[0]), to_parent(pipe_fds[1]);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto client = UeventClient::Register(dev_fd_.get());
    if (!client) _exit(1);
    // Something of its own in its directory too: collection must remove it all.
    if (mkdir((uevents_ + "/" + client->name() + "/nested").c_str(), 0700) < 0) _exit(1);
    std::string line = client->name() + "\n";
    if (write(to_parent.get(), line.data(), line.size()) < 0) _exit(1);
    pause();
    _exit(0);
  }
  to_parent.reset();
  char buffer[128] = {};
  ASSERT_GT(read(from_child.get(), buffer, sizeof(buffer) - 1), 0);
  std::string name(buffer, strcspn(buffer, "\n"));
  std::string path = uevents_ + "/" + name;

  fanout->HandleNotifications();
  ASSERT_EQ(fanout->client_count(), 1u);
  for (int i = 0; i < 3; ++i) fanout->Publish(MakeEvent(i));
  EXPECT_EQ(EventFiles(path).size(), 3u);
  fanout->CheckClients();  // alive: kept
  EXPECT_TRUE(Exists(path));
  EXPECT_EQ(fanout->client_count(), 1u);

  kill(child, SIGKILL);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(Exists(path)) << "a killed process removes nothing";
  fanout->CheckClients();
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(fanout->client_count(), 0u);
  EXPECT_EQ(Entries(uevents_), std::vector<std::string>{".spool"});
}

TEST_F(ClientFanoutTest, AnUnlockedDirectoryIsCollectedWhenItAppears) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  ASSERT_EQ(mkdir((uevents_ + "/9.dead").c_str(), 0700), 0);
  ASSERT_TRUE(
      WriteFileAtomicAt(AT_FDCWD, uevents_ + "/9.dead/" + FormatSequence(1), "A=1\n", 0644));
  fanout->HandleNotifications();
  EXPECT_EQ(fanout->client_count(), 0u);
  EXPECT_FALSE(Exists(uevents_ + "/9.dead"));
}

TEST_F(ClientFanoutTest, AClientThatRemovesItsDirectoryIsForgotten) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  {
    auto client = UeventClient::Register(dev_fd_.get());
    ASSERT_TRUE(client);
    fanout->Publish(MakeEvent(1));
    EXPECT_EQ(fanout->client_count(), 1u);
  }
  fanout->Publish(MakeEvent(2));
  EXPECT_EQ(fanout->client_count(), 0u);
  EXPECT_EQ(Entries(uevents_), std::vector<std::string>{".spool"});
}

// --- The backlog bound ----------------------------------------------------------------------

TEST_F(ClientFanoutTest, AtTheBoundLinkingStopsAndAMarkerNamesTheFirstLostEvent) {
  auto fanout = OpenFanout({.backlog = 8});
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a"), b = AddClient("2.b");
  fanout->HandleNotifications();
  // b reads as the events come and never reaches the bound; a reads nothing.
  for (int i = 0; i < 40; ++i) {
    for (const auto& file : EventFiles(b.path)) unlink((b.path + "/" + file).c_str());
    fanout->Publish(MakeEvent(i));
  }
  auto files = EventFiles(a.path);
  ASSERT_EQ(files.size(), 8u);
  EXPECT_EQ(files.front(), FormatSequence(kFirst));
  EXPECT_EQ(files.back(), FormatSequence(kFirst + 7));
  EXPECT_EQ(Read(a.path + "/overflow"), FormatSequence(kFirst + 8) + "\n");
  EXPECT_EQ(Entries(a.path).size(), 9u) << "backlog files and the marker, nothing else";
  EXPECT_EQ(EventFiles(b.path), std::vector<std::string>{FormatSequence(kFirst + 39)});
  EXPECT_FALSE(Exists(b.path + "/overflow"));
}

TEST_F(ClientFanoutTest, DeliveryResumesOnceTheClientDrainedAndRemovedTheMarker) {
  auto fanout = OpenFanout({.backlog = 4});
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a");
  fanout->HandleNotifications();
  for (int i = 0; i < 6; ++i) fanout->Publish(MakeEvent(i));
  ASSERT_EQ(EventFiles(a.path).size(), 4u);
  ASSERT_TRUE(Exists(a.path + "/overflow"));

  // Drained, marker still there: not yet.
  for (const auto& file : EventFiles(a.path)) unlink((a.path + "/" + file).c_str());
  fanout->Publish(MakeEvent(6));
  EXPECT_TRUE(EventFiles(a.path).empty());

  ASSERT_EQ(unlink((a.path + "/overflow").c_str()), 0);
  fanout->Publish(MakeEvent(7));
  fanout->Publish(MakeEvent(8));
  EXPECT_EQ(EventFiles(a.path),
            (std::vector<std::string>{FormatSequence(kFirst + 7), FormatSequence(kFirst + 8)}));
  EXPECT_FALSE(Exists(a.path + "/overflow"));
}

TEST_F(ClientFanoutTest, AtTheBoundWhatTheClientReadMeanwhileIsCounted) {
  auto fanout = OpenFanout({.backlog = 8});
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a");
  fanout->HandleNotifications();
  for (int i = 0; i < 8; ++i) fanout->Publish(MakeEvent(i));
  auto files = EventFiles(a.path);
  for (int i = 0; i < 3; ++i) unlink((a.path + "/" + files[i]).c_str());
  for (int i = 8; i < 11; ++i) fanout->Publish(MakeEvent(i));
  EXPECT_EQ(EventFiles(a.path).size(), 8u);
  EXPECT_FALSE(Exists(a.path + "/overflow"));
  fanout->Publish(MakeEvent(11));
  EXPECT_EQ(Read(a.path + "/overflow"), FormatSequence(kFirst + 11) + "\n");
}

TEST_F(ClientFanoutTest, RemovingTheMarkerWithoutDrainingOnlyMovesIt) {
  auto fanout = OpenFanout({.backlog = 4});
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a");
  fanout->HandleNotifications();
  for (int i = 0; i < 5; ++i) fanout->Publish(MakeEvent(i));
  ASSERT_EQ(unlink((a.path + "/overflow").c_str()), 0);
  fanout->Publish(MakeEvent(5));
  EXPECT_EQ(EventFiles(a.path).size(), 4u);
  EXPECT_EQ(Read(a.path + "/overflow"), FormatSequence(kFirst + 5) + "\n");
  ASSERT_EQ(unlink((a.path + "/overflow").c_str()), 0);
  fanout->Publish(MakeEvent(6));
  EXPECT_EQ(EventFiles(a.path).size(), 4u);
  EXPECT_EQ(Read(a.path + "/overflow"), FormatSequence(kFirst + 6) + "\n");
}

// --- Hostile client directories -------------------------------------------------------------

TEST_F(ClientFanoutTest, AClientDirectoryReplacedByASymlinkIsNeverFollowed) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a");
  fanout->HandleNotifications();
  fanout->Publish(MakeEvent(0));
  // Its owner moves the directory aside and puts a symlink to elsewhere in its place.
  ASSERT_EQ(rename(a.path.c_str(), (uevents_ + "/.aside").c_str()), 0);
  ASSERT_EQ(symlink(outside_.c_str(), a.path.c_str()), 0);
  fanout->Publish(MakeEvent(1));  // before the daemon has looked: still the directory it opened
  fanout->HandleNotifications();
  fanout->CheckClients();
  fanout->Publish(MakeEvent(2));
  EXPECT_TRUE(Entries(outside_).empty());
  EXPECT_EQ(fanout->client_count(), 0u);
  EXPECT_LE(EventFiles(uevents_ + "/.aside").size(), 2u);
  EXPECT_TRUE(Exists(a.path));  // a symlink is not a client: it is left alone

  // A symlink to a directory from the start is no client either.
  ASSERT_EQ(symlink(outside_.c_str(), (uevents_ + "/2.evil").c_str()), 0);
  auto restarted = OpenFanout();  // the start-up scan as well as inotify
  fanout->HandleNotifications();
  fanout->Publish(MakeEvent(3));
  restarted->Publish(MakeEvent(4));
  EXPECT_TRUE(Entries(outside_).empty());
  EXPECT_EQ(restarted->client_count(), 0u);
}

TEST_F(ClientFanoutTest, FifosFilesAndSharedDirectoriesAreIgnoredWithoutBlocking) {
  Watchdog watchdog;
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  ASSERT_EQ(mkfifo((uevents_ + "/1.fifo").c_str(), 0600), 0);
  ASSERT_TRUE(WriteFileAtomicAt(AT_FDCWD, uevents_ + "/2.file", "", 0600));
  HandClient shared = AddClient("3.shared", 0777);
  fanout->HandleNotifications();
  auto restarted = OpenFanout();
  for (auto* each : {fanout.get(), restarted.get()}) {
    each->Publish(MakeEvent(1));
    each->CheckClients();
    EXPECT_EQ(each->client_count(), 0u);
  }
  struct stat st;
  ASSERT_EQ(lstat((uevents_ + "/1.fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(Read(uevents_ + "/2.file"), "");
  EXPECT_TRUE(Entries(shared.path).empty()) << "others could rename files in it";
}

TEST_F(ClientFanoutTest, ANameInTheWayIsAnOverflowForThatClientOnly) {
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a"), b = AddClient("2.b");
  fanout->HandleNotifications();
  // a puts something at the name of the next event: a file, and a directory after that.
  std::string taken = a.path + "/" + FormatSequence(kFirst);
  ASSERT_TRUE(WriteFileAtomicAt(AT_FDCWD, taken, "MINE=1\n", 0600));
  fanout->Publish(MakeEvent(0));
  EXPECT_EQ(Read(taken), "MINE=1\n");
  EXPECT_EQ(Read(a.path + "/overflow"), FormatSequence(kFirst) + "\n");
  EXPECT_EQ(EventFiles(b.path), std::vector<std::string>{FormatSequence(kFirst)});

  ASSERT_EQ(unlink(taken.c_str()), 0);
  ASSERT_EQ(unlink((a.path + "/overflow").c_str()), 0);
  ASSERT_EQ(mkdir((a.path + "/" + FormatSequence(kFirst + 1)).c_str(), 0700), 0);
  fanout->Publish(MakeEvent(1));
  EXPECT_EQ(Read(a.path + "/overflow"), FormatSequence(kFirst + 1) + "\n");
  EXPECT_EQ(EventFiles(b.path).size(), 2u);
  EXPECT_EQ(fanout->client_count(), 2u);
}

TEST_F(ClientFanoutTest, AMarkerNameThatIsASymlinkIsNotFollowed) {
  auto fanout = OpenFanout({.backlog = 2});
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a");
  ASSERT_EQ(symlink((outside_ + "/target").c_str(), (a.path + "/overflow").c_str()), 0);
  fanout->HandleNotifications();
  for (int i = 0; i < 5; ++i) fanout->Publish(MakeEvent(i));
  EXPECT_TRUE(Entries(outside_).empty());
  // The symlink counts as the marker: nothing more is linked until it goes.
  EXPECT_LE(EventFiles(a.path).size(), 2u);
}

TEST_F(ClientFanoutTest, AnUnwritableClientDirectoryDelaysNobody) {
  Watchdog watchdog;
  auto fanout = OpenFanout();
  ASSERT_TRUE(fanout);
  HandClient a = AddClient("1.a"), b = AddClient("2.b");
  fanout->HandleNotifications();
  ASSERT_EQ(chmod(a.path.c_str(), 0500), 0);
  for (int i = 0; i < 10; ++i) fanout->Publish(MakeEvent(i));
  EXPECT_EQ(EventFiles(b.path).size(), 10u);
  // Root writes anyway; anyone else gets the overflow treatment (no marker either then).
  size_t delivered = EventFiles(a.path).size();
  EXPECT_TRUE(delivered == 10u || delivered == 0u) << delivered;
  chmod(a.path.c_str(), 0700);
}

TEST_F(ClientFanoutTest, ACapLimitsTheClientsOfOneUser) {
  auto fanout = OpenFanout({.clients_per_uid = 3});
  ASSERT_TRUE(fanout);
  std::vector<HandClient> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(AddClient(std::to_string(i) + ".c"));
  fanout->HandleNotifications();
  EXPECT_EQ(fanout->client_count(), 3u);
  fanout->Publish(MakeEvent(0));
  size_t served = 0;
  for (const auto& client : clients) {
    EXPECT_TRUE(Exists(client.path)) << "ignored, not removed";
    served += EventFiles(client.path).size();
  }
  EXPECT_EQ(served, 3u);

  // One goes: a waiting one takes its place.
  auto gone = std::find_if(clients.begin(), clients.end(),
                           [&](const HandClient& c) { return !EventFiles(c.path).empty(); });
  ASSERT_NE(gone, clients.end());
  for (const auto& file : Entries(gone->path)) unlink((gone->path + "/" + file).c_str());
  ASSERT_EQ(rmdir(gone->path.c_str()), 0);
  fanout->HandleNotifications();
  EXPECT_EQ(fanout->client_count(), 3u);
  fanout->Publish(MakeEvent(1));
  size_t got_second = 0;
  for (const auto& client : clients)
    if (Exists(client.path + "/" + FormatSequence(kFirst + 1))) ++got_second;
  EXPECT_EQ(got_second, 3u);
}

// --- Restarts -------------------------------------------------------------------------------

TEST_F(ClientFanoutTest, ANewDaemonKeepsTheClientsAndNumbersKeepRising) {
  HandClient a;
  uint64_t ahead = RealtimeMicroseconds() + 1000000000ull;  // a clock that was ahead before
  {
    auto first = OpenFanout({.first_sequence = ahead});
    ASSERT_TRUE(first);
    a = AddClient("1.a");
    for (int i = 0; i < 3; ++i) first->Publish(MakeEvent(i));
  }
  auto second = ClientFanout::Open(dev_fd_.get(), {});
  ASSERT_TRUE(second);
  EXPECT_EQ((*second)->client_count(), 1u);
  EXPECT_GT((*second)->next_sequence(), ahead + 2);
  (*second)->Publish(MakeEvent(3));
  auto files = EventFiles(a.path);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  EXPECT_EQ(Read(a.path + "/" + files.back()), FormatProperties(MakeEvent(3)));
}

// --- Options --------------------------------------------------------------------------------

TEST(ClientFanoutOptions, BacklogAndCapComeFromTheCommandLine) {
  std::vector<std::string> args = {
      "vdevd", "--config", "/dev/null", "--uevent-backlog", "10", "--uevent-clients-per-uid=2"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  auto options = ParseDaemonOptions(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(options) << options.error().context;
  EXPECT_EQ(options->uevent_backlog, 10u);
  EXPECT_EQ(options->uevent_clients_per_uid, 2u);

  std::vector<std::string> bad = {"vdevd", "--config", "/dev/null", "--uevent-backlog", "0"};
  argv.clear();
  for (auto& arg : bad) argv.push_back(arg.data());
  EXPECT_FALSE(ParseDaemonOptions(static_cast<int>(argv.size()), argv.data()));
  EXPECT_NE(std::string(DaemonUsage()).find("--uevent-backlog"), std::string::npos);

  DaemonOptions defaults;
  EXPECT_EQ(defaults.uevent_backlog, 4096u);
  EXPECT_EQ(defaults.uevent_clients_per_uid, 64u);
}

}  // namespace
}  // namespace vdev
