// The v4l_id builtin: `builtin = v4l_id` (udev's IMPORT{program}="v4l_id $devnode"), what a
// Video4Linux node says of itself (VIDIOC_QUERYCAP): ID_V4L_VERSION, ID_V4L_PRODUCT,
// ID_V4L_CAPABILITIES.
#pragma once

#include <linux/videodev2.h>

#include <vector>

#include "builtin.h"
#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

// udev 252's v4l_id output for a VIDIOC_QUERYCAP answer: ID_V4L_VERSION=2, ID_V4L_PRODUCT
// (the card name, left out unless valid UTF-8 without control characters), and
// ID_V4L_CAPABILITIES, ":"-framed words from the device's own capabilities (device_caps when
// V4L2_CAP_DEVICE_CAPS is set): capture, video_output, video_overlay, audio, tuner, radio.
std::vector<Property> V4lIdProperties(const v4l2_capability& capability);

// The same for an open node; none when VIDIOC_QUERYCAP fails (not a V4L2 device).
std::vector<Property> V4lIdProperties(int fd);

// Opens the event's node below the dev root (only if it is this device's) and sets the
// properties of V4lIdProperties.
Status RunV4lIdBuiltin(BuiltinCall& call);

}  // namespace vdev
