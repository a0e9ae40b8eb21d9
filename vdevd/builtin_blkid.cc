// The blkid builtin (udev's IMPORT{builtin}="blkid"): filesystem, partition-table and
// partition-entry properties of a block device, probed carefully (block_probe.h).
#include "builtin_blkid.h"

#include <cerrno>

#include "block_probe.h"
#include "common/log.h"

namespace vdev {
namespace {

// The device went away, or has no medium: no properties, and nothing to report.
bool IsAbsent(int code) {
  return code == ENOENT || code == ENXIO || code == ENODEV || code == ENOMEDIUM;
}

// Errors that pass: a loop device still being set up answers EIO (seed 003), a disk that
// the kernel is rescanning EBUSY (seed 002).
bool IsTransient(int code) { return code == EIO || code == EBUSY; }

}  // namespace

Status RunBlkidBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  auto options = ParseBlockProbeArgs(call.args);
  if (!options) return tl::unexpected(options.error());
  if (state.dev_fd < 0) return Fail(EBADF, "blkid: no dev root to open the node in");

  // On a change event the processor has put the old record's properties back: a probe that
  // no longer finds a filesystem (wiped, or a loop device detached) must not leave the old
  // ID_FS_* behind, or the old links would stay.
  std::vector<std::string> stale;
  for (const auto& [key, value] : state.properties.properties())
    if (IsBlockProbeProperty(key)) stale.push_back(key);
  for (const auto& key : stale) state.properties.Erase(key);

  auto probed = ProbeDevice(state.device, state.dev_fd, *options, state.last_attempt);
  if (!probed) {
    const Error& error = probed.error();
    if (IsAbsent(error.code)) {
      LogDebug("%s: blkid: %s, ignoring", state.device.devpath().c_str(), error.Message().c_str());
      return Ok();
    }
    // The event queue retries on a timer; a worker never sleeps here.
    if (IsTransient(error.code) && !state.last_attempt) {
      state.busy = true;
      return Fail(EAGAIN, "blkid: " + error.Message() + ", will retry");
    }
    return Fail(error.code, "blkid: " + error.context);
  }
  if (probed->busy) {
    state.busy = true;
    return Fail(EAGAIN, "blkid: the disk is locked by another program, will retry");
  }
  for (const auto& [key, value] : probed->properties) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
