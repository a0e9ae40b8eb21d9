#include "common/uevent_dir.h"

#include <cstdio>

#include "common/numbers.h"

namespace vdev {

std::string FormatSequence(uint64_t sequence) {
  char buffer[kSequenceDigits + 1];
  snprintf(buffer, sizeof(buffer), "%020llu", static_cast<unsigned long long>(sequence));
  return buffer;
}

std::optional<uint64_t> ParseSequenceName(std::string_view name) {
  if (name.size() != kSequenceDigits) return std::nullopt;
  return ParseNumber<uint64_t>(name);  // rejects signs and anything not a digit
}

bool IsClientDirName(std::string_view name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string_view::npos;
}

}  // namespace vdev
