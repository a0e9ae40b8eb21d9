#include "rule_pattern.h"

#include <cctype>

namespace vdev {
namespace {

constexpr size_t kInvalid = std::string_view::npos;

// 1 when c is in the POSIX class name ("digit"), 0 when not, -1 for an unknown class.
int ClassMatch(std::string_view name, unsigned char c) {
  if (name == "alnum") return std::isalnum(c) != 0;
  if (name == "alpha") return std::isalpha(c) != 0;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c) != 0;
  if (name == "digit") return std::isdigit(c) != 0;
  if (name == "graph") return std::isgraph(c) != 0;
  if (name == "lower") return std::islower(c) != 0;
  if (name == "print") return std::isprint(c) != 0;
  if (name == "punct") return std::ispunct(c) != 0;
  if (name == "space") return std::isspace(c) != 0;
  if (name == "upper") return std::isupper(c) != 0;
  if (name == "xdigit") return std::isxdigit(c) != 0;
  return -1;
}

// Reads one bracket character at pattern[*pos] (honouring '\' escapes) and advances.
bool BracketChar(std::string_view pattern, size_t* pos, unsigned char* out) {
  if (pattern[*pos] == '\\') {
    if (*pos + 1 >= pattern.size()) return false;
    *out = pattern[*pos + 1];
    *pos += 2;
    return true;
  }
  *out = pattern[*pos];
  *pos += 1;
  return true;
}

// Evaluates the bracket expression that starts at pattern[pos] == '[' for c. Returns the
// index just past its ']', or kInvalid when the expression is malformed.
size_t MatchBracket(std::string_view pattern, size_t pos, unsigned char c, bool* matched) {
  size_t i = pos + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  for (bool first = true;; first = false) {
    if (i >= pattern.size()) return kInvalid;
    if (pattern[i] == ']' && !first) {
      ++i;
      break;
    }
    if (pattern[i] == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      size_t end = pattern.find(":]", i + 2);
      if (end == std::string_view::npos) return kInvalid;
      int in_class = ClassMatch(pattern.substr(i + 2, end - i - 2), c);
      if (in_class < 0) return kInvalid;
      found = found || in_class == 1;
      i = end + 2;
      continue;
    }
    unsigned char low = 0;
    if (!BracketChar(pattern, &i, &low)) return kInvalid;
    unsigned char high = low;
    if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
      ++i;
      if (!BracketChar(pattern, &i, &high)) return kInvalid;
    }
    found = found || (low <= c && c <= high);
  }
  *matched = found != negate;
  return i;
}

bool HasGlobCharacters(std::string_view text) {
  return text.find_first_of("*?[\\") != std::string_view::npos;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view value) {
  // Classic single-backtrack matcher: on a mismatch, let the last '*' swallow one more byte.
  size_t p = 0, v = 0;
  size_t star_p = kInvalid, star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_v = v;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++v;
        continue;
      }
      if (pc == '[') {
        bool matched = false;
        size_t next = MatchBracket(pattern, p, static_cast<unsigned char>(value[v]), &matched);
        if (next == kInvalid) return false;
        if (matched) {
          p = next;
          ++v;
          continue;
        }
      } else {
        size_t width = 1;
        if (pc == '\\') {
          if (p + 1 >= pattern.size()) return false;
          pc = pattern[p + 1];
          width = 2;
        }
        if (pc == value[v]) {
          p += width;
          ++v;
          continue;
        }
      }
    }
    if (star_p == kInvalid) return false;
    p = star_p;
    v = ++star_v;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<RulePattern> RulePattern::Compile(std::string_view text) {
  RulePattern pattern;
  pattern.text_ = text;
  if (!text.empty() && text[0] == '!') {
    pattern.negate_ = true;
    text.remove_prefix(1);
  }
  for (;;) {
    size_t bar = text.find('|');
    std::string_view alternative = text.substr(0, bar);
    for (size_t i = 0; i < alternative.size(); ++i) {
      if (alternative[i] == '\\') {
        if (i + 1 >= alternative.size()) return Fail(EINVAL, "trailing '\\'");
        ++i;
      } else if (alternative[i] == '[') {
        bool ignored = false;
        size_t next = MatchBracket(alternative, i, 0, &ignored);
        if (next == kInvalid) return Fail(EINVAL, "malformed '[...]' expression");
        i = next - 1;
      }
    }
    Alternative compiled{Kind::kGlob, std::string(alternative)};
    std::string_view head = alternative.substr(0, alternative.empty() ? 0 : alternative.size() - 1);
    if (!HasGlobCharacters(alternative)) {
      compiled.kind = Kind::kExact;
    } else if (alternative == "*") {
      compiled.kind = Kind::kAny;
    } else if (alternative == "?*" || alternative == "*?") {
      compiled.kind = Kind::kNonEmpty;
    } else if (alternative.back() == '*' && !HasGlobCharacters(head)) {
      compiled.kind = Kind::kPrefix;
      compiled.text = head;
    }
    pattern.alternatives_.push_back(std::move(compiled));
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  return pattern;
}

bool RulePattern::Matches(std::string_view value) const {
  bool any = false;
  for (const Alternative& alternative : alternatives_) {
    switch (alternative.kind) {
      case Kind::kExact:
        any = value == alternative.text;
        break;
      case Kind::kPrefix:
        any = value.starts_with(alternative.text);
        break;
      case Kind::kNonEmpty:
        any = !value.empty();
        break;
      case Kind::kAny:
        any = true;
        break;
      case Kind::kGlob:
        any = GlobMatch(alternative.text, value);
        break;
    }
    if (any) break;
  }
  return any != negate_;
}

}  // namespace vdev
