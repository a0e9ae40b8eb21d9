// The kmod builtin: `builtin = kmod load $env{MODALIAS}` (udev's RUN{builtin}+="kmod load"):
// hands module aliases or names to a ModuleLoader and returns at once.
#pragma once

#include "builtin.h"
#include "module_loader.h"

namespace vdev {

// `kmod load [ALIAS|MODULE ...]`; without names it loads the event's MODALIAS. Each name
// is queued on the process's loader (see KmodBuiltinLoader); the modules are inserted off
// the event's path. EINVAL for another verb.
Status RunKmodBuiltin(BuiltinCall& call);

// The loader `kmod load` uses. The daemon installs its own (with its options, its idle
// callback wired to settle) before the first event; until then, the first request creates
// a default one (libkmod's default modules tree and modprobe.d, the sysfs root of
// RootPaths::FromEnvironment()). nullptr only when libkmod could not be set up.
void SetKmodBuiltinLoader(ModuleLoader* loader);
ModuleLoader* KmodBuiltinLoader();

}  // namespace vdev
