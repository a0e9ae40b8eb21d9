// The cdrom_id decoders (vdevd/cdrom_features.h) over MMC replies laid out byte for byte as
// drives send them, and the builtin's option parsing and refusals.
//
// Replies: the QEMU ones are what QEMU's ATAPI emulation (hw/ide/atapi.c) answers for an
// ide-cd with a small ISO image, the drive the VM test boots with; the others follow the MMC-6
// layouts (GET CONFIGURATION header and profile list feature, READ DISC INFORMATION, READ
// TOC formats 0 and 1) for media of each kind. Expected properties: udev 252's cdrom_id
// print_properties() for the same probe results.
#include "cdrom_features.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/cdrom.h>

#include <fstream>
#include <string>
#include <vector>

#include "builtin_cdrom_id.h"
#include "common/unique_fd.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using Bytes = std::vector<uint8_t>;
using Properties = std::vector<Property>;

// GET CONFIGURATION: an 8-byte header with the current profile, the profile list feature
// (0x0000, version 0, persistent and current) with 4 bytes per profile (current flag in byte
// 2), then QEMU's core feature (ATAPI) and removable medium feature.
Bytes Configuration(unsigned current, const std::vector<unsigned>& profiles) {
  Bytes list = {0x00, 0x00, 0x03, static_cast<uint8_t>(profiles.size() * 4)};
  for (unsigned profile : profiles)
    list.insert(list.end(), {static_cast<uint8_t>(profile >> 8), static_cast<uint8_t>(profile),
                             static_cast<uint8_t>(profile == current ? 1 : 0), 0});
  Bytes core = {0x00, 0x01, 0x0b, 0x08, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00};
  Bytes removable = {0x00, 0x03, 0x0b, 0x04, 0x29, 0x00, 0x00, 0x02};
  size_t total = 8 + list.size() + core.size() + removable.size();
  uint32_t length = total - 4;  // MMC: the bytes after the length field
  Bytes reply = {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
                 static_cast<uint8_t>(length >> 8),  static_cast<uint8_t>(length),
                 0,
                 0,
                 static_cast<uint8_t>(current >> 8),
                 static_cast<uint8_t>(current)};
  for (const Bytes* part : {&list, &core, &removable})
    reply.insert(reply.end(), part->begin(), part->end());
  return reply;
}

// READ DISC INFORMATION (32 bytes): status byte (disc status in bits 0-1, last session's
// state in 2-3, erasable bit 4), sessions and tracks split into LSB (bytes 4-6) and MSB
// (bytes 9-11).
Bytes DiscInformation(uint8_t status, unsigned sessions, unsigned first_track_last_session,
                      unsigned last_track, uint8_t disc_type = 0x00) {
  Bytes reply(32, 0);
  reply[1] = 32;
  reply[2] = status;
  reply[3] = 1;
  reply[4] = sessions & 0xff;
  reply[5] = first_track_last_session & 0xff;
  reply[6] = last_track & 0xff;
  reply[7] = 0x20;  // unrestricted use
  reply[8] = disc_type;
  reply[9] = sessions >> 8;
  reply[10] = first_track_last_session >> 8;
  reply[11] = last_track >> 8;
  return reply;
}

struct Track {
  uint8_t control;  // ADR/CONTROL byte: 0x14 data, 0x10 audio
  uint32_t lba;
};

// READ TOC format 0: tracks first.., then the lead-out (0xaa).
Bytes TrackToc(unsigned first, const std::vector<Track>& tracks, uint32_t leadout) {
  Bytes reply = {0, 0, static_cast<uint8_t>(first),
                 static_cast<uint8_t>(first + tracks.size() - 1)};
  auto add = [&](uint8_t control, uint8_t number, uint32_t lba) {
    reply.insert(reply.end(), {0, control, number, 0, static_cast<uint8_t>(lba >> 24),
                               static_cast<uint8_t>(lba >> 16), static_cast<uint8_t>(lba >> 8),
                               static_cast<uint8_t>(lba)});
  };
  for (size_t i = 0; i < tracks.size(); ++i)
    add(tracks[i].control, static_cast<uint8_t>(first + i), tracks[i].lba);
  add(0x16, 0xaa, leadout);
  reply[1] = static_cast<uint8_t>(reply.size() - 2);
  return reply;
}

// READ TOC format 1: first and last complete session, and the first track of the last one.
Bytes SessionToc(unsigned last_session, unsigned track, uint32_t lba) {
  return {0,
          0x0a,
          1,
          static_cast<uint8_t>(last_session),
          0,
          0x14,
          static_cast<uint8_t>(track),
          0,
          static_cast<uint8_t>(lba >> 24),
          static_cast<uint8_t>(lba >> 16),
          static_cast<uint8_t>(lba >> 8),
          static_cast<uint8_t>(lba)};
}

// The order in which ProbeCdrom applies the replies.
CdromInfo Probe(int capability, const Bytes& configuration, const Bytes& toc,
                const Bytes& sessions, const Bytes& disc) {
  CdromInfo info;
  AddCdromCapabilities(capability, &info);
  if (ApplyCdromConfiguration(configuration, &info)) {
    ApplyCdromTrackToc(toc, &info);
    ApplyCdromSessionToc(sessions, &info);
    ApplyCdromDiscInformation(disc, &info);
  }
  return info;
}

TEST(CdromFeaturesTest, QemuDvdRomWithAnIso) {
  // QEMU's DVD-ROM: the kernel sees a DVD reader that writes nothing; a small ISO is a CD.
  CdromInfo info = Probe(CDC_DVD | CDC_OPEN_TRAY | CDC_LOCK, Configuration(0x0008, {0x10, 0x08}),
                         TrackToc(1, {{0x14, 0}}, 1234), SessionToc(1, 1, 0),
                         DiscInformation(0x0e, 1, 1, 1));
  EXPECT_EQ(CdromProperties(info), (Properties{{"ID_CDROM", "1"},
                                               {"ID_CDROM_DVD", "1"},
                                               {"ID_CDROM_CD", "1"},
                                               {"ID_CDROM_MEDIA", "1"},
                                               {"ID_CDROM_MEDIA_CD", "1"},
                                               {"ID_CDROM_MEDIA_SESSION_COUNT", "1"},
                                               {"ID_CDROM_MEDIA_TRACK_COUNT", "1"},
                                               {"ID_CDROM_MEDIA_TRACK_COUNT_DATA", "1"}}));
}

TEST(CdromFeaturesTest, EmptyDriveHasOnlyItsCapabilities) {
  // No current profile: no medium, and the TOC and disc information are not asked for.
  CdromInfo info = Probe(CDC_DVD, Configuration(0x0000, {0x10, 0x08}), {}, {}, {});
  EXPECT_FALSE(info.has_media);
  EXPECT_EQ(CdromProperties(info),
            (Properties{{"ID_CDROM", "1"}, {"ID_CDROM_DVD", "1"}, {"ID_CDROM_CD", "1"}}));
}

TEST(CdromFeaturesTest, BurnerProfilesAndFamilies) {
  // A DVD±RW/BD-R burner's profile list (current: none), plus made-up MO and DDR entries and
  // a profile nobody names (0xffff, "non-standard"), which prints nothing.
  CdromInfo info;
  AddCdromCapabilities(CDC_CD_R | CDC_CD_RW | CDC_DVD | CDC_DVD_R | CDC_DVD_RAM | CDC_MRW |
                           CDC_MRW_W,
                       &info);
  ApplyCdromConfiguration(Configuration(0, {0x0012, 0x0011, 0x0015, 0x0016, 0x0013, 0x0014,
                                            0x001a, 0x001b, 0x002b, 0x0041, 0x0042, 0x0043,
                                            0x0010, 0x0009, 0x000a, 0x0008, 0x0018, 0x0004,
                                            0xffff}),
                          &info);
  EXPECT_EQ(CdromProperties(info), (Properties{{"ID_CDROM", "1"},
                                               {"ID_CDROM_CD_R", "1"},
                                               {"ID_CDROM_CD_RW", "1"},
                                               {"ID_CDROM_DVD", "1"},
                                               {"ID_CDROM_DVD_R", "1"},
                                               {"ID_CDROM_DVD_RAM", "1"},
                                               {"ID_CDROM_MRW", "1"},
                                               {"ID_CDROM_MRW_W", "1"},
                                               {"ID_CDROM_DVD_R_DL_SEQ", "1"},
                                               {"ID_CDROM_DVD_R_DL_JR", "1"},
                                               {"ID_CDROM_DVD_RW_RO", "1"},
                                               {"ID_CDROM_DVD_RW_SEQ", "1"},
                                               {"ID_CDROM_DVD_PLUS_RW", "1"},
                                               {"ID_CDROM_DVD_PLUS_R", "1"},
                                               {"ID_CDROM_DVD_PLUS_R_DL", "1"},
                                               {"ID_CDROM_BD_R_SRM", "1"},
                                               {"ID_CDROM_BD_R_RRM", "1"},
                                               {"ID_CDROM_BD_RE", "1"},
                                               {"ID_CDROM_CD", "1"},
                                               {"ID_CDROM_DVD_R_DDR", "1"},
                                               {"ID_CDROM_MO_WO", "1"},
                                               {"ID_CDROM_MO", "1"},
                                               {"ID_CDROM_DVD_RW", "1"},
                                               {"ID_CDROM_DVD_R_DL", "1"},
                                               {"ID_CDROM_DVD_R", "1"},
                                               {"ID_CDROM_BD_R", "1"}}));
}

TEST(CdromFeaturesTest, MultisessionCdR) {
  // An appendable CD-R with two sessions of one data track each; the second starts at LBA
  // 24362, where blkid must look for the newest filesystem.
  CdromInfo info = Probe(CDC_CD_R | CDC_CD_RW | CDC_DVD, Configuration(0x0009, {0x09, 0x0a, 0x08}),
                         TrackToc(1, {{0x14, 0}, {0x14, 24362}}, 30000), SessionToc(2, 2, 24362),
                         DiscInformation(0x01 | 0x04, 2, 3, 2));
  Properties properties = CdromProperties(info);
  Properties media(properties.begin() + 5, properties.end());
  EXPECT_EQ(media, (Properties{{"ID_CDROM_MEDIA", "1"},
                               {"ID_CDROM_MEDIA_CD_R", "1"},
                               {"ID_CDROM_MEDIA_STATE", "appendable"},
                               {"ID_CDROM_MEDIA_SESSION_NEXT", "3"},
                               {"ID_CDROM_MEDIA_SESSION_COUNT", "2"},
                               {"ID_CDROM_MEDIA_SESSION_LAST_OFFSET", "49893376"},
                               {"ID_CDROM_MEDIA_TRACK_COUNT", "2"},
                               {"ID_CDROM_MEDIA_TRACK_COUNT_DATA", "2"}}));
}

TEST(CdromFeaturesTest, EnhancedAudioCd) {
  // Ten audio tracks and a data track (CD Extra) in two sessions; a pressed CD has no state.
  std::vector<Track> tracks;
  for (uint32_t i = 0; i < 10; ++i) tracks.push_back({0x10, i * 15000});
  tracks.push_back({0x14, 161400});
  CdromInfo info = Probe(CDC_DVD, Configuration(0x0008, {0x10, 0x08}),
                         TrackToc(1, tracks, 200000), SessionToc(2, 11, 161400),
                         DiscInformation(0x0e, 2, 11, 11));
  Properties properties = CdromProperties(info);
  Properties media(properties.begin() + 3, properties.end());
  EXPECT_EQ(media, (Properties{{"ID_CDROM_MEDIA", "1"},
                               {"ID_CDROM_MEDIA_CD", "1"},
                               {"ID_CDROM_MEDIA_SESSION_COUNT", "2"},
                               {"ID_CDROM_MEDIA_SESSION_LAST_OFFSET", "330547200"},
                               {"ID_CDROM_MEDIA_TRACK_COUNT", "11"},
                               {"ID_CDROM_MEDIA_TRACK_COUNT_AUDIO", "10"},
                               {"ID_CDROM_MEDIA_TRACK_COUNT_DATA", "1"}}));
}

TEST(CdromFeaturesTest, BlankMedia) {
  // A blank CD-R: no tracks in the TOC (its header alone), state blank, next session 1.
  CdromInfo info = Probe(CDC_CD_R, Configuration(0x0009, {0x09, 0x08}), {0, 2, 1, 1}, {},
                         DiscInformation(0x00, 1, 1, 1));
  EXPECT_EQ(info.track_count_data + info.track_count_audio, 0u);
  EXPECT_EQ(info.media_state, CdromMediaState::kBlank);
  EXPECT_EQ(info.session_next, 1u);
  // A fresh DVD-RW in restricted overwrite mode says "appendable" but is blank, and cannot
  // take another session.
  CdromInfo dvd;
  ApplyCdromConfiguration(Configuration(0x0013, {0x13, 0x14}), &dvd);
  EXPECT_FALSE(ApplyCdromDiscInformation(DiscInformation(0x01, 1, 1, 1), &dvd));
  EXPECT_EQ(dvd.media_state, CdromMediaState::kBlank);
  EXPECT_EQ(dvd.session_next, 0u);
}

TEST(CdromFeaturesTest, FormattedRewritableDvdIsJudgedByItsContent) {
  CdromInfo info;
  ApplyCdromConfiguration(Configuration(0x001a, {0x1a}), &info);
  // DVD+RW always says "complete" once formatted: the content must be looked at.
  ASSERT_TRUE(ApplyCdromDiscInformation(DiscInformation(0x0e, 1, 1, 1), &info));
  Bytes blocks(32 * 2048, 0);
  CdromInfo with_data = info;
  ApplyCdromContent(blocks, &info);
  EXPECT_EQ(info.media_state, CdromMediaState::kBlank);
  blocks[16 * 2048 + 1] = 'C';  // "CD001", an ISO 9660 volume descriptor
  ApplyCdromContent(blocks, &with_data);
  EXPECT_EQ(with_data.media_state, CdromMediaState::kComplete);
  // A DVD-R (not rewritable) is taken at its word.
  CdromInfo dvd_r;
  ApplyCdromConfiguration(Configuration(0x0011, {0x11}), &dvd_r);
  EXPECT_FALSE(ApplyCdromDiscInformation(DiscInformation(0x0e, 1, 1, 1), &dvd_r));
  EXPECT_EQ(CdromProperties(dvd_r).at(3), (Property{"ID_CDROM_MEDIA_DVD_R", "1"}));
}

TEST(CdromFeaturesTest, DrivesOlderThanMmc2) {
  CdromInfo erasable;
  erasable.has_media = true;
  EXPECT_TRUE(ApplyOldCdromDiscInformation(DiscInformation(0x10 | 0x01, 1, 1, 1), &erasable));
  EXPECT_EQ(erasable.media_feature, kCdromProfileCdRw);
  CdromInfo writable;
  AddCdromCapabilities(CDC_CD_R, &writable);
  ApplyOldCdromDiscInformation(DiscInformation(0x01, 1, 1, 1), &writable);
  EXPECT_EQ(writable.media_feature, kCdromProfileCdR);
  // No disc information at all, but the drive status saw a disc: a one-track CD-ROM.
  CdromInfo guessed;
  guessed.has_media = true;
  EXPECT_TRUE(ApplyOldCdromDiscInformation({}, &guessed));
  EXPECT_EQ(CdromProperties(guessed), (Properties{{"ID_CDROM", "1"},
                                                  {"ID_CDROM_MEDIA", "1"},
                                                  {"ID_CDROM_MEDIA_CD", "1"},
                                                  {"ID_CDROM_MEDIA_TRACK_COUNT", "1"},
                                                  {"ID_CDROM_MEDIA_TRACK_COUNT_DATA", "1"}}));
  CdromInfo none;
  EXPECT_FALSE(ApplyOldCdromDiscInformation({}, &none));
  EXPECT_EQ(CdromProperties(none), (Properties{{"ID_CDROM", "1"}}));
}

TEST(CdromFeaturesTest, MalformedRepliesStayInBounds) {
  // A length field far beyond the reply, a profile list longer than the reply.
  Bytes configuration = Configuration(0x0008, {0x08, 0x10});
  configuration[0] = 0x7f;
  configuration[11] = 0xfc;
  CdromInfo info;
  EXPECT_TRUE(ApplyCdromConfiguration(configuration, &info));
  EXPECT_TRUE(info.DriveHas(0x08));
  // Short replies change nothing.
  CdromInfo empty;
  EXPECT_FALSE(ApplyCdromConfiguration(Bytes{0, 0, 0}, &empty));
  EXPECT_FALSE(ApplyCdromDiscInformation(Bytes(11, 0xff), &empty));
  ApplyCdromSessionToc(Bytes(11, 0xff), &empty);
  ApplyCdromTrackToc(Bytes{0xff}, &empty);
  EXPECT_EQ(CdromProperties(empty), (Properties{{"ID_CDROM", "1"}}));
  // A last track below the first: the TOC's own length still bounds the walk.
  Bytes toc = TrackToc(1, {{0x14, 0}}, 100);
  toc[2] = 5;
  toc[3] = 2;
  CdromInfo wrapped;
  ApplyCdromTrackToc(toc, &wrapped);
  EXPECT_EQ(wrapped.track_count_data, 2u);  // track 1 and the lead-out, both data
  // A TOC whose length says more than was transferred.
  toc[1] = 0xff;
  CdromInfo truncated;
  ApplyCdromTrackToc(toc, &truncated);
  EXPECT_LE(truncated.track_count_data, 2u);
}

TEST(CdromIdOptionsTest, UdevSpellings) {
  auto lock = ParseCdromIdOptions({"--lock-media"});
  ASSERT_TRUE(lock);
  EXPECT_TRUE(lock->lock);
  EXPECT_FALSE(lock->eject);
  auto short_forms = ParseCdromIdOptions({"-e", "-u", "-d"});
  ASSERT_TRUE(short_forms);
  EXPECT_TRUE(short_forms->eject);
  EXPECT_TRUE(short_forms->unlock);
  EXPECT_FALSE(short_forms->lock);
  auto none = ParseCdromIdOptions({});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->lock || none->unlock || none->eject);
  auto bad = ParseCdromIdOptions({"--frobnicate"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EINVAL);
}

TEST(CdromIdProbeTest, NotAnOpticalDrive) {
  // A regular file answers no CDROM_GET_CAPABILITY: an error, never made-up properties.
  testing::TempDir dir;
  std::ofstream(dir.Sub("image")) << "not a drive";
  UniqueFd fd(open(dir.Sub("image").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  auto properties = ProbeCdrom(fd.get(), CdromIdOptions{});
  ASSERT_FALSE(properties);
  EXPECT_EQ(properties.error().code, ENOTTY);
}

}  // namespace
}  // namespace vdev
