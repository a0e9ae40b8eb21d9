// vdev-path-id: prints what the path_id builtin adds for a device (ID_PATH, ID_PATH_TAG,
// ID_PATH_ATA_COMPAT) as KEY=VALUE lines, for `import = vdev-path-id ...`, scripts, debugging.
#include "builtin_path_id.h"
#include "device_helper.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-path-id [--sysfs-root DIR] [--dev-root DIR] DEVICE\n"
    "\n"
    "Prints udev's ID_PATH, ID_PATH_TAG and ID_PATH_ATA_COMPAT of a device as KEY=VALUE lines\n"
    "(nothing for a device without a persistent path). DEVICE is a devpath (/devices/...), a\n"
    "path below the sysfs root (/sys/class/block/sda), a node (/dev/sda) or a device id\n"
    "(b8:0). The roots default to VDEV_SYSFS_ROOT and VDEV_DEV_ROOT, else /sys and /dev.\n";

}  // namespace

int main(int argc, char** argv) {
  return vdev::RunDeviceHelper(argc, argv, "vdev-path-id", kUsage,
                               [](const vdev::Device& device, const vdev::Roots&) {
                                 return vdev::PathIdProperties(device);
                               });
}
