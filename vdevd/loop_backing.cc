#include "loop_backing.h"

#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "block_probe.h"
#include "substitution.h"

namespace vdev {

Status AppendLoopBacking(int fd, std::string_view sysname, std::vector<Property>* out) {
  if (!sysname.starts_with("loop")) return Ok();
  struct loop_info64 info;
  std::memset(&info, 0, sizeof(info));
  if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0) {
    // ENXIO: no file attached; ENOTTY/EINVAL: not a loop device after all (or an image
    // file standing in for one).
    if (errno == ENXIO || errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP) return Ok();
    return FailErrno("LOOP_GET_STATUS64");
  }
  dev_t backing = static_cast<dev_t>(info.lo_device);
  out->emplace_back("ID_LOOP_BACKING_DEVICE",
                    std::to_string(major(backing)) + ":" + std::to_string(minor(backing)));
  out->emplace_back("ID_LOOP_BACKING_INODE", std::to_string(info.lo_inode));

  // The kernel cuts the name silently at LO_NAME_SIZE - 1 bytes: a name of that length
  // may be cut, and a link named after a cut name would lie, so it gets none (as udev).
  const char* name = reinterpret_cast<const char*>(info.lo_file_name);
  size_t length = strnlen(name, sizeof(info.lo_file_name));
  if (length == 0 || length >= sizeof(info.lo_file_name) - 1) return Ok();
  std::string_view file_name(name, length);
  std::string safe;
  AppendEscaped(file_name, Escape::kProperty, &safe);  // no newline may reach the database
  out->emplace_back("ID_LOOP_BACKING_FILENAME", std::move(safe));
  out->emplace_back("ID_LOOP_BACKING_FILENAME_ENC", EncodeBlkidString(file_name));
  return Ok();
}

}  // namespace vdev
