// The "dm" builtin: a device-mapper device's name, uuid, LVM split and udev flags, from
// sysfs (dm/name, dm/uuid, dm/suspended, size) and the event's DM_COOKIE. It replaces
// 10-dm.rules' attribute reads and its `dmsetup udevflags` and `dmsetup splitname` calls.
#include "builtin_dm.h"

#include <cerrno>
#include <optional>
#include <string>

#include "dm_name.h"

namespace vdev {

Status RunDmBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  const Device& device = state.device;
  std::optional<std::string> name = device.Attribute("dm/name");
  DmState dm;
  if (!name && !device.sysname().starts_with("dm-"))
    return Fail(ENODEV, device.devpath() + ": not a device-mapper device");
  if (!name) {
    // The kernel announces a new dm device before its first table is loaded, and dm/
    // appears only then: like a device without a table, its "add" gets every rule off
    // (10-dm.rules' dm_disable); the "change" of its resume follows with dm/ in place.
    dm.has_table = false;
    for (std::string_view key : DmPropertyNames()) state.properties.Erase(key);
    for (const auto& [key, value] : DmProperties(dm)) state.properties.Set(key, value);
    return Ok();
  }
  dm.name = std::move(*name);
  dm.uuid = device.Attribute("dm/uuid").value_or("");
  dm.suspended = device.Attribute("dm/suspended").value_or("");
  dm.has_table = device.Attribute("size").value_or("") != "0";
  if (auto cookie = state.properties.Get("DM_COOKIE")) dm.cookie_flags = DmCookieFlags(*cookie);
  // A change event starts from the previous record: what an earlier libdevmapper event
  // said about this device still holds; everything else is computed afresh.
  dm.stored_flags = StoredDmFlags(state.properties);
  for (std::string_view key : DmPropertyNames()) state.properties.Erase(key);

  for (const auto& [key, value] : DmProperties(dm)) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
