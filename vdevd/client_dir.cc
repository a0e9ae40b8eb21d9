#include "client_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "common/uevent_dir.h"

namespace vdev {
namespace {

// A client may nest directories in its own; removing them stops this deep.
constexpr int kMaxRemoveDepth = 16;

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// A listing stream of the directory dir_fd refers to, on a description of its own (so the
// reads never disturb dir_fd), opened without following anything.
Result<DirPtr> ListDir(int dir_fd) {
  UniqueFd fd(openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return FailErrno("open directory");
  DIR* dir = fdopendir(fd.get());
  if (!dir) return FailErrno("fdopendir");
  fd.release();
  return DirPtr(dir);
}

bool IsDotOrDotDot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// Removes everything below dir_fd, depth first, within *budget entries.
Result<bool> RemoveContents(int dir_fd, int depth, size_t* budget) {
  auto dir = ListDir(dir_fd);
  if (!dir) return tl::unexpected(dir.error());
  while (dirent* entry = readdir(dir->get())) {
    if (IsDotOrDotDot(entry->d_name)) continue;
    if (*budget == 0) return false;
    --*budget;
    if (unlinkat(dir_fd, entry->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) return FailErrno(std::string("unlink ") + entry->d_name);
    if (depth >= kMaxRemoveDepth) return Fail(ELOOP, std::string("remove ") + entry->d_name);
    auto sub = OpenBelow(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
    if (!sub) {
      if (sub.error().code == ENOENT) continue;
      return tl::unexpected(sub.error());
    }
    auto done = RemoveContents(sub->get(), depth + 1, budget);
    if (!done || !*done) return done;
    if (unlinkat(dir_fd, entry->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
      return FailErrno(std::string("remove directory ") + entry->d_name);
  }
  return true;
}

}  // namespace

Result<UniqueFd> OpenBelow(int dirfd, const std::string& name, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, dirfd, name.c_str(), &how, sizeof(how));
  if (fd < 0 && errno == ENOSYS) fd = openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return FailErrno("open " + name);
  return UniqueFd(static_cast<int>(fd));
}

Result<ClientDir> ClientDir::Open(int uevents_fd, const std::string& name) {
  // O_NONBLOCK: whatever the name is by now, opening it must not wait (a FIFO would).
  auto fd = OpenBelow(uevents_fd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd) {
    // A symlink as the last component: ELOOP from openat2's RESOLVE_NO_SYMLINKS.
    if (fd.error().code == ELOOP) return Fail(ENOTDIR, "open " + name);
    return tl::unexpected(fd.error());
  }
  struct stat st, parent;
  if (fstat(fd->get(), &st) < 0) return FailErrno("stat " + name);
  if (fstat(uevents_fd, &parent) < 0) return FailErrno("stat uevents");
  if (!S_ISDIR(st.st_mode)) return Fail(ENOTDIR, "open " + name);
  // The event files are hard links: they must stay on the spool's file system.
  if (st.st_dev != parent.st_dev) return Fail(EXDEV, "open " + name);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return Fail(EPERM, name + " is writable by others");
  return ClientDir(name, std::move(*fd), st.st_uid, st.st_dev, st.st_ino);
}

bool ClientDir::IsDead() const {
  // flock locks belong to open file descriptions: ours conflicts with the client's even
  // in the same process, and the client's lasts as long as any of its fds.
  if (flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return true;
  return false;
}

bool ClientDir::IsAt(int uevents_fd) const {
  auto fd = OpenBelow(uevents_fd, name_, O_PATH);
  if (!fd) return false;
  struct stat st;
  return fstat(fd->get(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
}

bool ClientDir::IsRemoved() const {
  struct stat st;
  return fstat(fd_.get(), &st) == 0 && st.st_nlink == 0;
}

Result<size_t> ClientDir::Count(size_t limit, uint64_t* highest) const {
  auto dir = ListDir(fd_.get());
  if (!dir) return tl::unexpected(dir.error());
  size_t count = 0;
  while (count < limit) {
    dirent* entry = readdir(dir->get());
    if (!entry) break;
    if (IsDotOrDotDot(entry->d_name) || std::strcmp(entry->d_name, kOverflowMarker) == 0) continue;
    ++count;
    if (highest) {
      if (auto sequence = ParseSequenceName(entry->d_name); sequence && *sequence > *highest)
        *highest = *sequence;
    }
  }
  return count;
}

Status ClientDir::Link(int spool_fd, const std::string& file) const {
  // linkat never follows or replaces what is at the new name: an existing entry is EEXIST.
  if (linkat(spool_fd, file.c_str(), fd_.get(), file.c_str(), 0) < 0)
    return FailErrno("link " + file + " into " + name_);
  return Ok();
}

bool ClientDir::HasOverflowMarker() const {
  // O_PATH opens nothing; a mount point at the name (EXDEV) still counts as present.
  auto marker = OpenBelow(fd_.get(), kOverflowMarker, O_PATH);
  return marker || marker.error().code != ENOENT;
}

Status ClientDir::WriteOverflowMarker(uint64_t first_lost) const {
  UniqueFd fd(openat(fd_.get(), kOverflowMarker,
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
  if (!fd) {
    if (errno == EEXIST) return Ok();
    return FailErrno(std::string("create ") + kOverflowMarker + " in " + name_);
  }
  std::string text = FormatSequence(first_lost) + "\n";
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    Error error{errno ? errno : EIO, std::string("write ") + kOverflowMarker + " in " + name_};
    unlinkat(fd_.get(), kOverflowMarker, 0);
    return tl::unexpected(error);
  }
  return Ok();
}

Result<bool> ClientDir::Remove(int uevents_fd, size_t* budget) {
  auto done = RemoveContents(fd_.get(), 0, budget);
  if (!done || !*done) return done;
  // Removed by name, which only ever names what the owner put there: check that it is
  // still this directory. (Swapping in another one of their own after the check can only
  // make us remove that one, empty.)
  if (!IsAt(uevents_fd)) return true;
  if (unlinkat(uevents_fd, name_.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
    if (errno == ENOTEMPTY) return false;  // something was added meanwhile: next round
    return FailErrno("remove " + name_);
  }
  return true;
}

}  // namespace vdev
