// udev's string sanitizers for identifiers read from hardware (vendor, model, serial): the
// exact transformations of systemd 252's udev-util.c and device-nodes.c, so ID_VENDOR,
// ID_MODEL, ID_SERIAL and their *_ENC forms come out byte for byte as udev writes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vdev {

// The length of the valid UTF-8 character at text[0] as systemd's utf8_encoded_valid_unichar
// judges it (1 for ASCII; no overlong forms, surrogates, U+FDD0..U+FDEF, U+xFFFE/U+xFFFF or
// values past U+10FFFF), 0 when the bytes there are not one.
size_t ValidUtf8Length(std::string_view text);

// udev_replace_whitespace: leading and trailing whitespace dropped, each inner run of it one
// '_'. Reads at most max_length bytes of text and writes at most max_length.
std::string ReplaceWhitespace(std::string_view text, size_t max_length);

// udev_replace_chars(text, NULL): keeps ASCII letters and digits, "#+-.:=@_", "\x" escapes
// and valid UTF-8; every other byte becomes '_'.
std::string ReplaceUnsafeChars(std::string_view text);

// encode_devnode_name: valid multi-byte UTF-8 and ASCII letters, digits and "#+-.:=@_" kept,
// every other byte (also '\') as "\xNN". The result is cut at a whole character so that it
// fits max_length bytes (udev's fixed buffers).
std::string EncodeDevnodeName(std::string_view text, size_t max_length);

}  // namespace vdev
