// UeventClient: a program's end of vdevd's client fan-out (DESIGN.md, "The client fan-out"),
// what libudev's udev_monitor is built on. It registers a directory below DEV/uevents, holds
// its flock while it lives, and reads the event files vdevd links there, in order.
//
// Part of libudev.so.1: no exceptions but bad_alloc, no output, no static state. Not
// thread-safe (one object per monitor); fork-safe only in the sense that a child that keeps
// the descriptors keeps the registration alive.
#pragma once

#include <dirent.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/uevent.h"
#include "common/unique_fd.h"

namespace vdev {

class UeventClient {
 public:
  struct Received {
    enum class Kind {
      kNothing,   // no event now: wait for fd() to become readable
      kEvent,     // event holds the next event
      kOverflow,  // events were lost here (libudev: ENOBUFS); reported once, reading goes on
    };
    Kind kind = Kind::kNothing;
    Uevent event;           // kEvent: the properties vdevd published
    uint64_t sequence = 0;  // kEvent: its sequence number; kOverflow: the first one lost
                            // (0 when the marker did not say)
  };

  // Registers below the dev root dev_fd (DEV/uevents must exist: vdevd makes it): creates
  // uevents/.<pid>.<random>.new (0700), locks it, starts watching it and renames it to
  // uevents/<pid>.<random>. Events vdevd publishes after this returns are delivered.
  // ENOENT: no vdevd fan-out below dev_fd.
  [[nodiscard]] static Result<UeventClient> Register(int dev_fd);

  UeventClient(UeventClient&&) noexcept = default;
  // Unregisters this one first.
  UeventClient& operator=(UeventClient&& other) noexcept;
  // Removes the directory and the files still in it.
  ~UeventClient();

  // Pollable (POLLIN; an epoll fd): readable while Receive() has something to return. Stays
  // readable as long as events are pending, like a socket.
  int fd() const { return epoll_.get(); }
  // The directory's name below DEV/uevents ("<pid>.<random>").
  const std::string& name() const { return name_; }

  // Never blocks. The next event in sequence order (the file is removed once read), else
  // one kOverflow when vdevd stopped delivering because this client fell behind by its
  // backlog, else kNothing. Files that are not well-formed event files are skipped.
  // Fails (ENODEV) once the directory has been removed under us.
  [[nodiscard]] Result<Received> Receive();

 private:
  UeventClient() = default;
  [[nodiscard]] Status DrainNotifications();
  [[nodiscard]] Status List();
  [[nodiscard]] Result<Uevent> ReadEvent(const std::string& file);
  Received TakeOverflow();
  void SetReady(bool ready);
  void RemoveAll();

  struct DirCloser {
    void operator()(DIR* dir) const { closedir(dir); }
  };

  std::string name_;
  std::unique_ptr<DIR, DirCloser> listing_;  // our directory, read again at every List()
  UniqueFd uevents_;                         // DEV/uevents, to remove our directory at the end
  UniqueFd dir_;                             // our directory; holds the flock
  UniqueFd inotify_;                         // watches dir_ for new files
  UniqueFd ready_;                           // eventfd: set while files already listed are pending
  UniqueFd epoll_;                           // inotify_ + ready_: what fd() returns
  std::vector<std::string> pending_;         // listed and not yet read, in name order
  std::set<std::string> stuck_;              // names that are no event files and cannot be removed
  size_t next_ = 0;                          // index into pending_
  bool overflow_listed_ = false;             // the last listing saw the overflow marker
  bool ready_set_ = false;
  bool gone_ = false;
};

}  // namespace vdev
