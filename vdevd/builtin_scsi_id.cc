// The scsi_id builtin, after udev 252's scsi_id program, reading first what the kernel
// already learned from the device (sysfs), so a disk is not asked the same questions twice.
#include "builtin_scsi_id.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "common/log.h"
#include "scsi_sg_io.h"
#include "scsi_vpd.h"

namespace vdev {
namespace {

constexpr size_t kVendorLength = 8;
constexpr size_t kModelLength = 16;

std::optional<Device> ScsiDeviceOf(const Device& device) {
  for (std::optional<Device> d = device; d; d = d->Parent())
    if (d->subsystem() == "scsi" && d->devtype() == "scsi_device") return d;
  return std::nullopt;
}

// The inquiry fields as the scsi_device's attributes show them (the kernel prints them with
// "%.8s", "%.16s", "%.4s" and the type in decimal).
std::optional<ScsiInquiryData> InquiryFromSysfs(const Device& scsi) {
  auto vendor = scsi.Attribute("vendor");
  auto model = scsi.Attribute("model");
  auto revision = scsi.Attribute("rev");
  auto type = scsi.Attribute("type");
  if (!vendor || !model || !revision || !type) return std::nullopt;
  char* end = nullptr;
  unsigned long number = strtoul(type->c_str(), &end, 10);
  if (end == type->c_str() || number > 0x1f) return std::nullopt;
  return ScsiInquiryData{*vendor, *model, *revision, static_cast<unsigned>(number)};
}

// A vpd_pg* attribute: the page with its header. Device::Attribute drops trailing newlines
// and NULs, so the bytes the header counts but the read lost come back as zeros (a page ending
// in 0x0a would need a raw read; see the report).
std::optional<std::string> VpdFromSysfs(const Device& scsi, const char* name) {
  auto page = scsi.Attribute(name);
  if (!page) return std::nullopt;
  if (page->size() >= 4) {
    size_t declared =
        4 + ((static_cast<uint8_t>((*page)[2]) << 8) | static_cast<uint8_t>((*page)[3]));
    if (page->size() < declared) page->resize(declared, '\0');
  }
  return page;
}

// The node, opened on first need.
class LazyNode {
 public:
  LazyNode(int dev_fd, const Device& device) : dev_fd_(dev_fd), device_(device) {}
  Result<int> Get() {
    if (!fd_) {
      if (dev_fd_ < 0) return Fail(ENODEV, "no dev root to open the node in");
      auto fd = OpenIdentityNode(dev_fd_, device_);
      if (!fd) return tl::unexpected(fd.error());
      fd_ = std::move(*fd);
    }
    return fd_.get();
  }

 private:
  int dev_fd_;
  const Device& device_;
  UniqueFd fd_;
};

// scsi_id's do_scsi_page0_inquiry: the supported page codes, nullopt when page 0 is unusable.
std::optional<std::string> SupportedPages(int fd, const ScsiInquiryData& inquiry) {
  auto page = ScsiInquiry(fd, true, 0x00);
  if (!page) return std::nullopt;
  auto byte = [&](size_t i) { return static_cast<uint8_t>((*page)[i]); };
  if (byte(1) != 0 || byte(3) > kScsiInquiryLength) return std::nullopt;
  // Some devices answer with the standard INQUIRY data: the vendor shows where it would be.
  if (byte(3) > kModelLength &&
      strncmp(page->data() + kVendorLength, inquiry.vendor.c_str(), kVendorLength) == 0)
    return std::nullopt;
  size_t count = std::min<size_t>(byte(3), kScsiInquiryLength - 4);
  return page->substr(4, count);
}

}  // namespace

Result<std::vector<Property>> ScsiIdProperties(const Device& device, int dev_fd) {
  LazyNode node(dev_fd, device);
  std::optional<Device> scsi = ScsiDeviceOf(device);
  std::optional<ScsiInquiryData> inquiry;
  if (scsi) inquiry = InquiryFromSysfs(*scsi);
  if (!inquiry) {
    auto fd = node.Get();
    if (!fd) return Fail(fd.error().code, "scsi_id: " + fd.error().context);
    auto data = ScsiInquiry(*fd, false, 0x00);
    if (!data) return Fail(data.error().code, "scsi_id: " + data.error().context);
    inquiry = ParseStandardInquiry(*data);
    if (!inquiry) return Fail(EIO, "scsi_id: short INQUIRY data");
  }

  ScsiSerial serial;
  std::optional<std::string> page83, page80;
  if (scsi) {
    page83 = VpdFromSysfs(*scsi, "vpd_pg83");
    page80 = VpdFromSysfs(*scsi, "vpd_pg80");
  }
  if (page83 || page80) {
    std::string supported;
    if (page80) supported += '\x80';
    if (page83) supported += '\x83';
    serial = ReadScsiSerial(*inquiry, supported,
                            [&](uint8_t page) { return page == 0x83 ? page83 : page80; });
  } else if (auto fd = node.Get()) {
    // udev goes on without a serial when the pages cannot be read.
    if (auto supported = SupportedPages(*fd, *inquiry)) {
      serial =
          ReadScsiSerial(*inquiry, *supported, [&](uint8_t page) -> std::optional<std::string> {
            auto data = ScsiInquiry(*fd, true, page);
            if (!data) return std::nullopt;
            return std::move(*data);
          });
    }
  } else {
    LogDebug("%s: scsi_id: %s, no serial", device.devpath().c_str(), fd.error().Message().c_str());
  }
  return ScsiIdExport(*inquiry, serial);
}

Status RunScsiIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  auto properties = ScsiIdProperties(state.device, state.dev_fd);
  if (!properties) {
    int code = properties.error().code;
    // The device went away or does not take SCSI commands (a regular file in tests): scsi_id
    // exits non-zero and udev imports nothing.
    if (code == ENOENT || code == ENXIO || code == ENODEV || code == ENOMEDIUM || code == ENOTTY ||
        code == ENOTSUP || code == EINVAL) {
      LogDebug("%s: %s, ignoring", state.device.devpath().c_str(),
               properties.error().Message().c_str());
      return Ok();
    }
    return tl::unexpected(properties.error());
  }
  for (const auto& [key, value] : *properties) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
