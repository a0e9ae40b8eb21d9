// Uevent: one device event as KEY=VALUE properties, and parsers for its three encodings
// (kernel netlink datagram, sysfs uevent file, replay text).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace vdev {

using Property = std::pair<std::string, std::string>;

class Uevent {
 public:
  // Properties in the order they arrived (the kernel's order).
  const std::vector<Property>& properties() const { return properties_; }

  std::optional<std::string_view> Get(std::string_view key) const;
  std::string_view GetOr(std::string_view key, std::string_view fallback = {}) const;
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  // Replaces an existing value in place, or appends.
  void Set(std::string_view key, std::string_view value);
  void Erase(std::string_view key);

  std::string_view action() const { return GetOr("ACTION"); }
  std::string_view devpath() const { return GetOr("DEVPATH"); }
  std::string_view subsystem() const { return GetOr("SUBSYSTEM"); }
  std::string_view devtype() const { return GetOr("DEVTYPE"); }
  std::string_view devname() const { return GetOr("DEVNAME"); }
  uint64_t seqnum() const;                // 0 when absent or malformed
  std::optional<dev_t> devnum() const;    // from MAJOR/MINOR; nullopt without a node
  std::optional<int> ifindex() const;     // network interfaces

 private:
  std::vector<Property> properties_;
};

// Property keys are [A-Za-z0-9_]+, like the kernel's.
bool IsValidPropertyKey(std::string_view key);
// A devpath is "/..." with no empty, "." or ".." component: it is used to open sysfs.
bool IsValidDevpath(std::string_view devpath);
bool IsKnownAction(std::string_view action);

// Checks what every consumer relies on: a known ACTION, a valid DEVPATH, a SUBSYSTEM, and
// for nodes a DEVNAME that stays below the dev root.
[[nodiscard]] Status ValidateUevent(const Uevent& event);

// A kernel netlink datagram: "action@devpath\0KEY=VALUE\0...". The header must agree with
// ACTION and DEVPATH; the buffer need not end in NUL (the last field is then truncated).
[[nodiscard]] Result<Uevent> ParseKernelUevent(std::span<const char> datagram);

// The content of a sysfs uevent file: KEY=VALUE lines (no ACTION, DEVPATH or SUBSYSTEM).
[[nodiscard]] Result<Uevent> ParseUeventFile(std::string_view content);

// KEY=VALUE lines, one per property, each ending in '\n'.
std::string FormatProperties(const Uevent& event);

// The replay text format: one event per paragraph of KEY=VALUE lines, paragraphs separated
// by blank lines; '#' starts a comment line. The header lines `vdevadm monitor --property`
// prints are skipped, so its output replays as it is. Errors name the line.
class ReplayReader {
 public:
  explicit ReplayReader(FILE* input) : input_(input) {}
  // The next event, nullopt at end of input.
  [[nodiscard]] Result<std::optional<Uevent>> Next();
  size_t line() const { return line_; }

 private:
  FILE* input_;
  size_t line_ = 0;
};

[[nodiscard]] Result<std::vector<Uevent>> ParseReplayText(std::string_view text);

}  // namespace vdev
