// BlockWatch: udev's "watch". A file system made or changed without a uevent (mkfs,
// tune2fs -L, a partitioner writing a table) shows up as a close-after-write on the disk's
// node; BlockWatch sees it through inotify and asks the kernel for a "change" event, so the
// device is probed again and its links follow. For a whole disk its partitions are asked
// too: a rewritten disk may have left them showing stale data.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "common/roots.h"
#include "common/uevent.h"
#include "common/unique_fd.h"
#include "event_loop.h"

namespace vdev {

class BlockWatch {
 public:
  // Registers an inotify fd on loop. roots must outlive the watch. after_read runs on the
  // loop thread each time the watch has read its notifications: a settle that waited for
  // them must be answered even when they led to no event (the device had gone).
  [[nodiscard]] static Result<std::unique_ptr<BlockWatch>> Create(
      EventLoop& loop, const Roots& roots, std::function<void()> after_read = {});
  ~BlockWatch();
  BlockWatch(const BlockWatch&) = delete;
  BlockWatch& operator=(const BlockWatch&) = delete;

  // Loop thread, after each processed event: watch (wanted) or stop watching the device's
  // node. A remove always stops.
  void Update(const Uevent& processed, bool wanted);

  size_t size() const { return watched_by_wd_.size(); }
  // True while inotify has events the loop has not read yet (settle must wait for them).
  bool HasPending() const;

 private:
  BlockWatch(EventLoop& loop, const Roots& roots, std::function<void()> after_read)
      : loop_(loop), roots_(roots), after_read_(std::move(after_read)) {}
  void OnReadable();
  void Forget(const std::string& devpath);
  // For a whole disk whose partition table changed on disk, asks the kernel to re-read
  // it (which sends the events); otherwise writes "change" to the device's sysfs uevent
  // file (and its partitions', for a disk).
  void RequestChange(const std::string& devpath);
  // True when the kernel accepted a re-read of the disk's changed partition table.
  bool RereadChangedTable(const std::string& devpath);

  struct Watched {
    std::string devpath;
    std::string node;  // the node's path, as inotify was given it
  };

  EventLoop& loop_;
  const Roots& roots_;
  std::function<void()> after_read_;
  UniqueFd inotify_;
  std::unordered_map<int, Watched> watched_by_wd_;
  std::unordered_map<std::string, int> wd_by_devpath_;
};

}  // namespace vdev
