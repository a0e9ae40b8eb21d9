#include "node_policy.h"

#include <sys/sysmacros.h>

#include <optional>
#include <string_view>

#include "common/numbers.h"

namespace vdev {
namespace {

template <class Number>
std::optional<Number> ParseProperty(const Uevent& event, std::string_view key, int base) {
  return ParseNumber<Number>(event.GetOr(key), base);
}

}  // namespace

std::string NodeName(const Uevent& event) {
  std::string_view name = event.devname();
  if (name.starts_with("/dev/")) name.remove_prefix(5);
  return std::string(name);
}

std::string DevnumLink(bool block, dev_t devnum) {
  return std::string(block ? "block/" : "char/") + std::to_string(major(devnum)) + ":" +
         std::to_string(minor(devnum));
}

NodeSpec NodeSpecFor(const EventState& state, const Uevent& event, std::string name, bool block,
                     dev_t devnum) {
  NodeSpec node;
  node.name = std::move(name);
  node.block = block;
  node.devnum = devnum;
  node.uid = state.uid.value_or(ParseProperty<uid_t>(event, "DEVUID", 10).value_or(0));
  node.gid = state.gid.value_or(ParseProperty<gid_t>(event, "DEVGID", 10).value_or(0));
  bool owner_set = state.uid || state.gid;
  node.mode = state.mode.value_or(
      ParseProperty<mode_t>(event, "DEVMODE", 8).value_or(owner_set ? 0660 : 0600));
  return node;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  if (tags.empty()) return {};
  std::string joined = ":";
  for (const auto& tag : tags) joined += tag + ":";
  return joined;
}

}  // namespace vdev
