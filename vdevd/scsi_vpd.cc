// scsi_id's reading of VPD pages 0x80 and 0x83 (systemd 252, scsi_serial.c). Its strings live
// in fixed, zeroed buffers that later steps partly overwrite and read up to the first NUL;
// FixedString keeps that behaviour, so partial writes of failed attempts show as they do in
// udev (a lone "S" serial when vendor or model is short, a target port group from a page
// whose identifiers were all refused).
#include "scsi_vpd.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "scsi_import.h"
#include "scsi_sg_io.h"
#include "udev_string.h"

namespace vdev {
namespace {

constexpr size_t kMaxSerialLength = 256;  // MAX_SERIAL_LEN
constexpr size_t kVendorLength = 8;
constexpr size_t kModelLength = 16;
constexpr size_t kShortLength = 63;     // ID_VENDOR, ID_MODEL, ID_REVISION buffers
constexpr size_t kEncodedLength = 255;  // *_ENC buffers
constexpr char kHex[] = "0123456789abcdef";

constexpr uint8_t kPage80 = 0x80;
constexpr uint8_t kPage83 = 0x83;

// Identifier types, association and code sets of SPC-3's device identification descriptor.
enum IdType : uint8_t {
  kVendorSpecific = 0,
  kT10Vendor = 1,
  kEui64 = 2,
  kNaa = 3,
  kTargetPortGroup = 5,
};
constexpr uint8_t kNaaDontCare = 0xff;
constexpr uint8_t kNaaIeeeRegistered = 0x05;
constexpr uint8_t kNaaIeeeRegisteredExtended = 0x06;
constexpr uint8_t kBinary = 1;
constexpr uint8_t kAscii = 2;

struct SearchValue {
  uint8_t id_type, naa_type, code_set;
};

// scsi_id's order of preference. The target port group entry only records the group.
constexpr SearchValue kSearchList[] = {
    {kTargetPortGroup, kNaaDontCare, kBinary},
    {kNaa, kNaaIeeeRegisteredExtended, kBinary},
    {kNaa, kNaaIeeeRegisteredExtended, kAscii},
    {kNaa, kNaaIeeeRegistered, kBinary},
    {kNaa, kNaaIeeeRegistered, kAscii},
    // Reserved NAA values that devices use anyway.
    {kNaa, kNaaDontCare, kBinary},
    {kNaa, kNaaDontCare, kAscii},
    {kEui64, kNaaDontCare, kBinary},
    {kEui64, kNaaDontCare, kAscii},
    {kT10Vendor, kNaaDontCare, kBinary},
    {kT10Vendor, kNaaDontCare, kAscii},
    {kVendorSpecific, kNaaDontCare, kBinary},
    {kVendorSpecific, kNaaDontCare, kAscii},
};

// A zeroed char buffer of N bytes, read as a C string.
template <size_t N>
struct FixedString {
  std::array<char, N + 1> bytes{};  // one more: never unterminated
  size_t Length(size_t from = 0) const { return strnlen(bytes.data() + from, N - from); }
  std::string Str(size_t from = 0) const { return std::string(bytes.data() + from, Length(from)); }
};

// A page as scsi_id holds it: the first 254 bytes (its INQUIRY allocation length), zeros
// after; the slack lets a descriptor near the end be read as udev reads it.
struct PageBuffer {
  explicit PageBuffer(std::string_view page) {
    std::copy_n(page.begin(), std::min(page.size(), kScsiInquiryLength), bytes.begin());
  }
  uint8_t operator[](size_t i) const { return bytes[i]; }
  const uint8_t* at(size_t i) const { return bytes.data() + i; }
  std::array<uint8_t, kScsiInquiryLength + 4 + 256> bytes{};
};

struct SerialBuffers {
  FixedString<kMaxSerialLength> serial, serial_short, unit_serial;
  FixedString<16> wwn, wwn_vendor_extension;
  std::string target_port_group;
};

// append_vendor_model: the unpadded vendor and model, which must be full length.
bool AppendVendorModel(const ScsiInquiryData& inquiry, char* out) {
  if (strnlen(inquiry.vendor.c_str(), kVendorLength) != kVendorLength) return false;
  if (strnlen(inquiry.model.c_str(), kModelLength) != kModelLength) return false;
  memcpy(out, inquiry.vendor.data(), kVendorLength);
  memcpy(out + kVendorLength, inquiry.model.data(), kModelLength);
  return true;
}

// do_scsi_page80_inquiry over a page; serial may be null (only the serial number wanted).
bool Page80(const ScsiInquiryData& inquiry, std::string_view page_data,
            FixedString<kMaxSerialLength>* serial, FixedString<kMaxSerialLength>* serial_short) {
  PageBuffer page(page_data);
  if (page[1] != kPage80) return false;
  size_t length = page[3];
  if (kMaxSerialLength < 1 + kVendorLength + kModelLength + length) return false;
  if (serial != nullptr) {
    // 'S' keeps these apart from a page 0x83 vendor-specific id ('0' + vendor + model).
    serial->bytes[0] = 'S';
    if (!AppendVendorModel(inquiry, serial->bytes.data() + 1)) return false;
    memcpy(serial->bytes.data() + 1 + kVendorLength + kModelLength, page.at(4), length);
  }
  if (serial_short != nullptr) {
    serial_short->bytes.fill(0);
    memcpy(serial_short->bytes.data(), page.at(4), length);
  }
  return true;
}

// check_fill_0x83_id for the descriptor at d: true when it is the one looked for.
bool CheckFill(const ScsiInquiryData& inquiry, const uint8_t* d, const SearchValue& search,
               SerialBuffers* out) {
  uint8_t association = d[1] & 0x30;
  if (association == 0x10) {
    if (search.id_type != kTargetPortGroup) return false;
  } else if (association != 0) {
    return false;
  }
  if ((d[1] & 0x0f) != search.id_type) return false;
  if (search.naa_type != kNaaDontCare && search.naa_type != (d[4] & 0xf0) >> 4) return false;
  if ((d[0] & 0x0f) != search.code_set) return false;
  size_t length = d[3];
  if ((d[0] & 0x0f) != kAscii) length *= 2;
  length += 2;  // the type digit and the NUL
  if (search.id_type == kVendorSpecific) length += kVendorLength + kModelLength;
  if (kMaxSerialLength < length) return false;
  if (search.id_type == kTargetPortGroup) {
    char group[8];
    snprintf(group, sizeof(group), "%x", (static_cast<unsigned>(d[6]) << 8) | d[7]);
    out->target_port_group = group;
    return false;
  }
  char* serial = out->serial.bytes.data();
  serial[0] = kHex[search.id_type];
  // A vendor-specific id is unique only together with vendor and model.
  if (search.id_type == kVendorSpecific && !AppendVendorModel(inquiry, serial + 1)) return false;
  size_t start = out->serial.Length();
  size_t j = start;
  for (size_t i = 4; i < 4u + d[3]; ++i) {
    if ((d[0] & 0x0f) == kAscii) {
      serial[j++] = static_cast<char>(d[i]);
    } else {
      serial[j++] = kHex[d[i] >> 4];
      serial[j++] = kHex[d[i] & 0x0f];
    }
  }
  out->serial_short.bytes.fill(0);
  std::string identifier = out->serial.Str(start);
  memcpy(out->serial_short.bytes.data(), identifier.data(), identifier.size());
  if (search.id_type == kNaa) {
    // strncpy: 16 bytes of the buffer from there, stopping at a NUL, zero-filled.
    out->wwn.bytes.fill(0);
    out->wwn_vendor_extension.bytes.fill(0);
    strncpy(out->wwn.bytes.data(), serial + start, 16);
    strncpy(out->wwn_vendor_extension.bytes.data(), serial + start + 16, 16);
  }
  return true;
}

// do_scsi_page83_inquiry.
bool Page83(const ScsiInquiryData& inquiry, const VpdPageReader& read, SerialBuffers* out) {
  if (auto page80 = read(kPage80)) Page80(inquiry, *page80, nullptr, &out->unit_serial);
  auto page_data = read(kPage83);
  if (!page_data) return false;
  PageBuffer page(*page_data);
  if (page[1] != kPage83) return false;
  // Some EMC Symmetrix models answer in the SCSI-2 format: the 16 bytes after the header are
  // the IEEE WWN itself. In SPC-2/3 byte 6 is a reserved byte of the first descriptor.
  if (page[6] != 0) {
    char* serial = out->serial.bytes.data();
    serial[0] = kHex[kNaa];
    size_t j = out->serial.Length();
    for (size_t i = 0; i < page[3] && j < kMaxSerialLength - 3; ++i) {
      serial[j++] = kHex[page[4 + i] >> 4];
      serial[j++] = kHex[page[4 + i] & 0x0f];
    }
    serial[kMaxSerialLength - 1] = '\0';
    out->serial_short = out->serial;
    return true;
  }
  size_t end = (static_cast<size_t>(page[2]) << 8) + page[3] + 3;
  for (const SearchValue& search : kSearchList) {
    // udev would read past its buffer for a page longer than it asked for; stop there.
    for (size_t j = 4; j <= end && j < kScsiInquiryLength; j += page[j + 3] + 4) {
      if (CheckFill(inquiry, page.at(j), search, out)) return true;
    }
  }
  return false;
}

std::string Cleaned(std::string_view raw, size_t max_length) {
  return ReplaceUnsafeChars(ReplaceWhitespace(raw, max_length));
}

}  // namespace

std::optional<ScsiInquiryData> ParseStandardInquiry(std::string_view data) {
  if (data.size() < 36) return std::nullopt;
  auto field = [&](size_t offset, size_t length) {
    std::string_view text = data.substr(offset, length);
    return std::string(text.substr(0, text.find('\0')));
  };
  ScsiInquiryData inquiry;
  inquiry.vendor = field(8, 8);
  inquiry.model = field(16, 16);
  inquiry.revision = field(32, 4);
  inquiry.type = static_cast<uint8_t>(data[0]) & 0x1f;
  return inquiry;
}

std::string ScsiTypeName(unsigned type) {
  char text[16];
  snprintf(text, sizeof(text), "%x", type);
  char* end = nullptr;
  unsigned long number = strtoul(text, &end, 0);
  if (end == text) return "generic";
  switch (number) {
    case 0x0:
    case 0xe:
      return "disk";
    case 0x1:
      return "tape";
    case 0x4:
    case 0x7:
    case 0xf:
      return "optical";
    case 0x5:
      return "cd";
    default:
      return "generic";
  }
}

ScsiSerial ReadScsiSerial(const ScsiInquiryData& inquiry, std::string_view supported,
                          const VpdPageReader& read) {
  SerialBuffers buffers;
  bool found = false;
  for (char page : supported) {
    if (static_cast<uint8_t>(page) == kPage83 && Page83(inquiry, read, &buffers)) {
      found = true;
      break;
    }
  }
  for (char page : supported) {
    if (found) break;
    if (static_cast<uint8_t>(page) != kPage80) continue;
    if (auto data = read(kPage80))
      found = Page80(inquiry, *data, &buffers.serial, &buffers.serial_short);
  }
  ScsiSerial serial;
  serial.serial = buffers.serial.Str();
  serial.serial_short = buffers.serial_short.Str();
  serial.unit_serial = buffers.unit_serial.Str();
  serial.wwn = buffers.wwn.Str();
  serial.wwn_vendor_extension = buffers.wwn_vendor_extension.Str();
  serial.target_port_group = buffers.target_port_group;
  return serial;
}

std::vector<Property> ScsiIdExport(const ScsiInquiryData& inquiry, const ScsiSerial& serial) {
  std::vector<Property> out;
  auto add = [&](std::string_view key, std::string_view value) {
    AppendImported(&out, key, value);
  };
  add("ID_SCSI", "1");
  add("ID_VENDOR", Cleaned(inquiry.vendor, kShortLength));
  add("ID_VENDOR_ENC", EncodeDevnodeName(inquiry.vendor, kEncodedLength));
  add("ID_MODEL", Cleaned(inquiry.model, kShortLength));
  add("ID_MODEL_ENC", EncodeDevnodeName(inquiry.model, kEncodedLength));
  add("ID_REVISION", Cleaned(inquiry.revision, kShortLength));
  add("ID_TYPE", ScsiTypeName(inquiry.type));
  if (!serial.serial.empty()) {
    add("ID_SERIAL", Cleaned(serial.serial, kMaxSerialLength - 1));
    add("ID_SERIAL_SHORT", Cleaned(serial.serial_short, kMaxSerialLength - 1));
  }
  if (!serial.wwn.empty()) {
    add("ID_WWN", "0x" + serial.wwn);
    if (!serial.wwn_vendor_extension.empty()) {
      add("ID_WWN_VENDOR_EXTENSION", "0x" + serial.wwn_vendor_extension);
      add("ID_WWN_WITH_EXTENSION", "0x" + serial.wwn + serial.wwn_vendor_extension);
    } else {
      add("ID_WWN_WITH_EXTENSION", "0x" + serial.wwn);
    }
  }
  if (!serial.target_port_group.empty()) add("ID_TARGET_PORT", serial.target_port_group);
  if (!serial.unit_serial.empty()) add("ID_SCSI_SERIAL", serial.unit_serial);
  return out;
}

}  // namespace vdev
