#include "substitution.h"

#include "common/uevent.h"

namespace vdev {
namespace {

struct NamedPlaceholder {
  std::string_view dollar;  // "$kernel"
  char percent;             // 'k'
  Placeholder placeholder;
  bool takes_name;
};

constexpr NamedPlaceholder kPlaceholders[] = {
    {"kernel", 'k', Placeholder::kKernel, false},   {"number", 'n', Placeholder::kNumber, false},
    {"devpath", 'p', Placeholder::kDevpath, false}, {"major", 'M', Placeholder::kMajor, false},
    {"minor", 'm', Placeholder::kMinor, false},     {"env", 'E', Placeholder::kEnv, true},
    {"attr", 's', Placeholder::kAttr, true},       {"devnode", 'N', Placeholder::kDevnode, false},
    {"root", 'r', Placeholder::kRoot, false},
};

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The length of the valid UTF-8 sequence at text[0] (lead byte >= 0x80), or 0.
size_t Utf8SequenceLength(std::string_view text) {
  unsigned char lead = text[0];
  size_t length = 0;
  char32_t code = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    unsigned char next = text[i];
    if ((next & 0xc0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not valid UTF-8.
  if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10ffff)))
    return 0;
  if (code >= 0xd800 && code <= 0xdfff) return 0;
  return length;
}

bool IsLinkSafe(unsigned char c) {
  return IsAsciiAlnum(c) || std::string_view("#+-.:=@_/\\").find(c) != std::string_view::npos;
}

}  // namespace

bool IsValidAttributeName(std::string_view name) {
  if (name.empty() || name.size() > 1024 || name[0] == '/') return false;
  return IsValidDevpath("/" + std::string(name));
}

bool IsDeviceAttributePath(std::string_view name) {
  while (name.starts_with("../")) name.remove_prefix(3);
  return IsValidAttributeName(name);
}

Result<Template> Template::Compile(std::string_view text) {
  Template compiled;
  compiled.text_ = text;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty())
      compiled.parts_.push_back({true, Placeholder::kKernel, std::move(literal)});
    literal.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '%' && c != '$') {
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == c) {  // "%%" and "$$"
      literal += c;
      i += 2;
      continue;
    }
    const NamedPlaceholder* found = nullptr;
    size_t after = i + 1;
    for (const NamedPlaceholder& candidate : kPlaceholders) {
      if (c == '%' && i + 1 < text.size() && text[i + 1] == candidate.percent) {
        found = &candidate;
        after = i + 2;
        break;
      }
      if (c == '$' && text.substr(i + 1).starts_with(candidate.dollar)) {
        found = &candidate;
        after = i + 1 + candidate.dollar.size();
        break;
      }
    }
    if (found == nullptr) {
      size_t end = i + 1;
      while (end < text.size() && end < i + 16 && IsAsciiAlnum(text[end])) ++end;
      if (end == i + 1 && end < text.size()) ++end;
      return Fail(EINVAL, "unknown substitution '" + std::string(text.substr(i, end - i)) + "'");
    }
    std::string name;
    if (found->takes_name) {
      if (after >= text.size() || text[after] != '{')
        return Fail(EINVAL,
                    "substitution '" + std::string(text.substr(i, after - i)) + "' needs a {NAME}");
      size_t close = text.find('}', after);
      if (close == std::string_view::npos) return Fail(EINVAL, "unterminated '{' in substitution");
      name = text.substr(after + 1, close - after - 1);
      bool valid = found->placeholder == Placeholder::kEnv ? IsValidPropertyKey(name)
                                                           : IsValidAttributeName(name);
      if (!valid) return Fail(EINVAL, "invalid name '" + name + "' in substitution");
      after = close + 1;
    }
    flush();
    compiled.parts_.push_back({false, found->placeholder, std::move(name)});
    compiled.has_placeholders_ = true;
    i = after;
  }
  flush();
  return compiled;
}

void Template::Expand(SubstitutionSource& source, Escape escape, std::string* out) const {
  for (const Part& part : parts_) {
    if (part.literal) {
      out->append(part.text);
    } else {
      AppendEscaped(source.Lookup(part.placeholder, part.text), escape, out);
    }
  }
}

void AppendEscaped(std::string_view value, Escape escape, std::string* out) {
  size_t i = 0;
  while (i < value.size()) {
    unsigned char c = value[i];
    if (escape != Escape::kLink) {
      out->push_back(IsControl(c) ? '_' : static_cast<char>(c));
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t length = Utf8SequenceLength(value.substr(i));
      if (length > 0) {
        out->append(value.substr(i, length));
        i += length;
        continue;
      }
    }
    out->push_back(IsLinkSafe(c) ? static_cast<char>(c) : '_');
    ++i;
  }
}

bool IsSafeLinkName(std::string_view link) {
  if (link.empty() || link.size() > 4096 || link[0] == '/') return false;
  for (unsigned char c : link)
    if (IsControl(c)) return false;
  return IsValidDevpath("/" + std::string(link));
}

std::vector<std::string_view> SplitWords(std::string_view text) {
  std::vector<std::string_view> words;
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  size_t pos = 0;
  while (true) {
    size_t start = text.find_first_not_of(kSpace, pos);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(kSpace, start);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    pos = end;
  }
  return words;
}

}  // namespace vdev
