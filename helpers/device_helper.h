// The command line shared by the probe helpers that take one device (vdev-path-id,
// vdev-usb-id, vdev-input-id): roots, the device argument, KEY=VALUE output, exit codes.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/device.h"
#include "common/device_info.h"
#include "common/result.h"
#include "common/roots.h"
#include "common/uevent.h"

namespace vdev {

using DeviceProbe = std::function<Result<std::vector<Property>>(const Device&, const Roots&)>;

// Parses [--sysfs-root DIR] [--dev-root DIR] DEVICE (roots default to VDEV_SYSFS_ROOT and
// VDEV_DEV_ROOT, else /sys and /dev; DEVICE as udevadm takes it: devpath, syspath, node or
// device id), runs probe and prints its properties. Returns the exit code: 0 done (also
// with no properties), 1 the device or the probe failed, 2 usage.
inline int RunDeviceHelper(int argc, char** argv, const char* name, const char* usage,
                           const DeviceProbe& probe) {
  RootPaths paths = RootPaths::FromEnvironment();
  std::string argument;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fputs(usage, stdout);
      return 0;
    }
    if ((arg == "--sysfs-root" || arg == "--dev-root") && i + 1 < argc) {
      (arg == "--sysfs-root" ? paths.sysfs : paths.dev) = argv[++i];
    } else if (arg.starts_with("--sysfs-root=")) {
      paths.sysfs = arg.substr(13);
    } else if (arg.starts_with("--dev-root=")) {
      paths.dev = arg.substr(11);
    } else if (argument.empty() && !arg.starts_with("-")) {
      argument = arg;
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (argument.empty()) {
    fputs(usage, stderr);
    return 2;
  }
  auto roots = Roots::Open(paths, /*create_state=*/false);
  if (!roots) {
    fprintf(stderr, "%s: %s\n", name, roots.error().Message().c_str());
    return 1;
  }
  auto devpath = ResolveDeviceArgument(*roots, argument);
  if (!devpath) {
    fprintf(stderr, "%s: %s: %s\n", name, argument.c_str(), devpath.error().Message().c_str());
    return 1;
  }
  auto device = Device::Open(roots->sysfs(), *devpath);
  if (!device) {
    fprintf(stderr, "%s: %s: %s\n", name, devpath->c_str(), device.error().Message().c_str());
    return 1;
  }
  auto properties = probe(*device, *roots);
  if (!properties) {
    fprintf(stderr, "%s: %s: %s\n", name, devpath->c_str(), properties.error().Message().c_str());
    return 1;
  }
  for (const auto& [key, value] : *properties) printf("%s=%s\n", key.c_str(), value.c_str());
  return 0;
}

}  // namespace vdev
