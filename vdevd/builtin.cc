#include "builtin.h"

// One header per builtin, one line per builtin in the table below.
#include "builtin_ata_id.h"
#include "builtin_blkid.h"
#include "builtin_cdrom_id.h"
#include "builtin_dm.h"
#include "builtin_hwdb.h"
#include "builtin_kmod.h"
#include "builtin_input_id.h"
#include "builtin_net_id.h"
#include "builtin_path_id.h"
#include "builtin_scsi_id.h"
#include "builtin_usb_id.h"
#include "builtin_v4l_id.h"

namespace vdev {

const std::vector<Builtin>& AllBuiltins() {
  static const std::vector<Builtin> kBuiltins = {
      {"ata_id", RunAtaIdBuiltin, "ATA drive identity (IDENTIFY over SG_IO)"},
      {"blkid", RunBlkidBuiltin, "Filesystem and partition probing"},
      {"cdrom_id", RunCdromIdBuiltin, "Optical drive capabilities and medium"},
      {"dm", RunDmBuiltin, "Device-mapper names, LVM split and udev flags"},
      {"hwdb", RunHwdbBuiltin, "Hardware database"},
      {"kmod", RunKmodBuiltin, "Kernel module loading (kmod load MODALIAS)"},
      {"input_id", RunInputIdBuiltin, "Input device properties"},
      {"net_id", RunNetIdBuiltin, "Network device properties"},
      {"path_id", RunPathIdBuiltin, "Compose persistent device path"},
      {"scsi_id", RunScsiIdBuiltin, "SCSI device identity (INQUIRY, VPD pages 0x80/0x83)"},
      {"usb_id", RunUsbIdBuiltin, "USB device properties"},
      {"v4l_id", RunV4lIdBuiltin, "Video4Linux device properties"},
  };
  return kBuiltins;
}

const Builtin* FindBuiltin(std::string_view name) {
  for (const auto& builtin : AllBuiltins())
    if (builtin.name == name) return &builtin;
  return nullptr;
}

}  // namespace vdev
