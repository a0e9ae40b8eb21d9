#include "builtin.h"

// One header per builtin, one line per builtin in the table below.
#include "builtin_blkid.h"
#include "builtin_dm.h"
#include "builtin_hwdb.h"
#include "builtin_kmod.h"
#include "builtin_input_id.h"
#include "builtin_path_id.h"
#include "builtin_usb_id.h"

namespace vdev {

const std::vector<Builtin>& AllBuiltins() {
  static const std::vector<Builtin> kBuiltins = {
      {"blkid", RunBlkidBuiltin, "Filesystem and partition probing"},
      {"dm", RunDmBuiltin, "Device-mapper names, LVM split and udev flags"},
      {"hwdb", RunHwdbBuiltin, "Hardware database"},
      {"kmod", RunKmodBuiltin, "Kernel module loading (kmod load MODALIAS)"},
      {"input_id", RunInputIdBuiltin, "Input device properties"},
      {"path_id", RunPathIdBuiltin, "Compose persistent device path"},
      {"usb_id", RunUsbIdBuiltin, "USB device properties"},
  };
  return kBuiltins;
}

const Builtin* FindBuiltin(std::string_view name) {
  for (const auto& builtin : AllBuiltins())
    if (builtin.name == name) return &builtin;
  return nullptr;
}

}  // namespace vdev
