#include "common/fs_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace vdev {

Result<UniqueFd> OpenDirAt(int dirfd, const std::string& path, int extra_flags) {
  int fd = openat(dirfd, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | extra_flags);
  if (fd < 0) return FailErrno("open directory " + path);
  return UniqueFd(fd);
}

Result<std::string> ReadFileAt(int dirfd, const std::string& path, size_t max_size) {
  UniqueFd fd(openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return FailErrno("open " + path);
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return FailErrno("read " + path);
    }
    if (n == 0) break;
    if (content.size() + n > max_size) return Fail(EFBIG, "read " + path);
    content.append(buffer, n);
    // A regular file (sysfs attributes and database records are) reads short only at its
    // end: saves the read that would return 0 on every small file.
    if (static_cast<size_t>(n) < sizeof(buffer)) break;
  }
  return content;
}

Result<std::string> ReadAttributeAt(int dirfd, const std::string& path) {
  auto content = ReadFileAt(dirfd, path, 64 * 1024);
  if (!content) return content;
  while (!content->empty() && (content->back() == '\n' || content->back() == '\0'))
    content->pop_back();
  return content;
}

Result<std::string> ReadLinkAt(int dirfd, const std::string& path) {
  char buffer[4096];
  ssize_t n = readlinkat(dirfd, path.c_str(), buffer, sizeof(buffer));
  if (n < 0) return FailErrno("readlink " + path);
  if (static_cast<size_t>(n) == sizeof(buffer)) return Fail(ENAMETOOLONG, "readlink " + path);
  return std::string(buffer, n);
}

std::string TemporaryName(std::string_view prefix) {
  static std::atomic<unsigned long> counter{0};
  // Read once: our processes never fork without exec, so the pid cannot change under us.
  static const pid_t pid = getpid();
  return std::string(prefix) + "." + std::to_string(pid) + "." + std::to_string(counter++);
}

Status WriteFileAtomicAt(int dirfd, const std::string& path, std::string_view content,
                         mode_t mode) {
  std::string dir(DirName(path));
  std::string temp = (dir.empty() ? "" : dir + "/") + TemporaryName(".#" + std::string(BaseName(path)));
  UniqueFd fd(openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return FailErrno("create " + temp);
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = write(fd.get(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error error{errno, "write " + temp};
      unlinkat(dirfd, temp.c_str(), 0);
      return tl::unexpected(error);
    }
    data += n;
    left -= n;
  }
  if (renameat(dirfd, temp.c_str(), dirfd, path.c_str()) < 0) {
    Error error{errno, "rename " + temp + " to " + path};
    unlinkat(dirfd, temp.c_str(), 0);
    return tl::unexpected(error);
  }
  return Ok();
}

Status MakeDirsAt(int dirfd, std::string_view path, mode_t mode) {
  std::string prefix = path.starts_with('/') ? "/" : "";
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) {
      if (!prefix.empty() && prefix.back() != '/') prefix += '/';
      prefix.append(path.substr(pos, slash - pos));
      if (mkdirat(dirfd, prefix.c_str(), mode) < 0 && errno != EEXIST)
        return FailErrno("mkdir " + prefix);
    }
    pos = slash + 1;
  }
  return Ok();
}

void RemoveEmptyParentsAt(int dirfd, std::string_view path) {
  std::string_view dir = DirName(path);
  while (!dir.empty()) {
    if (unlinkat(dirfd, std::string(dir).c_str(), AT_REMOVEDIR) < 0) return;
    dir = DirName(dir);
  }
}

std::string_view DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  return path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return path;
  return path.substr(slash + 1);
}

void DrainInotify(int inotify_fd, const std::function<void(const inotify_event&)>& handle) {
  alignas(inotify_event) char buffer[8192];
  for (;;) {
    ssize_t length = read(inotify_fd, buffer, sizeof(buffer));
    if (length < 0 && errno == EINTR) continue;
    if (length <= 0) return;
    for (char* at = buffer; at < buffer + length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(at);
      at += sizeof(inotify_event) + event->len;
      handle(*event);
    }
  }
}

}  // namespace vdev
