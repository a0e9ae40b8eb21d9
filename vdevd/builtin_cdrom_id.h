// The cdrom_id builtin: `builtin = cdrom_id [--lock-media|--unlock-media|--eject-media]`
// (udev's IMPORT{program}="cdrom_id ..."), an optical drive's capabilities and medium as
// ID_CDROM, ID_CDROM_<FEATURE>, ID_CDROM_MEDIA*, asked of the drive itself over SG_IO.
#pragma once

#include <string>
#include <vector>

#include "builtin.h"
#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

struct CdromIdOptions {
  bool lock = false;    // lock the tray when there is a medium: the eject button then sends
                        // DISK_EJECT_REQUEST instead of ejecting
  bool unlock = false;  // unlock it when there is a medium
  bool eject = false;   // unlock and eject
};

// udev's options: -l/--lock-media, -u/--unlock-media, -e/--eject-media; EINVAL for others.
[[nodiscard]] Result<CdromIdOptions> ParseCdromIdOptions(const std::vector<std::string>& args);

// Probes the drive open on fd (O_RDONLY|O_NONBLOCK: a drive without a medium opens too) as
// udev 252's cdrom_id does: CDROM_GET_CAPABILITY, CDROM_DRIVE_STATUS, INQUIRY, GET
// CONFIGURATION, READ TOC, READ DISC INFORMATION, each failure ending only its own part; then
// locks, unlocks or ejects. Every SCSI command has a timeout. Fails only when the device
// answers no CDROM_GET_CAPABILITY (it is no optical drive).
[[nodiscard]] Result<std::vector<Property>> ProbeCdrom(int fd, const CdromIdOptions& options);

// Opens the event's node below the dev root, replaces the event's ID_CDROM* properties with
// what ProbeCdrom finds; a device that is no optical drive (ENOTTY: a Xen xvd disk) gets
// nothing, and no error. A node held open exclusively (EBUSY, a burner at work) makes the
// event busy (retried later), except on its last attempt.
Status RunCdromIdBuiltin(BuiltinCall& call);

}  // namespace vdev
