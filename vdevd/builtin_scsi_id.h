// The scsi_id builtin: `builtin = scsi_id` (udev 252 runs the program, IMPORT{program}=
// "scsi_id --export --whitelisted -d $devnode"), a SCSI device's identity: ID_SCSI, ID_VENDOR,
// ID_MODEL, ID_REVISION, ID_TYPE, ID_SERIAL ("3" + NAA WWN, ...), ID_WWN, ID_SCSI_SERIAL, ...
#pragma once

#include <vector>

#include "builtin.h"
#include "common/device.h"
#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// What scsi_id --export --whitelisted gives for a block device on SCSI. The kernel has already
// asked the device: vendor, model, rev and type come from the scsi_device's attributes, the
// VPD pages from its vpd_pg83 / vpd_pg80 attributes. Only what sysfs lacks is asked again
// through SG_IO on the device's node (below dev_fd; -1: none): the standard INQUIRY when there
// is no scsi_device with those attributes (cciss), page 0 and the pages it lists when neither
// VPD attribute exists (the kernel skips VPD pages on USB storage). ENODEV when the device
// has no node to ask and nothing in sysfs; the INQUIRY's error when it fails.
[[nodiscard]] Result<std::vector<Property>> ScsiIdProperties(const Device& device, int dev_fd);

// Sets ScsiIdProperties on the event. A device that cannot be asked gets none, and no error.
Status RunScsiIdBuiltin(BuiltinCall& call);

}  // namespace vdev
