// ClientDir: one client's directory below DEV/uevents as the daemon handles it. It is opened
// once, without following anything, and from then on used only through its fd: the name in
// the world-writable uevents/ can be renamed, replaced by a symlink or a FIFO by its owner at
// any time, and nothing done here may then land outside the directory that was opened or
// wait on something the client controls.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

// openat() of name (one component) below dirfd that follows no symlink and crosses no mount
// point (a user may mount FUSE on a directory they own; opening it could wait on them).
// O_CLOEXEC and O_NOFOLLOW are added. Falls back to plain openat on kernels without openat2.
[[nodiscard]] Result<UniqueFd> OpenBelow(int dirfd, const std::string& name, int flags);

class ClientDir {
 public:
  // Opens name below uevents_fd. Fails with ENOTDIR (a file, FIFO or symlink: never followed),
  // EXDEV (a mount point, another file system), EPERM (writable by group or others: files
  // linked there could be renamed by someone else than the owner).
  [[nodiscard]] static Result<ClientDir> Open(int uevents_fd, const std::string& name);

  const std::string& name() const { return name_; }
  uid_t uid() const { return uid_; }
  int fd() const { return fd_.get(); }

  // True when no process holds the client's flock, i.e. it died (the lock is ours then).
  bool IsDead() const;
  // True while name() below uevents_fd is still this directory (not renamed or replaced).
  bool IsAt(int uevents_fd) const;
  // True once the directory has been removed (its last name is gone).
  bool IsRemoved() const;

  // The entries other than the overflow marker, counted up to limit (the count stops
  // there, so a client cannot make it expensive). highest: set to the greatest sequence
  // number among the names read, when there is one.
  [[nodiscard]] Result<size_t> Count(size_t limit, uint64_t* highest = nullptr) const;

  // Hard-links file of spool_fd into the directory under the same name.
  [[nodiscard]] Status Link(int spool_fd, const std::string& file) const;

  // Whether something is at the marker's name (without opening or following it).
  bool HasOverflowMarker() const;
  // Creates the marker holding first_lost; an existing marker (or anything else at its
  // name) is left as it is and counts as written.
  [[nodiscard]] Status WriteOverflowMarker(uint64_t first_lost) const;

  // Removes what the directory holds, at most *budget entries (decremented), and once it
  // is empty the directory itself, if it is still at name() below uevents_fd. Only for a
  // dead client. Returns true when done, false when the budget ran out first.
  [[nodiscard]] Result<bool> Remove(int uevents_fd, size_t* budget);

 private:
  ClientDir(std::string name, UniqueFd fd, uid_t uid, dev_t dev, ino_t ino)
      : name_(std::move(name)), fd_(std::move(fd)), uid_(uid), dev_(dev), ino_(ino) {}

  std::string name_;
  UniqueFd fd_;
  uid_t uid_;
  dev_t dev_;
  ino_t ino_;
};

}  // namespace vdev
