// udev_util_encode_string.
#include <libudev.h>

#include "abi.h"
#include "encode_string.h"

UDEV_EXPORT int udev_util_encode_string(const char* str, char* str_enc, size_t len) noexcept {
  if (!str || !str_enc) return -EINVAL;
  return vdev::compat::EncodeString(str, str_enc, len) ? 0 : -EINVAL;
}
