// PidFile: vdevd's pid file (RUN/vdev/vdevd.pid with --daemon): refuses a start while the
// process it names is a live vdevd, is written atomically and removed on a clean exit.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace vdev {

class PidFile {
 public:
  // Fails with EEXIST, naming the pid, when path names a live process whose name is
  // "vdevd" (or whose name cannot be read: no procfs mounted in a chroot). A pid file naming a dead
  // process, another program or this process is stale and is replaced. Writes getpid()
  // through a temporary name and a rename, so a reader never sees a partial file.
  // proc_root is where procfs is ("/proc"; tests pass another).
  [[nodiscard]] static Result<PidFile> Create(const std::string& path,
                                              const std::string& proc_root = "/proc");

  PidFile() = default;
  PidFile(PidFile&& other) noexcept : path_(std::move(other.path_)), pid_(other.pid_) {
    other.path_.clear();
  }
  PidFile& operator=(PidFile&& other) noexcept;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  // Removes the file if it still names this process (a successor may have replaced it).
  ~PidFile() { Remove(); }

  void Remove();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  pid_t pid_ = 0;
};

// The pid a pid file names; ENOENT when there is none, EINVAL when it holds no pid.
[[nodiscard]] Result<pid_t> ReadPidFile(const std::string& path);

}  // namespace vdev
