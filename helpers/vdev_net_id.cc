// vdev-net-id: prints what the net_id builtin adds for a network interface
// (ID_NET_NAMING_SCHEME, ID_NET_NAME_MAC, _ONBOARD, _PATH, _SLOT, ID_NET_LABEL_ONBOARD) as
// KEY=VALUE lines, for `import = vdev-net-id ...`, scripts and debugging.
#include "builtin_net_id.h"
#include "device_helper.h"
#include "net_naming_scheme.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-net-id [--sysfs-root DIR] [--dev-root DIR] DEVICE\n"
    "\n"
    "Prints the predictable names systemd 252's net_id gives a network interface as\n"
    "KEY=VALUE lines: ID_NET_NAMING_SCHEME, ID_NET_NAME_MAC, ID_NET_NAME_ONBOARD,\n"
    "ID_NET_LABEL_ONBOARD, ID_NET_NAME_PATH, ID_NET_NAME_SLOT. The naming scheme is\n"
    "NET_NAMING_SCHEME from the environment (v238 ... v252, latest), else v252. DEVICE is a\n"
    "devpath, a syspath (/sys/class/net/eth0) or a device id (n2). The roots\n"
    "default to VDEV_SYSFS_ROOT and VDEV_DEV_ROOT, else /sys and /dev. Nothing is renamed.\n";

}  // namespace

int main(int argc, char** argv) {
  return vdev::RunDeviceHelper(
      argc, argv, "vdev-net-id", kUsage,
      [](const vdev::Device& device,
         const vdev::Roots& roots) -> vdev::Result<std::vector<vdev::Property>> {
        auto names = vdev::NetIdProperties(device, roots.sysfs(), vdev::ActiveNamingScheme());
        if (!names) return tl::unexpected(names.error());
        return std::move(names->properties);
      });
}
