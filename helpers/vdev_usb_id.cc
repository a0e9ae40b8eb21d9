// vdev-usb-id: prints what the usb_id builtin adds for a device (ID_VENDOR, ID_MODEL,
// ID_SERIAL, ID_USB_*, ...) as KEY=VALUE lines, for `import = vdev-usb-id ...`, scripts and
// debugging.
#include <cstdlib>

#include "builtin_usb_id.h"
#include "device_helper.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-usb-id [--sysfs-root DIR] [--dev-root DIR] DEVICE\n"
    "\n"
    "Prints udev's USB identity of a device (on USB, or a USB device itself) as KEY=VALUE\n"
    "lines: ID_BUS=usb, ID_VENDOR, ID_VENDOR_ENC, ID_VENDOR_ID, ID_MODEL, ID_MODEL_ENC,\n"
    "ID_MODEL_ID, ID_REVISION, ID_SERIAL, ID_SERIAL_SHORT, ID_TYPE, ID_INSTANCE, the same as\n"
    "ID_USB_*, and ID_USB_INTERFACES, ID_USB_INTERFACE_NUM, ID_USB_DRIVER. As the builtin, it\n"
    "gives only the ID_USB_* ones when ID_BUS is set (in the environment, as when a rule runs\n"
    "it for an event that has it). DEVICE is a devpath, a path below the sysfs root, a node or\n"
    "a device id. The roots default to VDEV_SYSFS_ROOT and VDEV_DEV_ROOT, else /sys and /dev.\n";

}  // namespace

int main(int argc, char** argv) {
  const char* id_bus = getenv("ID_BUS");
  bool id_bus_set = id_bus != nullptr && *id_bus != '\0';
  return vdev::RunDeviceHelper(argc, argv, "vdev-usb-id", kUsage,
                               [&](const vdev::Device& device, const vdev::Roots&) {
                                 return vdev::UsbIdProperties(device, id_bus_set);
                               });
}
