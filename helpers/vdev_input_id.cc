// vdev-input-id: prints what the input_id builtin adds for an input device (ID_INPUT,
// ID_INPUT_KEYBOARD, ID_INPUT_MOUSE, ...) as KEY=VALUE lines, for `import = vdev-input-id
// ...`, scripts and debugging.
#include "builtin_input_id.h"
#include "device_helper.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-input-id [--sysfs-root DIR] [--dev-root DIR] DEVICE\n"
    "\n"
    "Prints udev's input device classification as KEY=VALUE lines: ID_INPUT and ID_INPUT_KEY,\n"
    "_KEYBOARD, _MOUSE, _TOUCHPAD, _TOUCHSCREEN, _TABLET, _TABLET_PAD, _JOYSTICK,\n"
    "_ACCELEROMETER, _POINTINGSTICK, _SWITCH from the capabilities in sysfs, and for an\n"
    "eventN device ID_INPUT_WIDTH_MM/_HEIGHT_MM from its node below the dev root. DEVICE is a\n"
    "devpath, a path below the sysfs root, a node or a device id. The roots default to\n"
    "VDEV_SYSFS_ROOT and VDEV_DEV_ROOT, else /sys and /dev.\n";

}  // namespace

int main(int argc, char** argv) {
  return vdev::RunDeviceHelper(
      argc, argv, "vdev-input-id", kUsage,
      [](const vdev::Device& device,
         const vdev::Roots& roots) -> vdev::Result<std::vector<vdev::Property>> {
        return vdev::InputIdProperties(device, roots.dev());
      });
}
