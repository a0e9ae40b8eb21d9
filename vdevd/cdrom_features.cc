// Decoding the MMC replies of an optical drive, after udev 252's cdrom_id: which bytes it
// reads, which it trusts, and the names it gives profiles.
#include "cdrom_features.h"

#include <linux/cdrom.h>

#include <algorithm>
#include <string>

namespace vdev {
namespace {

uint16_t Be16(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

uint32_t Be32(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint32_t>(bytes[at]) << 24 | static_cast<uint32_t>(bytes[at + 1]) << 16 |
         static_cast<uint32_t>(bytes[at + 2]) << 8 | bytes[at + 3];
}

// udev's names, by profile number; numbers it does not know print nothing.
const char* FeatureName(unsigned feature) {
  switch (feature) {
    case 0x01: return "RW_NONREMOVABLE";
    case 0x02: return "RW_REMOVABLE";
    case 0x03: return "MO_SE";
    case 0x04: return "MO_WO";
    case 0x05: return "MO_AS";
    case 0x08: return "CD";
    case 0x09: return "CD_R";
    case 0x0a: return "CD_RW";
    case 0x10: return "DVD";
    case 0x11: return "DVD_R";
    case 0x12: return "DVD_RAM";
    case 0x13: return "DVD_RW_RO";
    case 0x14: return "DVD_RW_SEQ";
    case 0x15: return "DVD_R_DL_SEQ";
    case 0x16: return "DVD_R_DL_JR";
    case 0x17: return "DVD_RW_DL";
    case 0x18: return "DVD_R_DDR";
    case 0x1a: return "DVD_PLUS_RW";
    case 0x1b: return "DVD_PLUS_R";
    case 0x20: return "DDCD";
    case 0x21: return "DDCD_R";
    case 0x22: return "DDCD_RW";
    case 0x2a: return "DVD_PLUS_RW_DL";
    case 0x2b: return "DVD_PLUS_R_DL";
    case 0x40: return "BD";
    case 0x41: return "BD_R_SRM";
    case 0x42: return "BD_R_RRM";
    case 0x43: return "BD_RE";
    case 0x50: return "HDDVD";
    case 0x51: return "HDDVD_R";
    case 0x52: return "HDDVD_RAM";
    case 0x53: return "HDDVD_RW";
    case 0x58: return "HDDVD_R_DL";
    case 0x5a: return "HDDVD_RW_DL";
    case kCdromMrw: return "MRW";
    case kCdromMrwW: return "MRW_W";
    default: return nullptr;
  }
}

const char* StateName(CdromMediaState state) {
  switch (state) {
    case CdromMediaState::kBlank: return "blank";
    case CdromMediaState::kAppendable: return "appendable";
    case CdromMediaState::kComplete: return "complete";
    case CdromMediaState::kOther: return "other";
  }
  return nullptr;
}

bool IsOneOf(std::optional<unsigned> value, std::initializer_list<unsigned> set) {
  return value && std::find(set.begin(), set.end(), *value) != set.end();
}

}  // namespace

bool CdromInfo::DriveHas(unsigned feature) const {
  return std::find(drive_features.begin(), drive_features.end(), feature) !=
         drive_features.end();
}

void CdromInfo::AddDriveFeature(unsigned feature) {
  if (!DriveHas(feature)) drive_features.push_back(feature);
}

void AddCdromCapabilities(int capability, CdromInfo* info) {
  // udev's "same data as the original cdrom_id": plain CD reading is not among them.
  static constexpr std::pair<int, unsigned> kCapabilities[] = {
      {CDC_CD_R, kCdromProfileCdR},     {CDC_CD_RW, kCdromProfileCdRw},
      {CDC_DVD, kCdromProfileDvdRom},   {CDC_DVD_R, kCdromProfileDvdR},
      {CDC_DVD_RAM, kCdromProfileDvdRam}, {CDC_MRW, kCdromMrw},
      {CDC_MRW_W, kCdromMrwW},
  };
  for (auto [bit, feature] : kCapabilities)
    if (capability & bit) info->AddDriveFeature(feature);
}

bool ApplyCdromConfiguration(std::span<const uint8_t> reply, CdromInfo* info) {
  if (reply.size() < 8) return info->has_media;
  unsigned current = Be16(reply, 6);
  info->has_media = current > 0;
  if (current > 0) info->media_feature = current;
  // The data length as udev reads it (it counts the header too), bounded by the reply.
  size_t length = std::min<size_t>(Be32(reply, 0), reply.size());
  for (size_t i = 8; i + 4 < length; i += 4 + reply[i + 3]) {
    if (Be16(reply, i) != 0x0000) continue;  // only the profile list
    size_t size = std::min<size_t>(reply[i + 3], length - i - 4);
    auto profiles = reply.subspan(i + 4, size);
    for (size_t j = 0; j + 4 <= profiles.size(); j += 4)
      info->AddDriveFeature(Be16(profiles, j));
  }
  return info->has_media;
}

bool ApplyOldCdromDiscInformation(std::span<const uint8_t> reply, CdromInfo* info) {
  if (reply.size() < 3) {
    // No disc information: a disc the drive status saw is taken to be a CD-ROM.
    if (!info->has_media) return false;
    info->media_feature = kCdromProfileCdRom;
    info->track_count = 1;
    info->track_count_data = 1;
    return true;
  }
  info->has_media = true;
  bool erasable = reply[2] & 0x10;
  unsigned disc_status = reply[2] & 0x03;
  if (erasable)
    info->media_feature = kCdromProfileCdRw;
  else if (disc_status < 2 && info->DriveHas(kCdromProfileCdR))
    info->media_feature = kCdromProfileCdR;
  else
    info->media_feature = kCdromProfileCdRom;
  return true;
}

bool ApplyCdromDiscInformation(std::span<const uint8_t> reply, CdromInfo* info) {
  if (reply.size() < 12) return false;
  info->has_media = true;
  auto state = static_cast<CdromMediaState>(reply[2] & 0x03);
  // Some fake CD-ROMs say "blank" here: a pressed CD has no state.
  if (info->media_feature != kCdromProfileCdRom) info->media_state = state;
  // A fresh DVD-RW in restricted overwrite mode says "appendable"; after blanking it says
  // "blank", which is what users expect.
  if (info->media_feature == kCdromProfileDvdRwRo && state == CdromMediaState::kAppendable)
    info->media_state = CdromMediaState::kBlank;
  if (info->media_feature != kCdromProfileDvdRwRo &&
      (state == CdromMediaState::kBlank || state == CdromMediaState::kAppendable))
    info->session_next = reply[10] << 8 | reply[5];
  info->session_count = reply[9] << 8 | reply[4];
  info->track_count = reply[11] << 8 | reply[6];
  // Formatted DVD+RW (and restricted-overwrite DVD-RW) always say "complete", DVD-RAM
  // "other": only their content tells whether they are blank.
  return IsOneOf(info->media_feature, {kCdromProfileDvdRwRo, kCdromProfileDvdPlusRw,
                                       kCdromProfileDvdPlusRwDl, kCdromProfileDvdRam}) &&
         (state == CdromMediaState::kComplete || state == CdromMediaState::kOther);
}

void ApplyCdromContent(std::span<const uint8_t> first_blocks, CdromInfo* info) {
  constexpr size_t kBlock = 2048;
  auto nonzero = [&](size_t block) {
    if (first_blocks.size() < (block + 1) * kBlock) return false;
    auto data = first_blocks.subspan(block * kBlock, kBlock);
    return std::any_of(data.begin(), data.end(), [](uint8_t b) { return b != 0; });
  };
  // Block 16 holds the ISO 9660 and UDF descriptors, block 0 a FAT boot sector or the like.
  if (nonzero(16) || nonzero(0)) return;
  info->media_state = CdromMediaState::kBlank;
}

void ApplyCdromTrackToc(std::span<const uint8_t> reply, CdromInfo* info) {
  if (reply.size() < 4) return;
  size_t length = std::min<size_t>(Be16(reply, 0) + 2, reply.size());
  // Wraps for a last track below the first: the TOC's length still bounds the walk.
  unsigned tracks = reply[3] - reply[2] + 1u;
  for (size_t i = 4; i + 8 <= length && tracks > 0; i += 8, --tracks) {
    bool data = reply[i + 1] & 0x04;  // CONTROL: data track
    ++(data ? info->track_count_data : info->track_count_audio);
  }
}

void ApplyCdromSessionToc(std::span<const uint8_t> reply, CdromInfo* info) {
  if (reply.size() < 12) return;
  info->session_last_offset = static_cast<uint64_t>(Be32(reply, 8)) * 2048;
}

std::vector<Property> CdromProperties(const CdromInfo& info) {
  std::vector<Property> out;
  auto flag = [&](const std::string& key) { out.emplace_back(key, "1"); };
  auto feature = [&](const char* prefix, unsigned number) {
    if (const char* name = FeatureName(number)) flag(std::string(prefix) + "_" + name);
  };
  auto has_any = [&](std::initializer_list<unsigned> set) {
    return std::any_of(set.begin(), set.end(), [&](unsigned f) { return info.DriveHas(f); });
  };

  flag("ID_CDROM");
  for (unsigned number : info.drive_features) feature("ID_CDROM", number);
  // Families udev also names as a whole.
  if (has_any({kCdromProfileMoSe, kCdromProfileMoWo, kCdromProfileMoAs})) flag("ID_CDROM_MO");
  if (has_any({kCdromProfileDvdRwRo, kCdromProfileDvdRwSeq})) flag("ID_CDROM_DVD_RW");
  if (has_any({kCdromProfileDvdRDlSeq, kCdromProfileDvdRDlJr})) flag("ID_CDROM_DVD_R_DL");
  if (has_any({kCdromProfileDvdRDdr})) flag("ID_CDROM_DVD_R");
  if (has_any({kCdromProfileBdRSrm, kCdromProfileBdRRrm})) flag("ID_CDROM_BD_R");

  if (info.has_media) {
    flag("ID_CDROM_MEDIA");
    if (info.media_feature) feature("ID_CDROM_MEDIA", *info.media_feature);
    const auto& media = info.media_feature;
    if (IsOneOf(media, {kCdromProfileMoSe, kCdromProfileMoWo, kCdromProfileMoAs}))
      flag("ID_CDROM_MEDIA_MO");
    if (IsOneOf(media, {kCdromProfileDvdRwRo, kCdromProfileDvdRwSeq}))
      flag("ID_CDROM_MEDIA_DVD_RW");
    if (IsOneOf(media, {kCdromProfileDvdRDlSeq, kCdromProfileDvdRDlJr}))
      flag("ID_CDROM_MEDIA_DVD_R_DL");
    if (IsOneOf(media, {kCdromProfileDvdRDdr})) flag("ID_CDROM_MEDIA_DVD_R");
    if (IsOneOf(media, {kCdromProfileBdRSrm, kCdromProfileBdRRrm})) flag("ID_CDROM_MEDIA_BD_R");
  }

  auto number = [&](const char* key, uint64_t value) {
    if (value > 0) out.emplace_back(key, std::to_string(value));
  };
  if (info.media_state) out.emplace_back("ID_CDROM_MEDIA_STATE", StateName(*info.media_state));
  number("ID_CDROM_MEDIA_SESSION_NEXT", info.session_next);
  number("ID_CDROM_MEDIA_SESSION_COUNT", info.session_count);
  if (info.session_count > 1)
    number("ID_CDROM_MEDIA_SESSION_LAST_OFFSET", info.session_last_offset);
  number("ID_CDROM_MEDIA_TRACK_COUNT", info.track_count);
  number("ID_CDROM_MEDIA_TRACK_COUNT_AUDIO", info.track_count_audio);
  number("ID_CDROM_MEDIA_TRACK_COUNT_DATA", info.track_count_data);
  return out;
}

}  // namespace vdev
