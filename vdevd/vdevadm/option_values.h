// Values of udevadm's options: durations ("10", "2.5s", "500ms", "1min 30s", "infinity") as
// systemd's parse_sec reads them, and comma-separated lists. Header-only: the trigger and
// info commands in vdevd_core and the vdevadm front ends share it.
#pragma once

#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vdev {

// Seconds (infinity for "infinity"); nullopt for a negative, malformed or empty span. A
// number without a unit is seconds.
inline std::optional<double> ParseTimespan(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text == "infinity") return std::numeric_limits<double>::infinity();
  if (text.empty()) return std::nullopt;
  struct Unit {
    std::string_view name;
    double seconds;
  };
  // Longest names first where one is a prefix of another ("msec" before "ms" before "m").
  static constexpr Unit kUnits[] = {
      {"seconds", 1},     {"second", 1},    {"sec", 1},     {"s", 1},
      {"minutes", 60},    {"minute", 60},   {"min", 60},    {"months", 2629800},
      {"month", 2629800}, {"msec", 1e-3},   {"ms", 1e-3},   {"M", 2629800},
      {"m", 60},          {"hours", 3600},  {"hour", 3600}, {"hr", 3600},
      {"h", 3600},        {"days", 86400},  {"day", 86400}, {"d", 86400},
      {"weeks", 604800},  {"week", 604800}, {"w", 604800},  {"years", 31557600},
      {"year", 31557600}, {"y", 31557600},  {"usec", 1e-6}, {"us", 1e-6},
  };
  double total = 0;
  while (!text.empty()) {
    if (text.front() == '-' || text.front() == '+') return std::nullopt;
    std::string number_text;
    while (!text.empty() && ((text.front() >= '0' && text.front() <= '9') || text.front() == '.')) {
      number_text += text.front();
      text.remove_prefix(1);
    }
    if (number_text.empty() || number_text == ".") return std::nullopt;
    char* end = nullptr;
    double number = strtod(number_text.c_str(), &end);
    if (end != number_text.c_str() + number_text.size() || !std::isfinite(number))
      return std::nullopt;
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    double multiplier = 1;  // no unit: seconds
    for (const Unit& unit : kUnits) {
      if (!text.starts_with(unit.name)) continue;
      // A unit ends at a digit, a space or the end ("5min", "1min 30s", "1min30s").
      std::string_view rest = text.substr(unit.name.size());
      if (!rest.empty() && !is_space(rest.front()) && !(rest.front() >= '0' && rest.front() <= '9'))
        continue;
      multiplier = unit.seconds;
      text = rest;
      break;
    }
    if (!text.empty() && !is_space(text.front()) && !(text.front() >= '0' && text.front() <= '9'))
      return std::nullopt;
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    total += number * multiplier;
  }
  return total;
}

// "a,b,,c" -> a, b, c (as udevadm's --subsystem-match=a,b and --property=A,B).
inline std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    if (comma > pos) parts.emplace_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return parts;
}

}  // namespace vdev
