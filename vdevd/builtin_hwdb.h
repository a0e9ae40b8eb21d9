// The hwdb builtin: `builtin = hwdb [--subsystem=S] [--lookup-prefix=P] [--filter=GLOB] [KEY]`
// (udev's IMPORT{builtin}="hwdb ..."): properties from systemd's hardware database.
#pragma once

#include <string>

#include "builtin.h"

namespace vdev {

// Without KEY: looks up the MODALIAS of the device, else of the nearest ancestor that has
// one and gets an answer (only ancestors of subsystem S with --subsystem). A usb_device
// without MODALIAS is looked up as "usb:vVVVVpPPPP*" from its idVendor and idProduct, and
// the hubs above it are not asked. With KEY (quote it, 'like this', when it may contain
// spaces): that key. --lookup-prefix puts P before the key; --filter sets only properties
// whose names match GLOB. No hwdb.bin installed, or no entry: nothing is set, no error.
// --device=ID (read another device) is not supported: EOPNOTSUPP.
Status RunHwdbBuiltin(BuiltinCall& call);

// The directory below which the builtin looks for hwdb.bin (kHwdbBinPaths in
// common/hwdb.h): "/" unless set. The database is opened again at the next lookup.
void SetHwdbRoot(std::string root);

// Makes the next lookup check whether the installed hwdb.bin changed (a `systemd-hwdb
// update`), and reopen it if so: the daemon calls this when it reloads. Without it the
// builtin checks at most every 3 seconds, as udevd does.
void ReloadHwdb();

}  // namespace vdev
