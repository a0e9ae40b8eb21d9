// The blkid builtin: `builtin = blkid [--offset=BYTES] [--hint=NAME=VALUE] [--noraid]`.
#pragma once

#include "builtin.h"

namespace vdev {

// Replaces the event's ID_FS_*, ID_PART_TABLE_*, ID_PART_ENTRY_* and ID_LOOP_BACKING_*
// properties with what the device's node holds now. A disk locked by a partitioning tool,
// or a probe that meets EIO or EBUSY, sets state.busy and fails with EAGAIN (the event is
// retried), except on the last attempt. A node that is gone or has no medium gets no
// properties and no error.
Status RunBlkidBuiltin(BuiltinCall& call);

}  // namespace vdev
