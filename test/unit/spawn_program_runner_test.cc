#include "spawn_program_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using namespace std::chrono_literals;

class SpawnProgramRunnerTest : public ::testing::Test {
 protected:
  // Writes an executable /bin/sh script into the helper directory.
  void WriteHelper(const std::string& name, const std::string& body) {
    std::string path = dir_.Sub(name);
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  }

  // True when pid no longer runs (gone, or a zombie waiting for its new parent).
  static bool IsGone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
  }

  static pid_t ReadPid(const std::string& path) {
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(path);
      pid_t pid = 0;
      if (in >> pid && pid > 0) return pid;
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }

  // No child of this process is left as a zombie (without reaping anyone else's child).
  static void ExpectNoZombies() {
    std::string self = std::to_string(getpid());
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      size_t paren = line.rfind(')');
      if (paren == std::string::npos) continue;
      std::istringstream fields(line.substr(paren + 2));
      std::string state, ppid;
      fields >> state >> ppid;
      EXPECT_FALSE(ppid == self && state == "Z") << "zombie " << entry.path().filename();
    }
  }

  testing::TempDir dir_;
};

TEST_F(SpawnProgramRunnerTest, CapturesOutputWithPropertiesAsEnvironment) {
  WriteHelper("probe",
              "echo \"ARGS=$*\"\n"
              "echo \"NAME=$DEVNAME\"\n"
              "echo \"PRELOAD=${LD_PRELOAD-unset}\"\n"
              "echo \"PATH=$PATH\"\n");
  SpawnProgramRunner runner({dir_.Sub("empty"), dir_.path()}, 5s, "/usr/bin:/bin");
  Uevent environment;
  environment.Set("DEVNAME", "sda");
  environment.Set("LD_PRELOAD", "/tmp/evil.so");
  environment.Set("PATH", "/tmp/evil");
  auto output = runner.Run("probe  one\ttwo ", environment);
  ASSERT_TRUE(output) << output.error().Message();
  EXPECT_EQ(*output, "ARGS=one two\nNAME=sda\nPRELOAD=unset\nPATH=/usr/bin:/bin\n");
  ExpectNoZombies();
}

TEST_F(SpawnProgramRunnerTest, ResolvesAbsoluteAndHelperNames) {
  WriteHelper("helper", "exit 0\n");
  SpawnProgramRunner runner({dir_.path()});
  EXPECT_EQ(runner.Resolve("helper").value_or(""), dir_.Sub("helper"));
  EXPECT_EQ(runner.Resolve("/bin/sh").value_or(""), "/bin/sh");
  EXPECT_EQ(runner.Resolve("sh").error().code, ENOENT);  // no PATH search
  EXPECT_EQ(runner.Resolve("../helper").error().code, EINVAL);
  EXPECT_EQ(runner.Resolve("/nonexistent/x").error().code, ENOENT);
  auto missing = runner.Run("no-such-helper arg", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(SpawnProgramRunnerTest, NonZeroExitIsEio) {
  WriteHelper("fail", "echo partial\nexit 3\n");
  WriteHelper("selfkill", "kill -9 $$\n");
  SpawnProgramRunner runner({dir_.path()});
  auto failed = runner.Run("fail", {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, EIO);
  EXPECT_NE(failed.error().context.find("exited with status 3"), std::string::npos)
      << failed.error().context;
  auto killed = runner.Run("selfkill", {});
  ASSERT_FALSE(killed);
  EXPECT_EQ(killed.error().code, EIO);
  ExpectNoZombies();
}

TEST_F(SpawnProgramRunnerTest, StdinIsAtEndOfFile) {
  WriteHelper("reader", "cat\necho done\n");
  SpawnProgramRunner runner({dir_.path()}, 10s);
  auto output = runner.Run("reader", {});
  ASSERT_TRUE(output) << output.error().Message();
  EXPECT_EQ(*output, "done\n");
}

TEST_F(SpawnProgramRunnerTest, TimeoutKillsTheHelperAndWhatItStarted) {
  std::string pid_file = dir_.Sub("sleep.pid");
  WriteHelper("hang", "sleep 60 &\necho $! > " + pid_file + "\nwait\n");
  SpawnProgramRunner runner({dir_.path()}, 200ms);
  auto started = std::chrono::steady_clock::now();
  auto output = runner.Run("hang", {});
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code, ETIME);
  // Far below the helper's 60 s: it was killed, not waited for.
  EXPECT_LT(elapsed, 20s);
  pid_t sleeper = ReadPid(pid_file);
  ASSERT_GT(sleeper, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = IsGone(sleeper);
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "the helper's child survived the timeout";
  ExpectNoZombies();
}

TEST_F(SpawnProgramRunnerTest, PlainSleepTimesOut) {
  SpawnProgramRunner runner({}, 200ms);
  auto output = runner.Run("/bin/sleep 60", {});
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code, ETIME);
  ExpectNoZombies();
}

TEST_F(SpawnProgramRunnerTest, BackgroundChildHoldingStdoutDoesNotStallTheEvent) {
  std::string pid_file = dir_.Sub("bg.pid");
  WriteHelper("daemonize", "sleep 60 &\necho $! > " + pid_file + "\necho A=1\n");
  // With a 20 s timeout, waiting for the pipe to close would fail with ETIME.
  SpawnProgramRunner runner({dir_.path()}, 20s);
  auto output = runner.Run("daemonize", {});
  pid_t sleeper = ReadPid(pid_file);
  if (sleeper > 0) kill(sleeper, SIGKILL);
  ASSERT_TRUE(output) << output.error().Message();
  EXPECT_EQ(*output, "A=1\n");
}

TEST_F(SpawnProgramRunnerTest, OutputIsCappedAt64KiB) {
  WriteHelper("flood", "yes | head -c 200000\n");
  SpawnProgramRunner runner({dir_.path()}, 10s);
  auto output = runner.Run("flood", {});
  ASSERT_TRUE(output) << output.error().Message();
  EXPECT_EQ(output->size(), SpawnProgramRunner::kMaxOutput);
  EXPECT_EQ(output->find_first_not_of("y\n"), std::string::npos);
}

TEST_F(SpawnProgramRunnerTest, SeveralThreadsAtOnce) {
  WriteHelper("echoer", "echo \"ID=$ID\"\n");
  SpawnProgramRunner runner({dir_.path()}, 10s);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        Uevent environment;
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        environment.Set("ID", id);
        auto output = runner.Run("echoer", environment);
        if (!output || *output != "ID=" + id + "\n") ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  ExpectNoZombies();
}

}  // namespace
}  // namespace vdev
