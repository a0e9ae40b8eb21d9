// File-system helpers that work relative to a directory fd, never through absolute paths.
#pragma once

#include <sys/inotify.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

// Opens a directory below dirfd (O_DIRECTORY|O_CLOEXEC; add O_NOFOLLOW through extra_flags).
[[nodiscard]] Result<UniqueFd> OpenDirAt(int dirfd, const std::string& path, int extra_flags = 0);

// Reads a whole (small) regular file; fails with EFBIG past max_size.
[[nodiscard]] Result<std::string> ReadFileAt(int dirfd, const std::string& path,
                                             size_t max_size = 1 << 20);

// Reads a sysfs-style attribute: the content without its trailing newline.
[[nodiscard]] Result<std::string> ReadAttributeAt(int dirfd, const std::string& path);

[[nodiscard]] Result<std::string> ReadLinkAt(int dirfd, const std::string& path);

// Writes through a temporary name in the same directory and renames it over path, so a
// reader sees the old content or the new, never a partial file. mode is subject to the
// umask (vdevd runs with 022, as udevd does).
[[nodiscard]] Status WriteFileAtomicAt(int dirfd, const std::string& path,
                                       std::string_view content, mode_t mode);

// mkdir -p of path (relative to dirfd); existing directories are fine.
[[nodiscard]] Status MakeDirsAt(int dirfd, std::string_view path, mode_t mode);

// Removes the empty parent directories of path (relative to dirfd), deepest first,
// stopping at the first one that is not empty. Used after removing nested nodes.
void RemoveEmptyParentsAt(int dirfd, std::string_view path);

// The directory part of a relative path ("" when there is none).
std::string_view DirName(std::string_view path);
std::string_view BaseName(std::string_view path);

// A unique name for temporary files created by this process ("<prefix>.<pid>.<n>").
std::string TemporaryName(std::string_view prefix);

// Reads a non-blocking inotify fd until it is empty, handing each event to handle.
void DrainInotify(int inotify_fd, const std::function<void(const inotify_event&)>& handle);

}  // namespace vdev
