// Device-mapper naming: how libdevmapper and LVM turn a dm device's name, uuid and udev
// cookie into udev's DM_* properties (what 10-dm.rules and 11-dm-lvm.rules get from
// `dmsetup udevflags` and `dmsetup splitname`). Pure functions; the "dm" builtin feeds them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/uevent.h"

namespace vdev {

// libdevmapper's name mangling ("auto" mode, what dmsetup prints and /dev/mapper uses):
// every byte outside [0-9A-Za-z#+-.:=@_] becomes \xNN, and an existing \xNN sequence is
// kept, so mangling twice changes nothing. The result never holds '/', whitespace or a
// control byte: a dm name cannot place a link outside its directory.
std::string MangleDmString(std::string_view text);

// A dm name split the way dm_split_lvm_name (and `dmsetup splitname`) splits it: a single
// '-' separates VG, LV and layer, "--" stands for a literal '-' ("vg0-my--lv" is VG "vg0",
// LV "my-lv"; "vg0-pool-tpool" is VG "vg0", LV "pool", layer "tpool").
struct LvmName {
  std::string vg;
  std::string lv;
  std::string layer;
};
LvmName SplitLvmName(std::string_view dm_name);

// LVM's reserved LV names: its hidden sub-volumes ("pool_tmeta", "lv_rimage_0", "pvmove0",
// "snap_vorigin", ...), which no user may create.
bool IsReservedLvName(std::string_view lv);

// The flag bits a libdevmapper caller sends in the upper half of DM_COOKIE
// (libdevmapper.h, DM_UDEV_*); bits 8-15 are the subsystem's own (DM_SUBSYSTEM_UDEV_FLAGn).
namespace dm_flag {
inline constexpr uint16_t kDisableDmRules = 1 << 0;
inline constexpr uint16_t kDisableSubsystemRules = 1 << 1;
inline constexpr uint16_t kDisableDiskRules = 1 << 2;
inline constexpr uint16_t kDisableOtherRules = 1 << 3;
inline constexpr uint16_t kLowPriority = 1 << 4;
inline constexpr uint16_t kDisableLibraryFallback = 1 << 5;
inline constexpr uint16_t kPrimarySource = 1 << 6;
}  // namespace dm_flag

// The flags in an event's DM_COOKIE (a decimal or 0x number, as `dmsetup udevflags` reads
// it); nullopt when there is no valid cookie.
std::optional<uint16_t> DmCookieFlags(std::string_view cookie);

// The cookie flags an earlier event stored in the device's record (its properties are
// carried into a change event), when that event came from libdevmapper
// (DM_UDEV_PRIMARY_SOURCE_FLAG): what 10-dm.rules restores with IMPORT{db} for events
// that carry no cookie (a trigger, a watch).
std::optional<uint16_t> StoredDmFlags(const Uevent& previous);

// What sysfs and the event say about one dm device.
struct DmState {
  std::string name;                      // dm/name
  std::string uuid;                      // dm/uuid, "" for none
  std::string suspended;                 // dm/suspended: "0", "1", or "" when unknown
  bool has_table = true;                 // size is not 0: a table was loaded and resumed
  std::optional<uint16_t> cookie_flags;  // from this event's DM_COOKIE
  std::optional<uint16_t> stored_flags;  // from an earlier event's cookie
};

// The flags the tool that made the device would have sent, for events without them (the
// coldplug "add" after boot, a device made before the daemon ran): no table yet: all rules
// off (10-dm.rules ignores such an "add"); LVM layers ("-cow", "-real", "-tpool", uuid
// suffixes "-pool", "-tdata", ...) and hidden LVs (reserved names): only /dev/mapper, as
// lvm's dev_manager asks; cryptsetup's private devices (CRYPT-TEMP-, CRYPT-SUBDEV-): the
// same.
uint16_t GuessDmFlags(const DmState& state);

using PropertyList = std::vector<std::pair<std::string, std::string>>;

// The properties of a dm device: DM_NAME, DM_UUID (both mangled), DM_SUSPENDED; for LVM
// (uuid "LVM-...") DM_VG_NAME, DM_LV_NAME, DM_LV_LAYER; and one DM_UDEV_*_FLAG=1 per flag:
// the cookie's, else the stored ones, else GuessDmFlags. Empty values are left out.
PropertyList DmProperties(const DmState& state);

// Every property DmProperties can set: the builtin clears them first, since a change event
// starts from the previous record and a renamed or resumed device must not keep old ones.
const std::vector<std::string_view>& DmPropertyNames();

}  // namespace vdev
