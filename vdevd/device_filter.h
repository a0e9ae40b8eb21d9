// DeviceFilter: which devices a vdevd instance manages (--allow / --deny SUBSYSTEM[:KERNEL]),
// for an instance in a chroot or container that must leave the host's other devices alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

class DeviceFilter {
 public:
  // One --allow or --deny: "SUBSYSTEM" or "SUBSYSTEM:KERNELGLOB", both fnmatch(3) globs
  // ("block:loop*", "misc:loop-control", "input"). The kernel name is the devpath's last
  // component (what udev's KERNEL matches).
  struct Pattern {
    std::string subsystem;
    std::string kernel;  // "" matches any name
  };
  [[nodiscard]] static Result<Pattern> ParsePattern(std::string_view text);

  DeviceFilter() = default;
  DeviceFilter(std::vector<Pattern> allow, std::vector<Pattern> deny)
      : allow_(std::move(allow)), deny_(std::move(deny)) {}

  void Allow(Pattern pattern) { allow_.push_back(std::move(pattern)); }
  void Deny(Pattern pattern) { deny_.push_back(std::move(pattern)); }

  // An empty filter manages everything.
  bool empty() const { return allow_.empty() && deny_.empty(); }

  // Handled when it matches an allow (or there is none) and no deny.
  bool Admits(std::string_view subsystem, std::string_view kernel) const;
  bool Admits(const Uevent& event) const;

  // "allow block:loop*, deny block:loop7" for the log.
  std::string Describe() const;

 private:
  std::vector<Pattern> allow_, deny_;
};

}  // namespace vdev
