// SG_IO commands for the builtins that question drives (ata_id, scsi_id, cdrom_id): one
// primitive, SCSI INQUIRY and ATA IDENTIFY through ATA PASS-THROUGH, on an open block node,
// each bounded by a command timeout.
#pragma once

#include <scsi/sg.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/device.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

// A command the drive does not answer is given up after this long (the kernel then aborts
// it); ata_id allows 30 s, scsi_id 5 s. A worker must not wait half a minute on one disk.
inline constexpr unsigned kScsiCommandTimeoutMs = 10 * 1000;

// What one SG_IO returned: the header's status fields and the sense data.
struct ScsiCommandResult {
  sg_io_hdr_t header;  // its pointers are cleared: they pointed at the caller's buffers
  std::array<uint8_t, 32> sense;
};

// One SG_IO: cdb to the device, data (may be empty) from it, kScsiCommandTimeoutMs at most.
// Fails only when the ioctl does; the command's own outcome is in the result.
[[nodiscard]] Result<ScsiCommandResult> SendScsiCommand(int fd, std::span<const uint8_t> cdb,
                                                        std::span<uint8_t> data);

// scsi_id's INQUIRY allocation length (SCSI_INQ_BUFF_LEN): what it reads of any page.
inline constexpr size_t kScsiInquiryLength = 254;

// Opens the device's node (its DEVNAME below dev_fd) O_RDONLY|O_NONBLOCK, as ata_id and
// scsi_id open $devnode. ENXIO when the node there is not this device's (a name reused by a
// newer device); a regular file is accepted (tests).
[[nodiscard]] Result<UniqueFd> OpenIdentityNode(int dev_fd, const Device& device);

// INQUIRY (evpd: a VPD page) of length bytes. As scsi_id judges it: good status or a
// recovered error is success; ENOTSUP when the device refused it (ILLEGAL REQUEST), EIO for
// any other failed status, the ioctl's errno (ETIMEDOUT, ENODEV ...) when it failed.
[[nodiscard]] Result<std::string> ScsiInquiry(int fd, bool evpd, uint8_t page,
                                              size_t length = kScsiInquiryLength);

// ata_id's own standard INQUIRY: 36 bytes; EIO unless status, host and driver status are 0.
[[nodiscard]] Result<std::string> AtaScsiInquiry(int fd);

enum class AtaIdentifyCommand {
  kDevice,        // IDENTIFY DEVICE (0xec), for disks
  kPacketDevice,  // IDENTIFY PACKET DEVICE (0xa1), for ATAPI (SCSI type 5) devices
};

// 512 bytes of IDENTIFY data exactly as the drive sent them, through ATA PASS-THROUGH (16),
// then (12) for IDENTIFY DEVICE only: on an ATAPI drive opcode 0xa1 is MMC's BLANK, which
// could erase a rewritable disc. The command must report the ATA registers back (descriptor
// sense with an ATA status return, or fixed-format sense other than ILLEGAL REQUEST, which is
// what Debian 12's kernel answers and its ata_id accepts); otherwise EIO.
[[nodiscard]] Result<std::array<uint8_t, 512>> AtaIdentify(int fd, AtaIdentifyCommand command);

}  // namespace vdev
