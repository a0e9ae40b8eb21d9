#include "pid_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

// A fake procfs that names pid's program.
void FakeProc(const testing::TempDir& dir, pid_t pid, const std::string& comm) {
  fs::create_directories(dir.Sub("proc/" + std::to_string(pid)));
  std::ofstream(dir.Sub("proc/" + std::to_string(pid) + "/comm")) << comm << "\n";
}

// A pid that no process has (the pid of a child that has been reaped).
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

std::string Content(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PidFile, WritesThePidAndRemovesItOnDestruction) {
  testing::TempDir dir;
  std::string path = dir.Sub("run/vdev/vdevd.pid");
  {
    auto pid_file = PidFile::Create(path, dir.Sub("proc"));
    ASSERT_TRUE(pid_file) << pid_file.error().Message();
    EXPECT_EQ(Content(path), std::to_string(getpid()) + "\n");
    EXPECT_EQ(ReadPidFile(path), getpid());
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    // No temporary file is left beside it.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.Sub("run/vdev")), fs::directory_iterator()),
              1);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(PidFile, StalePidFileOfADeadProcessIsReplaced) {
  testing::TempDir dir;
  std::string path = dir.Sub("vdevd.pid");
  pid_t dead = DeadPid();
  FakeProc(dir, dead, "vdevd");  // even if a stale procfs entry said so
  std::ofstream(path) << dead << "\n";
  auto pid_file = PidFile::Create(path, dir.Sub("proc"));
  ASSERT_TRUE(pid_file) << pid_file.error().Message();
  EXPECT_EQ(ReadPidFile(path), getpid());
}

TEST(PidFile, LiveVdevdIsRefused) {
  testing::TempDir dir;
  std::string path = dir.Sub("vdevd.pid");
  pid_t live = getppid();  // alive for as long as this test runs
  FakeProc(dir, live, "vdevd");
  fs::create_directories(dir.Sub("proc/self"));
  std::ofstream(path) << live << "\n";
  auto pid_file = PidFile::Create(path, dir.Sub("proc"));
  ASSERT_FALSE(pid_file);
  EXPECT_EQ(pid_file.error().code, EEXIST);
  EXPECT_NE(pid_file.error().context.find(std::to_string(live)), std::string::npos);
  EXPECT_NE(pid_file.error().context.find("already running"), std::string::npos);
  EXPECT_EQ(ReadPidFile(path), live);  // untouched
}

TEST(PidFile, LiveProcessOfAnotherProgramIsStale) {
  testing::TempDir dir;
  std::string path = dir.Sub("vdevd.pid");
  pid_t live = getppid();
  FakeProc(dir, live, "bash");
  fs::create_directories(dir.Sub("proc/self"));  // the pid was reused after a reboot
  std::ofstream(path) << live << "\n";
  auto pid_file = PidFile::Create(path, dir.Sub("proc"));
  ASSERT_TRUE(pid_file) << pid_file.error().Message();
  EXPECT_EQ(ReadPidFile(path), getpid());
}

TEST(PidFile, LiveProcessWithoutProcfsIsRefused) {
  testing::TempDir dir;
  std::string path = dir.Sub("vdevd.pid");
  fs::create_directories(dir.Sub("proc"));  // an empty mount point: a chroot without procfs
  std::ofstream(path) << getppid() << "\n";
  // A live process that cannot be named might be the daemon.
  auto pid_file = PidFile::Create(path, dir.Sub("proc"));
  ASSERT_FALSE(pid_file);
  EXPECT_EQ(pid_file.error().code, EEXIST);
}

TEST(PidFile, GarbageIsStaleAndOwnPidIsStale) {
  testing::TempDir dir;
  std::string path = dir.Sub("vdevd.pid");
  std::ofstream(path) << "not a pid\n";
  EXPECT_FALSE(ReadPidFile(path));
  {
    auto pid_file = PidFile::Create(path, dir.Sub("proc"));
    ASSERT_TRUE(pid_file) << pid_file.error().Message();
  }
  std::ofstream(path) << getpid() << "\n";
  FakeProc(dir, getpid(), "vdevd");
  auto pid_file = PidFile::Create(path, dir.Sub("proc"));
  ASSERT_TRUE(pid_file) << pid_file.error().Message();
}

TEST(PidFile, ASuccessorsFileIsNotRemoved) {
  testing::TempDir dir;
  std::string path = dir.Sub("vdevd.pid");
  {
    auto pid_file = PidFile::Create(path, dir.Sub("proc"));
    ASSERT_TRUE(pid_file);
    std::ofstream(path) << getppid() << "\n";  // another instance took over
  }
  EXPECT_EQ(ReadPidFile(path), getppid());
}

}  // namespace
}  // namespace vdev
