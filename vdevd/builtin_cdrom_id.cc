// The cdrom_id builtin, after udev 252's cdrom_id: the same questions to the drive in the same
// order (the kernel's capability and drive status, then MMC commands over SG_IO), so drives
// that answer oddly get udev's properties. The replies are decoded in cdrom_features.cc.
#include "builtin_cdrom_id.h"

#include <fcntl.h>
#include <linux/cdrom.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <climits>  // CDSL_CURRENT is INT_MAX
#include <cstring>
#include <span>

#include "cdrom_features.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "scsi_sg_io.h"

namespace vdev {
namespace {

constexpr uint8_t kInquiry = 0x12;  // GPCMD_INQUIRY

// The outcome of one SCSI command: an errno, or the sense data of a CHECK CONDITION.
struct ScsiResult {
  int error = 0;        // errno of the ioctl, or EIO
  unsigned sense = 0;   // (sense key << 16) | (ASC << 8) | ASCQ
  bool ok() const { return error == 0; }
  unsigned sense_key() const { return (sense >> 16) & 0x0f; }
  unsigned asc() const { return (sense >> 8) & 0xff; }
};

// One CDB (its length is what the command defines), data from the device into buffer.
ScsiResult RunScsi(int fd, std::span<const uint8_t> cdb, std::span<uint8_t> buffer) {
  ScsiResult result;
  auto sent = SendScsiCommand(fd, cdb, buffer);
  if (!sent) {
    result.error = sent.error().code;
    return result;
  }
  if ((sent->header.info & SG_INFO_OK_MASK) != SG_INFO_OK) {
    result.error = EIO;
    const auto& sense = sent->sense;
    if (sent->header.masked_status & 0x01)  // CHECK_CONDITION: fixed-format sense data
      result.sense = (sense[2] & 0x0fu) << 16 | sense[12] << 8 | sense[13];
  }
  return result;
}

bool Scsi(int fd, std::span<const uint8_t> cdb, std::span<uint8_t> buffer, const char* what) {
  ScsiResult result = RunScsi(fd, cdb, buffer);
  if (result.ok()) return true;
  if (result.sense != 0)
    LogDebug("cdrom_id: %s failed with SK=%X/ASC=%02X/ASCQ=%02X", what, result.sense_key(),
             result.asc(), result.sense & 0xff);
  else
    LogDebug("cdrom_id: %s failed: %s", what, strerror(result.error));
  return false;
}

uint8_t High(size_t length) { return static_cast<uint8_t>(length >> 8); }
uint8_t Low(size_t length) { return static_cast<uint8_t>(length); }

void LockMedia(int fd, bool lock) {
  // The kernel's own lock logic would undo ours on the next open or close.
  if (ioctl(fd, CDROM_CLEAR_OPTIONS, CDO_LOCK) < 0)
    LogDebug("cdrom_id: CDROM_CLEAR_OPTIONS: %s, ignoring", strerror(errno));
  if (ioctl(fd, CDROM_LOCKDOOR, lock ? 1 : 0) < 0)
    LogDebug("cdrom_id: CDROM_LOCKDOOR: %s, ignoring", strerror(errno));
}

void EjectMedia(int fd) {
  const uint8_t cdb[] = {GPCMD_START_STOP_UNIT, 0, 0, 0, 0x02, 0};
  (void)Scsi(fd, cdb, {}, "start/stop unit (eject)");
}

bool IsMmcDrive(int fd) {
  std::array<uint8_t, 36> inquiry{};
  const uint8_t cdb[] = {kInquiry, 0, 0, 0, inquiry.size(), 0};
  if (!Scsi(fd, cdb, inquiry, "inquiry")) return false;
  return (inquiry[0] & 0x1f) == 5;  // peripheral type: CD/DVD
}

// Pre-MMC-2 drives: returns whether to go on to the TOC and disc information (udev does only
// when it had to assume a CD-ROM).
bool ProbeOldMmc(int fd, CdromInfo* info) {
  std::array<uint8_t, 34> disc{};  // struct disc_information
  const uint8_t length_cdb[] = {GPCMD_READ_DISC_INFO, 0, 0, 0, 0, 0, 0, 0, 2, 0};
  std::span<const uint8_t> reply;
  if (Scsi(fd, length_cdb, std::span(disc).first(2), "read disc information")) {
    // Drives differ in how much they supply: ask again for what this one says it has.
    size_t length = std::min<size_t>((disc[0] << 8 | disc[1]) + 2, disc.size());
    const uint8_t cdb[] = {GPCMD_READ_DISC_INFO, 0, 0, 0, 0, 0, 0, 0, Low(length), 0};
    if (Scsi(fd, cdb, std::span(disc).first(length), "read disc information"))
      reply = std::span(disc).first(length);
  }
  bool had_reply = !reply.empty();
  bool media = ApplyOldCdromDiscInformation(reply, info);
  return media && !had_reply;
}

// GET CONFIGURATION: the drive's profiles and the current one. Returns whether there is a
// medium to look at.
bool ProbeProfiles(int fd, CdromInfo* info) {
  std::vector<uint8_t> features(65530);
  const uint8_t header_cdb[] = {GPCMD_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 8, 0};
  ScsiResult result = RunScsi(fd, header_cdb, std::span(features).first(8));
  if (!result.ok()) {
    // ILLEGAL REQUEST, invalid command or field: a drive from before MMC-2.
    if (result.sense_key() == 0x5 && (result.asc() == 0x20 || result.asc() == 0x24)) {
      LogDebug("cdrom_id: pre-MMC-2 drive without GET CONFIGURATION");
      return ProbeOldMmc(fd, info);
    }
    LogDebug("cdrom_id: get configuration failed: %s", strerror(result.error));
    return false;
  }
  ApplyCdromConfiguration(std::span(features).first(8), info);
  size_t length = features[0] << 24 | features[1] << 16 | features[2] << 8 | features[3];
  if (length > features.size() || length <= 8) length = features.size();
  const uint8_t cdb[] = {GPCMD_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, High(length), Low(length), 0};
  std::fill(features.begin(), features.end(), 0);
  if (!Scsi(fd, cdb, std::span(features).first(length), "get configuration")) return false;
  return ApplyCdromConfiguration(std::span(features).first(length), info);
}

void ProbeToc(int fd, CdromInfo* info) {
  std::array<uint8_t, 12> header{};
  const uint8_t header_cdb[] = {GPCMD_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 1, 0, header.size(), 0};
  if (!Scsi(fd, header_cdb, header, "read TOC")) return;
  size_t length = (header[0] << 8 | header[1]) + 2;
  if (length < 8) return;  // empty media has no tracks
  std::vector<uint8_t> toc(length);
  const uint8_t cdb[] = {GPCMD_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, header[2],
                         High(length), Low(length), 0};
  if (!Scsi(fd, cdb, toc, "read TOC (tracks)")) return;
  ApplyCdromTrackToc(toc, info);
  header.fill(0);
  const uint8_t session_cdb[] = {GPCMD_READ_TOC_PMA_ATIP, 0, 1, 0, 0, 0, 0, 0, header.size(), 0};
  if (!Scsi(fd, session_cdb, header, "read TOC (multi session)")) return;
  ApplyCdromSessionToc(header, info);
}

// A rewritable DVD that says "complete" or "other": look at the medium (blank or not). When
// udev gives up on reading it, it has no medium.
void ProbeDvdContent(int fd, CdromInfo* info) {
  if (info->media_feature == kCdromProfileDvdRam) {
    std::array<uint8_t, 8> structure{};
    const uint8_t cdb[] = {GPCMD_READ_DVD_STRUCTURE, 0, 0, 0, 0, 0, 0, 0xc0, 0,
                           structure.size(), 0, 0};
    if (!Scsi(fd, cdb, structure, "read DVD structure")) return;
    if (structure[4] & 0x02) {  // write protected
      info->media_state = CdromMediaState::kComplete;
      return;
    }
    std::array<uint8_t, 12> format{};
    const uint8_t format_cdb[] = {GPCMD_READ_FORMAT_CAPACITIES, 0, 0, 0, 0, 0, 0, 0,
                                  format.size(), 0};
    if (!Scsi(fd, format_cdb, format, "read DVD format capacities")) return;
    unsigned length = format[3];
    if ((length & 7) != 0 || length < 16) return;
    switch (format[8] & 3) {
      case 1:  // an interrupted format: left as it is
        return;
      case 3:  // no medium
        info->has_media = false;
        return;
      default:
        break;
    }
  }
  // Sectors 0 and 16 in one command.
  std::vector<uint8_t> blocks(32 * 2048);
  const uint8_t cdb[] = {GPCMD_READ_10, 0, 0, 0, 0, 0, 0, 0, 32, 0};
  if (!Scsi(fd, cdb, blocks, "read first 32 blocks")) {
    info->has_media = false;
    return;
  }
  ApplyCdromContent(blocks, info);
}

void ProbeDiscInformation(int fd, CdromInfo* info) {
  std::array<uint8_t, 32> header{};
  const uint8_t cdb[] = {GPCMD_READ_DISC_INFO, 0, 0, 0, 0, 0, 0, 0, header.size(), 0};
  if (!Scsi(fd, cdb, header, "read disc information")) return;
  if (ApplyCdromDiscInformation(header, info)) ProbeDvdContent(fd, info);
}

}  // namespace

Result<CdromIdOptions> ParseCdromIdOptions(const std::vector<std::string>& args) {
  CdromIdOptions options;
  for (const auto& arg : args) {
    if (arg == "-l" || arg == "--lock-media") {
      options.lock = true;
    } else if (arg == "-u" || arg == "--unlock-media") {
      options.unlock = true;
    } else if (arg == "-e" || arg == "--eject-media") {
      options.eject = true;
    } else if (arg == "-d" || arg == "--debug") {
      // udev's debug output: our LogDebug, at the daemon's log level.
    } else {
      return Fail(EINVAL, "cdrom_id: unknown option '" + arg + "'");
    }
  }
  return options;
}

Result<std::vector<Property>> ProbeCdrom(int fd, const CdromIdOptions& options) {
  CdromInfo info;
  int capability = ioctl(fd, CDROM_GET_CAPABILITY, nullptr);
  if (capability < 0) return FailErrno("cdrom_id: CDROM_GET_CAPABILITY");
  AddCdromCapabilities(capability, &info);
  // Without a medium the profiles still tell what the drive can do.
  if (ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT) == CDS_DISC_OK) info.has_media = true;
  if (IsMmcDrive(fd) && ProbeProfiles(fd, &info)) {
    ProbeToc(fd, &info);
    ProbeDiscInformation(fd, &info);
  }
  // A locked tray turns the eject button into a DISK_EJECT_REQUEST event.
  if (options.lock && info.has_media) LockMedia(fd, true);
  if (options.unlock && info.has_media) LockMedia(fd, false);
  if (options.eject) {
    LockMedia(fd, false);
    EjectMedia(fd);
  }
  return CdromProperties(info);
}

Status RunCdromIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  auto options = ParseCdromIdOptions(call.args);
  if (!options) return tl::unexpected(options.error());
  if (state.dev_fd < 0) return Fail(EBADF, "cdrom_id: no dev root to open the node in");
  std::string name(state.device.properties().devname());
  if (name.starts_with("/dev/")) name.erase(0, 5);
  if (name.empty()) return Fail(ENODEV, "cdrom_id: " + state.device.devpath() + " has no node");
  UniqueFd fd(openat(state.dev_fd, name.c_str(),
                     O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW));
  if (!fd) {
    // Held exclusively (a burner at work): try again a little later.
    if (errno == EBUSY && !state.last_attempt) {
      state.busy = true;
      return Fail(EAGAIN, "cdrom_id: " + name + " is busy");
    }
    return FailErrno("cdrom_id: open " + name);
  }
  // The name may have been reused by a newer device: never probe another device's node.
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return FailErrno("cdrom_id: fstat " + name);
  if (!S_ISBLK(st.st_mode) || (state.device.devnum() && st.st_rdev != *state.device.devnum()))
    return Fail(ENXIO, "cdrom_id: " + name + " is not the node of " + state.device.sysname());
  auto properties = ProbeCdrom(fd.get(), *options);
  if (!properties) {
    // A Xen or LDOM virtual disk (xvd*, vdisk*) that is no optical drive: nothing to say.
    if (properties.error().code != ENOTTY && properties.error().code != EINVAL)
      return tl::unexpected(properties.error());
    LogDebug("%s: %s", state.device.devpath().c_str(), properties.error().Message().c_str());
    return Ok();
  }
  // What an earlier event found (a medium since ejected) must not stay.
  std::vector<std::string> stale;
  for (const auto& [key, value] : state.properties.properties())
    if (key.starts_with("ID_CDROM")) stale.push_back(key);
  for (const auto& key : stale) state.properties.Erase(key);
  for (const auto& [key, value] : *properties) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
