#include "event_processor.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/device.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "event_state.h"
#include "node_policy.h"
#include "rule_set.h"

namespace vdev {
namespace {

// A rule's write.ATTR (udev's ATTR{name}="value"): written as it is, no newline added, below
// sysfs only (a "../" too many for the device's depth is refused).
void WriteAttribute(int sysfs, std::string_view devpath, const std::string& attribute,
                    const std::string& value, const std::string& id) {
  namespace fs = std::filesystem;
  fs::path path = (fs::path(devpath).relative_path() / attribute).lexically_normal();
  if (path.empty() || *path.begin() == "..") {
    LogWarning("%s: write %s: outside sysfs, ignoring", id.c_str(), attribute.c_str());
    return;
  }
  UniqueFd file(openat(sysfs, path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  bool written = file && write(file.get(), value.data(), value.size()) ==
                             static_cast<ssize_t>(value.size());
  int saved = errno;
  if (!written)
    LogWarning("%s: write '%s' to %s: %s, ignoring", id.c_str(), value.c_str(),
               attribute.c_str(), strerror(saved));
}

uint64_t NowUsec() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

ProcessOutcome EventProcessor::Process(Uevent event, bool last_attempt) {
  const uint64_t started = NowUsec();
  const bool remove = event.action() == "remove";
  std::string id = DeviceId(event);
  std::optional<DeviceRecord> old_record;
  if (auto record = database_.Read(id)) {
    old_record = std::move(*record);
  } else if (record.error().code != ENOENT) {
    LogWarning("%s: reading database record: %s, ignoring", std::string(event.devpath()).c_str(),
               record.error().Message().c_str());
  }

  const std::string node_name = NodeName(event);
  const auto devnum = event.devnum();
  const bool block = event.subsystem() == "block";
  const bool has_node = !node_name.empty() && devnum;
  // Builtins probe a disk through its node, so on a tmpfs a new disk's node is made before
  // the rules run: owned by root and closed to everyone until the rules have decided.
  if (has_node && block && !remove && !options_.devtmpfs) {
    if (auto made = nodes_.CreateNode({node_name, true, *devnum, 0600, 0, 0}); !made)
      LogWarning("%s: %s, ignoring", node_name.c_str(), made.error().Message().c_str());
  }

  EventState state(Device::FromEvent(roots_.sysfs(), event), event);
  state.dev_fd = roots_.dev();
  state.dev_root = roots_.paths().dev;
  state.database = &database_;
  state.last_attempt = last_attempt;
  // A change keeps what earlier events learned; an add is a new device instance (a reused
  // name such as loop0 must not inherit the previous medium's properties).
  if (old_record && event.action() != "add") {
    for (const auto& [key, value] : old_record->properties)
      if (!event.Has(key)) state.properties.Set(key, value);
  }
  if (auto rules = rules_.Get()) rules->Apply(state, runner_);
  if (state.busy && !last_attempt) {
    if (LogEnabled(LogLevel::kDebug))
      LogDebug("%s %s: busy after %.2f ms, will retry", std::string(event.action()).c_str(),
               std::string(event.devpath()).c_str(), (NowUsec() - started) / 1000.0);
    return ProcessOutcome{std::move(event), true};
  }

  // The links the rules asked for: stored, published and claimed.
  std::vector<std::string> rule_links;
  if (has_node && !remove) {
    for (const auto& link : state.links)
      if (!Contains(rule_links, link)) rule_links.push_back(link);
  }

  if (has_node) {
    const std::string devnum_link = DevnumLink(block, *devnum);
    if (remove) {
      if (!options_.devtmpfs) {
        if (auto removed = nodes_.RemoveNode(node_name, block, *devnum); !removed)
          LogWarning("%s: %s, ignoring", node_name.c_str(), removed.error().Message().c_str());
      }
      // Only a node of this device number is ever linked from its devnum link.
      if (auto unlinked = nodes_.RemoveLink(devnum_link, node_name); !unlinked)
        LogWarning("%s: %s, ignoring", devnum_link.c_str(), unlinked.error().Message().c_str());
    } else {
      NodeSpec node = NodeSpecFor(state, event, node_name, block, *devnum);
      Status applied = options_.devtmpfs ? nodes_.SetNodePermissions(node) : nodes_.CreateNode(node);
      if (!applied) LogWarning("%s: %s, ignoring", node_name.c_str(), applied.error().Message().c_str());
      // Claimed again on every event: a changed priority is recorded, and the link is put
      // back if it went missing.
      for (const auto& link : rule_links) {
        if (auto claimed = claims_.Claim(link, id, node_name, state.link_priority); !claimed)
          LogWarning("%s: %s, ignoring", link.c_str(), claimed.error().Message().c_str());
      }
      if (auto linked = nodes_.CreateLink(devnum_link, node_name); !linked)
        LogWarning("%s: %s, ignoring", devnum_link.c_str(), linked.error().Message().c_str());
    }
    // Claims of the previous event (or of the removed device) on links no longer wanted:
    // each such link falls back to its next claimant, or goes.
    if (old_record) {
      for (const auto& link : old_record->links) {
        if (Contains(rule_links, link)) continue;
        if (auto unclaimed = claims_.Unclaim(link, id, node_name); !unclaimed)
          LogWarning("%s: %s, ignoring", link.c_str(), unclaimed.error().Message().c_str());
      }
    }
  }

  DeviceRecord record;
  record.links = rule_links;
  record.link_priority = state.link_priority;
  for (const auto& [key, value] : state.properties.properties()) {
    auto kernel_value = event.Get(key);
    // DISKSEQ is the kernel's, but it is what tells this medium from the one before it
    // in a reused name, so the record keeps it too.
    if (!kernel_value || *kernel_value != value || key == "DISKSEQ")
      record.properties.emplace_back(key, value);
  }
  record.current_tags = state.tags;
  record.tags = old_record && !remove && event.action() != "add" ? old_record->tags
                                                                 : std::vector<std::string>{};
  for (const auto& tag : state.tags)
    if (!Contains(record.tags, tag)) record.tags.push_back(tag);
  record.usec_initialized =
      old_record && old_record->usec_initialized ? old_record->usec_initialized : NowUsec();

  // Most change events leave the record as it was: writing it again would only cost the
  // database directory's lock, which every worker contends for.
  Status stored = Ok();
  if (remove) {
    stored = database_.Remove(id, old_record ? &*old_record : nullptr);
  } else if (!old_record || !(*old_record == record)) {
    stored = database_.Write(id, record, old_record ? &*old_record : nullptr);
  }
  if (!stored) LogWarning("%s: database: %s, ignoring", id.c_str(), stored.error().Message().c_str());

  Uevent published = std::move(state.properties);
  if (!node_name.empty()) published.Set("DEVNAME", options_.dev_root_path + "/" + node_name);
  const std::vector<std::string>& published_links = remove && old_record ? old_record->links : record.links;
  if (!published_links.empty()) {
    std::string devlinks;
    for (const auto& link : published_links) {
      if (!devlinks.empty()) devlinks += ' ';
      devlinks += options_.dev_root_path + "/" + link;
    }
    published.Set("DEVLINKS", devlinks);
  }
  if (!record.tags.empty()) published.Set("TAGS", JoinTags(record.tags));
  if (!record.current_tags.empty()) published.Set("CURRENT_TAGS", JoinTags(record.current_tags));
  published.Set("USEC_INITIALIZED", std::to_string(record.usec_initialized));

  for (const auto& [attribute, value] : state.attribute_writes) {
    if (options_.write_attributes)
      WriteAttribute(roots_.sysfs(), event.devpath(), attribute, value, id);
    else
      LogNotice("%s: would write '%s' to %s", id.c_str(), value.c_str(), attribute.c_str());
  }
  for (const auto& program : state.run_programs) {
    if (auto ran = runner_.Run(program, published); !ran)
      LogWarning("%s: run '%s': %s, ignoring", id.c_str(), program.c_str(),
                 ran.error().Message().c_str());
  }
  // Only at debug level: the arguments alone cost two strings per event.
  if (LogEnabled(LogLevel::kDebug))
    LogDebug("%s %s: processed in %.2f ms", std::string(event.action()).c_str(),
             std::string(event.devpath()).c_str(), (NowUsec() - started) / 1000.0);
  return ProcessOutcome{std::move(published), false, state.watch && !remove};
}

}  // namespace vdev
