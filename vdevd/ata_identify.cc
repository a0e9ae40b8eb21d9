// IDENTIFY data as udev 252's ata_id reads it. Word numbers are ATA8-ACS's; hd_driveid (the
// HDIO_GET_IDENTITY layout ata_id copies the words into) names them config (0), command_set_1
// and _2 (82, 83), cfs_enable_1 and _2 (85, 86), trseuc/trsEuc (89, 90), CurAPMvalues (91),
// acoustic (94) and dlf (128).
#include "ata_identify.h"

#include <cinttypes>
#include <cstdio>
#include <string>
#include <string_view>

#include "scsi_import.h"
#include "udev_string.h"

namespace vdev {
namespace {

// udev's buffers: 40-byte model, 20-byte serial, 8-byte revision; a 256-byte ID_MODEL_ENC.
constexpr size_t kModelLength = 40;
constexpr size_t kSerialLength = 20;
constexpr size_t kRevisionLength = 8;
constexpr size_t kEncodedLength = 255;

constexpr unsigned kSerialWord = 10;
constexpr unsigned kRevisionWord = 23;
constexpr unsigned kModelWord = 27;

class IdentifyData {
 public:
  IdentifyData(const std::array<uint8_t, 512>& bytes, AtaIdentifySource source)
      : bytes_(bytes), source_(source) {}

  // Little-endian on the wire; hd_driveid has host order, which is the same on the
  // little-endian machines this runs on and is read the same way here.
  uint16_t Word(unsigned index) const {
    return static_cast<uint16_t>(bytes_[2 * index] | (bytes_[2 * index + 1] << 8));
  }

  // A string of length bytes from word `first` on, in reading order.
  std::string String(unsigned first, size_t length) const {
    std::string text(length, '\0');
    for (size_t i = 0; i < length; i += 2) {  // the lengths are even
      uint8_t low = bytes_[2 * first + i], high = bytes_[2 * first + i + 1];
      bool swapped = source_ == AtaIdentifySource::kDrive;
      text[i] = static_cast<char>(swapped ? high : low);
      text[i + 1] = static_cast<char>(swapped ? low : high);
    }
    return text;
  }

 private:
  const std::array<uint8_t, 512>& bytes_;
  AtaIdentifySource source_;
};

std::string_view UpToNul(std::string_view text) { return text.substr(0, text.find('\0')); }

// ID_TYPE of an ATAPI device from the command packet set in word 0 (bits 12:8).
const char* AtapiType(uint16_t config) {
  switch ((config >> 8) & 0x1f) {
    case 0:
    case 5:
      return "cd";
    case 1:
      return "tape";
    case 7:
      return "optical";
    default:
      return "generic";
  }
}

}  // namespace

bool IsAllZero(const std::array<uint8_t, 512>& identify) {
  for (uint8_t byte : identify)
    if (byte != 0) return false;
  return true;
}

std::vector<Property> AtaIdentifyProperties(const std::array<uint8_t, 512>& identify,
                                            AtaIdentifySource source) {
  IdentifyData id(identify, source);
  std::string raw_model = id.String(kModelWord, kModelLength);
  std::string model_enc = EncodeDevnodeName(UpToNul(raw_model), kEncodedLength);
  std::string model = ReplaceUnsafeChars(ReplaceWhitespace(raw_model, kModelLength));
  std::string serial =
      ReplaceUnsafeChars(ReplaceWhitespace(id.String(kSerialWord, kSerialLength), kSerialLength));
  std::string revision = ReplaceUnsafeChars(
      ReplaceWhitespace(id.String(kRevisionWord, kRevisionLength), kRevisionLength));

  std::vector<Property> out;
  auto add = [&](std::string_view key, std::string_view value) {
    AppendImported(&out, key, value);
  };
  auto flag = [&](std::string_view key, bool on) { add(key, on ? "1" : "0"); };

  add("ID_ATA", "1");
  uint16_t config = id.Word(0);
  add("ID_TYPE", (config >> 8) & 0x80 ? AtapiType(config) : "disk");
  add("ID_BUS", "ata");
  add("ID_MODEL", model);
  add("ID_MODEL_ENC", model_enc);
  add("ID_REVISION", revision);
  if (!serial.empty()) {
    add("ID_SERIAL", model + "_" + serial);
    add("ID_SERIAL_SHORT", serial);
  } else {
    add("ID_SERIAL", model);
  }

  uint16_t command_set_1 = id.Word(82), command_set_2 = id.Word(83);
  uint16_t enabled_1 = id.Word(85), enabled_2 = id.Word(86);
  uint16_t lock = id.Word(128);
  if (command_set_1 & (1 << 5)) {
    add("ID_ATA_WRITE_CACHE", "1");
    flag("ID_ATA_WRITE_CACHE_ENABLED", enabled_1 & (1 << 5));
  }
  if (command_set_1 & (1 << 10)) {
    add("ID_ATA_FEATURE_SET_HPA", "1");
    flag("ID_ATA_FEATURE_SET_HPA_ENABLED", enabled_1 & (1 << 10));
  }
  if (command_set_1 & (1 << 3)) {
    add("ID_ATA_FEATURE_SET_PM", "1");
    flag("ID_ATA_FEATURE_SET_PM_ENABLED", enabled_1 & (1 << 3));
  }
  if (command_set_1 & (1 << 1)) {
    add("ID_ATA_FEATURE_SET_SECURITY", "1");
    flag("ID_ATA_FEATURE_SET_SECURITY_ENABLED", enabled_1 & (1 << 1));
    add("ID_ATA_FEATURE_SET_SECURITY_ERASE_UNIT_MIN", std::to_string(id.Word(89) * 2));
    if (enabled_1 & (1 << 1))
      add("ID_ATA_FEATURE_SET_SECURITY_LEVEL", lock & (1 << 8) ? "maximum" : "high");
    if (lock & (1 << 5))
      add("ID_ATA_FEATURE_SET_SECURITY_ENHANCED_ERASE_UNIT_MIN", std::to_string(id.Word(90) * 2));
    if (lock & (1 << 4)) add("ID_ATA_FEATURE_SET_SECURITY_EXPIRE", "1");
    if (lock & (1 << 3)) add("ID_ATA_FEATURE_SET_SECURITY_FROZEN", "1");
    if (lock & (1 << 2)) add("ID_ATA_FEATURE_SET_SECURITY_LOCKED", "1");
  }
  if (command_set_1 & (1 << 0)) {
    add("ID_ATA_FEATURE_SET_SMART", "1");
    flag("ID_ATA_FEATURE_SET_SMART_ENABLED", enabled_1 & (1 << 0));
  }
  if (command_set_2 & (1 << 9)) {
    uint16_t acoustic = id.Word(94);
    add("ID_ATA_FEATURE_SET_AAM", "1");
    flag("ID_ATA_FEATURE_SET_AAM_ENABLED", enabled_2 & (1 << 9));
    add("ID_ATA_FEATURE_SET_AAM_VENDOR_RECOMMENDED_VALUE", std::to_string(acoustic >> 8));
    add("ID_ATA_FEATURE_SET_AAM_CURRENT_VALUE", std::to_string(acoustic & 0xff));
  }
  if (command_set_2 & (1 << 5)) {
    add("ID_ATA_FEATURE_SET_PUIS", "1");
    flag("ID_ATA_FEATURE_SET_PUIS_ENABLED", enabled_2 & (1 << 5));
  }
  if (command_set_2 & (1 << 3)) {
    add("ID_ATA_FEATURE_SET_APM", "1");
    flag("ID_ATA_FEATURE_SET_APM_ENABLED", enabled_2 & (1 << 3));
    if (enabled_2 & (1 << 3))
      add("ID_ATA_FEATURE_SET_APM_CURRENT_VALUE", std::to_string(id.Word(91) & 0xff));
  }
  if (command_set_2 & (1 << 0)) add("ID_ATA_DOWNLOAD_MICROCODE", "1");

  // ata_id reads these from its raw IDENTIFY buffer, which stays zero when the data came
  // from HDIO_GET_IDENTITY.
  if (source != AtaIdentifySource::kDrive) return out;

  // Word 76: SATA capabilities; a PATA device has 0x0000 or 0xffff there.
  uint16_t sata = id.Word(76);
  if (sata != 0x0000 && sata != 0xffff) {
    add("ID_ATA_SATA", "1");
    if (sata & (1 << 2)) add("ID_ATA_SATA_SIGNAL_RATE_GEN2", "1");
    if (sata & (1 << 1)) add("ID_ATA_SATA_SIGNAL_RATE_GEN1", "1");
  }
  // Word 217: nominal media rotation rate; 1 means not rotating (an SSD).
  uint16_t rotation = id.Word(217);
  if (rotation == 0x0001) {
    add("ID_ATA_ROTATION_RATE_RPM", "0");
  } else if (rotation >= 0x0401 && rotation <= 0xfffe) {
    add("ID_ATA_ROTATION_RATE_RPM", std::to_string(rotation));
  }
  // Words 108-111: the World Wide Name, NAA 5 (IEEE registered) in bits 15:12 of word 108.
  if ((id.Word(108) & 0xf000) == 0x5000) {
    uint64_t wwn = 0;
    for (unsigned word = 108; word <= 111; ++word) wwn = (wwn << 16) | id.Word(word);
    char text[24];
    snprintf(text, sizeof(text), "0x%" PRIx64, wwn);
    add("ID_WWN", text);
    add("ID_WWN_WITH_EXTENSION", text);
  }
  // CompactFlash, as Linux's ata_id_is_cfa() tells it.
  if (id.Word(0) == 0x848a || id.Word(0) == 0x844a || (id.Word(83) & 0xc004) == 0x4004)
    add("ID_ATA_CFA", "1");
  return out;
}

}  // namespace vdev
