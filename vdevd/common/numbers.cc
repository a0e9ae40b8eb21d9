#include "common/numbers.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace vdev {

std::optional<double> ParseSeconds(std::string_view text) {
  if (text.ends_with('s')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::string copy(text);  // strtod needs a terminated string
  char* end = nullptr;
  double seconds = strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(seconds) || seconds < 0)
    return std::nullopt;
  return seconds;
}

}  // namespace vdev
