// DeviceTable: the devices vdevd has queued events for and not seen removed, kept small (the
// properties needed to synthesize their remove), so a lost event can be reconciled
// against a fresh walk of sysfs.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/uevent.h"

namespace vdev {

class DeviceTable {
 public:
  // Records an event as it is queued (with the kernel's DEVNAME): add/change/... keep the
  // device, remove forgets it.
  void Update(const Uevent& event);

  // Given the add events of a fresh sysfs walk, the events that bring the table (and so
  // the dev root and database) in line: an add for a device never seen, a remove and an
  // add for a name now held by another instance (new device number or DISKSEQ), and a
  // remove for each device that is gone.
  std::vector<Uevent> Reconcile(const std::vector<Uevent>& present) const;

  size_t size() const { return devices_.size(); }
  bool Contains(const std::string& devpath) const { return devices_.count(devpath) > 0; }
  // Database ids of every known device.
  std::unordered_set<std::string> Ids() const;

 private:
  std::unordered_map<std::string, Uevent> devices_;  // devpath -> identity properties
};

}  // namespace vdev
