#include "block_probe.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "common/numbers.h"
#include "common/unique_fd.h"
#include "loop_backing.h"
#include "substitution.h"

namespace vdev {
namespace {

struct ProbeDeleter {
  void operator()(blkid_probe probe) const { blkid_free_probe(probe); }
};
using ProbePtr = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeDeleter>;

// A file name's limit: an encoded value longer than this could never name a link.
constexpr size_t kMaxEncodedLength = 255;

// The family ProbeDevice owns, by prefix.
constexpr std::string_view kProbePrefixes[] = {"ID_FS_", "ID_PART_TABLE_", "ID_PART_ENTRY_",
                                               "ID_LOOP_BACKING_"};

// Length of the encoded unit at text[0]: a "\xNN" escape (blkid_encode_string escapes '\'
// itself, so a backslash always starts one), a UTF-8 sequence it let through, or a byte.
size_t EncodedUnitLength(std::string_view text) {
  unsigned char lead = text[0];
  size_t length = 1;
  if (lead == '\\') {
    length = 4;
  } else if (lead >= 0xf0) {
    length = 4;
  } else if (lead >= 0xe0) {
    length = 3;
  } else if (lead >= 0xc0) {
    length = 2;
  }
  return std::min(length, text.size());
}

// Values go into the database and event files line by line: no control byte may pass.
std::string PropertyValue(std::string_view value) {
  std::string safe;
  AppendEscaped(value, Escape::kProperty, &safe);
  return safe;
}

// The medium's size in bytes; 0 means none (a drive without a disc, a loop device with no
// file attached, or one the kernel announced before it was configured). nullopt for a
// character device (a UBI volume), whose size libblkid finds out itself.
Result<std::optional<uint64_t>> MediumSize(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return FailErrno("fstat");
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (S_ISCHR(st.st_mode)) return std::optional<uint64_t>();
  if (!S_ISBLK(st.st_mode)) return Fail(ENOTBLK, "not a block device or image file");
  uint64_t size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) < 0) return FailErrno("BLKGETSIZE64");
  return size;
}

// Runs libblkid's chains as udev's builtin does: a small whole disk (a floppy, not a
// character device) with a partition table is not probed for a filesystem too; otherwise
// partition tables and superblocks together.
Status RunProbe(blkid_probe probe, bool small_disk) {
  blkid_probe_enable_partitions(probe, 1);
  if (small_disk) {
    blkid_probe_enable_superblocks(probe, 0);
    errno = 0;
    int found = blkid_do_fullprobe(probe);
    if (found < 0) return Fail(errno != 0 ? errno : EIO, "probing the partition table");
    if (blkid_probe_lookup_value(probe, "PTTYPE", nullptr, nullptr) == 0) return Ok();
  }
  blkid_probe_enable_superblocks(probe, 1);
  errno = 0;
  int found = blkid_do_safeprobe(probe);
  if (found == -2) return Fail(EUCLEAN, "contradicting signatures (wipefs them)");
  if (found < 0) return Fail(errno != 0 ? errno : EIO, "probing");
  return Ok();
}

// The disk's partition-table entry of the partition at location, as libblkid matches a
// partition device to its entry: by start and size, else by number. An extended DOS
// partition shows in sysfs with a size of one or two sectors only.
blkid_partition FindPartition(blkid_partlist list, const PartitionLocation& location) {
  int count = blkid_partlist_numof_partitions(list);
  if (location.start && location.size) {
    for (int i = 0; i < count; ++i) {
      blkid_partition partition = blkid_partlist_get_partition(list, i);
      if (partition == nullptr) continue;
      if (static_cast<uint64_t>(blkid_partition_get_start(partition)) != *location.start) continue;
      if (static_cast<uint64_t>(blkid_partition_get_size(partition)) == *location.size ||
          (blkid_partition_is_extended(partition) && *location.size <= 1024)) {
        return partition;
      }
    }
  }
  if (location.number) return blkid_partlist_get_partition_by_partno(list, *location.number);
  return nullptr;
}

bool HasKey(const std::vector<Property>& properties, std::string_view key) {
  return std::any_of(properties.begin(), properties.end(),
                     [&](const Property& property) { return property.first == key; });
}

// udev reads a partition's ID_PART_ENTRY_* values from its whole disk's table (libblkid's
// BLKID_PARTS_ENTRY_DETAILS, which finds the disk through /sys and /dev by itself). This
// reads the table through the disk we already hold open and locked instead. The table's
// type and id come along, as udev's rules import them from the disk (unless the
// partition carries a table of its own).
void AppendPartitionEntry(const ProbeContext& context, std::vector<Property>* out) {
  ProbePtr probe(blkid_new_probe());
  if (!probe || blkid_probe_set_device(probe.get(), context.disk_fd, 0, 0) < 0) return;
  blkid_partlist list = blkid_probe_get_partitions(probe.get());
  if (list == nullptr) return;  // no table on the disk (any more)
  blkid_partition partition = FindPartition(list, context.location);
  if (partition == nullptr) return;

  if (blkid_parttable table = blkid_partlist_get_table(list); table != nullptr) {
    const char* type = blkid_parttable_get_type(table);
    const char* id = blkid_parttable_get_id(table);
    if (type && !HasKey(*out, "ID_PART_TABLE_TYPE")) {
      AppendBlkidValue("PTTYPE", type, out);
      if (id && *id) AppendBlkidValue("PTUUID", id, out);
    }
  }
  if (blkid_parttable table = blkid_partition_get_table(partition); table != nullptr) {
    if (const char* scheme = blkid_parttable_get_type(table))
      AppendBlkidValue("PART_ENTRY_SCHEME", scheme, out);
  }
  if (const char* name = blkid_partition_get_name(partition))
    AppendBlkidValue("PART_ENTRY_NAME", name, out);
  if (const char* uuid = blkid_partition_get_uuid(partition))
    AppendBlkidValue("PART_ENTRY_UUID", uuid, out);
  if (const char* type = blkid_partition_get_type_string(partition)) {
    AppendBlkidValue("PART_ENTRY_TYPE", type, out);
  } else {
    char hex[16];
    snprintf(hex, sizeof(hex), "0x%x", blkid_partition_get_type(partition));
    AppendBlkidValue("PART_ENTRY_TYPE", hex, out);
  }
  if (unsigned long long flags = blkid_partition_get_flags(partition); flags != 0) {
    char hex[24];
    snprintf(hex, sizeof(hex), "0x%llx", flags);
    AppendBlkidValue("PART_ENTRY_FLAGS", hex, out);
  }
  AppendBlkidValue("PART_ENTRY_NUMBER", std::to_string(blkid_partition_get_partno(partition)), out);
  AppendBlkidValue("PART_ENTRY_OFFSET", std::to_string(blkid_partition_get_start(partition)), out);
  AppendBlkidValue("PART_ENTRY_SIZE", std::to_string(blkid_partition_get_size(partition)), out);
  if (context.disk_devnum) {
    AppendBlkidValue("PART_ENTRY_DISK",
                     std::to_string(major(*context.disk_devnum)) + ":" +
                         std::to_string(minor(*context.disk_devnum)),
                     out);
  }
}

std::string NodeName(std::string_view devname) {
  if (devname.starts_with("/dev/")) devname.remove_prefix(5);
  return std::string(devname);
}

// Opens a device's node for probing. The name may have been reused by a newer device (loop0
// again, with another number on a tmpfs dev root): a node of another device is refused. A
// regular file stands in for a node in tests and for image files.
Result<UniqueFd> OpenNode(int dev_fd, const std::string& name, const Device& device) {
  if (name.empty()) return Fail(ENODEV, "no device node");
  UniqueFd fd(openat(dev_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return FailErrno("open " + name);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return FailErrno("fstat " + name);
  if (S_ISREG(st.st_mode)) return fd;
  // Block devices; UBI volumes, which udev probes too, are character devices.
  bool right_type = device.is_block() ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode);
  if (!right_type || (device.devnum() && st.st_rdev != *device.devnum()))
    return Fail(ENXIO, name + " is not the node of " + device.sysname());
  return fd;
}

// Device-mapper, md and drbd devices are managed by their own tools, which do not take the
// disk's lock; udev leaves them unlocked too.
bool TakesDiskLock(std::string_view sysname) {
  return !sysname.starts_with("dm-") && !sysname.starts_with("md") && !sysname.starts_with("drbd");
}

}  // namespace

Result<BlockProbeOptions> ParseBlockProbeArgs(const std::vector<std::string>& args) {
  BlockProbeOptions options;
  for (const std::string& arg : args) {
    std::string_view text = arg;
    if (text == "--noraid" || text == "-R") {
      options.noraid = true;
    } else if (text.starts_with("--offset=")) {
      auto offset = ParseNumber<uint64_t>(text.substr(9));
      if (!offset || *offset > static_cast<uint64_t>(INT64_MAX))
        return Fail(EINVAL, "invalid offset '" + arg + "'");
      options.offset = *offset;
    } else if (text.starts_with("--hint=") && text.size() > 7) {
      options.hints.emplace_back(text.substr(7));
    } else {
      return Fail(EINVAL, "unknown argument '" + arg + "'");
    }
  }
  return options;
}

std::string EncodeBlkidString(std::string_view value) {
  std::string input(value.substr(0, value.find('\0')));
  // Each byte becomes at most a 4-byte escape; libblkid wants room for 3 more and a NUL.
  std::string encoded(4 * input.size() + 4, '\0');
  if (blkid_encode_string(input.c_str(), encoded.data(), encoded.size()) != 0) return {};
  encoded.resize(strlen(encoded.c_str()));
  size_t keep = 0;
  while (keep < encoded.size()) {
    size_t unit = EncodedUnitLength(std::string_view(encoded).substr(keep));
    if (keep + unit > kMaxEncodedLength) break;
    keep += unit;
  }
  encoded.resize(keep);
  return encoded;
}

std::string SafeBlkidString(std::string_view value) {
  std::string input(value.substr(0, value.find('\0')));
  // udev's buffer: 256 bytes, so a value is cut at 255 the same way.
  char safe[256] = {};
  blkid_safe_string(input.c_str(), safe, sizeof(safe));
  return PropertyValue(safe);
}

void AppendBlkidValue(std::string_view name, std::string_view value, std::vector<Property>* out) {
  // Names the way udev-builtin-blkid.c maps them; encoded where the value can name a link.
  struct Mapping {
    std::string_view blkid;
    std::string_view property;
    enum { kRaw, kEncoded, kSafeAndEncoded } form;
  };
  static constexpr Mapping kMappings[] = {
      {"TYPE", "ID_FS_TYPE", Mapping::kRaw},
      {"USAGE", "ID_FS_USAGE", Mapping::kRaw},
      {"VERSION", "ID_FS_VERSION", Mapping::kRaw},
      {"UUID", "ID_FS_UUID", Mapping::kSafeAndEncoded},
      {"UUID_SUB", "ID_FS_UUID_SUB", Mapping::kSafeAndEncoded},
      {"LABEL", "ID_FS_LABEL", Mapping::kSafeAndEncoded},
      {"FSSIZE", "ID_FS_SIZE", Mapping::kRaw},
      {"FSLASTBLOCK", "ID_FS_LASTBLOCK", Mapping::kRaw},
      {"FSBLOCKSIZE", "ID_FS_BLOCKSIZE", Mapping::kRaw},
      {"PTTYPE", "ID_PART_TABLE_TYPE", Mapping::kRaw},
      {"PTUUID", "ID_PART_TABLE_UUID", Mapping::kRaw},
      {"PART_ENTRY_NAME", "ID_PART_ENTRY_NAME", Mapping::kEncoded},
      {"PART_ENTRY_TYPE", "ID_PART_ENTRY_TYPE", Mapping::kEncoded},
      {"SYSTEM_ID", "ID_FS_SYSTEM_ID", Mapping::kEncoded},
      {"PUBLISHER_ID", "ID_FS_PUBLISHER_ID", Mapping::kEncoded},
      {"APPLICATION_ID", "ID_FS_APPLICATION_ID", Mapping::kEncoded},
      {"BOOT_SYSTEM_ID", "ID_FS_BOOT_SYSTEM_ID", Mapping::kEncoded},
      {"VOLUME_ID", "ID_FS_VOLUME_ID", Mapping::kEncoded},
      {"LOGICAL_VOLUME_ID", "ID_FS_LOGICAL_VOLUME_ID", Mapping::kEncoded},
      {"VOLUME_SET_ID", "ID_FS_VOLUME_SET_ID", Mapping::kEncoded},
      {"DATA_PREPARER_ID", "ID_FS_DATA_PREPARER_ID", Mapping::kEncoded},
  };
  for (const Mapping& mapping : kMappings) {
    if (mapping.blkid != name) continue;
    switch (mapping.form) {
      case Mapping::kRaw:
        out->emplace_back(mapping.property, PropertyValue(value));
        break;
      case Mapping::kEncoded:
        out->emplace_back(mapping.property, EncodeBlkidString(value));
        break;
      case Mapping::kSafeAndEncoded:
        out->emplace_back(mapping.property, SafeBlkidString(value));
        out->emplace_back(std::string(mapping.property) + "_ENC", EncodeBlkidString(value));
        break;
    }
    return;
  }
  // The other PART_ENTRY_* values (SCHEME, UUID, NUMBER, OFFSET, SIZE, DISK, FLAGS) keep
  // their name behind "ID_"; values udev does not export (SEC_TYPE, BLOCK_SIZE ...) are
  // dropped.
  if (name.starts_with("PART_ENTRY_"))
    out->emplace_back("ID_" + std::string(name), PropertyValue(value));
}

bool IsBlockProbeProperty(std::string_view key) {
  return std::any_of(std::begin(kProbePrefixes), std::end(kProbePrefixes),
                     [&](std::string_view prefix) { return key.starts_with(prefix); });
}

Result<std::vector<Property>> ProbeOpenDevice(int fd, const BlockProbeOptions& options,
                                              const ProbeContext& context) {
  std::vector<Property> properties;
  auto size = MediumSize(fd);
  if (!size) return tl::unexpected(size.error());
  if (*size && **size <= options.offset) return properties;  // no medium

  ProbePtr probe(blkid_new_probe());
  if (!probe) return Fail(ENOMEM, "blkid_new_probe");
  for (const std::string& hint : options.hints) {
    if (blkid_probe_set_hint(probe.get(), hint.c_str(), 0) < 0)
      return Fail(EINVAL, "invalid hint '" + hint + "'");
  }
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
                                                     BLKID_SUBLKS_TYPE | BLKID_SUBLKS_SECTYPE |
                                                     BLKID_SUBLKS_USAGE | BLKID_SUBLKS_VERSION);
  if (options.noraid)
    blkid_probe_filter_superblocks_usage(probe.get(), BLKID_FLTR_NOTIN, BLKID_USAGE_RAID);
  errno = 0;
  if (blkid_probe_set_device(probe.get(), fd, static_cast<blkid_loff_t>(options.offset), 0) < 0)
    return Fail(errno != 0 ? errno : EIO, "blkid_probe_set_device");
  if (!*size && blkid_probe_get_size(probe.get()) <= 0) return properties;
  bool small_disk = *size && context.whole_disk && **size - options.offset <= 1440 * 1024;
  if (auto ran = RunProbe(probe.get(), small_disk); !ran) return tl::unexpected(ran.error());

  int count = blkid_probe_numof_values(probe.get());
  for (int i = 0; i < count; ++i) {
    const char* name = nullptr;
    const char* data = nullptr;
    if (blkid_probe_get_value(probe.get(), i, &name, &data, nullptr) < 0) continue;
    if (name != nullptr && data != nullptr) AppendBlkidValue(name, data, &properties);
  }
  if (context.disk_fd >= 0) AppendPartitionEntry(context, &properties);
  return properties;
}

Result<DeviceProbe> ProbeDevice(const Device& device, int dev_fd, const BlockProbeOptions& options,
                                bool probe_when_locked, UniqueFd node) {
  DeviceProbe result;
  const std::string sysname = device.sysname();
  ProbeContext context;
  context.whole_disk = device.devtype() != "partition";
  auto open_node = [&]() -> Status {
    if (node) return Ok();
    auto opened = OpenNode(dev_fd, NodeName(device.properties().devname()), device);
    if (!opened) return tl::unexpected(opened.error());
    node = std::move(*opened);
    return Ok();
  };

  // The whole disk: the node itself, or a partition's parent. Partition tools lock the
  // whole disk, and a partition's table entry is read from it.
  UniqueFd disk;
  std::string disk_name = sysname;
  if (context.whole_disk) {
    if (auto opened = open_node(); !opened) return tl::unexpected(opened.error());
  } else {
    std::optional<Device> parent = device.Parent();
    if (parent && parent->is_block()) {
      disk_name = parent->sysname();
      context.disk_devnum = parent->devnum();
      auto opened = OpenNode(dev_fd, NodeName(parent->properties().devname()), *parent);
      if (opened) {
        disk = std::move(*opened);
        context.disk_fd = disk.get();
      } else {
        // The disk may be going away while its partition is probed; probe what is left.
        LogDebug("%s: whole disk %s: %s, probing without it", sysname.c_str(), disk_name.c_str(),
                 opened.error().Message().c_str());
      }
    }
    auto number = [&](std::string_view name) -> std::optional<uint64_t> {
      auto text = device.Attribute(name);
      return text ? ParseNumber<uint64_t>(*text) : std::nullopt;
    };
    context.location.start = number("start");
    context.location.size = number("size");
    if (auto partno = number("partition"); partno && *partno <= 0xffff)
      context.location.number = static_cast<int>(*partno);
  }

  // The lock comes before a partition is opened: an open partition, however briefly, makes
  // the partitioning tool's BLKRRPART fail with EBUSY (seed 002).
  int lock_fd = context.whole_disk ? node.get() : disk.get();
  if (lock_fd >= 0 && TakesDiskLock(disk_name) && flock(lock_fd, LOCK_SH | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) {
      LogDebug("%s: flock(%s): %m, ignoring", sysname.c_str(), disk_name.c_str());
    } else if (!probe_when_locked) {
      result.busy = true;
      return result;
    } else {
      LogDebug("%s: %s is still locked, probing anyway", sysname.c_str(), disk_name.c_str());
    }
  }
  // A partition left behind on a disk with no medium (detached), or reaching past the end
  // of the disk's new medium (a failed `partx -d` before the next image was attached),
  // has nothing to probe: reading it would only answer EIO, which would be retried.
  if (!context.whole_disk && disk) {
    auto disk_size = MediumSize(disk.get());
    if (disk_size && *disk_size) {
      uint64_t end = (context.location.start.value_or(0) + context.location.size.value_or(0)) * 512;
      if (**disk_size == 0 || end > **disk_size) return result;
    }
  }
  if (auto opened = open_node(); !opened) return tl::unexpected(opened.error());

  auto probed = ProbeOpenDevice(node.get(), options, context);
  if (!probed) return tl::unexpected(probed.error());
  result.properties = std::move(*probed);
  if (auto loop = AppendLoopBacking(node.get(), sysname, &result.properties); !loop)
    LogDebug("%s: %s, ignoring", sysname.c_str(), loop.error().Message().c_str());
  // The node and the disk (and with it the lock) close here, before the rules go on.
  return result;
}

}  // namespace vdev
