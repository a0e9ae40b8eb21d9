// Hwdb: a reader of systemd's compiled hardware database (hwdb.bin, "KSLPHHRH"): modalias
// lookups with sd_hwdb's matching rules, on a read-only mapping any number of threads share.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// Where sd_hwdb_new looks for hwdb.bin, relative to the root, first existing file wins:
// systemd 252 as Debian builds it (split /usr, so UDEVLIBEXECDIR is /lib/udev), then
// /usr/lib/udev, where a merged-/usr build (and `systemd-hwdb update --usr` there) puts it.
inline constexpr std::array<std::string_view, 6> kHwdbBinPaths = {
    "etc/systemd/hwdb/hwdb.bin", "etc/udev/hwdb.bin", "usr/lib/systemd/hwdb/hwdb.bin",
    "lib/systemd/hwdb/hwdb.bin", "lib/udev/hwdb.bin", "usr/lib/udev/hwdb.bin",
};

class Hwdb {
 public:
  // Maps path (relative to dirfd, or absolute) read-only and checks the header: signature,
  // file size, record sizes, the section lengths adding up to the file, the root node inside
  // the node section, the string section ending in NUL. EBADMSG for a file that is not a
  // well-formed hwdb.bin; errors of open(2) as they come. Later offsets are checked as a
  // lookup meets them, so a corrupt file gives an error, never a wild read.
  [[nodiscard]] static Result<Hwdb> OpenAt(int dirfd, const std::string& path);
  [[nodiscard]] static Result<Hwdb> Open(const std::string& path) { return OpenAt(AT_FDCWD, path); }

  Hwdb(Hwdb&&) noexcept = default;
  Hwdb& operator=(Hwdb&&) noexcept = default;

  // The properties of every entry whose key (an fnmatch(3) glob) matches modalias, as
  // sd_hwdb_seek/sd_hwdb_enumerate return them: in the order they were first set; when
  // several entries set one property, the value from the higher file priority wins, then the
  // later line (the earlier file, for files written without priorities). A modalias is
  // matched up to its first NUL, as the C API sees it. EBADMSG when the lookup meets a
  // corrupt part of the file (no partial result).
  [[nodiscard]] Result<std::vector<Property>> Lookup(std::string_view modalias) const;

  // The path it was opened from (as given), for messages.
  const std::string& path() const { return path_; }
  // The mapped file's identity and mtime: a `systemd-hwdb update` renames a new file over
  // the old one, which the mapping keeps seeing.
  const struct stat& file_stat() const { return stat_; }
  uint64_t tool_version() const { return tool_version_; }
  size_t size() const { return size_; }

 private:
  struct Unmapper {
    size_t length;
    void operator()(const char* map) const;
  };
  class Search;

  Hwdb() = default;

  std::unique_ptr<const char, Unmapper> map_;
  size_t size_ = 0;
  std::string path_;
  struct stat stat_ = {};
  uint64_t tool_version_ = 0;
  uint64_t node_size_ = 0, child_size_ = 0, value_size_ = 0;
  uint64_t root_off_ = 0;
  uint64_t nodes_begin_ = 0, nodes_end_ = 0;  // [begin, end): the node section
  uint64_t strings_begin_ = 0;                // to the end of the file
};

// The first of kHwdbBinPaths that exists below root_fd, with its stat: ENOENT when none
// does. Like systemd, a path that exists but cannot be looked at (EACCES ...) stops the
// search with that error rather than falling through to a lower-priority file.
struct HwdbLocation {
  std::string path;  // relative to the root
  struct stat stat;
};
[[nodiscard]] Result<HwdbLocation> FindInstalledHwdb(int root_fd);

// Opens the file FindInstalledHwdb finds; an invalid file is an error, not skipped.
[[nodiscard]] Result<Hwdb> OpenInstalledHwdb(int root_fd);

// Whether two stats describe the same file in the same state (device, inode, size, mtime).
bool SameFileVersion(const struct stat& a, const struct stat& b);

}  // namespace vdev
