#include "encode_string.h"

#include <cstdint>
#include <cstring>

namespace vdev::compat {
namespace {

bool IsPlainDevnodeChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c != '\0' && strchr("#+-.:=@_", c) != nullptr);
}

// The sequence length a lead byte announces (systemd accepts the historical 5 and 6 byte
// forms here and rejects their values later).
size_t ExpectedLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  if ((lead & 0xfc) == 0xf8) return 5;
  if ((lead & 0xfe) == 0xfc) return 6;
  return 0;
}

size_t EncodedLength(uint32_t c) {
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c < 0x10000) return 3;
  if (c < 0x200000) return 4;
  if (c < 0x4000000) return 5;
  return 6;
}

bool IsValidCodePoint(uint32_t c) {
  if (c >= 0x110000) return false;
  if ((c & 0xfffff800) == 0xd800) return false;  // surrogates
  if (c >= 0xfdd0 && c <= 0xfdef) return false;  // non-characters
  if ((c & 0xfffe) == 0xfffe) return false;      // U+xFFFE, U+xFFFF
  return true;
}

}  // namespace

size_t Utf8CharLength(const unsigned char* s) {
  size_t length = ExpectedLength(s[0]);
  if (length == 0) return 0;
  if (length == 1) return 1;
  uint32_t c = s[0] & (0x7f >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;  // also stops at the terminating NUL
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (EncodedLength(c) != length || !IsValidCodePoint(c)) return 0;
  return length;
}

bool EncodeString(const char* str, char* out, size_t capacity) {
  size_t used = 0;
  for (size_t i = 0; str[i] != '\0'; ++i) {
    size_t length = Utf8CharLength(reinterpret_cast<const unsigned char*>(str + i));
    if (length > 1) {
      if (capacity - used < length) return false;
      memcpy(out + used, str + i, length);
      used += length;
      i += length - 1;
    } else if (str[i] == '\\' || !IsPlainDevnodeChar(str[i])) {
      if (capacity - used < 4) return false;
      static constexpr char kHex[] = "0123456789abcdef";
      unsigned char byte = static_cast<unsigned char>(str[i]);
      out[used++] = '\\';
      out[used++] = 'x';
      out[used++] = kHex[byte >> 4];
      out[used++] = kHex[byte & 0xf];
    } else {
      if (capacity - used < 1) return false;
      out[used++] = str[i];
    }
  }
  if (capacity - used < 1) return false;
  out[used] = '\0';
  return true;
}

}  // namespace vdev::compat
