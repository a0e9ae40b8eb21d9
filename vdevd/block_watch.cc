#include "block_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>

#include "common/fs_util.h"
#include "common/log.h"
#include "partition_table.h"

namespace vdev {
namespace {

Status WriteChange(int sysfs_fd, const std::string& devpath) {
  std::string path = devpath.substr(1) + "/uevent";
  UniqueFd fd(openat(sysfs_fd, path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return FailErrno("open " + path);
  if (write(fd.get(), "change", 6) != 6) return FailErrno("write " + path);
  return Ok();
}

}  // namespace

Result<std::unique_ptr<BlockWatch>> BlockWatch::Create(EventLoop& loop, const Roots& roots,
                                                       std::function<void()> after_read) {
  std::unique_ptr<BlockWatch> watch(new BlockWatch(loop, roots, std::move(after_read)));
  watch->inotify_.reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!watch->inotify_) return FailErrno("inotify_init1");
  BlockWatch* raw = watch.get();
  auto on_readable = [raw](uint32_t) {
    raw->OnReadable();
    if (raw->after_read_) raw->after_read_();
  };
  if (auto added = loop.Add(watch->inotify_.get(), EPOLLIN, on_readable); !added)
    return tl::unexpected(added.error());
  return watch;
}

BlockWatch::~BlockWatch() {
  if (inotify_) loop_.Remove(inotify_.get());
}

void BlockWatch::Update(const Uevent& processed, bool wanted) {
  std::string devpath(processed.devpath());
  if (processed.action() == "remove" || !wanted) {
    Forget(devpath);
    return;
  }
  std::string_view devname = processed.devname();
  if (devname.empty()) return;
  // The published DEVNAME is the node's path under the dev root: inotify takes a path.
  int wd = inotify_add_watch(inotify_.get(), std::string(devname).c_str(), IN_CLOSE_WRITE);
  if (wd < 0) {
    LogDebug("watch %s: %s, ignoring", std::string(devname).c_str(), strerror(errno));
    return;
  }
  auto old = wd_by_devpath_.find(devpath);
  if (old != wd_by_devpath_.end() && old->second != wd) {
    // A new node (a reused name): the old inode's watch goes.
    inotify_rm_watch(inotify_.get(), old->second);
    watched_by_wd_.erase(old->second);
  }
  wd_by_devpath_[devpath] = wd;
  watched_by_wd_[wd] = Watched{devpath, std::string(devname)};
}

bool BlockWatch::HasPending() const {
  pollfd pending{inotify_.get(), POLLIN, 0};
  return poll(&pending, 1, 0) > 0;
}

void BlockWatch::Forget(const std::string& devpath) {
  auto found = wd_by_devpath_.find(devpath);
  if (found == wd_by_devpath_.end()) return;
  inotify_rm_watch(inotify_.get(), found->second);
  watched_by_wd_.erase(found->second);
  wd_by_devpath_.erase(found);
}

void BlockWatch::OnReadable() {
  DrainInotify(inotify_.get(), [this](const inotify_event& event) {
    auto found = watched_by_wd_.find(event.wd);
    if (found == watched_by_wd_.end()) return;
    if (event.mask & IN_IGNORED) {  // the node went away: its watch is gone too
      wd_by_devpath_.erase(found->second.devpath);
      watched_by_wd_.erase(found);
      return;
    }
    if (event.mask & IN_CLOSE_WRITE) RequestChange(found->second.devpath);
  });
}

bool BlockWatch::RereadChangedTable(const std::string& devpath) {
  std::string marker = devpath.substr(1) + "/partition";
  if (faccessat(roots_.sysfs(), marker.c_str(), F_OK, 0) == 0) return false;  // a partition
  auto wd = wd_by_devpath_.find(devpath);
  if (wd == wd_by_devpath_.end()) return false;
  UniqueFd disk(open(watched_by_wd_[wd->second].node.c_str(),
                     O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
  if (!disk) return false;
  // Exclusive, as a partitioning tool takes it: no probe opens a partition meanwhile (an
  // open partition makes the re-read fail with EBUSY). Held by someone else: not now.
  if (flock(disk.get(), LOCK_EX | LOCK_NB) < 0) return false;
  auto reread = RereadIfChanged(disk.get(), roots_.sysfs(), devpath);
  if (!reread) {
    LogDebug("watch: %s: %s, ignoring", devpath.c_str(), reread.error().Message().c_str());
    return false;
  }
  if (*reread) LogInfo("watch: %s: partition table changed, re-read", devpath.c_str());
  return *reread;
}

void BlockWatch::RequestChange(const std::string& devpath) {
  // A re-read table comes with the kernel's own events for the disk and its partitions.
  if (RereadChangedTable(devpath)) return;
  LogDebug("watch: %s was written, asking for a change event", devpath.c_str());
  if (auto written = WriteChange(roots_.sysfs(), devpath); !written)
    LogWarning("watch: %s, ignoring", written.error().Message().c_str());
  // A whole disk's partitions: a rewritten disk may have left them showing stale data.
  auto partitions = PartitionDevpaths(roots_.sysfs(), devpath);
  if (!partitions) return;
  for (const auto& partition : *partitions) {
    if (auto written = WriteChange(roots_.sysfs(), partition); !written)
      LogWarning("watch: %s, ignoring", written.error().Message().c_str());
  }
}

}  // namespace vdev
