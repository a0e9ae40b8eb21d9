// vdev-v4l-id: udev's v4l_id as a program: prints what a Video4Linux node says of itself
// (ID_V4L_VERSION, ID_V4L_PRODUCT, ID_V4L_CAPABILITIES) as KEY=VALUE lines.
#include <fcntl.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "builtin_v4l_id.h"
#include "common/unique_fd.h"

int main(int argc, char** argv) {
  constexpr char kUsage[] =
      "Usage: vdev-v4l-id NODE\n"
      "\n"
      "Prints udev's Video4Linux identification of NODE (VIDIOC_QUERYCAP) as KEY=VALUE lines:\n"
      "ID_V4L_VERSION=2, ID_V4L_PRODUCT, ID_V4L_CAPABILITIES (:capture:video_output:...:).\n";
  if (argc == 2 && (std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help")) {
    fputs(kUsage, stdout);
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-') {
    fputs(kUsage, stderr);
    return 2;
  }
  vdev::UniqueFd fd(open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    fprintf(stderr, "vdev-v4l-id: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  for (const auto& [key, value] : vdev::V4lIdProperties(fd.get()))
    printf("%s=%s\n", key.c_str(), value.c_str());
  return 0;
}
