#include "udev_string.h"

#include <cstdint>
#include <cstdio>

namespace vdev {
namespace {

bool IsDevnodeSafe(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c != '\0' && std::string_view("#+-.:=@_").find(c) != std::string_view::npos);
}

// isspace() in the C locale.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The length a lead byte announces, 0 for a byte that cannot start a character.
size_t ExpectedLength(uint8_t c) {
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) return 2;
  if ((c & 0xf0) == 0xe0) return 3;
  if ((c & 0xf8) == 0xf0) return 4;
  if ((c & 0xfc) == 0xf8) return 5;
  if ((c & 0xfe) == 0xfc) return 6;
  return 0;
}

size_t EncodedLength(uint32_t code_point) {
  if (code_point < 0x80) return 1;
  if (code_point < 0x800) return 2;
  if (code_point < 0x10000) return 3;
  if (code_point < 0x200000) return 4;
  if (code_point < 0x4000000) return 5;
  return 6;
}

bool IsValidCodePoint(uint32_t code_point) {
  if (code_point >= 0x110000) return false;
  if ((code_point & 0xfffff800) == 0xd800) return false;  // UTF-16 surrogates
  if (code_point >= 0xfdd0 && code_point <= 0xfdef) return false;
  if ((code_point & 0xfffe) == 0xfffe) return false;
  return true;
}

// The text up to its first NUL, as the C functions see it.
std::string_view UpToNul(std::string_view text) { return text.substr(0, text.find('\0')); }

}  // namespace

size_t ValidUtf8Length(std::string_view text) {
  if (text.empty()) return 0;
  size_t length = ExpectedLength(static_cast<uint8_t>(text[0]));
  if (length == 0 || length > text.size()) return 0;
  if (length == 1) return 1;
  uint32_t code_point = static_cast<uint8_t>(text[0]) & (0x7f >> length);
  for (size_t i = 1; i < length; ++i) {
    uint8_t byte = static_cast<uint8_t>(text[i]);
    if ((byte & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte & 0x3f);
  }
  if (EncodedLength(code_point) != length || !IsValidCodePoint(code_point)) return 0;
  return length;
}

std::string ReplaceWhitespace(std::string_view text, size_t max_length) {
  text = UpToNul(text);
  size_t i = text.find_first_not_of(" \t\n\r");
  if (i == std::string_view::npos) return {};
  std::string out;
  bool in_space = false;
  for (; out.size() < max_length && i < max_length && i < text.size(); ++i) {
    if (IsSpace(text[i])) {
      in_space = true;
      continue;
    }
    if (in_space) {
      if (out.size() + 1 >= max_length) break;
      out += '_';
      in_space = false;
    }
    out += text[i];
  }
  return out;
}

std::string ReplaceUnsafeChars(std::string_view text) {
  std::string out(UpToNul(text));
  for (size_t i = 0; i < out.size();) {
    if (IsDevnodeSafe(out[i])) {
      ++i;
    } else if (out[i] == '\\' && i + 1 < out.size() && out[i + 1] == 'x') {
      i += 2;
    } else if (size_t length = ValidUtf8Length(std::string_view(out).substr(i)); length > 1) {
      i += length;
    } else {
      out[i++] = '_';
    }
  }
  return out;
}

std::string EncodeDevnodeName(std::string_view text, size_t max_length) {
  text = UpToNul(text);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t length = ValidUtf8Length(text.substr(i));
    if (length > 1) {
      if (out.size() + length > max_length) break;
      out.append(text.substr(i, length));
      i += length;
    } else if (text[i] == '\\' || !IsDevnodeSafe(text[i])) {
      if (out.size() + 4 > max_length) break;
      char escaped[5];
      snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(text[i]));
      out += escaped;
      ++i;
    } else {
      if (out.size() + 1 > max_length) break;
      out += text[i++];
    }
  }
  return out;
}

}  // namespace vdev
