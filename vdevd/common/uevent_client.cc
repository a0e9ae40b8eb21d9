#include "common/uevent_client.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/fs_util.h"
#include "common/numbers.h"
#include "common/uevent_dir.h"

namespace vdev {
namespace {

// vdevd's events are a few hundred bytes; anything far bigger is not one of its files.
constexpr size_t kMaxEventFileSize = 256 * 1024;

// Calls visit(name) for every entry of dir (from its start) but "." and "..".
template <class Visit>
Status ForEachName(DIR* dir, Visit&& visit) {
  rewinddir(dir);
  for (;;) {
    errno = 0;
    dirent* entry = readdir(dir);
    if (!entry) {
      if (errno) return FailErrno("read uevents client directory");
      return Ok();
    }
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    visit(entry->d_name);
  }
}

// "<pid>.<16 hex digits>": unique among the live clients, unguessable for the others.
std::string ClientName() {
  uint64_t random = 0;
  if (getrandom(&random, sizeof(random), GRND_NONBLOCK) != sizeof(random)) {
    // Early boot, before the pool is ready: the name only has to be unique.
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    random = static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
    random ^= reinterpret_cast<uintptr_t>(&now);
  }
  char name[48];
  snprintf(name, sizeof(name), "%d.%016llx", static_cast<int>(getpid()),
           static_cast<unsigned long long>(random));
  return name;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

Result<UeventClient> UeventClient::Register(int dev_fd) {
  UeventClient client;
  client.uevents_.reset(
      openat(dev_fd, kUeventsDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!client.uevents_) return FailErrno(std::string("open ") + kUeventsDir);
  struct stat st;
  if (fstat(client.uevents_.get(), &st) < 0) return FailErrno(std::string("stat ") + kUeventsDir);
  // Made by vdevd (root); sticky, so that no other user can rename our directory.
  if ((st.st_uid != 0 && st.st_uid != geteuid()) || !(st.st_mode & S_ISVTX))
    return Fail(EPERM, std::string(kUeventsDir) + " is not vdevd's");

  // Set up under a name vdevd ignores, so that it never sees the directory unlocked.
  std::string temp;
  for (int attempt = 0;; ++attempt) {
    client.name_ = ClientName();
    temp = "." + client.name_ + ".new";
    if (mkdirat(client.uevents_.get(), temp.c_str(), 0700) == 0) break;
    if (errno != EEXIST || attempt == 3) return FailErrno("mkdir " + temp);
  }
  int uevents = client.uevents_.get();
  auto fail = [&](Error error) -> Result<UeventClient> {
    unlinkat(uevents, temp.c_str(), AT_REMOVEDIR);
    return tl::unexpected(std::move(error));
  };
  client.dir_.reset(openat(uevents, temp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!client.dir_) return fail({errno, "open " + temp});
  if (fstat(client.dir_.get(), &st) < 0) return fail({errno, "stat " + temp});
  if (st.st_uid != geteuid()) return fail({EPERM, temp + " is not ours"});
  // The umask may have taken bits we need; no one else needs any.
  if ((st.st_mode & 07777) != 0700 && fchmod(client.dir_.get(), 0700) < 0)
    return fail({errno, "chmod " + temp});
  if (flock(client.dir_.get(), LOCK_EX | LOCK_NB) < 0) return fail({errno, "lock " + temp});
  // A description of its own for the listing, so that its offset is nobody else's.
  UniqueFd listing(openat(client.dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!listing) return fail({errno, "open " + temp});
  client.listing_.reset(fdopendir(listing.get()));
  if (!client.listing_) return fail({errno, "fdopendir " + temp});
  listing.release();

  // Watch before the rename: vdevd links files only after it, and none may go unnoticed.
  client.inotify_.reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!client.inotify_) return fail({errno, "inotify_init1"});
  std::string self = "/proc/self/fd/" + std::to_string(client.dir_.get());
  if (inotify_add_watch(client.inotify_.get(), self.c_str(),
                        IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR) < 0)
    return fail({errno, "inotify_add_watch " + temp});
  client.ready_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!client.ready_) return fail({errno, "eventfd"});
  client.epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!client.epoll_) return fail({errno, "epoll_create1"});
  for (int fd : {client.inotify_.get(), client.ready_.get()}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(client.epoll_.get(), EPOLL_CTL_ADD, fd, &event) < 0)
      return fail({errno, "epoll_ctl"});
  }

  if (renameat2(uevents, temp.c_str(), uevents, client.name_.c_str(), RENAME_NOREPLACE) < 0)
    return fail({errno, "rename " + temp + " to " + client.name_});
  return client;
}

UeventClient::~UeventClient() {
  if (dir_) RemoveAll();
}

UeventClient& UeventClient::operator=(UeventClient&& other) noexcept {
  if (this == &other) return *this;
  if (dir_) RemoveAll();
  name_ = std::move(other.name_);
  listing_ = std::move(other.listing_);
  uevents_ = std::move(other.uevents_);
  dir_ = std::move(other.dir_);
  inotify_ = std::move(other.inotify_);
  ready_ = std::move(other.ready_);
  epoll_ = std::move(other.epoll_);
  pending_ = std::move(other.pending_);
  stuck_ = std::move(other.stuck_);
  next_ = other.next_;
  overflow_listed_ = other.overflow_listed_;
  ready_set_ = other.ready_set_;
  gone_ = other.gone_;
  return *this;
}

void UeventClient::RemoveAll() {
  struct stat ours;
  if (fstat(dir_.get(), &ours) < 0) return;
  // vdevd may link one more file between our last unlink and the rmdir: go round again.
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (listing_)
      (void)ForEachName(listing_.get(), [&](const char* name) { unlinkat(dir_.get(), name, 0); });
    struct stat named;
    if (fstatat(uevents_.get(), name_.c_str(), &named, AT_SYMLINK_NOFOLLOW) < 0 ||
        !SameFile(named, ours))
      return;
    if (unlinkat(uevents_.get(), name_.c_str(), AT_REMOVEDIR) == 0 || errno != ENOTEMPTY) return;
  }
  // Left as it is: once our lock is gone, vdevd collects it.
}

Result<UeventClient::Received> UeventClient::Receive() {
  if (!dir_) return Fail(EBADF, "uevents client is not registered");
  for (;;) {
    if (next_ >= pending_.size()) {
      // Drain before listing: a file that arrives after the listing leaves a notification.
      if (auto drained = DrainNotifications(); !drained) return tl::unexpected(drained.error());
      if (auto listed = List(); !listed) return tl::unexpected(listed.error());
      if (pending_.empty()) {
        // The kernel reports IN_DELETE_SELF only once nobody holds the directory open, and
        // we do: an empty listing may be a removed directory.
        struct stat st;
        if (fstat(dir_.get(), &st) == 0 && st.st_nlink == 0) {
          gone_ = true;
          return Fail(ENODEV, "uevents client directory " + name_ + " was removed");
        }
        // The marker comes after every file that was linked before it.
        if (overflow_listed_) {
          Received overflow = TakeOverflow();
          if (overflow.kind == Received::Kind::kOverflow) return overflow;
        }
        SetReady(false);
        return Received{};
      }
    }
    std::string file = std::move(pending_[next_++]);
    auto event = ReadEvent(file);
    // Removed whether it could be read or not: a bad file must not come back every time.
    if (unlinkat(dir_.get(), file.c_str(), 0) < 0 && errno != ENOENT) stuck_.insert(file);
    if (!event) continue;
    SetReady(next_ < pending_.size() || overflow_listed_);
    Received received;
    received.kind = Received::Kind::kEvent;
    received.event = std::move(*event);
    received.sequence = ParseSequenceName(file).value_or(0);
    return received;
  }
}

Status UeventClient::DrainNotifications() {
  DrainInotify(inotify_.get(), [this](const inotify_event& event) {
    if (event.mask & (IN_DELETE_SELF | IN_IGNORED)) gone_ = true;
  });
  if (gone_) return Fail(ENODEV, "uevents client directory " + name_ + " was removed");
  return Ok();
}

Status UeventClient::List() {
  pending_.clear();
  next_ = 0;
  overflow_listed_ = false;
  auto listed = ForEachName(listing_.get(), [&](const char* name) {
    if (ParseSequenceName(name)) {
      if (!stuck_.count(name)) pending_.emplace_back(name);
    } else if (std::strcmp(name, kOverflowMarker) == 0) {
      overflow_listed_ = true;
    }
  });
  if (!listed) return listed;
  // Equal length, so name order is number order.
  std::sort(pending_.begin(), pending_.end());
  return Ok();
}

UeventClient::Received UeventClient::TakeOverflow() {
  Received received;
  // vdevd wrote it, but it lies in our directory: read it as carefully as an event file.
  UniqueFd fd(openat(dir_.get(), kOverflowMarker, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st;
  if (fd && fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    char text[64];
    ssize_t n = read(fd.get(), text, sizeof(text) - 1);
    if (n > 0) {
      std::string_view value(text, static_cast<size_t>(n));
      while (!value.empty() && value.back() == '\n') value.remove_suffix(1);
      received.sequence = ParseNumber<uint64_t>(value).value_or(0);
    }
  }
  // Removing it tells vdevd to deliver again; someone else removing it first means we
  // were already told.
  if (unlinkat(dir_.get(), kOverflowMarker, 0) < 0) return Received{};
  overflow_listed_ = false;
  // Nothing is linked while the marker is there; what comes next wakes us through inotify.
  SetReady(false);
  received.kind = Received::Kind::kOverflow;
  return received;
}

Result<Uevent> UeventClient::ReadEvent(const std::string& file) {
  // O_NONBLOCK: a FIFO someone put here reads as empty instead of waiting for a writer.
  UniqueFd fd(
      openat(dir_.get(), file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return FailErrno("open " + file);
  std::string content;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FailErrno("read " + file);  // EISDIR, EAGAIN
    if (n == 0) break;
    if (content.size() + static_cast<size_t>(n) > kMaxEventFileSize)
      return Fail(EFBIG, file + " is not an event file");
    content.append(buffer, static_cast<size_t>(n));
    // vdevd's files are regular files, which read short only at their end.
    if (static_cast<size_t>(n) < sizeof(buffer)) break;
  }
  if (content.empty()) return Fail(EINVAL, file + " is empty");
  return ParseUeventFile(content);
}

void UeventClient::SetReady(bool ready) {
  if (ready == ready_set_) return;
  if (ready) {
    uint64_t one = 1;
    if (write(ready_.get(), &one, sizeof(one)) != sizeof(one)) return;
  } else {
    uint64_t value;
    if (read(ready_.get(), &value, sizeof(value)) != sizeof(value) && errno != EAGAIN) return;
  }
  ready_set_ = ready;
}

}  // namespace vdev
