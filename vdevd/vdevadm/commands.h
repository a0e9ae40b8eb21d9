// vdevadm's sub-commands: each takes the arguments after its own name (argv[0] is the
// sub-command name) and returns the process exit status, as udevadm's: 0 for success, 1
// for any failure, usage errors included.
#pragma once

#include "common/roots.h"

namespace vdev {

int RunInfo(int argc, char** argv);     // info.cc
int RunTrigger(int argc, char** argv);  // trigger.cc
int RunSettle(int argc, char** argv);   // settle.cc
int RunMonitor(int argc, char** argv);  // monitor.cc
int RunControl(int argc, char** argv);  // control.cc
int RunTest(int argc, char** argv);     // test.cc
int RunWait(int argc, char** argv);     // wait.cc

// Waits until the daemon behind paths.run has an empty queue. 0 when settled (or no daemon
// is running, as udevadm does), 1 on timeout or another error. Used by settle and wait
// --settle. (settle.cc)
int Settle(const RootPaths& paths, double timeout_seconds);

// For getopt_long run with opterr = 0 and an optstring that starts with ':': reports the
// option that getopt returned as c ('?' unknown, ':' missing argument) for command and
// returns 1. (usage.cc)
int ReportBadOption(const char* command, int c, char** argv);

}  // namespace vdev
