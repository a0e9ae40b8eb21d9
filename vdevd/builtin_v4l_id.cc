// The v4l_id builtin, after udev 252's v4l_id: one VIDIOC_QUERYCAP on the node.
#include "builtin_v4l_id.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/unique_fd.h"
#include "udev_string.h"

namespace vdev {
namespace {

// systemd's utf8_is_valid && !string_has_cc: the card name goes into a property verbatim.
bool IsCleanText(std::string_view text) {
  while (!text.empty()) {
    auto c = static_cast<unsigned char>(text.front());
    if (c < ' ' || c == 127) return false;
    size_t length = ValidUtf8Length(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

}  // namespace

std::vector<Property> V4lIdProperties(const v4l2_capability& capability) {
  std::vector<Property> out;
  out.emplace_back("ID_V4L_VERSION", "2");
  const char* card = reinterpret_cast<const char*>(capability.card);
  std::string_view product(card, strnlen(card, sizeof(capability.card)));
  if (IsCleanText(product)) out.emplace_back("ID_V4L_PRODUCT", std::string(product));
  uint32_t caps = (capability.capabilities & V4L2_CAP_DEVICE_CAPS) ? capability.device_caps
                                                                    : capability.capabilities;
  std::string words = ":";
  if (caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) words += "capture:";
  if (caps & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE)) words += "video_output:";
  if (caps & V4L2_CAP_VIDEO_OVERLAY) words += "video_overlay:";
  if (caps & V4L2_CAP_AUDIO) words += "audio:";
  if (caps & V4L2_CAP_TUNER) words += "tuner:";
  if (caps & V4L2_CAP_RADIO) words += "radio:";
  out.emplace_back("ID_V4L_CAPABILITIES", words);
  return out;
}

std::vector<Property> V4lIdProperties(int fd) {
  v4l2_capability capability{};
  if (ioctl(fd, VIDIOC_QUERYCAP, &capability) != 0) return {};
  return V4lIdProperties(capability);
}

Status RunV4lIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  if (state.dev_fd < 0) return Fail(EBADF, "v4l_id: no dev root to open the node in");
  std::string name(state.device.properties().devname());
  if (name.starts_with("/dev/")) name.erase(0, 5);
  if (name.empty()) return Fail(ENODEV, "v4l_id: " + state.device.devpath() + " has no node");
  UniqueFd fd(openat(state.dev_fd, name.c_str(),
                     O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW));
  if (!fd) return FailErrno("v4l_id: open " + name);
  // The name may have been reused by a newer device: never ask another device's node.
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return FailErrno("v4l_id: fstat " + name);
  if (!S_ISCHR(st.st_mode) || (state.device.devnum() && st.st_rdev != *state.device.devnum()))
    return Fail(ENXIO, "v4l_id: " + name + " is not the node of " + state.device.sysname());
  for (const auto& [key, value] : V4lIdProperties(fd.get())) state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
