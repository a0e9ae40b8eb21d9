// How udev reads the KEY=VALUE lines of an IMPORT{program}: ata_id and scsi_id are programs
// in udev, so their builtins here give each value as udev's import would have kept it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/uevent.h"

namespace vdev {

// Appends key=value as udev 252's import of the line "key=value" sets it: whitespace around
// the value stripped, one pair of matching quotes removed, and an empty value not set at all.
inline void AppendImported(std::vector<Property>* properties, std::string_view key,
                           std::string_view value) {
  constexpr std::string_view kWhitespace = " \t\n\r";
  size_t first = value.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return;
  value = value.substr(first, value.find_last_not_of(kWhitespace) - first + 1);
  if (value.front() == '"' || value.front() == '\'') {
    // udev refuses a line with unbalanced quotes.
    if (value.size() == 1 || value.back() != value.front()) return;
    value = value.substr(1, value.size() - 2);
    if (value.empty()) return;
  }
  properties->emplace_back(std::string(key), std::string(value));
}

}  // namespace vdev
