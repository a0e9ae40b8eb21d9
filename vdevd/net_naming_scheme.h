// Network interface naming schemes: the named sets of net_id features that systemd's
// systemd.net-naming-scheme(7) defines (v238 ... v252, "latest"), so a system keeps the
// names it was installed with.
#pragma once

#include <cstdint>
#include <string_view>

namespace vdev {

// One bit per change of net_id's naming logic, as systemd numbers them.
enum NamingFlag : uint32_t {
  kNamingSrIovV = 1u << 0,                    // "v<n>" suffix for SR-IOV virtual functions
  kNamingNparAri = 1u << 1,                   // ARI: slot bits count into the function number
  kNamingInfiniband = 1u << 2,                // "ib" names for InfiniBand
  kNamingZeroAcpiIndex = 1u << 3,             // acpi_index 0 is a valid onboard index
  kNamingAllowRerenames = 1u << 4,            // (renaming policy, not net_id)
  kNamingStableVirtualMacs = 1u << 5,         // (MAC policy, not net_id)
  kNamingNetdevsim = 1u << 6,                 // names for netdevsim devices
  kNamingLabelNoPrefix = 1u << 7,             // ID_NET_LABEL_ONBOARD without "en"/"wl"
  kNamingNspawnLongHash = 1u << 8,            // (nspawn, not net_id)
  kNamingBridgeNoSlot = 1u << 9,              // no slot name from a PCI bridge's slot
  kNamingSlotFunctionId = 1u << 10,           // s390 function_id names the hotplug slot
  kNaming16BitIndex = 1u << 11,               // onboard index up to 65535 instead of 16383
  kNamingReplaceStrictly = 1u << 12,          // (NAME= rules, not net_id)
  kNamingXenVif = 1u << 13,                   // "X<n>" names for Xen netfront
  kNamingBridgeMultifunctionSlot = 1u << 14,  // a bridge's slot for multi-function devices
  kNamingDevicetreeAliases = 1u << 15,        // "d<n>" onboard names from devicetree aliases
};

struct NamingScheme {
  std::string_view name;  // ID_NET_NAMING_SCHEME
  uint32_t flags;

  bool Has(uint32_t flag) const { return (flags & flag) == flag; }
};

// The scheme of that name ("v247", "latest"); nullptr for an unknown one.
const NamingScheme* FindNamingScheme(std::string_view name);

// What udev 252 uses unless told otherwise: "v252" (Debian 12 builds with "latest").
const NamingScheme& DefaultNamingScheme();

// The scheme net_id uses: NET_NAMING_SCHEME from the environment (udev's variable; an
// unknown name is logged and the default used), else the default. Read once per process.
// udev also reads net.naming-scheme= from the kernel command line; vdev does not.
const NamingScheme& ActiveNamingScheme();

}  // namespace vdev
