// BlockProbe: what libblkid finds on a block device (or a disk image file), under udev's
// property names (ID_FS_*, ID_PART_TABLE_*, ID_PART_ENTRY_*, ID_LOOP_BACKING_*); the one
// probe behind both the blkid builtin and the vdev-blkid helper.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/device.h"
#include "common/result.h"
#include "common/uevent.h"
#include "common/unique_fd.h"

namespace vdev {

// udev's blkid builtin arguments: --offset=BYTES, --hint=NAME=VALUE (repeatable), --noraid.
struct BlockProbeOptions {
  uint64_t offset = 0;             // probe from this byte on (a session of a CD)
  std::vector<std::string> hints;  // "session_offset=N", passed to blkid_probe_set_hint
  bool noraid = false;             // ignore RAID member signatures
};

// EINVAL naming the argument for anything else.
[[nodiscard]] Result<BlockProbeOptions> ParseBlockProbeArgs(const std::vector<std::string>& args);

// Where a partition lies on its whole disk, as sysfs says (start and size in 512-byte
// sectors, the partition number): the key to its entry in the disk's partition table.
struct PartitionLocation {
  std::optional<uint64_t> start;
  std::optional<uint64_t> size;
  std::optional<int> number;
};

// What ProbeOpenDevice needs besides the device.
struct ProbeContext {
  // A whole disk: a small one (a floppy) that carries a partition table is not also
  // probed for a filesystem, as udev does.
  bool whole_disk = false;
  // A partition: its whole disk, open for reading (-1: none, no ID_PART_ENTRY_* then),
  // the disk's device number (ID_PART_ENTRY_DISK) and where the partition lies.
  int disk_fd = -1;
  std::optional<dev_t> disk_devnum;
  PartitionLocation location;
};

// Probes fd (a block device or a regular file). Properties in udev's names, in the order
// found. Size 0 (no medium, a loop device without a file) gives no properties at all.
// libblkid's read errors come back with their errno (EIO, EBUSY ...); contradicting
// signatures with EUCLEAN.
[[nodiscard]] Result<std::vector<Property>> ProbeOpenDevice(int fd,
                                                            const BlockProbeOptions& options,
                                                            const ProbeContext& context);

struct DeviceProbe {
  std::vector<Property> properties;
  // Another program holds the whole disk's lock (a partitioning tool at work): nothing was
  // probed; try again once the lock is gone.
  bool busy = false;
};

// The careful probe of DESIGN.md: takes flock(LOCK_SH|LOCK_NB) on the whole disk (the
// partition's parent for a partition; not for dm, md and drbd devices, whose tools do not
// lock them), and only then opens a partition's node; nodes are opened below dev_fd with
// O_RDONLY|O_NONBLOCK, never O_EXCL (an exclusive open, or any open partition, makes the
// kernel's partition rescan fail with EBUSY). Probes, adds the loop device's backing file,
// and closes everything before returning. A locked disk gives busy, unless
// probe_when_locked. A node that is gone, or is not this device's node
// any more (a reused name), fails with ENOENT / ENXIO. node: the device's node when the
// caller has opened it already (the helper, given a path); the disk's is still found
// below dev_fd.
[[nodiscard]] Result<DeviceProbe> ProbeDevice(const Device& device, int dev_fd,
                                              const BlockProbeOptions& options,
                                              bool probe_when_locked, UniqueFd node = {});

// The properties ProbeDevice owns: a re-probe replaces the whole family, so values the new
// probe does not find (a wiped filesystem, a detached loop device) do not survive.
bool IsBlockProbeProperty(std::string_view key);

// Appends the udev properties for one libblkid value (name as libblkid calls it: "TYPE",
// "LABEL", "PART_ENTRY_NAME" ...); values libblkid gives that udev ignores add nothing.
void AppendBlkidValue(std::string_view name, std::string_view value, std::vector<Property>* out);

// blkid_encode_string: '/', '\', whitespace and other unsafe bytes as \xNN, valid UTF-8 kept:
// the *_ENC form that names a link. Cut at a whole character to at most 255 bytes (a file
// name's limit; udev's 256-byte buffer cuts it too).
std::string EncodeBlkidString(std::string_view value);

// blkid_safe_string: whitespace and unsafe bytes as '_' (ID_FS_LABEL, ID_FS_UUID).
std::string SafeBlkidString(std::string_view value);

}  // namespace vdev
