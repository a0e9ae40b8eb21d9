// EncodeString: udev's escaping of names for device nodes and links (udev_util_encode_string).
#pragma once

#include <cstddef>

namespace vdev::compat {

// Copies str to out (capacity bytes, NUL included), writing every byte outside
// [0-9A-Za-z#+-.:=@_] as "\xNN" unless it starts a valid UTF-8 sequence of two or more bytes,
// which is copied whole; '\\' is always escaped. Returns false (out unspecified) when out is
// too small, as udev does.
bool EncodeString(const char* str, char* out, size_t capacity);

// The length of the valid UTF-8 character at s (1 for ASCII), 0 when s does not start one
// (bad sequence, overlong form, surrogate, non-character or beyond U+10FFFF).
size_t Utf8CharLength(const unsigned char* s);

}  // namespace vdev::compat
