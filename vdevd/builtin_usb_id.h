// The usb_id builtin: `builtin = usb_id` (udev's IMPORT{builtin}="usb_id"), the identity of the
// USB device a device belongs to: ID_VENDOR, ID_MODEL, ID_SERIAL, ID_USB_INTERFACES, ...
#pragma once

#include <string_view>
#include <vector>

#include "builtin.h"
#include "common/device.h"
#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// What udev 252's usb_id gives the device, in its order. For a usb_device the device itself;
// otherwise the USB interface above it and that interface's usb_device; for a mass-storage
// interface speaking SCSI or ATAPI, vendor, model, revision and type come from the SCSI
// device above (ID_INSTANCE its target:lun). With id_bus_set (the event already has ID_BUS,
// from ata_id or scsi_id) only the ID_USB_* copies are given, as udev does:
//   ID_BUS=usb, ID_MODEL, ID_MODEL_ENC, ID_MODEL_ID, ID_SERIAL, ID_SERIAL_SHORT, ID_VENDOR,
//   ID_VENDOR_ENC, ID_VENDOR_ID, ID_REVISION, ID_TYPE, ID_INSTANCE,
//   ID_USB_MODEL, ... ID_USB_INSTANCE (the same values),
//   ID_USB_INTERFACES (":ccsspp:" per distinct interface class/subclass/protocol),
//   ID_USB_INTERFACE_NUM, ID_USB_DRIVER (of the interface).
// ENODEV for a device that is not on USB (no usb_interface above it); ENOENT when an
// attribute udev requires (bInterfaceClass, idVendor, idProduct) is missing.
[[nodiscard]] Result<std::vector<Property>> UsbIdProperties(const Device& device, bool id_bus_set);

// Sets the properties of UsbIdProperties on the event (id_bus_set: whether it has ID_BUS).
// A device that is not on USB gets none, and no error.
Status RunUsbIdBuiltin(BuiltinCall& call);

// ID_USB_INTERFACES from the content of a usb_device's "descriptors" attribute (the device
// descriptor and the raw configuration descriptors): ":030101:030102:", "" for none.
std::string PackedUsbInterfaces(std::string_view descriptors);

}  // namespace vdev
