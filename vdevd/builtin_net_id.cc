// The net_id builtin: systemd 252's predictable network interface names, recomputed from
// sysfs (see systemd.net-naming-scheme(7) for the rules each function below follows).
#include "builtin_net_id.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "builtin_hwdb.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace vdev {
namespace {

// Link types (linux/if_arp.h) that get names.
constexpr int kArphrdEther = 1;
constexpr int kArphrdInfiniband = 32;
constexpr int kArphrdSlip = 256;

// ALTIFNAMSIZ - 1: udev builds every name in a 128-byte buffer and drops what does not fit.
constexpr size_t kMaxNameLength = 127;
constexpr unsigned long kOnboard14BitMax = (1ul << 14) - 1;
constexpr unsigned long kOnboard16BitMax = (1ul << 16) - 1;
constexpr size_t kPciHeaderType = 0x0e;
constexpr uint8_t kPciHeaderMultifunction = 0x80;

struct LinkInfo {
  int ifindex = 0;
  int iflink = 0;
  int iftype = 0;
  std::string devtype;
  std::string phys_port_name;  // empty when the driver has none
  std::vector<uint8_t> hw_addr;
};

// What the PCI device above the interface names.
struct PciNames {
  std::string onboard, path, slot;
  std::optional<std::string> label;
};

// strtoul as systemd's safe_atolu_full uses it: whole string, no sign, base 0 = C prefixes.
std::optional<unsigned long> ParseUnsigned(std::string_view text, int base) {
  std::string copy(text);
  const char* begin = copy.c_str();
  while (isspace(static_cast<unsigned char>(*begin))) ++begin;
  if (*begin == '-' || *begin == '+' || *begin == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long value = strtoul(begin, &end, base);
  if (errno != 0 || end == begin || *end != '\0') return std::nullopt;
  return value;
}

std::optional<int> ParseInt(std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  long value = strtol(copy.c_str(), &end, 0);
  if (errno != 0 || end == copy.c_str() || *end != '\0' || value < INT32_MIN || value > INT32_MAX)
    return std::nullopt;
  return static_cast<int>(value);
}

// "aa:bb:cc:dd:ee:ff" (also '-'-separated); empty when it is not such an address.
std::vector<uint8_t> ParseHwAddress(std::string_view text) {
  std::vector<uint8_t> bytes;
  size_t at = 0;
  while (at < text.size()) {
    if (at + 2 > text.size() || !isxdigit(static_cast<unsigned char>(text[at])) ||
        !isxdigit(static_cast<unsigned char>(text[at + 1])))
      return {};
    bytes.push_back(static_cast<uint8_t>(std::stoul(std::string(text.substr(at, 2)), nullptr, 16)));
    at += 2;
    if (at == text.size()) break;
    if (text[at] != ':' && text[at] != '-') return {};
    if (++at == text.size()) return {};
  }
  return bytes;
}

std::string Format(const char* format, auto... args) {
  char buffer[256];
  int length = snprintf(buffer, sizeof(buffer), format, args...);
  if (length < 0 || static_cast<size_t>(length) >= sizeof(buffer)) return {};
  return std::string(buffer, length);
}

// A name component or whole name that udev would have had to cut: udev drops it.
std::string Bounded(std::string name) { return name.size() > kMaxNameLength ? "" : name; }

std::optional<Device> AncestorWith(const Device& device, std::string_view subsystem,
                                   std::string_view devtype = {}) {
  for (std::optional<Device> parent = device.Parent(); parent; parent = parent->Parent())
    if (parent->subsystem() == subsystem && (devtype.empty() || parent->devtype() == devtype))
      return parent;
  return std::nullopt;
}

// There is at most one virtio bus per parent device, so udev looks through it.
std::optional<Device> SkipVirtio(std::optional<Device> device) {
  while (device && device->subsystem() == "virtio") device = device->Parent();
  return device;
}

std::optional<std::string> ReadLinkTarget(int sysfs_fd, const std::string& devpath,
                                          const std::string& name) {
  auto target = ReadLinkAt(sysfs_fd, devpath.substr(1) + "/" + name);
  if (!target) return std::nullopt;
  return ResolveDevpathLink(devpath, *target);
}

// The entry names of a directory below the sysfs root, in the order the kernel lists them.
std::vector<std::string> ListDirectory(int sysfs_fd, const std::string& path) {
  std::vector<std::string> names;
  auto fd = OpenDirAt(sysfs_fd, path);
  if (!fd) return names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(fd->get()), closedir);
  if (!dir) return names;
  fd->release();
  while (const dirent* entry = readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  return names;
}

// The port part that follows a PCI or onboard name: "n<phys_port_name>" or "d<dev_port>".
std::string PortSuffix(const LinkInfo& info, unsigned long dev_port) {
  if (!info.phys_port_name.empty()) return "n" + info.phys_port_name;
  if (dev_port > 0) return "d" + std::to_string(dev_port);
  return {};
}

// dev_port: the kernel's port index for several ports on one PCI function.
unsigned long DevPort(const Device& device, const LinkInfo& info) {
  auto attribute = device.Attribute("dev_port");
  if (!attribute) return 0;
  unsigned long dev_port = ParseUnsigned(*attribute, 10).value_or(0);
  // Older kernels give IP-over-InfiniBand ports in dev_id instead.
  if (dev_port == 0 && info.iftype == kArphrdInfiniband) {
    if (auto dev_id = device.Attribute("dev_id")) dev_port = ParseUnsigned(*dev_id, 10).value_or(0);
  }
  return dev_port;
}

// The multi-function bit of the header type in the PCI configuration space.
bool IsPciMultifunction(const Device& pci) {
  auto config = pci.Attribute("config");
  return config && config->size() > kPciHeaderType &&
         (static_cast<uint8_t>((*config)[kPciHeaderType]) & kPciHeaderMultifunction) != 0;
}

// A PCI-to-PCI bridge: base class 06, subclass 04 in the modalias ("...bc06sc04i00").
bool IsPciBridge(const Device& pci) {
  auto modalias = pci.Attribute("modalias");
  if (!modalias || !modalias->starts_with("pci:")) return false;
  size_t s = modalias->rfind('s');
  return s != std::string::npos && modalias->compare(s, 4, "sc04") == 0;
}

// Onboard index from the firmware: ACPI _DSM (acpi_index), else SMBIOS type 41 (index).
void PciOnboard(const Device& device, const Device& pci, const LinkInfo& info,
                const NamingScheme& scheme, PciNames& names) {
  auto attribute = pci.Attribute("acpi_index");
  if (!attribute) attribute = pci.Attribute("index");
  if (!attribute) return;
  auto index = ParseUnsigned(*attribute, 0);
  if (!index) return;
  if (*index == 0 && !scheme.Has(kNamingZeroAcpiIndex)) return;
  // Firmware reports rubbish such as 2^24-1 (VMware): no onboard name past the cut-off.
  if (*index > (scheme.Has(kNaming16BitIndex) ? kOnboard16BitMax : kOnboard14BitMax)) return;
  names.onboard = Bounded("o" + std::to_string(*index) + PortSuffix(info, DevPort(device, info)));
  names.label = pci.Attribute("label");
}

// The s390 PCI driver's function_id names the hotplug slot directory (%08x) directly.
// Returns the slot, 0 when there is none this way, nullopt to give up on slots.
std::optional<uint32_t> SlotFromFunctionId(const Device& pci, int sysfs_fd,
                                           const NamingScheme& scheme) {
  if (!scheme.Has(kNamingSlotFunctionId)) return 0;
  auto attribute = pci.Attribute("function_id");
  if (!attribute) return 0;
  auto function_id = ParseUnsigned(*attribute, 0);
  if (!function_id || *function_id == 0 || *function_id > UINT32_MAX) return std::nullopt;
  std::string slot = "bus/pci/slots/" + Format("%08lx", *function_id);
  if (faccessat(sysfs_fd, slot.c_str(), F_OK, 0) != 0) return std::nullopt;
  return static_cast<uint32_t>(*function_id);
}

// The hotplug slot of the PCI device or of the nearest PCI ancestor that has one, from
// bus/pci/slots/<n>/address ("0000:00:03", the device without its function). nullopt: no
// slot name.
std::optional<uint32_t> HotplugSlot(const Device& pci, int sysfs_fd, const NamingScheme& scheme,
                                    unsigned& domain) {
  if (sysfs_fd < 0) return std::nullopt;
  std::vector<std::string> slots = ListDirectory(sysfs_fd, "bus/pci/slots");
  for (std::optional<Device> candidate = pci; candidate;
       candidate = AncestorWith(*candidate, "pci")) {
    auto by_function_id = SlotFromFunctionId(*candidate, sysfs_fd, scheme);
    if (!by_function_id) return std::nullopt;
    if (*by_function_id > 0) {
      domain = 0;  // one slot per function: the domain says nothing more
      return by_function_id;
    }
    const std::string sysname = candidate->sysname();
    for (const std::string& slot : slots) {
      auto number = ParseUnsigned(slot, 0);
      if (!number || *number == 0 || *number > UINT32_MAX) continue;
      auto address = ReadAttributeAt(sysfs_fd, "bus/pci/slots/" + slot + "/address");
      if (!address || !sysname.starts_with(*address)) continue;
      // A bridge's slot is shared by everything behind it: only a multi-function device
      // (v251) may use it, and before that nothing behind a bridge.
      if (scheme.Has(kNamingBridgeNoSlot) && IsPciBridge(*candidate)) {
        if (!scheme.Has(kNamingBridgeMultifunctionSlot) || !IsPciMultifunction(pci))
          return std::nullopt;
      }
      return static_cast<uint32_t>(*number);
    }
  }
  return std::nullopt;
}

// The PCI path name from the device's bus address, and its hotplug slot name.
void PciSlotAndPath(const Device& device, const Device& pci, const LinkInfo& info, int sysfs_fd,
                    const NamingScheme& scheme, PciNames& names) {
  unsigned domain = 0, bus = 0, slot = 0, function = 0;
  const std::string sysname = pci.sysname();
  if (sscanf(sysname.c_str(), "%x:%x:%x.%u", &domain, &bus, &slot, &function) != 4) return;
  // ARI: up to 256 functions, the slot bits are the upper bits of the function number.
  if (scheme.Has(kNamingNparAri) && pci.Attribute("ari_enabled") == "1") function += slot * 8;
  const unsigned long dev_port = DevPort(device, info);
  const bool multifunction = function > 0 || IsPciMultifunction(pci);
  const std::string function_part = multifunction ? "f" + std::to_string(function) : "";
  const std::string port = PortSuffix(info, dev_port);

  std::string path = domain > 0 ? "P" + std::to_string(domain) : "";
  path += "p" + std::to_string(bus) + "s" + std::to_string(slot) + function_part + port;
  names.path = Bounded(std::move(path));

  auto hotplug_slot = HotplugSlot(pci, sysfs_fd, scheme, domain);
  if (!hotplug_slot) return;
  std::string slot_name = domain > 0 ? "P" + std::to_string(domain) : "";
  slot_name += "s" + std::to_string(*hotplug_slot) + function_part + port;
  names.slot = Bounded(std::move(slot_name));
}

// "v<n>" when pci is SR-IOV virtual function n: its physfn lists it as virtfn<n>.
std::optional<std::pair<Device, std::string>> VirtualFunction(const Device& pci, int sysfs_fd) {
  if (sysfs_fd < 0) return std::nullopt;
  auto physfn_path = ReadLinkTarget(sysfs_fd, pci.devpath(), "physfn");
  if (!physfn_path) return std::nullopt;
  auto physfn = Device::Open(sysfs_fd, *physfn_path);
  if (!physfn) return std::nullopt;
  for (const std::string& name : ListDirectory(sysfs_fd, physfn_path->substr(1))) {
    std::string_view number = std::string_view(name).substr(std::min<size_t>(6, name.size()));
    if (!name.starts_with("virtfn") || number.empty() ||
        !std::all_of(number.begin(), number.end(), [](char c) { return isdigit(c); }))
      continue;
    if (ReadLinkTarget(sysfs_fd, *physfn_path, name) == pci.devpath())
      return std::make_pair(std::move(*physfn), "v" + std::string(number));
  }
  return std::nullopt;
}

// The PCI names; nullopt when the interface is not below a PCI device. direct: the PCI
// device is the interface's parent (through a virtio bus at most).
std::optional<PciNames> NamesPci(const Device& device, const LinkInfo& info, int sysfs_fd,
                                 const NamingScheme& scheme, bool& direct) {
  std::optional<Device> parent = SkipVirtio(device.Parent());
  if (!parent) return std::nullopt;
  direct = parent->subsystem() == "pci";
  std::optional<Device> pci = direct ? parent : AncestorWith(device, "pci");
  if (!pci) return std::nullopt;
  PciNames names;
  std::optional<std::pair<Device, std::string>> vf;
  if (scheme.Has(kNamingSrIovV)) vf = VirtualFunction(*pci, sysfs_fd);
  if (!vf) {
    PciOnboard(device, *pci, info, scheme, names);
    PciSlotAndPath(device, *pci, info, sysfs_fd, scheme, names);
    return names;
  }
  // A virtual function is named after its physical function, plus "v<n>" (no label).
  PciNames pf;
  PciOnboard(device, vf->first, info, scheme, pf);
  PciSlotAndPath(device, vf->first, info, sysfs_fd, scheme, pf);
  auto with_suffix = [&](const std::string& base) {
    return base.empty() ? std::string() : Bounded(base + vf->second);
  };
  names.onboard = with_suffix(pf.onboard);
  names.path = with_suffix(pf.path);
  names.slot = with_suffix(pf.slot);
  return names;
}

// "u<port>[u<port>...][c<config>][i<interface>]" from the USB interface's sysname
// ("1-1.2:1.0": bus 1, ports 1.2, configuration 1, interface 0).
std::optional<std::string> UsbPorts(const Device& device) {
  auto interface = AncestorWith(device, "usb", "usb_interface");
  if (!interface) return std::nullopt;
  std::string sysname = interface->sysname();
  size_t dash = sysname.find('-');
  if (dash == std::string::npos) return std::nullopt;
  size_t colon = sysname.find(':', dash + 1);
  if (colon == std::string::npos) return std::nullopt;
  size_t dot = sysname.find('.', colon + 1);
  if (dot == std::string::npos) return std::nullopt;
  std::string ports = sysname.substr(dash + 1, colon - dash - 1);
  std::string config = sysname.substr(colon + 1, dot - colon - 1);
  std::string number = sysname.substr(dot + 1);
  std::replace(ports.begin(), ports.end(), '.', 'u');
  std::string name = "u" + ports;
  if (config != "1") name += "c" + config;
  if (number != "0") name += "i" + number;
  if (name.size() > kMaxNameLength) return std::nullopt;
  return name;
}

// "b<core>" from the Broadcom bus core ("bcma0:3"), "" for the common core 0.
std::optional<std::string> BcmaCore(const Device& device) {
  auto bcma = AncestorWith(device, "bcma");
  if (!bcma) return std::nullopt;
  unsigned core = 0;
  if (sscanf(bcma->sysname().c_str(), "bcma%*u:%u", &core) != 1) return std::nullopt;
  return core > 0 ? "b" + std::to_string(core) : "";
}

// s390 channel devices: "c<bus id>" without its leading zeros and dots ("0.0.0600" -> c600).
std::optional<std::string> CcwName(const Device& device) {
  std::optional<Device> parent = SkipVirtio(device.Parent());
  if (!parent || (parent->subsystem() != "ccwgroup" && parent->subsystem() != "ccw"))
    return std::nullopt;
  std::string bus_id = parent->sysname();
  if (bus_id.size() != 8 && bus_id.size() != 9) return std::nullopt;
  size_t start = bus_id.find_first_not_of(".0");
  if (start == std::string::npos) start = bus_id.size() - 1;
  return Bounded("c" + bus_id.substr(start));
}

// IBM POWER vio: "v<slot>" from /devices/vio/<bus:4 hex><slot:4 hex>/net/eth<n>.
std::optional<std::string> VioName(const Device& device) {
  std::optional<Device> parent = device.Parent();
  if (!parent || parent->subsystem() != "vio") return std::nullopt;
  unsigned bus = 0, slot = 0, eth = 0;
  if (sscanf(device.devpath().c_str(), "/devices/vio/%4x%4x/net/eth%u", &bus, &slot, &eth) != 3)
    return std::nullopt;
  return "v" + std::to_string(slot);
}

// ACPI-enumerated platform devices (ARM64): "a<vendor><model>i<instance>" from
// /devices/platform/<VVV[V]><model:hex>:<instance:hex>/net/eth<n>.
std::optional<std::string> PlatformName(const Device& device) {
  std::optional<Device> parent = device.Parent();
  if (!parent || parent->subsystem() != "platform") return std::nullopt;
  constexpr std::string_view kPrefix = "/devices/platform/";
  const std::string& devpath = device.devpath();
  // Room for a 4-letter vendor, a 4-digit model and more.
  if (devpath.size() < kPrefix.size() + 8 + 1) return std::nullopt;
  const bool acpi_id = devpath[kPrefix.size() + 8] == ':';  // 4-char ACPI id, else 3-char PNP
  char vendor[5] = {};
  unsigned model = 0, instance = 0, eth = 0;
  int matched = acpi_id ? sscanf(devpath.c_str(), "/devices/platform/%4s%4x:%2x/net/eth%u", vendor,
                                 &model, &instance, &eth)
                        : sscanf(devpath.c_str(), "/devices/platform/%3s%4x:%2x/net/eth%u", vendor,
                                 &model, &instance, &eth);
  if (matched != 4) return std::nullopt;
  for (char& c : vendor) {
    if (c == '\0') break;
    const bool valid = isupper(static_cast<unsigned char>(c)) || (acpi_id && isdigit(c));
    if (!valid) return std::nullopt;
    c = static_cast<char>(tolower(c));
  }
  return Format("a%s%xi%u", vendor, model, instance);
}

// netdevsim: "i<id>n<port>" from the netdevsim<id> device and the port name.
std::optional<std::string> NetdevsimName(const Device& device, const LinkInfo& info,
                                         const NamingScheme& scheme) {
  if (!scheme.Has(kNamingNetdevsim) || info.phys_port_name.empty()) return std::nullopt;
  auto netdevsim = AncestorWith(device, "netdevsim");
  if (!netdevsim) return std::nullopt;
  unsigned id = 0;
  if (sscanf(netdevsim->sysname().c_str(), "netdevsim%u", &id) != 1) return std::nullopt;
  std::string name = "i" + std::to_string(id) + "n" + info.phys_port_name;
  if (name.size() > kMaxNameLength) return std::nullopt;
  return name;
}

// Xen netfront: "X<n>" from /devices/vif-<n>/ (no leading zeros, no sign).
std::optional<std::string> XenName(const Device& device, const NamingScheme& scheme) {
  if (!scheme.Has(kNamingXenVif)) return std::nullopt;
  std::optional<Device> parent = device.Parent();
  if (!parent || parent->subsystem() != "xen") return std::nullopt;
  constexpr std::string_view kPrefix = "/devices/vif-";
  std::string_view devpath = device.devpath();
  if (!devpath.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = devpath.substr(kPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view number = rest.substr(0, slash);
  if (number.empty() || (number.size() > 1 && number[0] == '0') ||
      !std::all_of(number.begin(), number.end(), [](char c) { return isdigit(c); }))
    return std::nullopt;
  auto id = ParseUnsigned(number, 10);
  if (!id || *id > UINT32_MAX) return std::nullopt;
  return "X" + std::to_string(*id);
}

// A devicetree value: a NUL-terminated path.
std::string DevicetreeString(std::string value) {
  value.resize(strnlen(value.c_str(), value.size()));
  return value;
}

// Paths equal up to repeated and trailing slashes.
std::string NormalizePath(std::string_view path) {
  std::string normal;
  for (char c : path)
    if (c != '/' || normal.empty() || normal.back() != '/') normal += c;
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

// "d<n>" when the devicetree's aliases name the parent's of_node "ethernet<n>".
std::optional<std::string> DevicetreeOnboard(const Device& device, int sysfs_fd,
                                             const NamingScheme& scheme) {
  if (!scheme.Has(kNamingDevicetreeAliases) || sysfs_fd < 0) return std::nullopt;
  std::optional<Device> parent = device.Parent();
  if (!parent) return std::nullopt;
  auto of_node = ReadLinkTarget(sysfs_fd, parent->devpath(), "of_node");
  constexpr std::string_view kBase = "/firmware/devicetree/base";
  if (!of_node || !of_node->starts_with(std::string(kBase) + "/")) return std::nullopt;
  const std::string node = NormalizePath(of_node->substr(kBase.size()));
  const std::string aliases = std::string(kBase.substr(1)) + "/aliases";
  auto alias_exists = [&](const std::string& name) {
    return faccessat(sysfs_fd, (aliases + "/" + name).c_str(), F_OK, 0) == 0;
  };
  for (const std::string& alias : ListDirectory(sysfs_fd, aliases)) {
    if (!alias.starts_with("ethernet")) continue;
    auto value = ReadFileAt(sysfs_fd, aliases + "/" + alias);
    if (!value || NormalizePath(DevicetreeString(*value)) != node) continue;
    std::string_view suffix = std::string_view(alias).substr(8);
    unsigned long index = 0;
    if (!suffix.empty()) {
      auto parsed = ParseUnsigned(suffix, 0);
      if (!parsed || *parsed > UINT32_MAX) return std::nullopt;  // "ethernet-phy0": no name
      index = *parsed;
    }
    // "ethernet" and "ethernet0" both: which one is 0 is ambiguous.
    if (index == 0 && alias_exists(suffix.empty() ? "ethernet0" : "ethernet")) return std::nullopt;
    return "d" + std::to_string(index);
  }
  return std::nullopt;
}

Result<LinkInfo> ReadLinkInfo(const Device& device) {
  LinkInfo info;
  auto ifindex = device.properties().ifindex();
  if (!ifindex) return Fail(ENOENT, "net_id: " + device.devpath() + " has no IFINDEX");
  info.ifindex = *ifindex;
  for (auto [name, field] : {std::pair{"iflink", &info.iflink}, std::pair{"type", &info.iftype}}) {
    auto attribute = device.Attribute(name);
    if (!attribute) return Fail(ENOENT, "net_id: " + device.devpath() + " has no " + name);
    auto value = ParseInt(*attribute);
    if (!value) return Fail(EINVAL, "net_id: " + device.devpath() + ": bad " + name);
    *field = *value;
  }
  info.devtype = std::string(device.devtype());
  info.phys_port_name = device.Attribute("phys_port_name").value_or("");
  if (auto address = device.Attribute("address")) info.hw_addr = ParseHwAddress(*address);
  return info;
}

// The MAC address names the interface only when it is 6 bytes and the hardware's own
// (addr_assign_type 0, NET_ADDR_PERM), not random or set by software.
bool HasPermanentMac(const Device& device, const LinkInfo& info) {
  if (info.iftype == kArphrdInfiniband || info.hw_addr.size() != 6) return false;
  auto assign_type = device.Attribute("addr_assign_type");
  return assign_type && ParseUnsigned(*assign_type, 0) == 0u;
}

}  // namespace

Result<NetIdNames> NetIdProperties(const Device& device, int sysfs_fd, const NamingScheme& scheme) {
  auto info = ReadLinkInfo(device);
  if (!info) return tl::unexpected(info.error());
  NetIdNames result;
  if (info->ifindex != info->iflink) return result;  // stacked: VLAN, macvlan, ...
  std::string prefix;
  switch (info->iftype) {
    case kArphrdEther:
      prefix = "en";
      break;
    case kArphrdInfiniband:
      if (!scheme.Has(kNamingInfiniband)) return result;
      prefix = "ib";
      break;
    case kArphrdSlip:
      prefix = "sl";
      break;
    default:
      return result;
  }
  if (info->devtype == "wlan") prefix = "wl";
  if (info->devtype == "wwan") prefix = "ww";

  auto& properties = result.properties;
  auto add = [&](const char* key, const std::string& name) {
    if (name.size() <= kMaxNameLength) properties.emplace_back(key, name);
  };
  properties.emplace_back("ID_NET_NAMING_SCHEME", std::string(scheme.name));

  if (HasPermanentMac(device, *info)) {
    std::string hex, oui = "OUI:";
    for (uint8_t byte : info->hw_addr) {
      hex += Format("%02x", byte);
      oui += Format("%02X", byte);
    }
    add("ID_NET_NAME_MAC", prefix + "x" + hex);
    // 00:00:00 (Xerox) is the prefix that is commonly misused.
    if (info->hw_addr[0] != 0 || info->hw_addr[1] != 0 || info->hw_addr[2] != 0)
      result.oui_key = oui;
  }

  if (prefix == "en") {
    if (auto onboard = DevicetreeOnboard(device, sysfs_fd, scheme))
      add("ID_NET_NAME_ONBOARD", prefix + *onboard);
  }

  // Buses whose names stand alone.
  if (auto name = CcwName(device)) {
    add("ID_NET_NAME_PATH", prefix + *name);
    return result;
  }
  if (auto name = VioName(device)) {
    add("ID_NET_NAME_SLOT", prefix + *name);
    return result;
  }
  if (auto name = PlatformName(device)) {
    add("ID_NET_NAME_PATH", prefix + *name);
    return result;
  }
  if (auto name = NetdevsimName(device, *info, scheme)) {
    add("ID_NET_NAME_PATH", prefix + *name);
    return result;
  }
  if (auto name = XenName(device, scheme)) {
    add("ID_NET_NAME_SLOT", prefix + *name);
    return result;
  }

  // Everything else is named from the PCI device it is on.
  bool direct = false;
  auto pci = NamesPci(device, *info, sysfs_fd, scheme, direct);
  if (!pci) return result;
  if (direct) {
    if (!pci->onboard.empty()) add("ID_NET_NAME_ONBOARD", prefix + pci->onboard);
    if (pci->label)
      add("ID_NET_LABEL_ONBOARD", (scheme.Has(kNamingLabelNoPrefix) ? "" : prefix) + *pci->label);
    if (!pci->path.empty()) add("ID_NET_NAME_PATH", prefix + pci->path);
    if (!pci->slot.empty()) add("ID_NET_NAME_SLOT", prefix + pci->slot);
    return result;
  }
  std::optional<std::string> tail = UsbPorts(device);
  if (!tail) tail = BcmaCore(device);
  if (!tail) return result;
  if (!pci->path.empty()) add("ID_NET_NAME_PATH", prefix + pci->path + *tail);
  if (!pci->slot.empty()) add("ID_NET_NAME_SLOT", prefix + pci->slot + *tail);
  return result;
}

Status RunNetIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  auto names = NetIdProperties(state.device, state.device.sysfs_fd(), ActiveNamingScheme());
  if (!names) return tl::unexpected(names.error());
  for (const auto& [key, value] : names->properties) state.properties.Set(key, value);
  if (names->oui_key) {
    BuiltinCall lookup{state, {*names->oui_key}};
    if (auto status = RunHwdbBuiltin(lookup); !status)
      LogDebug("%s: net_id: %s, ignoring", state.device.devpath().c_str(),
               status.error().Message().c_str());
  }
  return Ok();
}

}  // namespace vdev
