// The net_id builtin: `builtin = net_id` (udev's IMPORT{builtin}="net_id"), the predictable
// names of a network interface (ID_NET_NAME_MAC, _ONBOARD, _PATH, _SLOT, ...) as systemd
// 252's net_id computes them. vdev only reports the names; it renames nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "builtin.h"
#include "common/device.h"
#include "common/result.h"
#include "common/uevent.h"
#include "net_naming_scheme.h"

namespace vdev {

struct NetIdNames {
  // In udev's order: ID_NET_NAMING_SCHEME, ID_NET_NAME_MAC, then one family of
  //   ID_NET_NAME_ONBOARD (devicetree alias "d<n>"; PCI "o<index>[n<port>|d<dev_port>]"),
  //   ID_NET_LABEL_ONBOARD (the PCI label, without prefix since v243),
  //   ID_NET_NAME_PATH (PCI "[P<domain>]p<bus>s<slot>[f<fn>][n<port>|d<dev_port>]", then
  //     "u<port>...[c<config>][i<interface>]" for USB or "b<core>" for BCMA; "c<busid>" for
  //     s390 CCW; "a<vendor><model>i<instance>" for ACPI platform devices; "i<n>n<port>" for
  //     netdevsim),
  //   ID_NET_NAME_SLOT (PCI hotplug slot "[P<domain>]s<slot>[f<fn>]..." (+ USB/BCMA part),
  //     "v<slot>" for IBM vio, "X<n>" for Xen netfront),
  // SR-IOV virtual functions get their physical function's names with "v<vf>" appended.
  // Prefixes: "en" Ethernet, "ib" InfiniBand, "sl" SLIP, "wl" wlan, "ww" wwan. Nothing at
  // all for other link types and for stacked devices (iflink != ifindex: VLANs, ...).
  std::vector<Property> properties;
  // "OUI:XXXXXXXXXXXX" for a permanent MAC address: udev looks it up in the hwdb
  // (ID_OUI_FROM_DATABASE).
  std::optional<std::string> oui_key;
};

// The names of the network interface device. sysfs_fd is the sysfs root, for the PCI hotplug
// slots (bus/pci/slots), SR-IOV physfn/virtfn links and the devicetree aliases; with -1 those
// names are not looked for. Fails (as udev does) when IFINDEX or the iflink and type
// attributes are missing.
[[nodiscard]] Result<NetIdNames> NetIdProperties(const Device& device, int sysfs_fd,
                                                 const NamingScheme& scheme);

// Sets NetIdProperties' properties on the event (scheme: ActiveNamingScheme()) and the hwdb's
// answer for the OUI key.
Status RunNetIdBuiltin(BuiltinCall& call);

}  // namespace vdev
