#include "common/database.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "common/fs_util.h"

namespace vdev {
namespace {

bool IsSafeName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.size() < 256;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

Result<std::vector<std::string>> ListDir(int dirfd, std::string_view path) {
  auto dir_fd = OpenDirAt(dirfd, std::string(path));
  if (!dir_fd) return tl::unexpected(dir_fd.error());
  DIR* dir = fdopendir(dir_fd->release());
  if (!dir) return FailErrno("fdopendir " + std::string(path));
  std::vector<std::string> names;
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.starts_with('.')) continue;  // ".", "..", and temporaries of atomic writes
    names.emplace_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::string FormatRecord(const DeviceRecord& record) {
  std::string text;
  for (const auto& link : record.links) text += "S:" + link + "\n";
  if (record.link_priority != 0) text += "L:" + std::to_string(record.link_priority) + "\n";
  if (record.usec_initialized > 0) text += "I:" + std::to_string(record.usec_initialized) + "\n";
  for (const auto& [key, value] : record.properties) text += "E:" + key + "=" + value + "\n";
  for (const auto& tag : record.tags) text += "G:" + tag + "\n";
  for (const auto& tag : record.current_tags) text += "Q:" + tag + "\n";
  text += "V:1\n";
  return text;
}

Result<DeviceRecord> ParseRecord(std::string_view text) {
  DeviceRecord record;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() < 2 || line[1] != ':') continue;
    std::string_view value = line.substr(2);
    switch (line[0]) {
      case 'S': record.links.emplace_back(value); break;
      case 'G': record.tags.emplace_back(value); break;
      case 'Q': record.current_tags.emplace_back(value); break;
      case 'L': std::from_chars(value.data(), value.data() + value.size(), record.link_priority); break;
      case 'I':
        std::from_chars(value.data(), value.data() + value.size(), record.usec_initialized);
        break;
      case 'E': {
        size_t equals = value.find('=');
        if (equals == std::string_view::npos) break;
        record.properties.emplace_back(std::string(value.substr(0, equals)),
                                       std::string(value.substr(equals + 1)));
        break;
      }
      default: break;
    }
  }
  return record;
}

Result<Database> Database::Open(int run_fd, bool create) {
  if (create) {
    for (const char* dir : {"udev/data", "udev/tags"}) {
      if (auto made = MakeDirsAt(run_fd, dir, 0755); !made) return tl::unexpected(made.error());
    }
  }
  Database database;
  auto data = OpenDirAt(run_fd, "udev/data");
  if (!data) return tl::unexpected(data.error());
  auto tags = OpenDirAt(run_fd, "udev/tags");
  if (!tags) return tl::unexpected(tags.error());
  database.data_ = std::move(*data);
  database.tags_ = std::move(*tags);
  return database;
}

Status Database::Write(std::string_view id, const DeviceRecord& record,
                       const DeviceRecord* previous) {
  if (!IsSafeName(id)) return Fail(EINVAL, "invalid device id");
  std::string name(id);
  if (auto written = WriteFileAtomicAt(data_.get(), name, FormatRecord(record), 0644); !written)
    return written;
  for (const auto& tag : record.tags) {
    if (!IsSafeName(tag)) continue;
    if (previous && Contains(previous->tags, tag)) continue;
    if (mkdirat(tags_.get(), tag.c_str(), 0755) < 0 && errno != EEXIST)
      return FailErrno("mkdir tags/" + tag);
    std::string entry = tag + "/" + name;
    UniqueFd fd(openat(tags_.get(), entry.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444));
    if (!fd) return FailErrno("create tags/" + entry);
  }
  if (previous) {
    for (const auto& tag : previous->tags) {
      if (!IsSafeName(tag) || Contains(record.tags, tag)) continue;
      unlinkat(tags_.get(), (tag + "/" + name).c_str(), 0);
    }
  }
  return Ok();
}

Status Database::Remove(std::string_view id, const DeviceRecord* previous) {
  if (!IsSafeName(id)) return Fail(EINVAL, "invalid device id");
  std::string name(id);
  if (previous) {
    for (const auto& tag : previous->tags)
      if (IsSafeName(tag)) unlinkat(tags_.get(), (tag + "/" + name).c_str(), 0);
  }
  if (unlinkat(data_.get(), name.c_str(), 0) < 0 && errno != ENOENT)
    return FailErrno("remove udev/data/" + name);
  return Ok();
}

Result<DeviceRecord> Database::Read(std::string_view id) const {
  if (!IsSafeName(id)) return Fail(EINVAL, "invalid device id");
  auto text = ReadFileAt(data_.get(), std::string(id), 1 << 20);
  if (!text) return tl::unexpected(text.error());
  return ParseRecord(*text);
}

Result<std::vector<std::string>> Database::ListIds() const { return ListDir(data_.get(), "."); }

Result<std::vector<std::string>> Database::ListTagged(std::string_view tag) const {
  if (!IsSafeName(tag)) return Fail(EINVAL, "invalid tag");
  return ListDir(tags_.get(), tag);
}

}  // namespace vdev
