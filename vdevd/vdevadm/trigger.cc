// `vdevadm trigger`: TriggerMain over the roots named by the environment, settling with
// Settle (settle.cc) when asked to.
#include <cstdio>

#include "trigger_walk.h"
#include "vdevadm/commands.h"

namespace vdev {

int RunTrigger(int argc, char** argv) {
  return TriggerMain(argc, argv, RootPaths::FromEnvironment(), stdout, stderr, Settle);
}

}  // namespace vdev
