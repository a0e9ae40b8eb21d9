#include "device_filter.h"

#include <fnmatch.h>

namespace vdev {
namespace {

bool Matches(const DeviceFilter::Pattern& pattern, const std::string& subsystem,
             const std::string& kernel) {
  if (fnmatch(pattern.subsystem.c_str(), subsystem.c_str(), 0) != 0) return false;
  return pattern.kernel.empty() || fnmatch(pattern.kernel.c_str(), kernel.c_str(), 0) == 0;
}

void Append(std::string& text, const char* verb, const std::vector<DeviceFilter::Pattern>& list) {
  for (const auto& pattern : list) {
    if (!text.empty()) text += ", ";
    text += verb;
    text += " " + pattern.subsystem;
    if (!pattern.kernel.empty()) text += ":" + pattern.kernel;
  }
}

}  // namespace

Result<DeviceFilter::Pattern> DeviceFilter::ParsePattern(std::string_view text) {
  Pattern pattern;
  size_t colon = text.find(':');
  pattern.subsystem = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) {
    pattern.kernel = std::string(text.substr(colon + 1));
    if (pattern.kernel.empty())
      return Fail(EINVAL, "empty kernel name after ':' in '" + std::string(text) + "'");
  }
  if (pattern.subsystem.empty())
    return Fail(EINVAL, "expected SUBSYSTEM[:KERNEL], got '" + std::string(text) + "'");
  for (char c : text) {
    if (c == '/' || c == ' ' || c == '\t')
      return Fail(EINVAL, "'" + std::string(text) + "' holds a '/' or a blank");
  }
  return pattern;
}

bool DeviceFilter::Admits(std::string_view subsystem, std::string_view kernel) const {
  if (empty()) return true;
  std::string subsystem_text(subsystem), kernel_text(kernel);
  bool allowed = allow_.empty();
  for (const auto& pattern : allow_) {
    if (Matches(pattern, subsystem_text, kernel_text)) {
      allowed = true;
      break;
    }
  }
  if (!allowed) return false;
  for (const auto& pattern : deny_)
    if (Matches(pattern, subsystem_text, kernel_text)) return false;
  return true;
}

bool DeviceFilter::Admits(const Uevent& event) const {
  if (empty()) return true;
  std::string_view devpath = event.devpath();
  size_t slash = devpath.rfind('/');
  std::string_view kernel = slash == std::string_view::npos ? devpath : devpath.substr(slash + 1);
  return Admits(event.subsystem(), kernel);
}

std::string DeviceFilter::Describe() const {
  std::string text;
  Append(text, "allow", allow_);
  Append(text, "deny", deny_);
  return text.empty() ? "every device" : text;
}

}  // namespace vdev
