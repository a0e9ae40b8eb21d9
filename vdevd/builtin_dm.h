// The dm builtin: `builtin = dm`, for device-mapper block devices (dm-N).
#pragma once

#include "builtin.h"

namespace vdev {

// Replaces the event's DM_* properties (DM_NAME, DM_UUID, DM_SUSPENDED, DM_VG_NAME,
// DM_LV_NAME, DM_LV_LAYER, DM_UDEV_*_FLAG, DM_SUBSYSTEM_UDEV_FLAGn; see dm_name.h) with
// what sysfs and the event's DM_COOKIE say now. ENODEV for a device without dm/name.
Status RunDmBuiltin(BuiltinCall& call);

}  // namespace vdev
