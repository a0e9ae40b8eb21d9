// The usb_id builtin, after udev 252's udev-builtin-usb_id.c: the vendor, model, revision and
// serial of the USB device above a device, cleaned the way udev cleans them (whitespace runs
// as '_', unsafe bytes as '_', the *_ENC forms \x-escaped), so by-id names match udev's.
#include "builtin_usb_id.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>

#include "common/log.h"
#include "udev_string.h"

namespace vdev {
namespace {

// udev's buffer sizes, which bound the values: 64-byte vendor/model/revision strings, a
// 256-byte *_ENC and ID_SERIAL, UDEV_NAME_SIZE (512) for the serial and the interface list.
constexpr size_t kShortLength = 63;
constexpr size_t kEncodedLength = 255;
constexpr size_t kSerialLength = 255;
constexpr size_t kNameSize = 512;

constexpr uint8_t kInterfaceDescriptor = 0x04;  // USB_DT_INTERFACE
constexpr size_t kInterfaceDescriptorSize = 9;
constexpr size_t kDeviceDescriptorSize = 18;

// The nearest ancestor (not the device itself) of this subsystem and devtype.
std::optional<Device> AncestorOf(const Device& child, std::string_view subsystem,
                                 std::string_view devtype) {
  for (std::optional<Device> parent = child.Parent(); parent; parent = parent->Parent()) {
    if (parent->subsystem() == subsystem && parent->devtype() == devtype) return parent;
  }
  return std::nullopt;
}

// systemd's safe_atoi/safe_atou: leading whitespace, then a whole decimal number.
template <class T>
std::optional<T> ParseDecimal(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\n\r");
  if (start == std::string_view::npos) return std::nullopt;
  text.remove_prefix(start);
  if (std::is_unsigned_v<T> && text.starts_with('+')) text.remove_prefix(1);
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || end == text.data())
    return std::nullopt;
  return value;
}

std::optional<unsigned> ParseHex(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\n\r");
  if (start == std::string_view::npos) return std::nullopt;
  text.remove_prefix(start);
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (error != std::errc() || end != text.data() + text.size() || end == text.data())
    return std::nullopt;
  return value;
}

// ID_TYPE from bInterfaceClass (classes udev has no name for are "generic").
std::string InterfaceType(unsigned interface_class) {
  switch (interface_class) {
    case 0x01:
      return "audio";
    case 0x03:
      return "hid";
    case 0x06:
      return "media";
    case 0x07:
      return "printer";
    case 0x08:
      return "storage";
    case 0x09:
      return "hub";
    case 0x0e:
      return "video";
    default:
      return "generic";
  }
}

// ID_TYPE of a mass-storage interface from bInterfaceSubClass, and the subclass number
// (udev's "protocol": 2 ATAPI and 6 SCSI take their names from the SCSI device).
int MassStorageSubclass(std::string_view subclass, std::string* type) {
  int number = ParseDecimal<int>(subclass).value_or(0);
  switch (number) {
    case 1:
      *type = "rbc";
      break;
    case 2:
      *type = "atapi";
      break;
    case 3:
      *type = "tape";
      break;
    case 4:
      *type = "floppy";
      break;
    case 6:
      *type = "scsi";
      break;
    default:
      *type = "generic";
      break;
  }
  return number;
}

// ID_TYPE from a SCSI device's peripheral type.
std::string ScsiType(std::string_view type) {
  switch (ParseDecimal<unsigned>(type).value_or(~0u)) {
    case 0x00:
    case 0x0e:
      return "disk";
    case 0x01:
      return "tape";
    case 0x04:
    case 0x07:
    case 0x0f:
      return "optical";
    case 0x05:
      return "cd";
    default:
      return "generic";
  }
}

// A hardware string as ID_VENDOR, ID_MODEL, ID_REVISION and ID_SERIAL_SHORT carry it.
std::string Cleaned(std::string_view raw, size_t max_length) {
  return ReplaceUnsafeChars(ReplaceWhitespace(raw, max_length));
}

// The USB serial is used only if it is printable ASCII without ',': Windows refuses others
// (Microsoft's USB serial number rules), and so does udev.
bool IsUsableSerial(std::string_view serial) {
  for (unsigned char c : serial.substr(0, serial.find('\0'))) {
    if (c < 0x20 || c > 0x7f || c == ',') return false;
  }
  return true;
}

struct UsbIdentity {
  std::string vendor, vendor_enc, model, model_enc, revision, type, instance, serial_short;
};

// Vendor, model, type, revision and target:lun of the SCSI device above a USB mass-storage
// device. Stops at the first missing piece, keeping what it found, as udev does.
void ReadScsiIdentity(const Device& device, UsbIdentity* id) {
  std::optional<Device> scsi = AncestorOf(device, "scsi", "scsi_device");
  if (!scsi) return;
  int host = 0, bus = 0, target = 0, lun = 0;
  std::string name = scsi->sysname();
  if (sscanf(name.c_str(), "%d:%d:%d:%d", &host, &bus, &target, &lun) != 4) return;
  auto vendor = scsi->Attribute("vendor");
  if (!vendor) return;
  id->vendor_enc = EncodeDevnodeName(*vendor, kEncodedLength);
  id->vendor = Cleaned(*vendor, kShortLength);
  auto model = scsi->Attribute("model");
  if (!model) return;
  id->model_enc = EncodeDevnodeName(*model, kEncodedLength);
  id->model = Cleaned(*model, kShortLength);
  auto type = scsi->Attribute("type");
  if (!type) return;
  id->type = ScsiType(*type);
  auto revision = scsi->Attribute("rev");
  if (!revision) return;
  id->revision = Cleaned(*revision, kShortLength);
  // Some devices report the same identity for every LUN: the instance tells them apart.
  id->instance = std::to_string(target) + ":" + std::to_string(lun);
}

}  // namespace

std::string PackedUsbInterfaces(std::string_view descriptors) {
  size_t size = descriptors.size();
  if (size < kDeviceDescriptorSize) return {};
  auto byte = [&](size_t at) { return static_cast<uint8_t>(descriptors[at]); };
  std::string packed;
  size_t pos = 0;
  while (pos + kInterfaceDescriptorSize < size && packed.size() + 7 < kNameSize - 2) {
    size_t length = byte(pos);
    if (length < 3) break;
    // udev gives up on a descriptor longer than the data, keeping the list so far unclosed.
    if (length > size - kInterfaceDescriptorSize) return packed;
    size_t at = pos;
    pos += length;
    if (byte(at + 1) != kInterfaceDescriptor) continue;
    char entry[8];
    snprintf(entry, sizeof(entry), ":%02x%02x%02x", byte(at + 5), byte(at + 6), byte(at + 7));
    if (packed.find(entry) != std::string::npos) continue;
    packed += entry;
  }
  if (!packed.empty()) packed += ':';
  return packed;
}

Result<std::vector<Property>> UsbIdProperties(const Device& device, bool id_bus_set) {
  UsbIdentity id;
  std::optional<std::string> interface_number, driver;
  std::optional<Device> usb_device;
  std::string interfaces;

  if (device.devtype() == "usb_device") {
    usb_device = device;
  } else {
    std::optional<Device> interface = AncestorOf(device, "usb", "usb_interface");
    if (!interface) return Fail(ENODEV, "usb_id: " + device.devpath() + " is not on USB");
    interface_number = interface->Attribute("bInterfaceNumber");
    if (!interface->driver().empty()) driver = interface->driver();
    auto class_text = interface->Attribute("bInterfaceClass");
    if (!class_text)
      return Fail(ENOENT, "usb_id: " + interface->devpath() + ": no bInterfaceClass");
    std::optional<unsigned> interface_class = ParseHex(*class_text);
    if (!interface_class)
      return Fail(EINVAL, "usb_id: invalid bInterfaceClass '" + *class_text + "'");
    int protocol = 0;
    if (*interface_class == 0x08) {
      if (auto subclass = interface->Attribute("bInterfaceSubClass"))
        protocol = MassStorageSubclass(*subclass, &id.type);
    } else {
      id.type = InterfaceType(*interface_class);
    }
    usb_device = AncestorOf(*interface, "usb", "usb_device");
    if (!usb_device) return Fail(ENODEV, "usb_id: no USB device above " + interface->devpath());
    // Mass storage speaking SCSI or ATAPI: the disk's own identity.
    if (protocol == 6 || protocol == 2) ReadScsiIdentity(device, &id);
  }
  if (auto descriptors = usb_device->Attribute("descriptors"))
    interfaces = PackedUsbInterfaces(*descriptors);

  auto vendor_id = usb_device->Attribute("idVendor");
  if (!vendor_id) return Fail(ENOENT, "usb_id: " + usb_device->devpath() + ": no idVendor");
  auto product_id = usb_device->Attribute("idProduct");
  if (!product_id) return Fail(ENOENT, "usb_id: " + usb_device->devpath() + ": no idProduct");
  if (id.vendor.empty()) {
    std::string vendor = usb_device->Attribute("manufacturer").value_or(*vendor_id);
    id.vendor_enc = EncodeDevnodeName(vendor, kEncodedLength);
    id.vendor = Cleaned(vendor, kShortLength);
  }
  if (id.model.empty()) {
    std::string model = usb_device->Attribute("product").value_or(*product_id);
    id.model_enc = EncodeDevnodeName(model, kEncodedLength);
    id.model = Cleaned(model, kShortLength);
  }
  if (id.revision.empty()) {
    if (auto revision = usb_device->Attribute("bcdDevice"))
      id.revision = Cleaned(*revision, kShortLength);
  }
  if (auto serial = usb_device->Attribute("serial"); serial && IsUsableSerial(*serial))
    id.serial_short = Cleaned(*serial, kNameSize - 1);

  std::string serial = id.vendor + "_" + id.model;
  if (!id.serial_short.empty()) serial += "_" + id.serial_short;
  if (!id.instance.empty()) serial += "-" + id.instance;
  serial.resize(std::min(serial.size(), kSerialLength));

  std::vector<Property> properties;
  auto add = [&](std::string_view prefix, const char* key, std::string_view value) {
    properties.emplace_back(std::string(prefix) + key, std::string(value));
  };
  // ata_id or scsi_id ran first and named the disk: its ID_* stay, the USB view is added.
  for (std::string_view prefix : {"ID_", "ID_USB_"}) {
    if (prefix == "ID_" && id_bus_set) continue;
    if (prefix == "ID_") add(prefix, "BUS", "usb");
    add(prefix, "MODEL", id.model);
    add(prefix, "MODEL_ENC", id.model_enc);
    add(prefix, "MODEL_ID", *product_id);
    add(prefix, "SERIAL", serial);
    if (!id.serial_short.empty()) add(prefix, "SERIAL_SHORT", id.serial_short);
    add(prefix, "VENDOR", id.vendor);
    add(prefix, "VENDOR_ENC", id.vendor_enc);
    add(prefix, "VENDOR_ID", *vendor_id);
    add(prefix, "REVISION", id.revision);
    if (!id.type.empty()) add(prefix, "TYPE", id.type);
    if (!id.instance.empty()) add(prefix, "INSTANCE", id.instance);
  }
  if (!interfaces.empty()) add("ID_USB_", "INTERFACES", interfaces);
  if (interface_number) add("ID_USB_", "INTERFACE_NUM", *interface_number);
  if (driver) add("ID_USB_", "DRIVER", *driver);
  return properties;
}

Status RunUsbIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  auto properties = UsbIdProperties(state.device, state.properties.Has("ID_BUS"));
  if (!properties) {
    if (properties.error().code != ENODEV) return tl::unexpected(properties.error());
    LogDebug("%s: %s", state.device.devpath().c_str(), properties.error().context.c_str());
    return Ok();
  }
  for (const auto& [key, value] : *properties) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
