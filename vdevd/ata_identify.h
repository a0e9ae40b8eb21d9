// The decoder of ATA IDENTIFY (PACKET) DEVICE data into what udev 252's ata_id exports
// (ID_ATA, ID_TYPE, ID_BUS, ID_MODEL, ID_SERIAL, ID_WWN, ID_ATA_FEATURE_SET_*, ...): a pure
// function of the 512 bytes, so it can be tested without a drive.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/uevent.h"

namespace vdev {

enum class AtaIdentifySource {
  // IDENTIFY data as the drive sends it through SG_IO: 256 little-endian words, strings with
  // the two bytes of each word swapped.
  kDrive,
  // struct hd_driveid from the HDIO_GET_IDENTITY ioctl (ata_id's fallback): words in host
  // order, strings already in reading order. As in ata_id, the words it reads from the raw
  // buffer only (SATA capabilities, rotation rate, WWN, CFA) are then unknown and not given.
  kHdioGetIdentity,
};

// The properties ata_id --export prints, in its order, with the values udev's import keeps
// (surrounding whitespace stripped, empty ones dropped).
std::vector<Property> AtaIdentifyProperties(const std::array<uint8_t, 512>& identify,
                                            AtaIdentifySource source = AtaIdentifySource::kDrive);

// Whether the buffer is all zeros (ata_id treats such an answer as no answer).
bool IsAllZero(const std::array<uint8_t, 512>& identify);

}  // namespace vdev
