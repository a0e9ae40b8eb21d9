// Optical drive capabilities and media, decoded from the drive's MMC replies (GET
// CONFIGURATION, READ DISC INFORMATION, READ TOC) into udev 252's ID_CDROM_* properties. Pure
// functions over byte buffers: the SCSI I/O is in builtin_cdrom_id.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/uevent.h"

namespace vdev {

// MMC profile numbers (GET CONFIGURATION's profile list and current profile) that udev names.
// kCdromMrw and kCdromMrwW are not MMC profiles: udev numbers the kernel's CDC_MRW and
// CDC_MRW_W capabilities right after the last HD DVD profile, and so do we.
inline constexpr unsigned kCdromProfileMoSe = 0x03;  // magneto-optical, sector erase
inline constexpr unsigned kCdromProfileMoWo = 0x04;  // write once
inline constexpr unsigned kCdromProfileMoAs = 0x05;  // advance storage
inline constexpr unsigned kCdromProfileCdRom = 0x08;
inline constexpr unsigned kCdromProfileCdR = 0x09;
inline constexpr unsigned kCdromProfileCdRw = 0x0a;
inline constexpr unsigned kCdromProfileDvdRom = 0x10;
inline constexpr unsigned kCdromProfileDvdR = 0x11;
inline constexpr unsigned kCdromProfileDvdRam = 0x12;
inline constexpr unsigned kCdromProfileDvdRwRo = 0x13;   // restricted overwrite
inline constexpr unsigned kCdromProfileDvdRwSeq = 0x14;  // sequential recording
inline constexpr unsigned kCdromProfileDvdRDlSeq = 0x15;
inline constexpr unsigned kCdromProfileDvdRDlJr = 0x16;  // jump recording
inline constexpr unsigned kCdromProfileDvdRDdr = 0x18;   // download disc recording
inline constexpr unsigned kCdromProfileDvdPlusRw = 0x1a;
inline constexpr unsigned kCdromProfileDvdPlusRwDl = 0x2a;
inline constexpr unsigned kCdromProfileBdRSrm = 0x41;
inline constexpr unsigned kCdromProfileBdRRrm = 0x42;
inline constexpr unsigned kCdromMrw = 0x5b;
inline constexpr unsigned kCdromMrwW = 0x5c;

// READ DISC INFORMATION's disc status.
enum class CdromMediaState { kBlank = 0, kAppendable = 1, kComplete = 2, kOther = 3 };

// What the probe learned; CdromProperties turns it into properties.
struct CdromInfo {
  std::vector<unsigned> drive_features;  // profiles and capabilities, first seen first
  bool has_media = false;
  std::optional<unsigned> media_feature;  // the current profile
  std::optional<CdromMediaState> media_state;
  unsigned session_next = 0;
  unsigned session_count = 0;
  unsigned track_count = 0;
  unsigned track_count_data = 0;
  unsigned track_count_audio = 0;
  uint64_t session_last_offset = 0;  // bytes

  bool DriveHas(unsigned feature) const;
  void AddDriveFeature(unsigned feature);  // once
};

// The kernel's CDROM_GET_CAPABILITY bits (CDC_CD_R, CDC_DVD, CDC_MRW, ...) as drive features.
void AddCdromCapabilities(int capability, CdromInfo* info);

// A GET CONFIGURATION reply: its header's current profile (none: no media) and the drive's
// profiles from the "profile list" feature (0x0000). Returns has_media.
bool ApplyCdromConfiguration(std::span<const uint8_t> reply, CdromInfo* info);

// Drives older than MMC-2 (no GET CONFIGURATION): the medium from READ DISC INFORMATION's
// erasable bit and disc status; a failed reply (empty) with media known means a CD-ROM.
// Returns whether there is a medium.
bool ApplyOldCdromDiscInformation(std::span<const uint8_t> reply, CdromInfo* info);

// A READ DISC INFORMATION reply (at least 12 bytes): the media state, the next session's
// number, the session and track counts. Returns true when the media is a rewritable DVD whose
// reported state must be checked against its content (udev reads the first 32 blocks).
bool ApplyCdromDiscInformation(std::span<const uint8_t> reply, CdromInfo* info);

// The first 32 blocks of a formatted rewritable DVD: nothing in blocks 0 and 16 means blank.
void ApplyCdromContent(std::span<const uint8_t> first_blocks, CdromInfo* info);

// READ TOC format 0 (the track descriptors, 8 bytes each after a 4-byte header): counts the
// data and audio tracks among the header's first..last tracks.
void ApplyCdromTrackToc(std::span<const uint8_t> reply, CdromInfo* info);

// READ TOC format 1 (session information, 12 bytes): where the last session starts.
void ApplyCdromSessionToc(std::span<const uint8_t> reply, CdromInfo* info);

// udev 252's cdrom_id output, in its order: ID_CDROM=1, ID_CDROM_<FEATURE>=1 per drive
// feature, ID_CDROM_MEDIA=1 and ID_CDROM_MEDIA_<FEATURE>=1 with media, ID_CDROM_MEDIA_STATE,
// _SESSION_NEXT, _SESSION_COUNT, _SESSION_LAST_OFFSET (multi-session only), _TRACK_COUNT,
// _TRACK_COUNT_AUDIO, _TRACK_COUNT_DATA (each only when non-zero).
std::vector<Property> CdromProperties(const CdromInfo& info);

}  // namespace vdev
