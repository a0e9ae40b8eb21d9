// vdev-scsi-id: prints what the scsi_id builtin adds for a SCSI device (ID_SCSI, ID_VENDOR,
// ID_MODEL, ID_SERIAL, ID_WWN, ID_SCSI_SERIAL, ...) as KEY=VALUE lines, for
// `import = vdev-scsi-id ...`, scripts and debugging; udev's
// `scsi_id --export --whitelisted -d DEVNODE`.
#include "builtin_scsi_id.h"
#include "device_helper.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-scsi-id [--sysfs-root DIR] [--dev-root DIR] DEVICE\n"
    "\n"
    "Prints udev's SCSI identity of a device as KEY=VALUE lines: ID_SCSI, ID_VENDOR,\n"
    "ID_VENDOR_ENC, ID_MODEL, ID_MODEL_ENC, ID_REVISION, ID_TYPE, ID_SERIAL, ID_SERIAL_SHORT,\n"
    "ID_WWN, ID_WWN_VENDOR_EXTENSION, ID_WWN_WITH_EXTENSION, ID_TARGET_PORT, ID_SCSI_SERIAL.\n"
    "It reads the INQUIRY data and VPD pages 0x80/0x83 the kernel shows in sysfs, and asks the\n"
    "device's node (SG_IO, read-only) only for what sysfs lacks. DEVICE is a devpath, a path\n"
    "below the sysfs root, a node or a device id. The roots default to VDEV_SYSFS_ROOT and\n"
    "VDEV_DEV_ROOT, else /sys and /dev.\n";

}  // namespace

int main(int argc, char** argv) {
  return vdev::RunDeviceHelper(argc, argv, "vdev-scsi-id", kUsage,
                               [](const vdev::Device& device, const vdev::Roots& roots) {
                                 return vdev::ScsiIdProperties(device, roots.dev());
                               });
}
