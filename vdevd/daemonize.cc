#include "daemonize.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace vdev {

int WaitForDaemonChild(int pipe, pid_t child) {
  std::string report;
  char buffer[512];
  for (;;) {
    ssize_t n = read(pipe, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buffer, static_cast<size_t>(n));
    // Readiness is one newline and nothing before it; an error text is read to its end.
    if (report == "\n") return 0;
  }
  int status = 0;
  pid_t reaped;
  do reaped = waitpid(child, &status, 0);
  while (reaped < 0 && errno == EINTR);
  while (!report.empty() && report.back() == '\n') report.pop_back();
  if (!report.empty()) {
    fprintf(stderr, "vdevd: %s\n", report.c_str());
  } else if (reaped == child && WIFSIGNALED(status)) {
    fprintf(stderr, "vdevd: the daemon was killed by %s before it was ready\n",
            strsignal(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  } else {
    fprintf(stderr, "vdevd: the daemon exited before it was ready (see its log)\n");
  }
  if (reaped == child && WIFEXITED(status) && WEXITSTATUS(status) != 0) return WEXITSTATUS(status);
  return 1;
}

Result<DaemonChild> DaemonChild::Fork() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return FailErrno("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  fflush(nullptr);  // nothing buffered is written twice
  pid_t pid = fork();
  if (pid < 0) return FailErrno("fork");
  if (pid > 0) {
    write_end.reset();  // EOF once the child exits without a report
    // main() blocked SIGINT and SIGTERM for the daemon's signalfd; the waiting parent is
    // interrupted by them as any command is (the daemon, in its own session, is not).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    _exit(WaitForDaemonChild(read_end.get(), pid));
  }
  read_end.reset();
  // A new session: no controlling terminal, no SIGHUP when the starting shell goes away.
  if (setsid() < 0) return FailErrno("setsid");
  // Keeps no mount point busy (all paths were made absolute before the fork).
  if (chdir("/") < 0) return FailErrno("chdir /");
  return DaemonChild(std::move(write_end));
}

Status DaemonChild::DetachStdio(const std::string& null_path, bool keep_stderr) {
  UniqueFd null(open(null_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!null) return FailErrno("open " + null_path);
  for (int fd = 0; fd <= (keep_stderr ? 1 : 2); ++fd)
    if (dup2(null.get(), fd) < 0) return FailErrno("dup2 " + null_path);
  return Ok();
}

void DaemonChild::Ready() {
  if (!pipe_) return;
  (void)!write(pipe_.get(), "\n", 1);
  pipe_.reset();
}

void DaemonChild::Failed(const std::string& message) {
  if (!pipe_) return;
  std::string text = message.empty() ? "failed to start" : message;
  (void)!write(pipe_.get(), text.data(), text.size());
  pipe_.reset();
}

}  // namespace vdev
