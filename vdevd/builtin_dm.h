// The dm builtin: `builtin = dm`, for device-mapper block devices (dm-N).
#pragma once

#include "builtin.h"

namespace vdev {

// Replaces the event's DM_* properties (DM_NAME, DM_UUID, DM_SUSPENDED, DM_VG_NAME,
// DM_LV_NAME, DM_LV_LAYER, DM_UDEV_*_FLAG, DM_SUBSYSTEM_UDEV_FLAGn; see dm_name.h) with
// what sysfs and the event's DM_COOKIE say now; a dm-N without dm/ yet (its "add" comes
// before its first table) gets every rule off. ENODEV for a device that is not dm-N.
Status RunDmBuiltin(BuiltinCall& call);

}  // namespace vdev
