// The input_id builtin: `builtin = input_id` (udev's IMPORT{builtin}="input_id"), what kind of
// input device an input device (or its eventN/mouseN/jsN node) is: ID_INPUT_KEYBOARD, _MOUSE,
// _TOUCHPAD, ... from the kernel's capability bitmaps.
#pragma once

#include <linux/input.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "builtin.h"
#include "common/device.h"
#include "common/uevent.h"

namespace vdev {

// A capability bitmap as sysfs prints it ("capabilities/key": hex words of the kernel's long,
// most significant first, separated by spaces), parsed the way udev's get_cap_mask does into
// `words` 64-bit words, least significant first: words that do not parse are skipped but
// keep their place, words past the end are dropped.
std::vector<uint64_t> ParseCapabilityBitmap(std::string_view text, size_t words);

// What udev 252's input_id derives from capabilities (ev, abs, rel, key), properties and
// id/bustype of the nearest input device at or above device, in udev's order:
//   ID_INPUT=1 (the device is an input device at all), then any of ID_INPUT_ACCELEROMETER,
//   _POINTINGSTICK, _MOUSE, _TOUCHPAD, _TOUCHSCREEN, _JOYSTICK, _TABLET, _TABLET_PAD, _KEY,
//   _KEYBOARD, _SWITCH (each "1").
// Empty for a device with no input device at or above it. With a dev root (dev_fd >= 0), an
// eventN device whose node there is this device's (DEVNAME, device number) also gets the
// sizes below, read from the node, last.
std::vector<Property> InputIdProperties(const Device& device, int dev_fd = -1);

// ID_INPUT_WIDTH_MM and ID_INPUT_HEIGHT_MM: the ABS_X/ABS_Y ranges divided by their
// resolutions (units per mm), as udev computes them; none when a resolution is not positive.
std::vector<Property> InputSizeProperties(const input_absinfo& x, const input_absinfo& y);

// The same for an open evdev node (EVIOCGABS); none when the ioctls fail.
std::vector<Property> InputSizeProperties(int evdev_fd);

// Sets the properties of InputIdProperties (with the event's dev root) on the event. A device
// that is no input device gets none.
Status RunInputIdBuiltin(BuiltinCall& call);

}  // namespace vdev
