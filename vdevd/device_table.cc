#include "device_table.h"

#include <algorithm>

#include "common/device.h"

namespace vdev {
namespace {

constexpr std::string_view kIdentityKeys[] = {"DEVPATH", "SUBSYSTEM", "DEVNAME", "DEVTYPE",
                                              "MAJOR",   "MINOR",     "IFINDEX", "DISKSEQ"};

Uevent Identity(const Uevent& event) {
  Uevent identity;
  for (auto key : kIdentityKeys)
    if (auto value = event.Get(key)) identity.Set(key, *value);
  return identity;
}

bool SameInstance(const Uevent& known, const Uevent& present) {
  return known.devnum() == present.devnum() && known.GetOr("DISKSEQ") == present.GetOr("DISKSEQ");
}

Uevent WithAction(const Uevent& identity, std::string_view action) {
  Uevent event;
  event.Set("ACTION", action);
  for (const auto& [key, value] : identity.properties()) event.Set(key, value);
  return event;
}

}  // namespace

void DeviceTable::Update(const Uevent& event) {
  std::string devpath(event.devpath());
  if (event.action() == "remove") {
    devices_.erase(devpath);
    return;
  }
  if (event.action() == "move") {
    if (auto old = event.Get("DEVPATH_OLD")) devices_.erase(std::string(*old));
  }
  devices_[devpath] = Identity(event);
}

std::vector<Uevent> DeviceTable::Reconcile(const std::vector<Uevent>& present) const {
  std::vector<Uevent> events;
  std::unordered_set<std::string_view> seen;
  for (const auto& device : present) {
    seen.insert(device.devpath());
    auto known = devices_.find(std::string(device.devpath()));
    if (known != devices_.end()) {
      if (SameInstance(known->second, device)) continue;
      events.push_back(WithAction(known->second, "remove"));
    }
    events.push_back(WithAction(device, "add"));
  }
  std::vector<const Uevent*> gone;
  for (const auto& [devpath, identity] : devices_)
    if (!seen.count(devpath)) gone.push_back(&identity);
  // Children before parents, the reverse of how they came.
  std::sort(gone.begin(), gone.end(),
            [](const Uevent* a, const Uevent* b) { return a->devpath() > b->devpath(); });
  for (const Uevent* identity : gone) events.push_back(WithAction(*identity, "remove"));
  return events;
}

std::unordered_set<std::string> DeviceTable::Ids() const {
  std::unordered_set<std::string> ids;
  for (const auto& [devpath, identity] : devices_) ids.insert(DeviceId(identity));
  return ids;
}

}  // namespace vdev
