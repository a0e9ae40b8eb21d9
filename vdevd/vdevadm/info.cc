// `vdevadm info`: the front end of InfoMain over the roots named by the environment.
#include <cstdio>

#include "info_format.h"
#include "vdevadm/commands.h"

namespace vdev {

int RunInfo(int argc, char** argv) {
  return InfoMain(argc, argv, RootPaths::FromEnvironment(), stdout, stderr);
}

}  // namespace vdev
