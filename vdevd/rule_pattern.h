// RulePattern: the compiled value of a rule's match key: fnmatch-style globs joined by '|',
// an optional leading '!' that negates the whole, and "" for an absent or empty value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vdev {

// fnmatch(3) with no flags: '*' and '?' also match '/', "[a-z]", "[!x]"/"[^x]", "[[:digit:]]"
// and '\' escapes. The pattern must be valid (see RulePattern::Compile); an invalid bracket
// matches nothing.
bool GlobMatch(std::string_view pattern, std::string_view value);

class RulePattern {
 public:
  // Fails with EINVAL and a reason ("unterminated '['") for a malformed glob.
  [[nodiscard]] static Result<RulePattern> Compile(std::string_view text);

  // An absent value is passed as "": "" and "!?*" match it, "?*" does not.
  bool Matches(std::string_view value) const;

  const std::string& text() const { return text_; }

 private:
  // Most rule values are plain names or "prefix*": those skip the glob engine.
  enum class Kind : unsigned char { kExact, kPrefix, kNonEmpty, kAny, kGlob };
  struct Alternative {
    Kind kind;
    std::string text;  // the literal (kExact), the prefix (kPrefix) or the glob (kGlob)
  };

  std::string text_;
  bool negate_ = false;
  std::vector<Alternative> alternatives_;
};

}  // namespace vdev
