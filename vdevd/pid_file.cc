#include "pid_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/fs_util.h"
#include "common/log.h"
#include "common/numbers.h"

namespace vdev {
namespace {

// True when pid is running and is (or may be) a vdevd.
bool LiveVdevd(pid_t pid, const std::string& proc_root) {
  if (pid <= 0 || pid == getpid()) return false;
  if (kill(pid, 0) < 0 && errno == ESRCH) return false;
  auto comm = ReadAttributeAt(AT_FDCWD, proc_root + "/" + std::to_string(pid) + "/comm");
  if (comm) return *comm == "vdevd";
  // No procfs mounted (a chroot): a live process we cannot name might be the daemon, and
  // refusing is the safe side of that doubt. With procfs, a vanished entry means it is gone.
  if (comm.error().code == ENOENT && access((proc_root + "/self").c_str(), F_OK) == 0) return false;
  return true;
}

}  // namespace

Result<pid_t> ReadPidFile(const std::string& path) {
  auto text = ReadFileAt(AT_FDCWD, path, 64);
  if (!text) return tl::unexpected(text.error());
  std::string_view number = *text;
  while (!number.empty() && (number.back() == '\n' || number.back() == ' '))
    number.remove_suffix(1);
  auto pid = ParseNumber<pid_t>(number);
  if (!pid || *pid <= 0) return Fail(EINVAL, path + " holds no pid");
  return *pid;
}

Result<PidFile> PidFile::Create(const std::string& path, const std::string& proc_root) {
  if (auto old = ReadPidFile(path)) {
    if (LiveVdevd(*old, proc_root))
      return Fail(EEXIST, "vdevd is already running as pid " + std::to_string(*old) + " (" + path +
                              "); refusing to start");
    LogNotice("%s: stale pid file (pid %d is no running vdevd), replacing it", path.c_str(), *old);
  } else if (old.error().code != ENOENT && old.error().code != EINVAL) {
    return tl::unexpected(old.error());
  }
  namespace fs = std::filesystem;
  fs::path file(path);
  std::string dir = file.parent_path().empty() ? "." : file.parent_path().string();
  if (auto made = MakeDirsAt(AT_FDCWD, dir, 0755); !made) return tl::unexpected(made.error());
  UniqueFd dir_fd(open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir_fd) return FailErrno("open " + dir);
  PidFile pid_file;
  pid_file.pid_ = getpid();
  if (auto written = WriteFileAtomicAt(dir_fd.get(), file.filename().string(),
                                       std::to_string(pid_file.pid_) + "\n", 0644);
      !written)
    return tl::unexpected(written.error());
  pid_file.path_ = path;
  return pid_file;
}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::move(other.path_);
    pid_ = other.pid_;
    other.path_.clear();
  }
  return *this;
}

void PidFile::Remove() {
  if (path_.empty()) return;
  // A forked helper process must not remove its parent's file.
  if (getpid() == pid_) {
    auto named = ReadPidFile(path_);
    if (named && *named == pid_ && unlink(path_.c_str()) < 0 && errno != ENOENT)
      LogWarning("remove %s: %s, ignoring", path_.c_str(), strerror(errno));
  }
  path_.clear();
}

}  // namespace vdev
