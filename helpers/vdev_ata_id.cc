// vdev-ata-id: prints what the ata_id builtin adds for a disk or CD/DVD drive on ATA (ID_ATA,
// ID_BUS=ata, ID_MODEL, ID_SERIAL, ID_WWN, ID_ATA_*, ...) as KEY=VALUE lines, for
// `import = vdev-ata-id ...`, scripts and debugging; udev's `ata_id --export DEVNODE`.
#include "builtin_ata_id.h"
#include "device_helper.h"
#include "scsi_sg_io.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-ata-id [--sysfs-root DIR] [--dev-root DIR] DEVICE\n"
    "\n"
    "Prints udev's ATA identity of a drive as KEY=VALUE lines: ID_ATA, ID_TYPE, ID_BUS=ata,\n"
    "ID_MODEL, ID_MODEL_ENC, ID_REVISION, ID_SERIAL, ID_SERIAL_SHORT, ID_WWN,\n"
    "ID_WWN_WITH_EXTENSION, ID_ATA_FEATURE_SET_*, ID_ATA_SATA*, ID_ATA_ROTATION_RATE_RPM ...\n"
    "It sends IDENTIFY (PACKET) DEVICE through SG_IO to the device's node, read-only. DEVICE\n"
    "is a devpath, a path below the sysfs root, a node or a device id. The roots default to\n"
    "VDEV_SYSFS_ROOT and VDEV_DEV_ROOT, else /sys and /dev. Exit status 1 when the device is\n"
    "not an ATA drive or does not answer.\n";

}  // namespace

int main(int argc, char** argv) {
  return vdev::RunDeviceHelper(
      argc, argv, "vdev-ata-id", kUsage,
      [](const vdev::Device& device,
         const vdev::Roots& roots) -> vdev::Result<std::vector<vdev::Property>> {
        auto fd = vdev::OpenIdentityNode(roots.dev(), device);
        if (!fd) return tl::unexpected(fd.error());
        return vdev::AtaIdProperties(fd->get());
      });
}
