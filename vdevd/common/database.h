// Database: udev's on-disk device records (RUN/udev/data/<id>) and tag index
// (RUN/udev/tags/<tag>/<id>), read and written in udev's own format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uevent.h"
#include "common/unique_fd.h"

namespace vdev {

struct DeviceRecord {
  std::vector<std::string> links;         // S: relative to the dev root
  int link_priority = 0;                  // L:
  std::vector<Property> properties;       // E: properties the device manager added
  std::vector<std::string> tags;          // G: every tag the device ever had
  std::vector<std::string> current_tags;  // Q: tags set by the latest event
  uint64_t usec_initialized = 0;          // I: CLOCK_MONOTONIC usec of the first event

  bool operator==(const DeviceRecord&) const = default;
};

// udev's text format: S:, L:, I:, E:, G:, Q:, V:1 lines.
std::string FormatRecord(const DeviceRecord& record);
// Unknown line types (W:, N:, ...) are skipped, as libudev does.
[[nodiscard]] Result<DeviceRecord> ParseRecord(std::string_view text);

class Database {
 public:
  // Opens RUN/udev/data and RUN/udev/tags below run_fd; create makes them if missing.
  [[nodiscard]] static Result<Database> Open(int run_fd, bool create);

  // Replaces the record atomically and brings the tag index in line with it; previous
  // is the record being replaced (its tags that are gone get their index entry removed).
  [[nodiscard]] Status Write(std::string_view id, const DeviceRecord& record,
                             const DeviceRecord* previous);
  [[nodiscard]] Status Remove(std::string_view id, const DeviceRecord* previous);
  // ENOENT when the device has no record.
  [[nodiscard]] Result<DeviceRecord> Read(std::string_view id) const;
  [[nodiscard]] Result<std::vector<std::string>> ListIds() const;
  // Ids listed in the tag index for tag.
  [[nodiscard]] Result<std::vector<std::string>> ListTagged(std::string_view tag) const;

 private:
  UniqueFd data_, tags_;
};

}  // namespace vdev
