#include "net_naming_scheme.h"

#include <cstdlib>
#include <string>

#include "common/log.h"

namespace vdev {
namespace {

constexpr uint32_t kV238 = 0;
constexpr uint32_t kV239 = kV238 | kNamingSrIovV | kNamingNparAri;
constexpr uint32_t kV240 = kV239 | kNamingInfiniband | kNamingZeroAcpiIndex | kNamingAllowRerenames;
constexpr uint32_t kV241 = kV240 | kNamingStableVirtualMacs;
constexpr uint32_t kV243 = kV241 | kNamingNetdevsim | kNamingLabelNoPrefix;
constexpr uint32_t kV245 = kV243 | kNamingNspawnLongHash;
constexpr uint32_t kV247 = kV245 | kNamingBridgeNoSlot;
constexpr uint32_t kV249 =
    kV247 | kNamingSlotFunctionId | kNaming16BitIndex | kNamingReplaceStrictly;
constexpr uint32_t kV250 = kV249 | kNamingXenVif;
constexpr uint32_t kV251 = kV250 | kNamingBridgeMultifunctionSlot;
constexpr uint32_t kV252 = kV251 | kNamingDevicetreeAliases;

// "latest" is reported under its version's name, as udev does.
constexpr NamingScheme kSchemes[] = {
    {"v238", kV238}, {"v239", kV239}, {"v240", kV240}, {"v241", kV241},
    {"v243", kV243}, {"v245", kV245}, {"v247", kV247}, {"v249", kV249},
    {"v250", kV250}, {"v251", kV251}, {"v252", kV252},
};

}  // namespace

const NamingScheme* FindNamingScheme(std::string_view name) {
  if (name == "latest") return &DefaultNamingScheme();
  for (const NamingScheme& scheme : kSchemes)
    if (scheme.name == name) return &scheme;
  return nullptr;
}

const NamingScheme& DefaultNamingScheme() { return kSchemes[std::size(kSchemes) - 1]; }

const NamingScheme& ActiveNamingScheme() {
  static const NamingScheme& active = [&]() -> const NamingScheme& {
    const char* env = getenv("NET_NAMING_SCHEME");
    if (env == nullptr || *env == '\0') return DefaultNamingScheme();
    // udev's ":" prefix means "unless the kernel command line says otherwise".
    std::string_view name = env[0] == ':' ? env + 1 : env;
    if (const NamingScheme* scheme = FindNamingScheme(name)) return *scheme;
    LogWarning("net_id: unknown naming scheme '%s' in NET_NAMING_SCHEME, using %s", env,
               std::string(DefaultNamingScheme().name).c_str());
    return DefaultNamingScheme();
  }();
  return active;
}

}  // namespace vdev
