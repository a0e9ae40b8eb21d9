#include "client_fanout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "common/fs_util.h"
#include "common/log.h"
#include "common/uevent_dir.h"

namespace vdev {
namespace {

// A client that removes its marker without draining is listed again no sooner than this,
// so that removing it in a loop cannot make us read its directory at every event.
constexpr auto kRecountPenalty = std::chrono::seconds(1);
// Entries of dead clients removed per call, so that a directory a client filled with
// files of its own cannot stall the loop; the rest is removed on the next calls.
constexpr size_t kRemoveBudget = 16384;
constexpr unsigned kMaxRemoveAttempts = 10;
// Names over their owner's cap remembered for later; beyond this they are forgotten (and
// found again by the next rescan).
constexpr size_t kMaxWaitingPerUid = 256;

uint64_t RealtimeMicroseconds() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

// Makes (or checks) a directory of ours below parent: a real directory, not a symlink or
// anything a user placed there, owned by us, with exactly mode.
Result<UniqueFd> OpenOwnDir(int parent, const std::string& name, mode_t mode) {
  if (mkdirat(parent, name.c_str(), mode) < 0 && errno != EEXIST) return FailErrno("mkdir " + name);
  UniqueFd fd(
      openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ELOOP) return Fail(ENOTDIR, name + " is a symlink");
    return FailErrno("open " + name);
  }
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return FailErrno("stat " + name);
  if (st.st_uid != geteuid())
    return Fail(EPERM, name + " is owned by uid " + std::to_string(st.st_uid));
  // mkdirat's mode went through the umask; an existing directory may have any mode.
  if ((st.st_mode & 07777) != mode && fchmod(fd.get(), mode) < 0) return FailErrno("chmod " + name);
  return fd;
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// Calls visit(name, d_type) for every entry of dir_fd but "." and "..".
template <class Visit>
Status ForEachEntry(int dir_fd, Visit&& visit) {
  UniqueFd fd(openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return FailErrno("open directory");
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(fd.get()));
  if (!dir) return FailErrno("fdopendir");
  fd.release();
  while (dirent* entry = readdir(dir.get())) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    visit(std::string(entry->d_name), entry->d_type);
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<ClientFanout>> ClientFanout::Open(int dev_fd, ClientFanoutOptions options) {
  if (options.backlog == 0) return Fail(EINVAL, "uevents: a backlog of 0");
  auto uevents = OpenOwnDir(dev_fd, kUeventsDir, 01777);
  if (!uevents) return tl::unexpected(uevents.error());
  auto spool = OpenOwnDir(uevents->get(), kUeventsSpoolDir, 0700);
  if (!spool) {
    spool.error().context = std::string(kUeventsDir) + "/" + spool.error().context;
    return tl::unexpected(spool.error());
  }
  struct stat top, inner;
  if (fstat(uevents->get(), &top) < 0 || fstat(spool->get(), &inner) < 0)
    return FailErrno("stat uevents");
  if (top.st_dev != inner.st_dev) return Fail(EXDEV, "uevents/.spool is a mount point");

  std::unique_ptr<ClientFanout> fanout(
      new ClientFanout(options, std::move(*uevents), std::move(*spool)));
  fanout->CleanSpool();
  fanout->Watch();
  fanout->Rescan();
  return fanout;
}

ClientFanout::ClientFanout(ClientFanoutOptions options, UniqueFd uevents, UniqueFd spool)
    : options_(options),
      uevents_(std::move(uevents)),
      spool_(std::move(spool)),
      next_sequence_(options.first_sequence ? options.first_sequence : RealtimeMicroseconds()) {}

ClientFanout::~ClientFanout() = default;

void ClientFanout::Watch() {
  inotify_.reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_) {
    LogWarning("uevents: inotify: %s; looking for clients every few seconds instead",
               strerror(errno));
    return;
  }
  // inotify takes a path: the magic link names exactly the directory we opened.
  std::string self = "/proc/self/fd/" + std::to_string(uevents_.get());
  if (inotify_add_watch(inotify_.get(), self.c_str(),
                        IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
                            IN_MOVE_SELF | IN_ONLYDIR) < 0) {
    LogWarning("uevents: watching it: %s; looking for clients every few seconds instead",
               strerror(errno));
    inotify_.reset();
    return;
  }
  watching_ = true;
}

void ClientFanout::HandleNotifications() {
  if (!inotify_) return;
  bool rescan = false;
  DrainInotify(inotify_.get(), [&](const inotify_event& event) {
    if (event.mask & IN_Q_OVERFLOW) {
      rescan = true;
      return;
    }
    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      LogError("uevents: the directory was removed or moved; no new clients are found");
      watching_ = false;
      return;
    }
    if (event.len == 0) return;
    std::string name(event.name);  // NUL-padded
    if (!IsClientDirName(name)) return;
    if (event.mask & (IN_DELETE | IN_MOVED_FROM)) Drop(name);
    // Only directories can be clients: a symlink or FIFO is never even opened.
    if ((event.mask & (IN_CREATE | IN_MOVED_TO)) && (event.mask & IN_ISDIR)) Register(name);
  });
  if (rescan) Rescan();
}

void ClientFanout::Rescan() {
  std::set<std::string> present;
  auto listed = ForEachEntry(uevents_.get(), [&](const std::string& name, unsigned char type) {
    if (!IsClientDirName(name) || (type != DT_DIR && type != DT_UNKNOWN)) return;
    present.insert(name);
  });
  if (!listed) {
    LogError("uevents: %s, ignoring", listed.error().Message().c_str());
    return;
  }
  std::vector<std::string> gone;
  for (const auto& [name, client] : clients_)
    if (!present.count(name)) gone.push_back(name);
  for (const auto& name : gone) Drop(name);
  for (auto& [uid, names] : waiting_)
    std::erase_if(names, [&](const std::string& name) { return !present.count(name); });
  for (const auto& name : present) Register(name);
}

void ClientFanout::Register(const std::string& name) {
  if (auto known = clients_.find(name); known != clients_.end()) {
    if (known->second.dir.IsAt(uevents_.get())) return;
    Drop(name);  // renamed away and something else put there
  }
  auto dir = ClientDir::Open(uevents_.get(), name);
  if (!dir) {
    // Not a client: a file, FIFO or symlink, someone else's mount, a shared directory.
    if (dir.error().code != ENOENT)
      LogDebug("uevents: %s, ignoring", dir.error().Message().c_str());
    return;
  }
  uid_t uid = dir->uid();
  if (per_uid_[uid] >= options_.clients_per_uid) {
    auto& waiting = waiting_[uid];
    if (waiting.size() < kMaxWaitingPerUid) waiting.insert(name);
    if (warned_uids_.insert(uid).second)
      LogWarning("uevents: uid %u already has %zu clients; ignoring %s and further ones",
                 static_cast<unsigned>(uid), per_uid_[uid], name.c_str());
    return;
  }
  if (auto waiting = waiting_.find(uid); waiting != waiting_.end()) waiting->second.erase(name);
  if (dir->IsDead()) {
    LogDebug("uevents: %s is not locked by a live client, removing it", name.c_str());
    dying_.push_back({std::move(*dir), 0});
    CollectDying();
    return;
  }
  Client client(std::move(*dir));
  uint64_t highest = 0;
  auto count = client.dir.Count(options_.backlog, &highest);
  client.backlog = count ? *count : options_.backlog;  // unknown: recounted before linking
  // Files left by a previous daemon: our numbers continue after them.
  if (highest >= next_sequence_) next_sequence_ = highest + 1;
  ++per_uid_[uid];
  clients_.emplace(name, std::move(client));
  LogDebug("uevents: client %s (uid %u) registered", name.c_str(), static_cast<unsigned>(uid));
}

void ClientFanout::Drop(const std::string& name) {
  auto found = clients_.find(name);
  if (found == clients_.end()) {
    for (auto& [uid, names] : waiting_) names.erase(name);
    return;
  }
  uid_t uid = found->second.dir.uid();
  clients_.erase(found);
  if (--per_uid_[uid] == 0) per_uid_.erase(uid);
  AdmitWaiting(uid);
}

void ClientFanout::Bury(const std::string& name) {
  auto found = clients_.find(name);
  if (found == clients_.end()) return;
  LogDebug("uevents: client %s died, removing its directory", name.c_str());
  dying_.push_back({std::move(found->second.dir), 0});
  uid_t uid = dying_.back().dir.uid();
  clients_.erase(found);
  if (--per_uid_[uid] == 0) per_uid_.erase(uid);
  AdmitWaiting(uid);
}

void ClientFanout::AdmitWaiting(uid_t uid) {
  auto waiting = waiting_.find(uid);
  while (waiting != waiting_.end() && !waiting->second.empty()) {
    auto count = per_uid_.find(uid);
    if (count != per_uid_.end() && count->second >= options_.clients_per_uid) return;
    std::string name = *waiting->second.begin();
    waiting->second.erase(waiting->second.begin());
    Register(name);
    waiting = waiting_.find(uid);
  }
  if (waiting != waiting_.end()) waiting_.erase(waiting);
  warned_uids_.erase(uid);
}

void ClientFanout::Publish(const Uevent& event) {
  // A client whose registration is already queued must get this event: a program that
  // registers and then causes an event expects to see it.
  HandleNotifications();
  uint64_t sequence = next_sequence_++;
  if (clients_.empty()) return;
  std::string file = FormatSequence(sequence);
  bool spooled = true;
  if (auto written = WriteSpool(file, FormatProperties(event)); !written) {
    spooled = false;
    if (!spool_failing_)
      LogError("uevents: %s; clients lose events until it works again",
               written.error().Message().c_str());
    spool_failing_ = true;
  } else if (spool_failing_) {
    LogNotice("uevents: the spool works again");
    spool_failing_ = false;
  }
  std::vector<std::pair<std::string, bool>> gone;  // name, dead (else removed by itself)
  for (auto& [name, client] : clients_) {
    switch (Deliver(client, file, sequence, spooled)) {
      case Outcome::kKept:
        break;
      case Outcome::kRemoved:
        gone.emplace_back(name, false);
        break;
      case Outcome::kDead:
        gone.emplace_back(name, true);
        break;
    }
  }
  if (spooled) unlinkat(spool_.get(), file.c_str(), 0);
  for (const auto& [name, dead] : gone) {
    if (dead)
      Bury(name);
    else
      Drop(name);
  }
  if (!dying_.empty()) CollectDying();
}

ClientFanout::Outcome ClientFanout::Deliver(Client& client, const std::string& file,
                                            uint64_t sequence, bool spooled) {
  if (client.overflowed && !TryResume(client, sequence)) return Outcome::kKept;
  if (!spooled) {
    EnterOverflow(client, sequence, "the spool cannot be written");
    return Outcome::kKept;
  }
  if (client.backlog >= options_.backlog) {
    auto count = client.dir.Count(options_.backlog);
    client.backlog = count ? *count : options_.backlog;
    if (client.backlog >= options_.backlog) {
      if (client.dir.IsDead()) return Outcome::kDead;
      EnterOverflow(client, sequence, "its backlog is full");
      return Outcome::kKept;
    }
  }
  auto linked = client.dir.Link(spool_.get(), file);
  if (linked) {
    ++client.backlog;
    return Outcome::kKept;
  }
  // Removed, full (ENOSPC, EMLINK, EDQUOT), or a name the client put in our way (EEXIST):
  // what a dead client leaves is collected, a live one is told it lost events.
  if (client.dir.IsRemoved()) return Outcome::kRemoved;
  if (client.dir.IsDead()) return Outcome::kDead;
  EnterOverflow(client, sequence, strerror(linked.error().code));
  return Outcome::kKept;
}

bool ClientFanout::TryResume(Client& client, uint64_t sequence) {
  if (!client.marker_written) {
    client.marker_written = static_cast<bool>(client.dir.WriteOverflowMarker(client.first_lost));
    return false;
  }
  // The client removes the marker once it has read every file before it.
  if (client.dir.HasOverflowMarker()) return false;
  auto now = std::chrono::steady_clock::now();
  if (now >= client.next_recount) {
    auto count = client.dir.Count(options_.backlog);
    if (count && *count < options_.backlog) {
      client.backlog = *count;
      client.overflowed = false;
      LogInfo("uevents: client %s caught up, delivering again from %s", client.dir.name().c_str(),
              FormatSequence(sequence).c_str());
      return true;
    }
    client.next_recount = now + kRecountPenalty;
  }
  // It acknowledged the loss without making room: this is the first event lost now.
  client.first_lost = sequence;
  client.marker_written = static_cast<bool>(client.dir.WriteOverflowMarker(sequence));
  return false;
}

void ClientFanout::EnterOverflow(Client& client, uint64_t sequence, const char* why) {
  client.overflowed = true;
  client.first_lost = sequence;
  client.marker_written = static_cast<bool>(client.dir.WriteOverflowMarker(sequence));
  LogInfo("uevents: client %s (uid %u): %s; not delivering from %s on until it catches up",
          client.dir.name().c_str(), static_cast<unsigned>(client.dir.uid()), why,
          FormatSequence(sequence).c_str());
}

void ClientFanout::CheckClients() {
  if (!watching_) Rescan();
  std::vector<std::pair<std::string, bool>> gone;
  for (auto& [name, client] : clients_) {
    if (!client.dir.IsAt(uevents_.get())) {
      gone.emplace_back(name, false);  // renamed away or replaced: no longer a client here
    } else if (client.dir.IsDead()) {
      gone.emplace_back(name, true);
    }
  }
  for (const auto& [name, dead] : gone) {
    if (dead)
      Bury(name);
    else
      Drop(name);
  }
  CollectDying();
}

void ClientFanout::CollectDying() {
  size_t budget = kRemoveBudget;
  for (auto it = dying_.begin(); it != dying_.end();) {
    auto done = it->dir.Remove(uevents_.get(), &budget);
    if (done && *done) {
      it = dying_.erase(it);
      continue;
    }
    if (!done || ++it->attempts >= kMaxRemoveAttempts) {
      LogWarning("uevents: cannot remove dead client %s: %s, leaving it", it->dir.name().c_str(),
                 done ? "it keeps filling up" : done.error().Message().c_str());
      it = dying_.erase(it);
      continue;
    }
    if (budget == 0) break;
    ++it;
  }
}

Status ClientFanout::WriteSpool(const std::string& file, const std::string& content) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  UniqueFd fd(openat(spool_.get(), file.c_str(), flags, 0644));
  if (!fd && errno == EEXIST) {
    // Left by a daemon that died between writing and unlinking it.
    unlinkat(spool_.get(), file.c_str(), 0);
    fd.reset(openat(spool_.get(), file.c_str(), flags, 0644));
  }
  if (!fd) return FailErrno("create uevents/.spool/" + file);
  // Clients of every user read it, whatever our umask (looked at once: it stays as it is).
  if (!spool_mode_right_) {
    struct stat st;
    if (fstat(fd.get(), &st) == 0 && (st.st_mode & 07777) == 0644) {
      spool_mode_right_ = true;
    } else if (fchmod(fd.get(), 0644) < 0) {
      return FailErrno("chmod uevents/.spool/" + file);
    }
  }
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = write(fd.get(), data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error error{n < 0 ? errno : EIO, "write uevents/.spool/" + file};
      unlinkat(spool_.get(), file.c_str(), 0);
      return tl::unexpected(error);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  return Ok();
}

void ClientFanout::CleanSpool() {
  auto cleaned = ForEachEntry(spool_.get(), [&](const std::string& name, unsigned char) {
    unlinkat(spool_.get(), name.c_str(), 0);
  });
  if (!cleaned) LogWarning("uevents/.spool: %s, ignoring", cleaned.error().Message().c_str());
}

}  // namespace vdev
