// The path_id builtin: walks from the device up through its parents and prepends one
// component for each bus it knows, with the rules of udev 252's udev-builtin-path_id.c, so
// the names are the ones fstabs, crypttabs and scripts already use.
//
// udev finds a few helper devices by class name (ata_port, sas_device, fc_transport,
// iscsi_session, nvme). The kernel puts each of them inside the device it belongs to
// (ata1/ata_port/ata1), so they are read here as attributes of that device.
#include "builtin_path_id.h"

#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "common/fs_util.h"
#include "common/log.h"

namespace vdev {
namespace {

// A scsi_device's name "host:channel:target:lun".
struct ScsiAddress {
  unsigned host = 0, bus = 0, target = 0, lun = 0;
};

// Parses leading decimal digits of text into *value; returns the rest, nullopt without digits.
std::optional<std::string_view> ParseNumber(std::string_view text, unsigned* value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  return text.substr(end - text.data());
}

// Like udev's sscanf("%u:%u:%u:%u"): what follows the fourth number is ignored.
std::optional<ScsiAddress> ParseScsiAddress(std::string_view name) {
  ScsiAddress address;
  unsigned* fields[] = {&address.host, &address.bus, &address.target, &address.lun};
  for (size_t i = 0; i < 4; ++i) {
    if (i > 0) {
      if (name.empty() || name[0] != ':') return std::nullopt;
      name.remove_prefix(1);
    }
    auto rest = ParseNumber(name, fields[i]);
    if (!rest) return std::nullopt;
    name = *rest;
  }
  return address;
}

std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  if (n < 0) return {};
  if (static_cast<size_t>(n) < sizeof(buffer)) return std::string(buffer, n);
  std::string long_text(n, '\0');
  va_start(args, format);
  vsnprintf(long_text.data(), n + 1, format, args);
  va_end(args);
  return long_text;
}

// The nearest ancestor (not the device itself) of this subsystem and, if given, devtype.
std::optional<Device> AncestorOf(const Device& child, std::string_view subsystem,
                                 std::string_view devtype = {}) {
  for (std::optional<Device> parent = child.Parent(); parent; parent = parent->Parent()) {
    if (parent->subsystem() == subsystem && (devtype.empty() || parent->devtype() == devtype))
      return parent;
  }
  return std::nullopt;
}

// udev's skip_subsystem: the topmost device of the unbroken run of this subsystem that starts
// at device (device itself when it is of another subsystem). The walk goes on above it.
Device SkipSubsystem(const Device& device, std::string_view subsystem) {
  Device last = device;
  for (std::optional<Device> current = device; current && current->subsystem() == subsystem;
       current = current->Parent()) {
    last = *current;
  }
  return last;
}

// "lun-N" for the SCSI device's LUN (its name's trailing number); Linux LUNs are 32 bit, the
// larger ones written in the two-level form udev uses (drivers/scsi/scsi_scan.c).
std::string LunComponent(const Device& scsi_device) {
  std::string sysnum = scsi_device.sysnum();
  unsigned long lun = 0;
  auto [end, error] = std::from_chars(sysnum.data(), sysnum.data() + sysnum.size(), lun);
  if (sysnum.empty() || error != std::errc() || end != sysnum.data() + sysnum.size()) return {};
  if (lun < 256) return Format("lun-%lu", lun);
  return Format("lun-0x%04lx%04lx00000000", lun & 0xffff, (lun >> 16) & 0xffff);
}

// The sysfs directories of the helper devices udev looks up by class: a class device lives
// in a directory named after its class inside its parent ("end_device-1:0/sas_device/
// end_device-1:0"). Returns the attribute of the class device named name in owner.
std::optional<std::string> ClassAttribute(const Device& owner, std::string_view class_name,
                                          std::string_view name, std::string_view attribute) {
  return owner.Attribute(std::string(class_name) + "/" + std::string(name) + "/" +
                         std::string(attribute));
}

// The hostN entries in the directory that holds the SCSI host: udev rebases the host number
// on the smallest of them, so the name does not depend on how many hosts other controllers
// registered first. The directory is read through the nearest device above it; numbers are
// tried from 0 up, which finds the same smallest entry a directory listing would.
std::optional<unsigned> SmallestSiblingHost(const Device& host_device, unsigned host) {
  std::optional<Device> owner = host_device.Parent();
  if (!owner) return std::nullopt;
  std::string_view base = DirName(host_device.devpath());
  std::string_view owner_path = owner->devpath();
  if (base.size() < owner_path.size()) return std::nullopt;
  std::string prefix(base.substr(owner_path.size()));
  if (!prefix.empty()) prefix = prefix.substr(1) + "/";  // "/x" below the owner -> "x/"
  // The kernel never reuses host numbers, so a long-running system can reach a few
  // thousand; past this many tries the host counts as its own base (local number 0).
  constexpr unsigned kMaxTries = 1u << 16;
  for (unsigned i = 0; i <= host && i < kMaxTries; ++i) {
    if (owner->Attribute(prefix + "host" + std::to_string(i) + "/uevent")) return i;
  }
  return host <= kMaxTries ? std::nullopt : std::optional<unsigned>(host);
}

class PathComposer {
 public:
  explicit PathComposer(const Device& device) : device_(device) {}

  Result<std::vector<Property>> Compose();

 private:
  void Prepend(const std::string& component) {
    path_ = path_.empty() ? component : component + "-" + path_;
  }
  // A component that the ATA compatibility name gets too, once it exists.
  void PrependBoth(const std::string& component) {
    Prepend(component);
    if (compat_) *compat_ = component + "-" + *compat_;
  }

  std::optional<Device> HandleScsi(const Device& parent);
  std::optional<Device> HandleScsiFibreChannel(const Device& parent);
  std::optional<Device> HandleScsiSas(const Device& parent);
  std::optional<Device> HandleScsiSasWidePort(const Device& parent);
  std::optional<Device> HandleScsiIscsi(const Device& parent);
  std::optional<Device> HandleScsiAta(const Device& parent);
  std::optional<Device> HandleScsiDefault(const Device& parent);
  std::optional<Device> HandleScsiHyperv(const Device& parent, size_t guid_length);
  std::optional<Device> HandleCciss(const Device& parent);
  void HandleScsiTape(const Device& device);
  std::optional<Device> HandleUsb(const Device& parent);
  std::optional<Device> HandleBcma(const Device& parent);
  std::optional<Device> HandleAp(const Device& parent);
  // NVMe: the namespace id; nullopt ends the walk, an error ends the builtin.
  Result<std::optional<Device>> HandleNvme(const Device& parent);

  const Device& device_;
  std::string path_;
  std::optional<std::string> compat_;  // ID_PATH_ATA_COMPAT, from a libata port up
  bool supported_transport_ = false;
  bool supported_parent_ = false;
};

std::optional<Device> PathComposer::HandleScsiFibreChannel(const Device& parent) {
  std::optional<Device> target = AncestorOf(parent, "scsi", "scsi_target");
  if (!target) return std::nullopt;
  auto port = ClassAttribute(*target, "fc_transport", target->sysname(), "port_name");
  if (!port) return std::nullopt;
  Prepend("fc-" + *port + "-" + LunComponent(parent));
  return parent;
}

std::optional<Device> PathComposer::HandleScsiSasWidePort(const Device& parent) {
  std::optional<Device> target = AncestorOf(parent, "scsi", "scsi_target");
  if (!target) return std::nullopt;
  std::optional<Device> end_device = target->Parent();
  if (!end_device) return std::nullopt;
  auto address = ClassAttribute(*end_device, "sas_device", end_device->sysname(), "sas_address");
  if (!address) return std::nullopt;
  Prepend("sas-" + *address + "-" + LunComponent(parent));
  return parent;
}

std::optional<Device> PathComposer::HandleScsiSas(const Device& parent) {
  std::optional<Device> target = AncestorOf(parent, "scsi", "scsi_target");
  if (!target) return std::nullopt;
  std::optional<Device> end_device = target->Parent();
  if (!end_device) return std::nullopt;
  std::string end_name = end_device->sysname();
  // The end device must be a sas_device; its parent is the SAS port.
  if (!end_device->Attribute("sas_device/" + end_name + "/uevent")) return std::nullopt;
  std::optional<Device> port = end_device->Parent();
  if (!port) return std::nullopt;
  auto phy_count = ClassAttribute(*port, "sas_port", port->sysname(), "num_phys");
  if (!phy_count) return std::nullopt;
  if (*phy_count != "1") return HandleScsiSasWidePort(parent);

  auto phy_id = ClassAttribute(*end_device, "sas_device", end_name, "phy_identifier");
  if (!phy_id) return std::nullopt;
  // The port hangs off the HBA or off an expander, which is a sas_device itself.
  std::optional<Device> expander = port->Parent();
  if (!expander) return std::nullopt;
  std::string expander_name = expander->sysname();
  std::optional<std::string> expander_address;
  if (expander->Attribute("sas_device/" + expander_name + "/uevent")) {
    expander_address = ClassAttribute(*expander, "sas_device", expander_name, "sas_address");
    if (!expander_address) return std::nullopt;
  }
  std::string lun = LunComponent(parent);
  if (expander_address) {
    Prepend("sas-exp" + *expander_address + "-phy" + *phy_id + "-" + lun);
  } else {
    Prepend("sas-phy" + *phy_id + "-" + lun);
  }
  return parent;
}

std::optional<Device> PathComposer::HandleScsiIscsi(const Device& parent) {
  std::optional<Device> session = parent;
  for (;;) {
    session = session->Parent();
    if (!session) return std::nullopt;
    if (session->sysname().starts_with("session")) break;
  }
  std::string session_name = session->sysname();
  auto target = ClassAttribute(*session, "iscsi_session", session_name, "targetname");
  if (!target) return std::nullopt;
  std::string sysnum = session->sysnum();
  if (sysnum.empty()) return std::nullopt;
  // The connection's class device sits in its own directory below the session.
  std::string connection = "connection" + sysnum + ":0";
  std::string connection_dir = connection + "/iscsi_connection/" + connection + "/";
  auto address = session->Attribute(connection_dir + "persistent_address");
  if (!address) return std::nullopt;
  auto port = session->Attribute(connection_dir + "persistent_port");
  if (!port) return std::nullopt;
  Prepend("ip-" + *address + ":" + *port + "-iscsi-" + *target + "-" + LunComponent(parent));
  return parent;
}

std::optional<Device> PathComposer::HandleScsiAta(const Device& parent) {
  auto address = ParseScsiAddress(parent.sysname());
  if (!address) return std::nullopt;
  std::optional<Device> host = AncestorOf(parent, "scsi", "scsi_host");
  if (!host) return std::nullopt;
  std::optional<Device> port = host->Parent();  // "ata1"
  if (!port) return std::nullopt;
  auto port_no = ClassAttribute(*port, "ata_port", port->sysname(), "port_no");
  if (!port_no) return std::nullopt;
  if (address->bus != 0) {
    // Behind a port multiplier the channel is the multiplier's port.
    Prepend(Format("ata-%s.%u.0", port_no->c_str(), address->bus));
  } else {
    // Master and slave of a PATA port differ in the target id.
    Prepend(Format("ata-%s.%u", port_no->c_str(), address->target));
  }
  // The name udev gave before port multipliers were told apart.
  compat_ = compat_ ? "ata-" + *port_no + "-" + *compat_ : "ata-" + *port_no;
  return parent;
}

std::optional<Device> PathComposer::HandleScsiDefault(const Device& parent) {
  std::optional<Device> host = AncestorOf(parent, "scsi", "scsi_host");
  if (!host) return std::nullopt;
  auto address = ParseScsiAddress(parent.sysname());
  if (!address) return std::nullopt;
  // udev itself calls this rebasing racy and unreliable; it is kept because the names it
  // gives are the ones in use.
  std::optional<unsigned> base = SmallestSiblingHost(*host, address->host);
  if (!base) return host;
  Prepend(Format("scsi-%u:%u:%u:%u", address->host - *base, address->bus, address->target,
                 address->lun));
  return host;
}

std::optional<Device> PathComposer::HandleScsiHyperv(const Device& parent, size_t guid_length) {
  std::optional<Device> host = AncestorOf(parent, "scsi", "scsi_host");
  if (!host) return std::nullopt;
  std::optional<Device> vmbus = host->Parent();
  if (!vmbus) return std::nullopt;
  auto guid_text = vmbus->Attribute("device_id");
  if (!guid_text || guid_text->size() < guid_length || (*guid_text)[0] != '{' ||
      (*guid_text)[guid_length - 1] != '}')
    return std::nullopt;
  std::string guid;
  for (size_t i = 1; i + 1 < guid_length; ++i)
    if ((*guid_text)[i] != '-') guid += (*guid_text)[i];
  Prepend("vmbus-" + guid + "-" + LunComponent(parent));
  return parent;
}

std::optional<Device> PathComposer::HandleScsi(const Device& parent) {
  if (parent.devtype() != "scsi_device") return parent;

  if (auto id = parent.Attribute("ieee1394_id")) {  // FireWire (sbp2)
    Prepend("ieee1394-0x" + *id);
    supported_parent_ = true;
    return SkipSubsystem(parent, "scsi");
  }
  // SCSI transports have no subsystem of their own in sysfs: the path names them.
  const std::string& path = parent.devpath();
  if (path.find("/rport-") != std::string::npos) {
    supported_parent_ = true;
    return HandleScsiFibreChannel(parent);
  }
  if (path.find("/end_device-") != std::string::npos) {
    supported_parent_ = true;
    return HandleScsiSas(parent);
  }
  if (path.find("/session") != std::string::npos) {
    supported_parent_ = true;
    return HandleScsiIscsi(parent);
  }
  if (path.find("/ata") != std::string::npos) return HandleScsiAta(parent);
  if (path.find("/vmbus_") != std::string::npos) return HandleScsiHyperv(parent, 37);
  if (path.find("/VMBUS") != std::string::npos) return HandleScsiHyperv(parent, 38);
  return HandleScsiDefault(parent);
}

std::optional<Device> PathComposer::HandleCciss(const Device& parent) {
  std::string_view name = parent.sysname();  // "c0d1"
  unsigned controller = 0, disk = 0;
  if (!name.starts_with("c")) return std::nullopt;
  auto rest = ParseNumber(name.substr(1), &controller);
  if (!rest || !rest->starts_with("d") || !ParseNumber(rest->substr(1), &disk)) return std::nullopt;
  Prepend(Format("cciss-disk%u", disk));
  return SkipSubsystem(parent, "cciss");
}

void PathComposer::HandleScsiTape(const Device& device) {
  if (!path_.empty()) return;  // only for the tape device itself, the first in the walk
  std::string name = device.sysname();
  // As udev: the mode letter after "st"/"nst" ("stl", "nsta"); its string test also
  // accepts the end of the name.
  auto mode_at = [&](size_t index) {
    char c = index < name.size() ? name[index] : '\0';
    return c == '\0' || c == 'l' || c == 'm' || c == 'a';
  };
  if (name.starts_with("nst") && mode_at(3)) {
    Prepend("nst" + name.substr(3, 1));
  } else if (name.starts_with("st") && mode_at(2)) {
    Prepend("st" + name.substr(2, 1));
  }
}

std::optional<Device> PathComposer::HandleUsb(const Device& parent) {
  std::string_view devtype = parent.devtype();
  if (devtype != "usb_interface" && devtype != "usb_device") return parent;
  std::string name = parent.sysname();  // "1-1.2:1.0", "1-1.2"
  size_t dash = name.find('-');
  if (dash == std::string::npos) return parent;  // a root hub, "usb1"
  // The bus number is an enumeration order that may change between boots; udev writes 0.
  Prepend("usb-0:" + name.substr(dash + 1));
  return SkipSubsystem(parent, "usb");
}

std::optional<Device> PathComposer::HandleBcma(const Device& parent) {
  std::string_view name = parent.sysname();  // "bcma0:3"
  unsigned bus = 0, core = 0;
  if (!name.starts_with("bcma")) return std::nullopt;
  auto rest = ParseNumber(name.substr(4), &bus);
  if (!rest || !rest->starts_with(":") || !ParseNumber(rest->substr(1), &core)) return std::nullopt;
  Prepend(Format("bcma-%u", core));
  return parent;
}

std::optional<Device> PathComposer::HandleAp(const Device& parent) {
  auto type = parent.Attribute("type");
  auto functions = parent.Attribute("ap_functions");
  if (type && functions) {
    Prepend("ap-" + *type + "-" + *functions);
  } else {
    Prepend("ap-" + parent.sysname());
  }
  return SkipSubsystem(parent, "ap");
}

Result<std::optional<Device>> PathComposer::HandleNvme(const Device& parent) {
  auto nsid = device_.Attribute("nsid");
  if (!nsid) return std::optional<Device>(parent);  // the controller itself: nothing to add
  PrependBoth("nvme-" + *nsid);
  supported_parent_ = true;
  supported_transport_ = true;
  if (parent.subsystem() != "nvme-subsystem")
    return std::optional<Device>(SkipSubsystem(parent, "nvme"));

  // Native NVMe multipath: the disk hangs below /devices/virtual/nvme-subsystem/nvme-subsysN;
  // udev continues from the controller its name starts with ("nvme0n1" -> "nvme0"), which
  // the subsystem directory links to. Followed through that link, the controller's parent
  // (its PCI function) is readable, the ancestors above it are not: the path ends there,
  // which is all of it where the PCI root bus sits at the top of sysfs (x86).
  std::string name = device_.sysname();
  if (!name.starts_with("nvme")) return Fail(ENXIO, "path_id: not an NVMe namespace name");
  size_t end = 4;
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  std::string controller = name.substr(0, end);
  if (!parent.Attribute(controller + "/uevent"))
    return Fail(ENODEV, "path_id: NVMe controller " + controller + " not found");
  auto function = parent.Attribute(controller + "/device/uevent");
  std::string_view text = function ? std::string_view(*function) : std::string_view();
  while (!text.empty()) {
    size_t end_of_line = text.find('\n');
    std::string_view line = text.substr(0, end_of_line);
    if (line.starts_with("PCI_SLOT_NAME=")) Prepend("pci-" + std::string(line.substr(14)));
    text =
        end_of_line == std::string_view::npos ? std::string_view() : text.substr(end_of_line + 1);
  }
  return std::optional<Device>();
}

Result<std::vector<Property>> PathComposer::Compose() {
  std::optional<Device> parent = device_;
  while (parent) {
    const std::string subsystem = parent->subsystem();
    if (subsystem.empty()) {
      // Not on a bus (ata1, host0's transport parents, pci0000:00): nothing to add.
    } else if (subsystem == "scsi_tape") {
      HandleScsiTape(*parent);
    } else if (subsystem == "scsi") {
      parent = HandleScsi(*parent);
      supported_transport_ = true;
    } else if (subsystem == "cciss") {
      parent = HandleCciss(*parent);
      supported_transport_ = true;
    } else if (subsystem == "usb") {
      parent = HandleUsb(*parent);
      supported_transport_ = true;
    } else if (subsystem == "bcma") {
      parent = HandleBcma(*parent);
      supported_transport_ = true;
    } else if (subsystem == "serio") {
      std::string sysnum = parent->sysnum();
      if (!sysnum.empty()) {
        Prepend("serio-" + sysnum);
        parent = SkipSubsystem(*parent, "serio");
      }
    } else if (subsystem == "pci") {
      PrependBoth("pci-" + parent->sysname());
      parent = SkipSubsystem(*parent, "pci");
      supported_parent_ = true;
    } else if (subsystem == "platform" || subsystem == "scm" || subsystem == "ccw" ||
               subsystem == "ccwgroup" || subsystem == "iucv") {
      PrependBoth(subsystem + "-" + parent->sysname());
      parent = SkipSubsystem(*parent, subsystem);
      supported_transport_ = true;
      supported_parent_ = true;
    } else if (subsystem == "acpi" || subsystem == "xen") {
      PrependBoth(subsystem + "-" + parent->sysname());
      parent = SkipSubsystem(*parent, subsystem);
      supported_parent_ = true;
    } else if (subsystem == "virtio") {
      // virtio-blk and virtio-scsi are named by the PCI (or platform) device below.
      parent = SkipSubsystem(*parent, "virtio");
      supported_transport_ = true;
    } else if (subsystem == "ap") {
      parent = HandleAp(*parent);
      supported_transport_ = true;
      supported_parent_ = true;
    } else if (subsystem == "nvme" || subsystem == "nvme-subsystem") {
      auto next = HandleNvme(*parent);
      if (!next) return tl::unexpected(next.error());
      parent = std::move(*next);
    } else if (subsystem == "spi") {
      std::string sysnum = parent->sysnum();
      if (!sysnum.empty()) {
        Prepend("cs-" + sysnum);
        parent = SkipSubsystem(*parent, "spi");
      }
    }
    if (!parent) break;
    parent = parent->Parent();
  }

  std::vector<Property> properties;
  // A path that does not reach a bus with stable names, or a disk whose transport is not
  // known, could name two devices alike: udev gives none.
  if (path_.empty() || !supported_parent_) return properties;
  if (device_.subsystem() == "block" && !supported_transport_) return properties;
  properties.emplace_back("ID_PATH", path_);
  properties.emplace_back("ID_PATH_TAG", PathIdTag(path_));
  if (compat_) properties.emplace_back("ID_PATH_ATA_COMPAT", *compat_);
  return properties;
}

}  // namespace

std::string PathIdTag(std::string_view path) {
  std::string tag;
  tag.reserve(path.size());
  for (char c : path) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-') {
      tag += c;
    } else if (!tag.empty() && tag.back() != '_') {
      tag += '_';
    }
  }
  while (!tag.empty() && tag.back() == '_') tag.pop_back();
  return tag;
}

Result<std::vector<Property>> PathIdProperties(const Device& device) {
  return PathComposer(device).Compose();
}

Status RunPathIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  auto properties = PathIdProperties(state.device);
  if (!properties) return tl::unexpected(properties.error());
  if (properties->empty())
    LogDebug("%s: path_id: no persistent path", state.device.devpath().c_str());
  for (const auto& [key, value] : *properties) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
