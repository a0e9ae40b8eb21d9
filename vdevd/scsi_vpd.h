// scsi_id's identity of a SCSI device, as a pure function of its INQUIRY data and VPD pages
// 0x80 (unit serial number) and 0x83 (device identification): ID_SERIAL with its leading
// identifier-type digit ("35000c50015ea71ac"), ID_WWN, ID_SCSI_SERIAL, ... as udev 252's
// scsi_id --export --whitelisted prints them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uevent.h"

namespace vdev {

// The standard INQUIRY fields scsi_id keeps, unpadded as the device sent them.
struct ScsiInquiryData {
  std::string vendor;    // bytes 8-15
  std::string model;     // bytes 16-31
  std::string revision;  // bytes 32-35
  unsigned type = 0;     // byte 0, bits 4:0 (peripheral device type)
};

// From 36 or more bytes of standard INQUIRY data; nullopt when shorter.
std::optional<ScsiInquiryData> ParseStandardInquiry(std::string_view data);

// What scsi_id learns from the VPD pages; empty strings where it learned nothing.
struct ScsiSerial {
  std::string serial;                // ID_SERIAL before cleaning: type digit (or 'S') + identifier
  std::string serial_short;          // the identifier alone
  std::string unit_serial;           // page 0x80's serial number (ID_SCSI_SERIAL)
  std::string wwn;                   // the NAA identifier's first 16 hex digits
  std::string wwn_vendor_extension;  // the next 16 (NAA 6)
  std::string target_port_group;     // hex (ID_TARGET_PORT)
};

// A VPD page as the device returns it (4-byte header, then the payload), nullopt when there is
// none to be had.
using VpdPageReader = std::function<std::optional<std::string>(uint8_t page)>;

// scsi_get_serial with its default page code: for each page listed in supported (page 0's
// payload, the supported page codes) that is 0x83, try the identification descriptors in
// scsi_id's order of preference (NAA IEEE registered extended, registered, other NAA, EUI-64,
// T10 vendor id, vendor specific; binary before ASCII), also reading page 0x80 for
// unit_serial; failing that, each listed 0x80 (serial "S" + vendor + model + serial number).
ScsiSerial ReadScsiSerial(const ScsiInquiryData& inquiry, std::string_view supported,
                          const VpdPageReader& read);

// The properties scsi_id --export prints, in its order, as udev's import keeps them.
std::vector<Property> ScsiIdExport(const ScsiInquiryData& inquiry, const ScsiSerial& serial);

// ID_TYPE for a peripheral device type, with scsi_id's quirk: it formats the type in hex and
// parses it back as C would ("e" is no number, "14" is 14), so 0x0e and 0x0f are "generic"
// and 0x14 is "disk".
std::string ScsiTypeName(unsigned type);

}  // namespace vdev
