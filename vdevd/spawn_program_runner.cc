#include "spawn_program_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "common/unique_fd.h"
#include "substitution.h"

extern char** environ;

namespace vdev {
namespace {

using Clock = std::chrono::steady_clock;

// RAII for the two posix_spawn attribute objects.
struct SpawnFileActions {
  SpawnFileActions() { posix_spawn_file_actions_init(&actions); }
  ~SpawnFileActions() { posix_spawn_file_actions_destroy(&actions); }
  posix_spawn_file_actions_t actions;
};

struct SpawnAttributes {
  SpawnAttributes() { posix_spawnattr_init(&attributes); }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes); }
  posix_spawnattr_t attributes;
};

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0;
}

// Waits for pid, retrying on EINTR. Returns the wait status, or -1 when the child was
// reaped elsewhere.
int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

SpawnProgramRunner::SpawnProgramRunner(std::vector<std::string> helper_dirs,
                                       std::chrono::milliseconds timeout, std::string path)
    : helper_dirs_(std::move(helper_dirs)), timeout_(timeout), path_(std::move(path)) {}

Result<std::string> SpawnProgramRunner::Resolve(std::string_view program) const {
  std::string name(program);
  if (name.empty()) return Fail(EINVAL, "empty program name");
  if (name[0] == '/') {
    if (!IsExecutableFile(name)) return Fail(ENOENT, "program " + name + " not found");
    return name;
  }
  // "sub/helper" is looked up below the helper directories too, but may not climb out.
  if (!IsValidAttributeName(name)) return Fail(EINVAL, "invalid program name '" + name + "'");
  for (const std::string& dir : helper_dirs_) {
    std::string path = dir + "/" + name;
    if (IsExecutableFile(path)) return path;
  }
  return Fail(ENOENT, "helper '" + name + "' not found in the helper directories");
}

Result<std::string> SpawnProgramRunner::Run(const std::string& command, const Uevent& environment) {
  std::vector<std::string_view> words = SplitWords(command);
  if (words.empty()) return Fail(EINVAL, "empty command");
  auto program = Resolve(words[0]);
  if (!program) return tl::unexpected(program.error());

  std::vector<std::string> arguments(words.begin(), words.end());
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  std::vector<std::string> variables;
  for (const auto& [key, value] : environment.properties()) {
    if (key == "PATH" || key.starts_with("LD_")) continue;
    variables.push_back(key + "=" + value);
  }
  variables.push_back("PATH=" + path_);
  std::vector<char*> envp;
  for (std::string& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);

  // stdin is a pipe whose write end is closed at once: the helper reads end of file without
  // this module having to name a null device.
  int out_pipe[2], in_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) < 0) return FailErrno("pipe for " + *program);
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (pipe2(in_pipe, O_CLOEXEC) < 0) return FailErrno("pipe for " + *program);
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  in_write.reset();

  SpawnFileActions actions;
  posix_spawn_file_actions_adddup2(&actions.actions, in_read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions.actions, out_write.get(), STDOUT_FILENO);
  SpawnAttributes attributes;
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attributes.attributes, &signals);  // the daemon blocks some
  sigfillset(&signals);
  posix_spawnattr_setsigdefault(&attributes.attributes, &signals);  // and ignores SIGPIPE
  // Its own process group, so a timeout kills whatever the helper started as well.
  posix_spawnattr_setpgroup(&attributes.attributes, 0);
  posix_spawnattr_setflags(&attributes.attributes,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  pid_t pid = 0;
  int spawned = posix_spawn(&pid, program->c_str(), &actions.actions, &attributes.attributes,
                            argv.data(), envp.data());
  if (spawned != 0) return Fail(spawned, "spawn " + *program);
  out_write.reset();
  in_read.reset();

  // A pidfd turns "the child exited" into an fd event, so one poll waits for output, exit
  // and the timeout together. Old kernels without pidfd_open fall back to short ticks.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  std::optional<int> status;  // set once reaped

  std::string output;
  size_t discarded = 0;
  bool exited = false, eof = false;
  Clock::time_point deadline = Clock::now() + timeout_;
  char buffer[4096];
  while (!eof) {
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) break;
    // After the child is gone, only what is already in the pipe is read: a background
    // grandchild holding the pipe open must not stall the event until the timeout.
    int wait_ms = exited ? 0 : static_cast<int>(std::min<long long>(remaining, 1 << 30));
    if (!pidfd && !exited) wait_ms = std::min(wait_ms, 20);
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {exited ? -1 : pidfd.get(), POLLIN, 0}};
    int ready = poll(fds, 2, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      Error error{errno, "poll for " + *program};
      kill(-pid, SIGKILL);
      Reap(pid);
      return tl::unexpected(error);
    }
    if (fds[0].revents != 0) {
      ssize_t n = read(out_read.get(), buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof = true;
      } else {
        size_t keep = std::min(static_cast<size_t>(n), kMaxOutput - output.size());
        output.append(buffer, keep);
        discarded += n - keep;
      }
    } else if (exited) {
      break;  // nothing more buffered
    }
    if (!exited && pidfd && (fds[1].revents & POLLIN) != 0) exited = true;
    if (!exited && !pidfd) {
      int raw = 0;
      if (waitpid(pid, &raw, WNOHANG) == pid) {
        status = raw;
        exited = true;
      }
    }
  }

  // EOF may come before the exit (or a helper may close its stdout and keep running):
  // wait for the exit too, but still within the deadline.
  while (!exited) {
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) break;
    if (pidfd) {
      pollfd fd = {pidfd.get(), POLLIN, 0};
      int ready = poll(&fd, 1, static_cast<int>(std::min<long long>(remaining, 1 << 30)));
      if (ready > 0 || (ready < 0 && errno != EINTR)) exited = true;
    } else {
      int raw = 0;
      if (waitpid(pid, &raw, WNOHANG) == pid) {
        status = raw;
        exited = true;
      } else {
        usleep(20 * 1000);
      }
    }
  }
  if (!exited) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    Reap(pid);
    return Fail(ETIME, "'" + command + "' timed out after " + std::to_string(timeout_.count()) +
                           " ms and was killed");
  }
  if (!status) {
    int raw = Reap(pid);
    if (raw < 0) return Fail(ECHILD, "'" + command + "' was reaped elsewhere");
    status = raw;
  }
  if (discarded > 0) {
    LogWarning("'%s' wrote more than %zu bytes; %zu bytes dropped, ignoring", command.c_str(),
               kMaxOutput, discarded);
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return Fail(EIO, "'" + command + "' " + DescribeStatus(*status));
  return output;
}

}  // namespace vdev
