#include "common/uevent.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "common/numbers.h"

namespace vdev {
namespace {

// Splits "KEY=VALUE" and stores it; rejects malformed keys.
Status AddAssignment(Uevent& event, std::string_view line) {
  size_t equals = line.find('=');
  if (equals == std::string_view::npos) return Fail(EINVAL, "missing '=' in property");
  std::string_view key = line.substr(0, equals);
  if (!IsValidPropertyKey(key)) return Fail(EINVAL, "invalid property name '" + std::string(key.substr(0, 64)) + "'");
  event.Set(key, line.substr(equals + 1));
  return Ok();
}

// What `vdevadm monitor --property` (and udevadm's) prints besides KEY=VALUE lines: its
// header and one "KERNEL[time] action devpath (subsystem)" line before each event. Skipped,
// so monitor output replays as it is.
bool IsMonitorLine(std::string_view line) {
  return line.starts_with("KERNEL[") || line.starts_with("UDEV  [") ||
         line.starts_with("monitor will print the received events for:") ||
         line.starts_with("UDEV - the event which udev sends out") ||
         line.starts_with("KERNEL - the kernel uevent");
}

}  // namespace

std::optional<std::string_view> Uevent::Get(std::string_view key) const {
  for (const auto& [name, value] : properties_)
    if (name == key) return std::string_view(value);
  return std::nullopt;
}

std::string_view Uevent::GetOr(std::string_view key, std::string_view fallback) const {
  auto value = Get(key);
  return value ? *value : fallback;
}

void Uevent::Set(std::string_view key, std::string_view value) {
  for (auto& [name, old] : properties_) {
    if (name == key) {
      old.assign(value);
      return;
    }
  }
  properties_.emplace_back(std::string(key), std::string(value));
}

void Uevent::Erase(std::string_view key) {
  std::erase_if(properties_, [&](const Property& p) { return p.first == key; });
}

uint64_t Uevent::seqnum() const { return ParseNumber<uint64_t>(GetOr("SEQNUM")).value_or(0); }

std::optional<dev_t> Uevent::devnum() const {
  auto major_number = ParseNumber<unsigned>(GetOr("MAJOR"));
  auto minor_number = ParseNumber<unsigned>(GetOr("MINOR"));
  if (!major_number || !minor_number) return std::nullopt;
  return makedev(*major_number, *minor_number);
}

std::optional<int> Uevent::ifindex() const {
  auto index = ParseNumber<int>(GetOr("IFINDEX"));
  if (!index || *index <= 0) return std::nullopt;
  return index;
}

bool IsValidPropertyKey(std::string_view key) {
  if (key.empty() || key.size() > 256) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_';
  });
}

bool IsValidDevpath(std::string_view devpath) {
  if (devpath.size() < 2 || devpath.size() > 4096 || devpath[0] != '/') return false;
  size_t pos = 1;
  while (pos <= devpath.size()) {
    size_t slash = devpath.find('/', pos);
    if (slash == std::string_view::npos) slash = devpath.size();
    std::string_view part = devpath.substr(pos, slash - pos);
    if (part.empty() || part == "." || part == "..") return false;
    if (part.find('\0') != std::string_view::npos) return false;
    pos = slash + 1;
  }
  return true;
}

bool IsKnownAction(std::string_view action) {
  static constexpr std::array<std::string_view, 8> kActions = {
      "add", "remove", "change", "move", "online", "offline", "bind", "unbind"};
  return std::find(kActions.begin(), kActions.end(), action) != kActions.end();
}

Status ValidateUevent(const Uevent& event) {
  if (!IsKnownAction(event.action()))
    return Fail(EINVAL, "unknown ACTION '" + std::string(event.action().substr(0, 32)) + "'");
  if (!IsValidDevpath(event.devpath())) return Fail(EINVAL, "invalid DEVPATH");
  if (event.subsystem().empty()) return Fail(EINVAL, "missing SUBSYSTEM");
  if (auto devname = event.Get("DEVNAME")) {
    // DEVNAME is relative to the dev root (the kernel may send it with a "/dev/" prefix
    // for old drivers, which consumers strip); it must not climb out of it.
    std::string_view name = *devname;
    if (name.starts_with("/dev/")) name.remove_prefix(5);
    if (!IsValidDevpath("/" + std::string(name))) return Fail(EINVAL, "invalid DEVNAME");
  }
  return Ok();
}

Result<Uevent> ParseKernelUevent(std::span<const char> datagram) {
  std::string_view buffer(datagram.data(), datagram.size());
  size_t header_end = buffer.find('\0');
  if (header_end == std::string_view::npos) return Fail(EINVAL, "uevent without header");
  std::string_view header = buffer.substr(0, header_end);
  size_t at = header.find('@');
  if (at == std::string_view::npos || at == 0) return Fail(EINVAL, "malformed uevent header");

  Uevent event;
  size_t pos = header_end + 1;
  while (pos < buffer.size()) {
    size_t end = buffer.find('\0', pos);
    if (end == std::string_view::npos) end = buffer.size();
    std::string_view field = buffer.substr(pos, end - pos);
    if (!field.empty()) {
      if (auto added = AddAssignment(event, field); !added) return tl::unexpected(added.error());
    }
    pos = end + 1;
  }
  if (event.action() != header.substr(0, at) || event.devpath() != header.substr(at + 1))
    return Fail(EINVAL, "uevent header disagrees with ACTION/DEVPATH");
  if (auto valid = ValidateUevent(event); !valid) return tl::unexpected(valid.error());
  return event;
}

Result<Uevent> ParseUeventFile(std::string_view content) {
  Uevent event;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    if (!line.empty()) {
      if (auto added = AddAssignment(event, line); !added) return tl::unexpected(added.error());
    }
    pos = end + 1;
  }
  return event;
}

std::string FormatProperties(const Uevent& event) {
  std::string text;
  for (const auto& [key, value] : event.properties()) {
    text += key;
    text += '=';
    text += value;
    text += '\n';
  }
  return text;
}

Result<std::optional<Uevent>> ReplayReader::Next() {
  Uevent event;
  bool in_paragraph = false;
  size_t first_line = 0;
  std::optional<Error> error;
  char* line_buffer = nullptr;
  size_t capacity = 0;
  struct Freer {
    char** p;
    ~Freer() { free(*p); }
  } freer{&line_buffer};

  for (;;) {
    ssize_t length = getline(&line_buffer, &capacity, input_);
    if (length < 0) break;
    ++line_;
    std::string_view line(line_buffer, length);
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.starts_with('#') || IsMonitorLine(line)) continue;
    if (line.empty()) {
      if (in_paragraph) break;
      continue;
    }
    if (!in_paragraph) first_line = line_;
    in_paragraph = true;
    if (error) continue;  // skip the rest of a bad paragraph so the next event parses cleanly
    if (line.find('\0') != std::string_view::npos) {
      error = Error{EINVAL, "line " + std::to_string(line_) + ": NUL byte"};
    } else if (auto added = AddAssignment(event, line); !added) {
      error = Error{EINVAL, "line " + std::to_string(line_) + ": " + added.error().context};
    }
  }
  if (ferror(input_)) return FailErrno("read replay input");
  if (error) return tl::unexpected(*error);
  if (!in_paragraph) return std::optional<Uevent>();
  if (auto valid = ValidateUevent(event); !valid)
    return Fail(EINVAL, "event at line " + std::to_string(first_line) + ": " + valid.error().context);
  return std::optional<Uevent>(std::move(event));
}

Result<std::vector<Uevent>> ParseReplayText(std::string_view text) {
  if (text.empty()) return std::vector<Uevent>();
  std::string copy(text);
  FILE* input = fmemopen(copy.data(), copy.size(), "r");
  if (!input) return FailErrno("fmemopen");
  std::vector<Uevent> events;
  ReplayReader reader(input);
  for (;;) {
    auto next = reader.Next();
    if (!next) {
      fclose(input);
      return tl::unexpected(next.error());
    }
    if (!*next) break;
    events.push_back(std::move(**next));
  }
  fclose(input);
  return events;
}

}  // namespace vdev
