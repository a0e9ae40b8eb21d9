// The client fan-out end to end: vdevd on a private tmpfs dev root publishes into
// DEV/uevents and UeventClients (in this process, or forked and running as other users)
// read what it published: a real loop device's events, 10 000 replayed events read by 100
// concurrent clients, a killed client's directory collected, a stuck client bounded.
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>

#include "client_fanout.h"
#include "common/uevent_client.h"
#include "common/uevent_dir.h"
#include "fixtures/disk_images.h"
#include "vdevd_fixture.h"

namespace vdev::testing {
namespace {

namespace fs = std::filesystem;
using Kind = UeventClient::Received::Kind;

// Client processes run as these users (one each: inotify instances are counted per user).
constexpr uid_t kFirstClientUid = 4200000;

// What a client saw, as its process reports it in one line.
struct Report {
  size_t count = 0;     // events received
  uint64_t digest = 0;  // of their sequence numbers and identities, in order
  size_t disorder = 0;  // sequence numbers not rising, or a device's SEQNUM going back
  size_t gaps = 0;      // events skipped without an overflow report
  size_t overflows = 0;
  size_t lost = 0;  // events an overflow report accounts for (up to the next event)
  size_t errors = 0;
};

uint64_t Mix(uint64_t hash, std::string_view text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return (hash ^ 0xff) * 1099511628211ull;
}

// Receives until expected events came or nothing came for idle. coalesce: once woken, wait
// this long before reading, so that one wake-up takes many events (a hundred clients woken
// for every single event cost this 2-core machine a minute of context switches).
Report ReceiveAll(UeventClient& client, size_t expected, Clock::duration idle,
                  Clock::duration coalesce = {}) {
  Report report;
  report.digest = 14695981039346656037ull;
  uint64_t last = 0;
  uint64_t first_lost = 0;  // of an overflow not yet followed by an event
  std::map<std::string, uint64_t> seqnums;
  auto deadline = Clock::now() + idle;
  while (report.count < expected && Clock::now() < deadline) {
    auto received = client.Receive();
    if (!received) {
      ++report.errors;
      break;
    }
    if (received->kind == Kind::kNothing) {
      pollfd readable{client.fd(), POLLIN, 0};
      if (poll(&readable, 1, 200) == 1 && coalesce.count()) std::this_thread::sleep_for(coalesce);
      continue;
    }
    deadline = Clock::now() + idle;
    if (received->kind == Kind::kOverflow) {
      ++report.overflows;
      first_lost = received->sequence;
      continue;
    }
    const Uevent& event = received->event;
    ++report.count;
    // Every published event has the next number: a jump is a loss, which only an overflow
    // report may explain.
    if (received->sequence <= last) ++report.disorder;
    if (first_lost) {
      if ((last && first_lost != last + 1) || received->sequence < first_lost) ++report.gaps;
      report.lost += received->sequence - first_lost;
      first_lost = 0;
    } else if (last && received->sequence != last + 1) {
      ++report.gaps;
    }
    last = received->sequence;
    uint64_t seqnum = event.seqnum();
    uint64_t& device_last = seqnums[std::string(event.devpath())];
    if (seqnum <= device_last) ++report.disorder;
    device_last = seqnum;
    report.digest = Mix(report.digest, FormatSequence(received->sequence));
    report.digest = Mix(report.digest, FormatProperties(event));
  }
  return report;
}

// A client in a process of its own, as user uid (root: 0), that signals once registered,
// then either reads `expected` events and reports, or (stuck) stops itself and never reads.
class ClientProcess {
 public:
  ClientProcess(int dev_fd, uid_t uid, size_t expected, bool stuck = false,
                Clock::duration idle = seconds(30), Clock::duration coalesce = {}) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) return;
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    pid_ = fork();
    if (pid_ < 0) return;
    if (pid_ == 0) {
      read_end.reset();
      // Only fds from here on: the test's directories are not for other users.
      if (uid != 0 && (setgroups(0, nullptr) < 0 || setgid(uid) < 0 || setuid(uid) < 0)) _exit(2);
      prctl(PR_SET_DUMPABLE, 1);
      auto client = UeventClient::Register(dev_fd);
      if (!client) {
        std::string line = "E " + client.error().Message() + "\n";
        (void)!write(write_end.get(), line.data(), line.size());
        _exit(3);
      }
      std::string line = "R " + client->name() + "\n";
      if (write(write_end.get(), line.data(), line.size()) < 0) _exit(4);
      if (stuck) {
        for (;;) raise(SIGSTOP);
      }
      Report r = ReceiveAll(*client, expected, idle, coalesce);
      char text[256];
      int n = snprintf(text, sizeof(text), "%zu %llu %zu %zu %zu %zu %zu\n", r.count,
                       static_cast<unsigned long long>(r.digest), r.disorder, r.gaps, r.overflows,
                       r.lost, r.errors);
      (void)!write(write_end.get(), text, static_cast<size_t>(n));
      _exit(0);  // the client's destructor has not run: vdevd collects the directory
    }
    pipe_ = std::move(read_end);
  }
  ClientProcess(ClientProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        pipe_(std::move(other.pipe_)),
        buffer_(std::move(other.buffer_)),
        name_(std::move(other.name_)) {}
  ~ClientProcess() { Kill(); }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

  // Waits for the registration line; false (with the reason in error) when none came.
  bool WaitRegistered(std::string& error) {
    std::string line = ReadLine(seconds(30));
    if (line.rfind("R ", 0) != 0) {
      error = line.empty() ? "no answer" : line;
      return false;
    }
    name_ = line.substr(2);
    return true;
  }

  std::optional<Report> WaitReport(Clock::duration timeout) {
    std::string line = ReadLine(timeout);
    Report r;
    unsigned long long digest;
    if (sscanf(line.c_str(), "%zu %llu %zu %zu %zu %zu %zu", &r.count, &digest, &r.disorder,
               &r.gaps, &r.overflows, &r.lost, &r.errors) != 7)
      return std::nullopt;
    r.digest = digest;
    return r;
  }

 private:
  std::string ReadLine(Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      pollfd readable{pipe_.get(), POLLIN, 0};
      if (left <= 0 || poll(&readable, 1, static_cast<int>(left)) <= 0) return {};
      char chunk[256];
      ssize_t n = read(pipe_.get(), chunk, sizeof(chunk));
      if (n <= 0) return {};
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  UniqueFd pipe_;
  std::string buffer_;
  std::string name_;
};

size_t CountEvents(const std::string& replay) {
  std::string text = ReadFile(replay);
  size_t count = 0;
  for (size_t at = text.find("ACTION="); at != std::string::npos; at = text.find("ACTION=", at + 1))
    if (at == 0 || text[at - 1] == '\n') ++count;
  return count;
}

class FanoutTest : public VdevdFixture {
 protected:
  void SetUp() override {
    VdevdFixture::SetUp();
    if (IsSkipped()) return;
    dev_fd_.reset(open(dev_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dev_fd_);
    empty_rules_ = dir_.Sub("no-rules");
    fs::create_directories(empty_rules_);
  }

  // A fake sysfs and a replay of `events` events over it; returns the replay's path.
  std::string MakeReplay(size_t devices, size_t events) {
    std::string tool = kBinDir + "make-fake-sysfs";
    if (access(tool.c_str(), X_OK) != 0) {
      ADD_FAILURE() << tool << " is not built";
      return {};
    }
    std::string replay = dir_.Sub("events");
    auto made = RunCommand({tool, dir_.Sub("sys"), "--devices", std::to_string(devices), "--events",
                            replay, "--count", std::to_string(events), "--seed", "7"});
    EXPECT_EQ(made.status, 0);
    return replay;
  }

  // What vdevd makes itself, made before it starts, so that clients can register first and
  // a replay (which starts at once) reaches them from its first event.
  void MakeUeventsDir() {
    ASSERT_EQ(mkdir((dev_ + "/uevents").c_str(), 01777), 0);
    ASSERT_EQ(chmod((dev_ + "/uevents").c_str(), 01777), 0);
  }

  std::vector<std::string> ReplayArgs(const std::string& replay) {
    return {"--replay", replay, "--sysfs-root", dir_.Sub("sys")};
  }

  std::vector<std::string> ClientDirEntries(const std::string& name) {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dev_ + "/uevents/" + name, error))
      names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  UniqueFd dev_fd_;
  std::string empty_rules_;
};

TEST_F(FanoutTest, AClientReceivesTheEventsOfAnAttachedLoopDeviceInOrder) {
  if (!FindTool("losetup")) GTEST_SKIP() << "needs losetup";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  auto client = UeventClient::Register(dev_fd_.get());
  ASSERT_TRUE(client) << client.error().Message();

  std::string image = dir_.Sub("loop.img");
  ASSERT_TRUE(MakeSparseFile(image, 8 << 20));
  auto attached = RunCommand({"losetup", "-f", "--show", image});
  ASSERT_EQ(attached.status, 0);
  std::string loop = Trim(attached.output);
  std::string name = fs::path(loop).filename();
  struct Detach {
    std::string loop;
    ~Detach() { RunCommand({"losetup", "-d", loop}); }
  } detach{loop};
  std::string diskseq = Trim(ReadFile("/sys/block/" + name + "/diskseq"));
  ASSERT_FALSE(diskseq.empty());

  // Other loop devices may come and go meanwhile: only this one's events count.
  std::vector<UeventClient::Received> ours;
  uint64_t last_sequence = 0, last_seqnum = 0;
  bool configured = false;
  auto deadline = Clock::now() + seconds(20);
  while (!configured && Clock::now() < deadline) {
    auto received = client->Receive();
    ASSERT_TRUE(received) << received.error().Message();
    if (received->kind == Kind::kNothing) {
      pollfd readable{client->fd(), POLLIN, 0};
      poll(&readable, 1, 200);
      continue;
    }
    ASSERT_EQ(received->kind, Kind::kEvent) << "no overflow at this rate";
    EXPECT_GT(received->sequence, last_sequence);
    last_sequence = received->sequence;
    const Uevent& event = received->event;
    if (event.devpath() != "/devices/virtual/block/" + name) continue;
    EXPECT_GT(event.seqnum(), last_seqnum) << "events of one device in kernel order";
    last_seqnum = event.seqnum();
    EXPECT_EQ(event.GetOr("DEVNAME"), dev_ + "/" + name);
    EXPECT_EQ(event.GetOr("SUBSYSTEM"), "block");
    if (event.GetOr("DISKSEQ") == diskseq &&
        event.GetOr("DEVLINKS").find("/disk/by-diskseq/" + diskseq) != std::string_view::npos) {
      configured = true;
      EXPECT_TRUE(event.Has("USEC_INITIALIZED"));
      EXPECT_TRUE(event.Has("SEQNUM"));
      EXPECT_TRUE(event.Has("ACTION"));
    }
  }
  EXPECT_TRUE(configured) << "no event of " << name << " with DISKSEQ=" << diskseq
                          << " and its by-diskseq link";
}

TEST_F(FanoutTest, HundredConcurrentClientsEachReceiveAllReplayedEventsInOrder) {
  std::string replay = MakeReplay(1000, 10000);
  ASSERT_FALSE(replay.empty());
  size_t expected = CountEvents(replay);
  ASSERT_GE(expected, 10000u);
  ASSERT_NO_FATAL_FAILURE(MakeUeventsDir());

  std::vector<ClientProcess> clients;
  for (uid_t i = 0; i < 100; ++i) {
    clients.emplace_back(dev_fd_.get(), kFirstClientUid + i, expected, false, seconds(30),
                         milliseconds(10));
  }
  for (auto& client : clients) {
    std::string error;
    ASSERT_TRUE(client.WaitRegistered(error)) << error;
  }
  // A backlog as big as the replay: this test is about delivery, not about who keeps up.
  auto args = ReplayArgs(replay);
  args.insert(args.end(), {"--uevent-backlog", "20000"});
  ASSERT_NO_FATAL_FAILURE(StartDaemon(args, empty_rules_));
  EXPECT_EQ(daemon_.Wait(seconds(30)), 0);

  std::optional<uint64_t> digest;
  for (auto& client : clients) {
    auto report = client.WaitReport(seconds(60));
    ASSERT_TRUE(report) << "client " << client.name() << " did not report";
    EXPECT_EQ(report->count, expected) << client.name();
    EXPECT_EQ(report->disorder, 0u) << client.name();
    EXPECT_EQ(report->gaps, 0u) << client.name();
    EXPECT_EQ(report->overflows, 0u) << client.name();
    EXPECT_EQ(report->errors, 0u) << client.name();
    if (!digest) digest = report->digest;
    EXPECT_EQ(report->digest, *digest) << client.name() << " saw other events or another order";
  }
  for (auto& client : clients) client.Kill();
}

TEST_F(FanoutTest, AKilledClientsDirectoryIsCollected) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}, empty_rules_));
  ClientProcess client(dev_fd_.get(), kFirstClientUid, 1000000);
  std::string error;
  ASSERT_TRUE(client.WaitRegistered(error)) << error;
  std::string path = dev_ + "/uevents/" + client.name();
  ASSERT_TRUE(PathExists(path));
  client.Kill();
  EXPECT_TRUE(WaitForPath(path, false, seconds(15))) << path << " is still there";
  EXPECT_TRUE(DaemonRunning());
}

TEST_F(FanoutTest, AStuckClientDelaysNobodyAndHoldsAtMostItsBacklog) {
  std::string replay = MakeReplay(200, 2000);
  ASSERT_FALSE(replay.empty());
  size_t expected = CountEvents(replay);
  ASSERT_NO_FATAL_FAILURE(MakeUeventsDir());
  constexpr size_t kBacklog = 100;

  ClientProcess stuck(dev_fd_.get(), kFirstClientUid, expected, /*stuck=*/true);
  ClientProcess reader(dev_fd_.get(), kFirstClientUid + 1, expected, false, seconds(5));
  std::string error;
  ASSERT_TRUE(stuck.WaitRegistered(error)) << error;
  ASSERT_TRUE(reader.WaitRegistered(error)) << error;
  // One bound for both: the reader drains as it goes, the stuck one never.
  auto args = ReplayArgs(replay);
  args.insert(args.end(), {"--uevent-backlog", std::to_string(kBacklog)});
  ASSERT_NO_FATAL_FAILURE(StartDaemon(args, empty_rules_));
  EXPECT_EQ(daemon_.Wait(seconds(30)), 0) << "the replay must finish with a client stuck";

  // The reader got every event, or (if this machine starved it of CPU for a hundred events)
  // was told exactly which ones it lost: nothing of it depends on the stuck client.
  auto report = reader.WaitReport(seconds(60));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->disorder, 0u);
  EXPECT_EQ(report->gaps, 0u);
  EXPECT_EQ(report->errors, 0u);
  EXPECT_GT(report->count, 0u);
  if (report->overflows == 0) {
    EXPECT_EQ(report->count, expected);
  } else {
    EXPECT_LE(report->count + report->lost, expected);
  }

  auto entries = ClientDirEntries(stuck.name());
  EXPECT_EQ(entries.size(), kBacklog + 1) << "backlog files and the marker";
  ASSERT_TRUE(std::binary_search(entries.begin(), entries.end(), std::string("overflow")));
  std::string marker = Trim(ReadFile(dev_ + "/uevents/" + stuck.name() + "/overflow"));
  auto first_lost = ParseSequenceName(marker);
  ASSERT_TRUE(first_lost) << marker;
  auto last_kept = ParseSequenceName(entries[kBacklog - 1]);
  ASSERT_TRUE(last_kept);
  EXPECT_EQ(*first_lost, *last_kept + 1);
  stuck.Kill();
}

TEST_F(FanoutTest, AFullFileSystemIsAnOverflowNotAStall) {
  // A dev root with room for a few dozen inodes, filled up by a client.
  std::string small = dir_.Sub("small");
  fs::create_directories(small);
  ASSERT_NO_FATAL_FAILURE(MountTmpfs(small, "mode=0755,nr_inodes=64"));
  UniqueFd small_fd(open(small.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(small_fd);
  ClientFanoutOptions options;
  options.first_sequence = 100;
  auto fanout = ClientFanout::Open(small_fd.get(), options);
  ASSERT_TRUE(fanout) << fanout.error().Message();
  auto client = UeventClient::Register(small_fd.get());
  ASSERT_TRUE(client) << client.error().Message();
  std::string filler = small + "/filler";
  fs::create_directories(filler);
  size_t files = 0;
  for (;; ++files) {
    UniqueFd fd(
        open((filler + "/" + std::to_string(files)).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    if (!fd) break;
  }
  ASSERT_GT(files, 0u);
  Uevent event;
  event.Set("ACTION", "add");
  event.Set("DEVPATH", "/devices/virtual/test/full");
  event.Set("SUBSYSTEM", "test");
  for (int i = 0; i < 3; ++i) (*fanout)->Publish(event);  // 100..102: nowhere to write them
  auto received = client->Receive();
  ASSERT_TRUE(received);
  EXPECT_EQ(received->kind, Kind::kNothing) << "not even the marker fits";

  fs::remove_all(filler);
  (*fanout)->Publish(event);  // 103: the marker first, no delivery before the client saw it
  received = client->Receive();
  ASSERT_TRUE(received);
  ASSERT_EQ(received->kind, Kind::kOverflow);
  EXPECT_EQ(received->sequence, 100u);
  (*fanout)->Publish(event);  // 104
  received = client->Receive();
  ASSERT_TRUE(received);
  ASSERT_EQ(received->kind, Kind::kEvent);
  EXPECT_EQ(received->sequence, 104u);
}

TEST_F(FanoutTest, AnUnsafeUeventsNameLeavesTheDaemonRunningWithoutFanout) {
  // Someone made DEV/uevents a symlink to elsewhere before vdevd started.
  std::string elsewhere = dir_.Sub("elsewhere");
  fs::create_directories(elsewhere);
  ASSERT_EQ(symlink(elsewhere.c_str(), (dev_ + "/uevents").c_str()), 0);
  std::string replay = MakeReplay(20, 50);
  ASSERT_FALSE(replay.empty());
  ASSERT_NO_FATAL_FAILURE(StartDaemon(ReplayArgs(replay), empty_rules_));
  EXPECT_EQ(daemon_.Wait(seconds(30)), 0) << "the replay must be processed all the same";
  EXPECT_TRUE(fs::is_empty(elsewhere)) << "vdevd wrote through the symlink";
  EXPECT_NE(DaemonLog().find("uevents"), std::string::npos) << "the refusal is logged";
}

}  // namespace
}  // namespace vdev::testing
