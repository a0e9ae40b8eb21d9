// SG_IO (the sg v3 interface, which sd, sr and sg all take) for the identity builtins. The
// commands and the way their outcome is judged follow systemd 252's ata_id and scsi_id, so
// that a drive they accept is accepted here and one they refuse is refused here.
#include "scsi_sg_io.h"

#include <fcntl.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace vdev {
namespace {

constexpr uint8_t kStatusCheckCondition = 0x02;
constexpr uint8_t kStatusCommandTerminated = 0x22;
constexpr uint16_t kDriverSense = 0x08;
constexpr uint16_t kDriverTimeout = 0x06;
constexpr uint16_t kHostNoConnect = 0x01;
constexpr uint16_t kHostBusBusy = 0x02;
constexpr uint16_t kHostTimeOut = 0x03;
constexpr uint8_t kSenseRecoveredError = 0x01;
constexpr uint8_t kSenseIllegalRequest = 0x05;

// scsi_id's sg_err_category: 0 for success (clean or recovered), else an errno.
int Category(const ScsiCommandResult& result) {
  const sg_io_hdr_t& io = result.header;
  unsigned status = io.status & 0x7e;
  if (status == 0 && io.host_status == 0 && io.driver_status == 0) return 0;
  if (status == kStatusCheckCondition || status == kStatusCommandTerminated ||
      (io.driver_status & 0xf) == kDriverSense) {
    if (io.sb_len_wr > 2) {
      const auto& sense = result.sense;
      // Descriptor format (0x72/0x73) keeps the key in byte 1, fixed format in byte 2.
      uint8_t key = (sense[0] & 0x2) ? (sense[1] & 0xf) : (sense[2] & 0xf);
      if (key == kSenseRecoveredError) return 0;
      if (key == kSenseIllegalRequest) return ENOTSUP;
    }
    return EIO;
  }
  if (io.host_status == kHostNoConnect || io.host_status == kHostBusBusy ||
      io.host_status == kHostTimeOut || io.driver_status == kDriverTimeout)
    return ETIMEDOUT;
  return EIO;
}

// Did the pass-through report the ATA registers back (CK_COND=1)? That is how ata_id tells
// a drive that ran the ATA command from a SCSI device that ignored an opcode it does not know:
// descriptor sense with an ATA status return descriptor, or (IDENTIFY DEVICE) fixed sense
// 00/1d. Debian 12's kernel (6.1.192, libata honouring D_SENSE=0) answers a successful
// IDENTIFY with fixed-format sense instead, which Debian's ata_id 252.39 accepts for both
// commands (seen in the VM); a device that does not know the opcode answers ILLEGAL REQUEST.
bool HasAtaStatusReturn(const std::array<uint8_t, 32>& sense, bool allow_fixed_format) {
  const uint8_t* descriptor = sense.data() + 8;
  if (sense[0] == 0x72 && descriptor[0] == 0x09 && descriptor[1] == 0x0c) return true;
  if (allow_fixed_format && sense[0] == 0x70 && sense[12] == 0x00 && sense[13] == 0x1d)
    return true;
  return sense[0] == 0x70 && (sense[2] & 0x0f) != kSenseIllegalRequest && sense[7] >= 10;
}

}  // namespace

Result<ScsiCommandResult> SendScsiCommand(int fd, std::span<const uint8_t> cdb,
                                          std::span<uint8_t> data) {
  ScsiCommandResult result{};
  sg_io_hdr_t& io = result.header;
  io.interface_id = 'S';
  io.cmd_len = static_cast<unsigned char>(cdb.size());
  io.cmdp = const_cast<uint8_t*>(cdb.data());
  io.mx_sb_len = static_cast<unsigned char>(result.sense.size());
  io.sbp = result.sense.data();
  io.dxfer_direction = data.empty() ? SG_DXFER_NONE : SG_DXFER_FROM_DEV;
  io.dxfer_len = static_cast<unsigned>(data.size());
  io.dxferp = data.empty() ? nullptr : data.data();
  io.timeout = kScsiCommandTimeoutMs;
  if (ioctl(fd, SG_IO, &io) < 0) return FailErrno("SG_IO");
  io.cmdp = nullptr;
  io.sbp = nullptr;  // points into result, which moves
  io.dxferp = nullptr;
  return result;
}

Result<UniqueFd> OpenIdentityNode(int dev_fd, const Device& device) {
  std::string_view name = device.properties().devname();
  if (name.starts_with("/dev/")) name.remove_prefix(5);
  if (name.empty()) return Fail(ENODEV, device.devpath() + " has no device node");
  std::string path(name);
  UniqueFd fd(openat(dev_fd, path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) return FailErrno("open " + path);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return FailErrno("fstat " + path);
  if (S_ISREG(st.st_mode)) return fd;
  if (!S_ISBLK(st.st_mode) || (device.devnum() && st.st_rdev != *device.devnum()))
    return Fail(ENXIO, path + " is not the node of " + device.sysname());
  return fd;
}

Result<std::string> ScsiInquiry(int fd, bool evpd, uint8_t page, size_t length) {
  if (length > 255) return Fail(EINVAL, "INQUIRY length too long");
  const uint8_t cdb[6] = {0x12, static_cast<uint8_t>(evpd ? 1 : 0), page,
                          0,    static_cast<uint8_t>(length),       0};
  std::string data(length, '\0');
  auto sent = SendScsiCommand(fd, cdb, std::span(reinterpret_cast<uint8_t*>(data.data()), length));
  if (!sent) return tl::unexpected(sent.error());
  if (int error = Category(*sent); error != 0) {
    char what[48];
    snprintf(what, sizeof(what), "INQUIRY (evpd %d, page 0x%02x)", evpd ? 1 : 0, page);
    return Fail(error, what);
  }
  return data;
}

Result<std::string> AtaScsiInquiry(int fd) {
  const uint8_t cdb[6] = {0x12, 0, 0, 0, 36, 0};
  std::string data(36, '\0');
  auto sent = SendScsiCommand(fd, cdb, std::span(reinterpret_cast<uint8_t*>(data.data()), 36));
  if (!sent) return tl::unexpected(sent.error());
  const sg_io_hdr_t& io = sent->header;
  if (io.status != 0 || io.host_status != 0 || io.driver_status != 0)
    return Fail(EIO, "INQUIRY failed");
  return data;
}

Result<std::array<uint8_t, 512>> AtaIdentify(int fd, AtaIdentifyCommand command) {
  const bool packet = command == AtaIdentifyCommand::kPacketDevice;
  const uint8_t ata_command = packet ? 0xa1 : 0xec;
  // PROTOCOL 4 (PIO data-in); 0x2e: CK_COND=1, T_DIR=1 (from the device), BYT_BLOK=1,
  // T_LENGTH=2 (the length is in the sector count: one 512-byte block).
  const uint8_t cdb16[16] = {0x85, 4 << 1, 0x2e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, ata_command, 0};
  const uint8_t cdb12[12] = {0xa1, 4 << 1, 0x2e, 0, 1, 0, 0, 0, 0, ata_command, 0, 0};
  std::array<uint8_t, 512> data{};
  auto sent = SendScsiCommand(fd, cdb16, data);
  bool answered = sent && HasAtaStatusReturn(sent->sense, !packet);
  if (!answered && !packet) {
    data.fill(0);
    sent = SendScsiCommand(fd, cdb12, data);
    answered = sent && HasAtaStatusReturn(sent->sense, true);
  }
  if (!sent) return tl::unexpected(sent.error());
  if (!answered)
    return Fail(EIO,
                packet ? "IDENTIFY PACKET DEVICE not answered" : "IDENTIFY DEVICE not answered");
  return data;
}

}  // namespace vdev
