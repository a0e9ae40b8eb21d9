// The ata_id builtin, after udev 252's ata_id program: ask the drive itself (IDENTIFY through
// SG_IO) rather than the SCSI layer's view of it, which for ATA disks says only "ATA".
#include "builtin_ata_id.h"

#include <linux/hdreg.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "ata_identify.h"
#include "common/log.h"
#include "scsi_sg_io.h"

namespace vdev {
namespace {

constexpr uint8_t kScsiTypeDisk = 0x00;
constexpr uint8_t kScsiTypeCdrom = 0x05;

// ata_id's disk_identify: the IDENTIFY data, or why there is none.
Result<std::array<uint8_t, 512>> Identify(int fd) {
  // An ATA PASS-THROUGH (12) sent to a CD writer is MMC's BLANK: find out what the device is
  // (libata translates the INQUIRY) before sending any ATA command.
  auto inquiry = AtaScsiInquiry(fd);
  if (!inquiry) return tl::unexpected(inquiry.error());
  uint8_t type = static_cast<uint8_t>((*inquiry)[0]) & 0x1f;
  if (type != kScsiTypeDisk && type != kScsiTypeCdrom)
    return Fail(ENOTSUP, "SCSI device type " + std::to_string(type) + " is no ATA drive");
  auto identify = AtaIdentify(
      fd, type == kScsiTypeCdrom ? AtaIdentifyCommand::kPacketDevice : AtaIdentifyCommand::kDevice);
  if (!identify) return identify;
  if (IsAllZero(*identify)) return Fail(EIO, "IDENTIFY data is all zeros");
  return identify;
}

}  // namespace

Result<std::vector<Property>> AtaIdProperties(int node_fd) {
  auto identify = Identify(node_fd);
  if (identify) return AtaIdentifyProperties(*identify, AtaIdentifySource::kDrive);
  // libata also answers the old IDE ioctl, with the strings already in order.
  static_assert(sizeof(struct hd_driveid) == 512);
  std::array<uint8_t, 512> driveid{};
  if (ioctl(node_fd, HDIO_GET_IDENTITY, driveid.data()) == 0)
    return AtaIdentifyProperties(driveid, AtaIdentifySource::kHdioGetIdentity);
  int hdio_error = errno;
  const Error& error = identify.error();
  // The SG_IO transport failed outright: that is the drive's failure, worth reporting.
  if (error.code != EIO && error.code != ENOTSUP && error.code != EINVAL && error.code != ENOTTY)
    return Fail(error.code, "ata_id: " + error.context);
  return Fail(ENOTSUP, "ata_id: " + error.Message() +
                           "; HDIO_GET_IDENTITY: " + std::string(strerror(hdio_error)));
}

Status RunAtaIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  if (state.dev_fd < 0) return Fail(EBADF, "ata_id: no dev root to open the node in");
  auto fd = OpenIdentityNode(state.dev_fd, state.device);
  if (!fd) {
    int code = fd.error().code;
    if (code == ENOENT || code == ENXIO || code == ENODEV || code == ENOMEDIUM) {
      LogDebug("%s: ata_id: %s, ignoring", state.device.devpath().c_str(),
               fd.error().Message().c_str());
      return Ok();
    }
    return Fail(code, "ata_id: " + fd.error().context);
  }
  auto properties = AtaIdProperties(fd->get());
  if (!properties) {
    // udev's ata_id fails quietly on a disk that does not speak ATA (a USB enclosure without
    // SAT): nothing to import, nothing wrong.
    if (properties.error().code != ENOTSUP) return tl::unexpected(properties.error());
    LogDebug("%s: %s", state.device.devpath().c_str(), properties.error().Message().c_str());
    return Ok();
  }
  for (const auto& [key, value] : *properties) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
