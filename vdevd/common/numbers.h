// Strict parsing of numbers from text: the whole text must be the number.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace vdev {

// nullopt for empty text, trailing characters, a sign where Number has none, or overflow.
template <class Number>
std::optional<Number> ParseNumber(std::string_view text, int base = 10) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A duration as udevadm's callers write it: "5", "2.5" or "5s"; nullopt when negative,
// not finite or malformed.
std::optional<double> ParseSeconds(std::string_view text);

}  // namespace vdev
