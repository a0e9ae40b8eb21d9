// Device-mapper naming; see dm_name.h.
#include "dm_name.h"

#include <cstdint>
#include <cstdio>
#include <iterator>

#include "common/numbers.h"

namespace vdev {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// libdevmapper's whitelist: what udev and /dev/mapper take without quoting.
bool IsWhitelisted(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         std::string_view("#+-.:=@_").find(c) != std::string_view::npos;
}

// One component of an LVM dm name, from *rest up to the next single '-' (consumed); "--"
// becomes '-'. As in libdevmapper, a '-' at the very end is taken literally.
std::string TakeLvmComponent(std::string_view* rest) {
  std::string out;
  size_t i = 0;
  for (; i < rest->size(); ++i) {
    char c = (*rest)[i];
    if (c == '-' && i + 1 < rest->size()) {
      if ((*rest)[i + 1] != '-') break;
      ++i;  // "--": keep one '-'
    }
    out += c;
  }
  rest->remove_prefix(i < rest->size() ? i + 1 : i);
  return out;
}

constexpr uint16_t kOwnRulesOnly =
    dm_flag::kDisableSubsystemRules | dm_flag::kDisableDiskRules | dm_flag::kDisableOtherRules;

// The names `dmsetup udevflags` prints for bits 0-6.
constexpr std::string_view kFlagNames[] = {
    "DM_UDEV_DISABLE_DM_RULES_FLAG",   "DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG",
    "DM_UDEV_DISABLE_DISK_RULES_FLAG", "DM_UDEV_DISABLE_OTHER_RULES_FLAG",
    "DM_UDEV_LOW_PRIORITY_FLAG",       "DM_UDEV_DISABLE_LIBRARY_FALLBACK_FLAG",
    "DM_UDEV_PRIMARY_SOURCE_FLAG",
};
// 10-dm.rules keeps the cookie's own "other rules" flag apart: the effective flag is also
// raised by later rules (a suspended device, LVM's no-scan) and must not stick.
constexpr std::string_view kCookieOtherFlag = "DM_COOKIE_DISABLE_OTHER_RULES_FLAG";

}  // namespace

std::string MangleDmString(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 3 < text.size() && text[i + 1] == 'x' && IsHexDigit(text[i + 2]) &&
        IsHexDigit(text[i + 3])) {
      out.append(text.substr(i, 4));  // already mangled
      i += 3;
    } else if (IsWhitelisted(c)) {
      out += c;
    } else {
      char encoded[5];
      std::snprintf(encoded, sizeof(encoded), "\\x%02x", static_cast<unsigned char>(c));
      out += encoded;
    }
  }
  return out;
}

LvmName SplitLvmName(std::string_view dm_name) {
  LvmName name;
  name.vg = TakeLvmComponent(&dm_name);
  name.lv = TakeLvmComponent(&dm_name);
  name.layer = TakeLvmComponent(&dm_name);
  return name;
}

bool IsReservedLvName(std::string_view lv) {
  static constexpr std::string_view kPrefixes[] = {"pvmove", "snapshot"};
  // lvm2's lib/misc/lvm-string.c, with the suffixes of its newer LV types.
  static constexpr std::string_view kInfixes[] = {
      "_cdata", "_cmeta", "_corig",  "_cpool", "_cvol",    "_wcorig",
      "_imeta", "_iorig", "_mimage", "_mlog",  "_pmspare", "_rimage",
      "_rmeta", "_tdata", "_tmeta",  "_vdata", "_vorigin",
  };
  for (std::string_view prefix : kPrefixes)
    if (lv.starts_with(prefix)) return true;
  for (std::string_view infix : kInfixes)
    if (lv.find(infix) != std::string_view::npos) return true;
  return false;
}

std::optional<uint16_t> DmCookieFlags(std::string_view cookie) {
  std::optional<uint64_t> value;
  if (cookie.starts_with("0x") || cookie.starts_with("0X")) {
    value = ParseNumber<uint64_t>(cookie.substr(2), 16);
  } else {
    value = ParseNumber<uint64_t>(cookie);
  }
  if (!value || *value == 0 || *value > UINT32_MAX) return std::nullopt;
  return static_cast<uint16_t>(*value >> 16);
}

std::optional<uint16_t> StoredDmFlags(const Uevent& previous) {
  if (previous.GetOr("DM_UDEV_PRIMARY_SOURCE_FLAG") != "1") return std::nullopt;
  uint16_t flags = 0;
  for (size_t bit = 0; bit < std::size(kFlagNames); ++bit) {
    // The effective "other rules" flag may have been raised by rules; the cookie's is kept
    // under its own name.
    std::string_view name = bit == 3 ? kCookieOtherFlag : kFlagNames[bit];
    if (previous.GetOr(name) == "1") flags |= 1u << bit;
  }
  return flags;
}

uint16_t GuessDmFlags(const DmState& state) {
  if (!state.has_table) return dm_flag::kDisableDmRules | kOwnRulesOnly;
  std::string_view uuid = state.uuid;
  if (uuid.starts_with("LVM-")) {
    LvmName name = SplitLvmName(MangleDmString(state.name));
    // "LVM-" + 32 characters of VG id + 32 of LV id, then "-layer" for LVM's internal
    // devices (lvm2's build_dm_uuid: "-real", "-cow", "-tpool", "-pool", "-tdata", ...).
    constexpr size_t kLvidEnd = 4 + 64;
    std::string_view uuid_layer;
    if (uuid.size() > kLvidEnd + 1 && uuid[kLvidEnd] == '-') uuid_layer = uuid.substr(kLvidEnd + 1);
    // An unused thin pool is activated as an ordinary, visible LV with a "-tpool" uuid:
    // lvm keeps its /dev/VG/LV link and only turns the disk rules off.
    if (name.layer.empty() && uuid_layer == "tpool")
      return dm_flag::kDisableDiskRules | dm_flag::kDisableOtherRules;
    if (!name.layer.empty() || !uuid_layer.empty() || name.vg.empty() || name.lv.empty() ||
        IsReservedLvName(name.lv)) {
      return kOwnRulesOnly;
    }
    return 0;
  }
  // cryptsetup's CRYPT_ACTIVATE_PRIVATE devices: keyslot and reencryption temporaries and
  // the integrity devices below a LUKS2 volume.
  if (uuid.starts_with("CRYPT-TEMP-") || uuid.starts_with("CRYPT-SUBDEV-")) return kOwnRulesOnly;
  return 0;
}

PropertyList DmProperties(const DmState& state) {
  PropertyList properties;
  auto add = [&](std::string_view key, std::string value) {
    if (!value.empty()) properties.emplace_back(std::string(key), std::move(value));
  };
  std::string name = MangleDmString(state.name);
  add("DM_NAME", name);
  add("DM_UUID", MangleDmString(state.uuid));
  if (state.suspended == "0" || state.suspended == "1") add("DM_SUSPENDED", state.suspended);
  if (std::string_view(state.uuid).starts_with("LVM-")) {
    LvmName split = SplitLvmName(name);
    add("DM_VG_NAME", std::move(split.vg));
    add("DM_LV_NAME", std::move(split.lv));
    add("DM_LV_LAYER", std::move(split.layer));
  }

  uint16_t flags;
  bool from_libdevmapper = true;
  if (state.cookie_flags) {
    flags = *state.cookie_flags;
  } else if (state.stored_flags) {
    flags = *state.stored_flags & 0x7f;  // subsystem flags (LVM's no-scan) hold for one event
  } else {
    flags = GuessDmFlags(state);
    from_libdevmapper = false;
  }
  for (size_t bit = 0; bit < std::size(kFlagNames); ++bit)
    if (flags & (1u << bit)) add(kFlagNames[bit], "1");
  if (from_libdevmapper && (flags & dm_flag::kDisableOtherRules)) add(kCookieOtherFlag, "1");
  for (int bit = 8; bit < 16; ++bit)
    if (flags & (1u << bit)) add("DM_SUBSYSTEM_UDEV_FLAG" + std::to_string(bit - 8), "1");
  return properties;
}

const std::vector<std::string_view>& DmPropertyNames() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names = {"DM_NAME",       "DM_UUID",    "DM_SUSPENDED",
                                           "DM_VG_NAME",    "DM_LV_NAME", "DM_LV_LAYER",
                                           kCookieOtherFlag};
    names.insert(names.end(), std::begin(kFlagNames), std::end(kFlagNames));
    static constexpr std::string_view kSubsystemFlags[] = {
        "DM_SUBSYSTEM_UDEV_FLAG0", "DM_SUBSYSTEM_UDEV_FLAG1", "DM_SUBSYSTEM_UDEV_FLAG2",
        "DM_SUBSYSTEM_UDEV_FLAG3", "DM_SUBSYSTEM_UDEV_FLAG4", "DM_SUBSYSTEM_UDEV_FLAG5",
        "DM_SUBSYSTEM_UDEV_FLAG6", "DM_SUBSYSTEM_UDEV_FLAG7"};
    names.insert(names.end(), std::begin(kSubsystemFlags), std::end(kSubsystemFlags));
    return names;
  }();
  return kNames;
}

}  // namespace vdev
