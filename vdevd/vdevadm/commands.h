// vdevadm's sub-commands: each takes the arguments after its own name (argv[0] is the
// sub-command name) and returns the process exit status.
#pragma once

#include "common/roots.h"

namespace vdev {

int RunInfo(int argc, char** argv);     // info.cc
int RunTrigger(int argc, char** argv);  // trigger.cc
int RunSettle(int argc, char** argv);   // settle.cc
int RunMonitor(int argc, char** argv);  // monitor.cc
int RunControl(int argc, char** argv);  // control.cc

// Waits until the daemon behind paths.run has an empty queue. 0 when settled (or no daemon
// is running, as udevadm does), 1 on timeout, 2 on other errors. Used by settle and
// trigger --settle. (settle.cc)
int Settle(const RootPaths& paths, double timeout_seconds);

}  // namespace vdev
