// vdev-cdrom-id: udev's cdrom_id as a program: probes an optical drive's node and prints its
// ID_CDROM* properties as KEY=VALUE lines; with --eject-media it unlocks and ejects (what
// rules run on DISK_EJECT_REQUEST), with --lock-media/--unlock-media it (un)locks the tray.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "builtin_cdrom_id.h"
#include "common/unique_fd.h"

namespace {

constexpr char kUsage[] =
    "Usage: vdev-cdrom-id [-l|--lock-media] [-u|--unlock-media] [-e|--eject-media] NODE\n"
    "\n"
    "Prints udev's optical drive properties of NODE (ID_CDROM=1, ID_CDROM_<FEATURE>=1, and\n"
    "with a medium ID_CDROM_MEDIA=1, ID_CDROM_MEDIA_<FEATURE>, _STATE, _SESSION_COUNT,\n"
    "_TRACK_COUNT, _TRACK_COUNT_DATA, ...) as KEY=VALUE lines. --lock-media locks the tray\n"
    "when there is a medium (the eject button then only sends an event), --unlock-media\n"
    "unlocks it, --eject-media unlocks and ejects.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> options;
  const char* node = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (arg.starts_with("-")) {
      options.push_back(arg);
    } else if (node == nullptr) {
      node = argv[i];
    } else {
      fputs(kUsage, stderr);
      return 2;
    }
  }
  auto parsed = vdev::ParseCdromIdOptions(options);
  if (!parsed || node == nullptr) {
    fputs(kUsage, stderr);
    return 2;
  }
  // A burner holding the drive exclusively lets go soon: udev waits up to about 3 s.
  vdev::UniqueFd fd;
  for (int attempt = 0;; ++attempt) {
    fd.reset(open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (fd || errno != EBUSY || attempt >= 20) break;
    usleep(150 * 1000);
  }
  if (!fd) {
    fprintf(stderr, "vdev-cdrom-id: %s: %s\n", node, strerror(errno));
    return 1;
  }
  auto properties = vdev::ProbeCdrom(fd.get(), *parsed);
  if (!properties) {
    fprintf(stderr, "vdev-cdrom-id: %s: %s\n", node, properties.error().Message().c_str());
    return 1;
  }
  for (const auto& [key, value] : *properties) printf("%s=%s\n", key.c_str(), value.c_str());
  return 0;
}
