// `vdevadm test` and `vdevadm wait` run as programs over a fake sysfs, dev root and run dir
// (no root needed: no device nodes are made), and udevadm's time spans.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/database.h"
#include "common/roots.h"
#include "common/unique_fd.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "vdevadm/option_values.h"

extern char** environ;

namespace vdev {
namespace {

namespace fs = std::filesystem;

constexpr char kNull[] = "/devices/virtual/mem/null";
constexpr char kLoop[] = "/devices/virtual/block/loop0";

std::string VdevadmPath() {
  if (const char* path = getenv("VDEV_TEST_VDEVADM"); path && *path) return path;
  return VDEV_BINARY_DIR "/bin/vdevadm";
}

// One vdevadm run with stdout and stderr collected; killed if it outlives timeout_ms.
class Program {
 public:
  Program(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    int out[2], err[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    out_.reset(out[0]);
    err_.reset(err[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::string program = VdevadmPath();
    std::vector<std::string> owned = args;
    std::vector<char*> argv{program.data()};
    for (auto& arg : owned) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> variables;
    for (char** entry = environ; *entry; ++entry) {
      if (strncmp(*entry, "VDEV_", 5) != 0) variables.emplace_back(*entry);
    }
    variables.insert(variables.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& variable : variables) envp.push_back(variable.data());
    envp.push_back(nullptr);
    int spawned = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    EXPECT_EQ(spawned, 0) << program << ": " << strerror(spawned);
    if (spawned != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
  }

  ~Program() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // True while the program has not closed its output (it has not exited).
  bool Running(int wait_ms) {
    pollfd entries[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
    if (!out_ && !err_) return false;
    if (poll(entries, 2, wait_ms) <= 0) return true;
    if (entries[0].revents && !ReadSome(out_, &out_text_)) out_.reset();
    if (entries[1].revents && !ReadSome(err_, &err_text_)) err_.reset();
    return out_ || err_;
  }

  int Wait(int timeout_ms = 20000) {
    timespec start{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t elapsed =
          (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (elapsed >= timeout_ms) {
        ADD_FAILURE() << "vdevadm did not exit within " << timeout_ms << " ms";
        kill(pid_, SIGKILL);
        break;
      }
      if (!Running(static_cast<int>(timeout_ms - elapsed))) break;
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (!WIFEXITED(status)) return -1000 - WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

 private:
  static bool ReadSome(UniqueFd& fd, std::string* text) {
    char buffer[4096];
    ssize_t length = read(fd.get(), buffer, sizeof(buffer));
    if (length <= 0) return false;
    text->append(buffer, length);
    return true;
  }

  pid_t pid_ = -1;
  UniqueFd out_, err_;
  std::string out_text_, err_text_;
};

class VdevadmProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(VdevadmPath().c_str(), X_OK), 0)
        << VdevadmPath() << " is missing: build the vdevadm target";
    paths_.sysfs = dir_.Sub("sys");
    paths_.dev = dir_.Sub("dev");
    paths_.run = dir_.Sub("run");
    for (const char* sub : {"sys", "dev", "run", "rules"}) fs::create_directory(dir_.Sub(sub));
    sysfs_.emplace(paths_.sysfs);
    sysfs_->AddCharDevice(kNull, "mem", "null", 1, 3);
    env_ = {"VDEV_SYSFS_ROOT=" + paths_.sysfs, "VDEV_DEV_ROOT=" + paths_.dev,
            "VDEV_RUN_DIR=" + paths_.run};
  }

  void WriteRecord(const std::string& id) {
    auto roots = Roots::Open(paths_, true);
    ASSERT_TRUE(roots);
    auto database = Database::Open(roots->run(), true);
    ASSERT_TRUE(database);
    DeviceRecord record;
    record.usec_initialized = 1;
    ASSERT_TRUE(database->Write(id, record, nullptr));
  }

  testing::TempDir dir_{"vdevadm-program"};
  RootPaths paths_;
  std::optional<testing::FakeSysfs> sysfs_;
  std::vector<std::string> env_;
};

// --- vdevadm test --------------------------------------------------------------------------

TEST_F(VdevadmProgramTest, TestShowsWhatTheRulesWouldDoAndDoesNothing) {
  std::ofstream(dir_.Sub("rules/10-test.rules")) << "[null]\n"
                                                    "subsystem = mem\n"
                                                    "kernel = null\n"
                                                    "mode = 0640\n"
                                                    "symlink = my/null\n"
                                                    "set.ID_TEST = yes\n"
                                                    "tag = seat\n"
                                                    "run = /bin/false --never-run\n"
                                                    "\n"
                                                    "[block-only]\n"
                                                    "subsystem = block\n"
                                                    "set.ID_WRONG = 1\n";
  Program test({"test", "--rules-dir=" + dir_.Sub("rules"), kNull}, env_);
  ASSERT_EQ(test.Wait(), 0) << test.err();
  const std::string& out = test.out();
  EXPECT_NE(out.find("10-test.rules:1 [null]\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("[block-only]"), std::string::npos) << out;
  EXPECT_NE(out.find("mknod c 1:3 0640 0:0 null\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ln my/null -> ../null\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ln char/1:3 -> ../null\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ACTION=add\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ID_TEST=yes\n"), std::string::npos) << out;
  EXPECT_NE(out.find("DEVNAME=" + paths_.dev + "/null\n"), std::string::npos) << out;
  EXPECT_NE(out.find("DEVLINKS=" + paths_.dev + "/my/null\n"), std::string::npos) << out;
  EXPECT_NE(out.find("TAGS=:seat:\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("run: '/bin/false --never-run'\n")) << out;
  EXPECT_EQ(out.find("ID_WRONG"), std::string::npos) << out;
  // Nothing was made, stored or run.
  EXPECT_TRUE(fs::is_empty(paths_.dev));
  EXPECT_TRUE(fs::is_empty(paths_.run));

  // Other spellings of the device and the action; a remove undoes instead.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"test", "--rules-dir", dir_.Sub("rules"), "--action=remove",
                                 paths_.sysfs + kNull},
        {"test", "--rules-dir", dir_.Sub("rules"), "-a", "remove", "/sys/class/mem/null"},
        {"test", "--rules-dir", dir_.Sub("rules"), "-aremove", "-N", "never", "c1:3"},
        {"test", "--rules-dir", dir_.Sub("rules"), "--action", "remove", "--resolve-names=late",
         kNull}}) {
    Program remove(args, env_);
    ASSERT_EQ(remove.Wait(), 0) << ::testing::PrintToString(args) << remove.err();
    EXPECT_NE(remove.out().find("rm c 1:3 null\n"), std::string::npos) << remove.out();
    EXPECT_NE(remove.out().find("ACTION=remove\n"), std::string::npos) << remove.out();
  }
  EXPECT_TRUE(fs::is_empty(paths_.dev));
}

TEST_F(VdevadmProgramTest, TestErrors) {
  for (std::vector<std::string> args : {std::vector<std::string>{"test"},
                                        {"test", "/devices/virtual/mem/zero"},
                                        {"test", "--action=explode", kNull},
                                        {"test", "--resolve-names=sometimes", kNull},
                                        {"test", kNull, "extra"},
                                        {"test", "--frobnicate", kNull}}) {
    Program test(args, env_);
    EXPECT_EQ(test.Wait(), 1) << ::testing::PrintToString(args);
    EXPECT_TRUE(test.err().starts_with("vdevadm test: ")) << test.err();
  }
  Program actions({"test", "--action=help"}, env_);
  EXPECT_EQ(actions.Wait(), 0);
  EXPECT_EQ(actions.out(), "add\nremove\nchange\nmove\nonline\noffline\nbind\nunbind\n");
}

// --- vdevadm wait --------------------------------------------------------------------------

TEST_F(VdevadmProgramTest, WaitReturnsAtOnceWhenTheDeviceIsThere) {
  WriteRecord("c1:3");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"wait", "/sys/devices/virtual/mem/null"},
        {"wait", paths_.sysfs + kNull},
        {"wait", "--initialized=yes", "/sys/class/mem/null"},
        {"wait", "--initialized=no", "-t", "5", "/sys/class/mem/null"},
        {"wait", "--timeout=5", "--settle", "/sys/class/mem/null"},  // no daemon: settled
        {"wait", "--removed", "/sys/devices/virtual/mem/zero"}}) {
    Program wait(args, env_);
    EXPECT_EQ(wait.Wait(), 0) << ::testing::PrintToString(args) << wait.err();
  }
}

TEST_F(VdevadmProgramTest, WaitReturnsWhenTheDeviceIsInitialized) {
  Program wait({"wait", "--timeout=30", "/sys/devices/virtual/mem/null"}, env_);
  EXPECT_TRUE(wait.Running(200));  // no record yet
  WriteRecord("c1:3");             // the database dir is watched: no polling
  EXPECT_EQ(wait.Wait(), 0) << wait.err();
}

TEST_F(VdevadmProgramTest, WaitReturnsWhenTheDeviceAppears) {
  Program wait({"wait", "--initialized=false", "--timeout=30", "/sys/devices/virtual/block/loop0"},
               env_);
  EXPECT_TRUE(wait.Running(200));
  sysfs_->AddBlockDevice(kLoop, "loop0", 7, 0);
  EXPECT_EQ(wait.Wait(), 0) << wait.err();
}

TEST_F(VdevadmProgramTest, WaitReturnsWhenTheDeviceGoes) {
  Program wait({"wait", "--removed", "--timeout=30", "/sys/devices/virtual/mem/null"}, env_);
  EXPECT_TRUE(wait.Running(200));
  sysfs_->Remove(kNull);
  EXPECT_EQ(wait.Wait(), 0) << wait.err();
}

TEST_F(VdevadmProgramTest, WaitTimesOutAndRejectsBadArguments) {
  Program timeout({"wait", "-t", "0.2", "/sys/devices/virtual/block/loop0"}, env_);
  EXPECT_EQ(timeout.Wait(), 1);
  EXPECT_EQ(timeout.err(), "vdevadm wait: timed out waiting for the devices to be initialized\n");
  for (std::vector<std::string> args : {std::vector<std::string>{"wait"},
                                        {"wait", "sda"},
                                        {"wait", "/tmp/x"},
                                        {"wait", "--initialized=maybe", "/dev/sda"},
                                        {"wait", "--timeout=soon", "/dev/sda"},
                                        {"wait", "--frobnicate", "/dev/sda"}}) {
    Program wait(args, env_);
    EXPECT_EQ(wait.Wait(), 1) << ::testing::PrintToString(args);
    EXPECT_TRUE(wait.err().starts_with("vdevadm wait: ")) << wait.err();
  }
}

// --- time spans ----------------------------------------------------------------------------

TEST(TimespanTest, ParsesSystemdSpans) {
  struct Case {
    const char* text;
    double seconds;
  } cases[] = {{"10", 10},     {"2.5", 2.5},   {"5s", 5},         {"5 s", 5},
               {"500ms", 0.5}, {"1min", 60},   {"1min 30s", 90},  {"1min30s", 90},
               {"2h", 7200},   {"1d", 86400},  {"250us", 250e-6}, {"0", 0},
               {" 3 ", 3},     {"1.5min", 90}, {"3sec", 3},       {"2 minutes", 120}};
  for (const auto& c : cases) {
    auto parsed = ParseTimespan(c.text);
    ASSERT_TRUE(parsed) << c.text;
    EXPECT_DOUBLE_EQ(*parsed, c.seconds) << c.text;
  }
  auto infinite = ParseTimespan("infinity");
  ASSERT_TRUE(infinite);
  EXPECT_TRUE(std::isinf(*infinite));
  for (const char* bad : {"", "soon", "-1", "5x", "s", "1..2", "+5", "5 apples", "."})
    EXPECT_FALSE(ParseTimespan(bad)) << bad;
}

}  // namespace
}  // namespace vdev
