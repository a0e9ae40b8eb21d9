// The parent's side of --daemon: what it makes of the child's report.
#include "daemonize.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "common/unique_fd.h"

namespace vdev {
namespace {

// Forks a child that runs body with the pipe's write end, then _exits with exit_status;
// returns WaitForDaemonChild's verdict.
int Verdict(const std::function<void(int)>& body, int exit_status) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = fork();
  if (pid == 0) {
    body(write_end.get());
    _exit(exit_status);
  }
  write_end.reset();
  int verdict = WaitForDaemonChild(read_end.get(), pid);
  // A ready child is still running; a failed one was reaped (waitpid then says ECHILD).
  // No zombie may outlive the test: other tests look for them.
  if (verdict == 0) kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return verdict;
}

TEST(WaitForDaemonChild, ReadyIsZeroWhileTheChildRuns) {
  int verdict = Verdict(
      [](int fd) {
        (void)!write(fd, "\n", 1);
        pause();  // the daemon keeps running; the parent must not wait for it
      },
      0);
  EXPECT_EQ(verdict, 0);
}

TEST(WaitForDaemonChild, ErrorTextAndStatusOfAFailedChild) {
  ::testing::internal::CaptureStderr();
  int verdict = Verdict(
      [](int fd) {
        const char message[] = "vdevd is already running as pid 42";
        (void)!write(fd, message, sizeof(message) - 1);
        close(fd);
      },
      3);
  std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(verdict, 3);
  EXPECT_NE(printed.find("already running as pid 42"), std::string::npos) << printed;
}

TEST(WaitForDaemonChild, SilentDeathIsNonZero) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Verdict([](int) {}, 0), 1);  // exited 0 without being ready: still a failure
  EXPECT_EQ(Verdict([](int) {}, 7), 7);
  EXPECT_EQ(Verdict([](int) { raise(SIGKILL); }, 0), 128 + SIGKILL);
  std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("before it was ready"), std::string::npos) << printed;
}

}  // namespace
}  // namespace vdev
