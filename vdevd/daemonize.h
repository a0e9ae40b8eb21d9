// Daemonize: `vdevd --daemon`. The process forks before it starts any thread or opens any
// socket; the parent waits on a pipe and exits 0 once the child reports it is ready (the
// coldplug settled), or non-zero with the child's error when the child fails or dies
// first, so an init script goes on only with a complete /dev.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

class DaemonChild {
 public:
  // Forks. In the parent it does not return: it exits as described above. In the child it
  // returns after setsid() and chdir("/"); the caller detaches stdio once it knows where
  // logging goes (DetachStdio).
  [[nodiscard]] static Result<DaemonChild> Fork();

  DaemonChild() = default;
  DaemonChild(DaemonChild&&) = default;
  DaemonChild& operator=(DaemonChild&&) = default;

  // stdin and stdout to null_path (the dev root's null node); stderr too unless
  // keep_stderr (logging goes there). After a boot mode has made the node.
  [[nodiscard]] Status DetachStdio(const std::string& null_path, bool keep_stderr);

  // Tells the waiting parent to exit 0. Once; later calls do nothing.
  void Ready();
  // Tells the waiting parent to print message and exit non-zero. Once; after Ready nothing.
  void Failed(const std::string& message);

  bool reported() const { return !pipe_; }

 private:
  explicit DaemonChild(UniqueFd pipe) : pipe_(std::move(pipe)) {}
  UniqueFd pipe_;  // write end; closed once the parent has been told
};

// The parent's side, apart for tests: reads the child's report from pipe and waits for
// child when it failed. Returns the exit status for the parent; prints the child's error
// to stderr.
int WaitForDaemonChild(int pipe, pid_t child);

}  // namespace vdev
