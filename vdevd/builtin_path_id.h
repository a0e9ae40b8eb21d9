// The path_id builtin: `builtin = path_id` (udev's IMPORT{builtin}="path_id"), the name of the
// path from the system's buses down to a device: ID_PATH, ID_PATH_TAG, ID_PATH_ATA_COMPAT.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "builtin.h"
#include "common/device.h"
#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// What udev 252's path_id gives the device, in its order: ID_PATH ("pci-0000:00:1f.2-ata-1.0"),
// ID_PATH_TAG and, below a libata port, ID_PATH_ATA_COMPAT ("pci-0000:00:1f.2-ata-1"). Empty
// where udev gives nothing: no path, a path that does not start at a bus with stable names
// (pci, platform, acpi, ...), or a block device without a known transport (scsi, usb, nvme,
// virtio, ...). An error only for an NVMe multipath disk whose controller cannot be found.
[[nodiscard]] Result<std::vector<Property>> PathIdProperties(const Device& device);

// ID_PATH_TAG from ID_PATH, as udev composes it: letters, digits and '-' kept, every run of
// other bytes one '_', none at the start or the end ("pci-0000_00_1f_2-ata-1_0").
std::string PathIdTag(std::string_view path);

// Sets the properties of PathIdProperties on the event; a device without a path gets none.
Status RunPathIdBuiltin(BuiltinCall& call);

}  // namespace vdev
