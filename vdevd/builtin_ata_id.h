// The ata_id builtin: `builtin = ata_id` (udev 252 runs the program, IMPORT{program}="ata_id
// --export $devnode"), the identity of an ATA or ATAPI drive from its IDENTIFY data: ID_ATA,
// ID_TYPE, ID_BUS=ata, ID_MODEL, ID_SERIAL, ID_WWN, ID_ATA_FEATURE_SET_*, ...
#pragma once

#include <vector>

#include "builtin.h"
#include "common/device.h"
#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// What ata_id --export gives for the drive behind node_fd (the device's node, open read-only
// and non-blocking): a SCSI INQUIRY first (libata answers it for the drive), then IDENTIFY
// PACKET DEVICE for a type 5 (CD/DVD) device, IDENTIFY DEVICE for a type 0 (disk), through
// ATA PASS-THROUGH; when that fails, HDIO_GET_IDENTITY. ENOTSUP for a device that is not ATA
// (another SCSI type, or no drive answered the ATA command and HDIO_GET_IDENTITY is refused);
// the ioctl's errno (EIO, ENODEV, ETIMEDOUT ...) when the drive failed.
[[nodiscard]] Result<std::vector<Property>> AtaIdProperties(int node_fd);

// Opens the device's node below the event's dev root and sets AtaIdProperties on the event.
// A device that is not ATA, or whose node is gone, gets none, and no error.
Status RunAtaIdBuiltin(BuiltinCall& call);

}  // namespace vdev
